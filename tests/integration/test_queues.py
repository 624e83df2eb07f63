"""Named queues: builds, deploys, one-off runs and periodic jobs have workers of their own (the Procfile's
lines), so a saturated builds queue never delays a deploy."""
import io
import json
import shlex
import tarfile
import time
import uuid

import pytest
import redis

from core import jobs
from core.build_output import channel
from core.storage import FilesystemStore
from core.storage.keys import source_key
from tests.conftest import TEST_REDIS_URL
from tests.support.recording_scheduler import settings_changed
from tests.support.workers import procfile, start, worker_env

BROKER = TEST_REDIS_URL.rsplit("/", 1)[0] + "/13"  # a broker of its own: no other worker consumes it
BUSY_SECONDS = 40


def test_the_procfile_runs_a_worker_per_queue():
    consumed = {}
    for name, command in procfile().items():
        words = shlex.split(command)
        if words[:4] == ["celery", "-A", "workers.main", "worker"]:
            consumed[name] = words[words.index("-Q") + 1].split(",")
    assert sorted(q for queues in consumed.values() for q in queues) == sorted(jobs.QUEUES)
    assert all(len(queues) == 1 for queues in consumed.values()), consumed


def sleepy_source(store, app_id, sha, scratch):
    """A pushed Dockerfile app whose build takes BUSY_SECONDS (its step names the app: never in Docker's
    build cache)."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        text = (f"FROM pier/base:bookworm\nRUN echo {app_id} && sleep {BUSY_SECONDS}\n"
                "CMD [\"sleep\", \"1\"]\n").encode()
        entry = tarfile.TarInfo("Dockerfile")
        entry.size = len(text)
        tar.addfile(entry, io.BytesIO(text))
    path = scratch / f"{app_id}.tar.gz"
    path.write_bytes(data.getvalue())
    store.put_file(source_key(app_id, sha), path)


@pytest.fixture
def workers(app, tmp_path):
    redis.Redis.from_url(BROKER).flushdb()
    settings = app.config["PIER"]
    env = worker_env(settings, BROKER, PIER_SCHEDULER="memory", PIER_STORAGE_PATH=str(tmp_path / "storage"),
                     PIER_REGISTRY="127.0.0.1:5000", PIER_DRAIN_SECONDS="0")
    processes = [start("worker", env), start("builds", env)]
    yield tmp_path / "storage"
    for process in processes:
        process.kill()  # the builds still sleeping are abandoned (a thread pool's cold shutdown waits for them)
    for process in processes:
        process.wait(timeout=60)


def test_a_deploy_runs_while_the_builds_queue_is_saturated(app, alice, workers, tmp_path):
    store = FilesystemStore(str(workers))
    listener = redis.Redis.from_url(BROKER).pubsub(ignore_subscribe_messages=True)
    builds = []
    for n in range(4):
        app_id, sha = f"busy{n}-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex + "00000000"
        alice.create_app(app_id)
        sleepy_source(store, app_id, sha, tmp_path)
        build_id = uuid.uuid4().hex
        listener.subscribe(channel(build_id))
        jobs.send(BROKER, "build.app", kwargs={"build_id": build_id, "app": app_id, "sha": sha})
        builds.append(build_id)
    # wait until the builds worker is busy with them (their output streams)
    deadline = time.monotonic() + 60
    started, finished = set(), []
    while time.monotonic() < deadline and len(started) < 2:
        message = listener.get_message(timeout=1)
        if message:
            started.add(message["channel"].decode())
            if json.loads(message["data"]).get("done"):
                finished.append(message["data"])
    assert len(started) >= 2 and not finished, (started, finished)

    alice.create_app("deployed-meanwhile")
    with settings_changed(app, redis_url=BROKER, sync_timeout=BUSY_SECONDS / 2):
        began = time.monotonic()
        response = alice.post("/v2/apps/deployed-meanwhile/builds", {"image": "example/web:v1"})
        took = time.monotonic() - began
    assert response.status_code == 201, response.get_json()
    while True:  # drain what the builds said so far: none of them may have finished yet
        message = listener.get_message(timeout=0.1)
        if message is None:
            break
        if json.loads(message["data"]).get("done"):
            finished.append(message["data"])
    listener.close()
    assert finished == [], f"a build finished before the deploy ({took:.1f}s): the queues did not separate them"
