"""A worker killed in the middle of a deploy: the job is redelivered and converges to one release."""
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis
from celery import Celery

from core.extensions import db
from core.models import App, Operation, Release, User
from core.services import releases
from tests.conftest import TEST_REDIS_URL
from tests.support.docker_apps import build_images, remove_app_containers
from tests.support.workers import worker_env

# A fault test (a worker killed mid-deploy, half a minute): the fault suite runs it (make test-faults).
pytestmark = pytest.mark.slow

BROKER = TEST_REDIS_URL.rsplit("/", 1)[0] + "/14"  # a broker of its own: no other worker consumes it


def wait_until(predicate, what, seconds=60):
    for _ in range(int(seconds * 10)):
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def worker_process(app):
    redis.Redis.from_url(BROKER).flushdb()
    settings = app.config["PIER"]
    env = worker_env(settings, BROKER, PIER_SCHEDULER="docker", PIER_DRAIN_SECONDS="0", PIER_STOP_GRACE_SECONDS="2",
                     PIER_DEPLOY_TIMEOUT="60")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.main", "worker", "--pool", "prefork", "--concurrency", "1",
         "--loglevel", "WARNING", "--without-mingle", "--without-gossip"], env=env)
    yield process
    process.terminate()
    process.wait(timeout=30)


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_deploy_whose_worker_dies_is_redelivered_and_converges(app, alice, worker_process):
    client = build_images()
    created = alice.create_app("faulty")
    try:
        with app.app_context():
            faulty = db.session.get(App, uuid.UUID(created["uuid"]))
            user = db.session.execute(db.select(User).where(User.username == "alice")).scalar_one()
            slow = {"web": "sleep 4; python3 /app/server.py"}
            _, release = releases.new_build(faulty, user, "pier-test/web:one", slow)
            operation = releases.deploy_if_built(faulty, user, release, "build")
            db.session.commit()
            operation_id = operation.uuid
        Celery(broker=BROKER).send_task("deploy.release", args=[str(operation_id)], queue="deploys")

        def state():
            with app.app_context():
                return db.session.get(Operation, operation_id).state

        wait_until(lambda: state() == "running" and client.containers.list(
            filters={"label": "io.pier.app=faulty"}), "the deploy to start its container")
        [child] = children(worker_process.pid)
        os.kill(child, signal.SIGKILL)
        wait_until(lambda: state() in ("succeeded", "failed"), "the redelivered deploy to finish", seconds=120)
        assert state() == "succeeded"
        with app.app_context():
            rows = db.session.execute(db.select(Release.version, Release.state).join(App)
                                      .where(App.id == "faulty").order_by(Release.version)).all()
        assert [tuple(r) for r in rows] == [(1, "superseded"), (2, "deployed")]
        names = [c.name for c in client.containers.list(all=True, filters={"label": "io.pier.app=faulty"})]
        assert names == ["faulty.v2.web.1"]
    finally:
        remove_app_containers(client, created["uuid"])
