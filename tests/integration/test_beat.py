"""beat, started from the Procfile's own line (workers.light: no Flask app, no SQLAlchemy, no task modules),
sends the periodic jobs by name into the periodic queue, where the periodic worker takes them."""
import json
import os
import subprocess
import sys
import time

import redis

from core.jobs import PERIODIC
from tests.conftest import TEST_REDIS_URL
from tests.integration.test_flower import ROOT, procfile

BROKER = TEST_REDIS_URL.rsplit("/", 1)[0] + "/4"


def test_beat_sends_the_periodic_jobs_into_their_queue(app, tmp_path):
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    settings = app.config["PIER"]
    env = dict(os.environ, REDIS_URL=BROKER, DATABASE_URL=settings.database_url, PIER_SECRET_KEY=settings.secret_key,
               PIER_BUILDER_KEY=settings.builder_key)
    command = procfile("beat").replace("var/celerybeat-schedule", str(tmp_path / "schedule"))
    beat = subprocess.Popen(["/bin/sh", "-c", f"exec {command}"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        sent, deadline = set(), time.monotonic() + 60
        while time.monotonic() < deadline and not {"reconcile.apps", "liveness.check"} <= sent:
            sent |= {json.loads(m)["headers"]["task"] for m in broker.lrange(PERIODIC, 0, -1)}
            time.sleep(0.2)
        assert {"reconcile.apps", "liveness.check", "operations.watch"} <= sent, sent
    finally:
        beat.terminate()
        beat.wait(timeout=30)
        broker.flushdb()


def test_the_light_entry_point_imports_neither_flask_nor_sqlalchemy_nor_the_tasks():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, workers.light; print(' '.join(sorted(sys.modules)))"],
        cwd=ROOT, env=dict(os.environ, PIER_SECRET_KEY="light-" + "s" * 40, PIER_BUILDER_KEY="light-" + "b" * 40),
        capture_output=True, text=True, check=True).stdout.split()
    assert not [m for m in loaded if m.split(".")[0] in ("flask", "sqlalchemy", "psycopg", "docker")
                or m.startswith("workers.tasks")], "beat and flower would carry what only the workers use"
