"""Beat, a thread of the periodic worker (workers/Procfile's `periodic` line, workers/beat.py): it puts the
periodic jobs on their queue and that worker runs them; it stops with the worker, keeping its schedule; if it
breaks, the worker stops too, to be started again with it. The flower's light entry point stays light."""
import json
import os
import signal
import subprocess
import sys

import redis

from tests.conftest import TEST_REDIS_URL
from tests.integration.test_flower import ROOT, procfile
from tests.support.services import wait_until

BROKER = TEST_REDIS_URL.rsplit("/", 1)[0] + "/4"
SENT = "celery.beat: Scheduler: Sending due task {} ({})"


def start_periodic(app, tmp_path, *arguments):
    """The Procfile's periodic line, consuming a queue nothing is sent to: the jobs beat sends stay in theirs."""
    redis.Redis.from_url(BROKER).flushdb()
    settings = app.config["PIER"]
    env = dict(os.environ, REDIS_URL=BROKER, DATABASE_URL=settings.database_url, PIER_SECRET_KEY=settings.secret_key,
               PIER_BUILDER_KEY=settings.builder_key, PIER_BEAT_SCHEDULE=str(tmp_path / "schedule"),
               PIER_METRICS_PORT_BASE="0", PYTHONPATH=str(ROOT))  # for the test's own scheduler
    command = procfile("periodic").replace("-Q periodic", "-Q elsewhere")
    assert command != procfile("periodic") and "--beat-thread" in command
    log = tmp_path / "periodic.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["/bin/sh", "-c", " ".join(["exec", command, *arguments])], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return process, log


def queued(name):
    return [json.loads(m)["headers"]["task"] for m in redis.Redis.from_url(BROKER).lrange(name, 0, -1)]


def children(pid):
    return [int(child) for task in os.listdir(f"/proc/{pid}/task")
            for child in open(f"/proc/{pid}/task/{task}/children").read().split()]


def test_beat_in_the_periodic_worker_sends_the_periodic_jobs_and_stops_with_it(app, tmp_path):
    process, log = start_periodic(app, tmp_path)
    try:
        wait_until(lambda: {"reconcile.apps", "liveness.check", "operations.watch"} <= set(queued("periodic")),
                   "beat to send the periodic jobs", 60)
        assert children(process.pid) == [], "beat runs in a thread of the worker, not in a process of its own"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
    assert SENT.format("reconcile", "reconcile.apps") in log.read_text()
    assert list(tmp_path.glob("schedule*")), "beat keeps its schedule when it stops"
    redis.Redis.from_url(BROKER).flushdb()


def test_a_beat_that_breaks_stops_its_worker_to_be_started_again(app, tmp_path):
    process, log = start_periodic(app, tmp_path, "--scheduler", "tests.support.failing_beat:Scheduler")
    try:
        code = process.wait(timeout=60)
    finally:
        process.kill()
        process.wait()
    text = log.read_text()
    assert "beat stopped on its own: stopping this worker" in text and "the schedule broke" in text, text[-3000:]
    assert code == 0 and "Warm shutdown" in text  # as asked to stop: the fleet (or Kubernetes) starts it again
    redis.Redis.from_url(BROKER).flushdb()


def test_the_light_entry_point_imports_neither_flask_nor_sqlalchemy_nor_the_tasks():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, workers.light; print(' '.join(sorted(sys.modules)))"],
        cwd=ROOT, env=dict(os.environ, PIER_SECRET_KEY="light-" + "s" * 40, PIER_BUILDER_KEY="light-" + "b" * 40),
        capture_output=True, text=True, check=True).stdout.split()
    assert not [m for m in loaded if m.split(".")[0] in ("flask", "sqlalchemy", "psycopg", "docker")
                or m.startswith("workers.tasks")], "flower would carry what only the workers use"
