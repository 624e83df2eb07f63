"""Fair work: one user's long one-off runs never hold up another user's deploy. Runs have a queue and workers
of their own (the Procfile's `runs` line), so four runs of `sleep` keep every runs worker thread busy while
the other tenant's deploy is taken and finished by the deploys worker at once."""
import time
import uuid

import pytest
import redis
from celery import Celery

from core.extensions import db
from core.models import App, Operation, User
from core.services import releases
from tests.conftest import TEST_REDIS_URL
from tests.support.docker_apps import build_images, remove_app_containers
from tests.support.recording_scheduler import settings_changed
from tests.support.services import wait_until
from tests.support.workers import start, worker_env

# Real containers and two workers (about a minute): the slow suite runs it (make test-faults, in CI).
pytestmark = pytest.mark.slow

BROKER = TEST_REDIS_URL.rsplit("/", 1)[0] + "/11"  # a broker of its own: no other worker consumes it
ASYNC = {"Prefer": "respond-async"}
RUNS = 4  # the runs worker's threads (the Procfile's --concurrency)


@pytest.fixture
def workers(app):
    redis.Redis.from_url(BROKER).flushdb()
    settings = app.config["PIER"]
    env = worker_env(settings, BROKER, PIER_SCHEDULER="docker", PIER_DRAIN_SECONDS="0", PIER_STOP_GRACE_SECONDS="2",
                     PIER_DEPLOY_TIMEOUT="60")
    processes = [start("worker", env), start("runs", env)]
    yield
    for process in processes:
        process.kill()  # the runs still sleeping are abandoned (a thread pool's cold shutdown waits for them)
    for process in processes:
        process.wait(timeout=60)


def deploy(app, app_id, username, image):
    """Sends a deploy of `image` to the deploys queue; returns the operation's uuid."""
    with app.app_context():
        row = db.session.execute(db.select(App).where(App.id == app_id)).scalar_one()
        user = db.session.execute(db.select(User).where(User.username == username)).scalar_one()
        _, release = releases.new_build(row, user, image, {"web": "python3 /app/server.py"})
        operation = releases.deploy_if_built(row, user, release, "build")
        db.session.commit()
        operation_id = operation.uuid
    Celery(broker=BROKER).send_task("deploy.release", args=[str(operation_id)], queue="deploys")
    return operation_id


def states(app, operation_ids):
    with app.app_context():
        return [db.session.get(Operation, operation_id).state for operation_id in operation_ids]


def deployed(app, operation_id):
    wait_until(lambda: states(app, [operation_id])[0] not in ("pending", "running"), "the deploy to finish", 90)
    return states(app, [operation_id])[0]


def test_four_long_runs_of_one_user_never_delay_another_users_deploy(app, alice, bob, workers):
    client = build_images()
    runner, site = bob.create_app("runner"), alice.create_app("site")
    try:
        assert deployed(app, deploy(app, "runner", "bob", "pier-test/web:one")) == "succeeded"
        began = time.monotonic()
        assert deployed(app, deploy(app, "site", "alice", "pier-test/web:one")) == "succeeded"
        usual = time.monotonic() - began

        with settings_changed(app, redis_url=BROKER, max_runs_per_user=RUNS):
            answers = [bob.post("/v2/apps/runner/run", {"command": "sleep 600"}, headers=ASYNC) for _ in range(RUNS)]
        assert [answer.status_code for answer in answers] == [202] * RUNS, [a.get_json() for a in answers]
        runs = [uuid.UUID(answer.get_json()["uuid"]) for answer in answers]
        wait_until(lambda: states(app, runs) == ["running"] * RUNS, "every runs worker thread to be busy", 90)

        began = time.monotonic()
        assert deployed(app, deploy(app, "site", "alice", "pier-test/web:two")) == "succeeded"
        meanwhile = time.monotonic() - began
        assert states(app, runs) == ["running"] * RUNS, "a run ended before the deploy: nothing was shown"
        print(f"alice's deploy: {usual:.1f} s alone, {meanwhile:.1f} s while bob's {RUNS} runs kept the runs "
              "worker busy")
    finally:
        for created in (runner, site):
            remove_app_containers(client, created["uuid"])
