"""flower, started from the Procfile's own line, shows the workers and asks for the platform's credentials."""
import os
import shlex
import subprocess
import time
from pathlib import Path

import redis
import requests

from tests.conftest import TEST_REDIS_URL
from tests.support import workers
from tests.support.builder import free_port

ROOT = Path(__file__).resolve().parents[2]
BROKER = TEST_REDIS_URL.rsplit("/", 1)[0] + "/3"
PASSWORD = "flower-test-password"


def procfile(name):
    return workers.procfile()[name]


def test_flower_lists_the_workers_to_the_platform_only(app):
    redis.Redis.from_url(BROKER).flushdb()
    settings, port = app.config["PIER"], free_port()
    env = dict(os.environ, REDIS_URL=BROKER, DATABASE_URL=settings.database_url, PIER_SECRET_KEY=settings.secret_key,
               PIER_BUILDER_KEY=settings.builder_key, PIER_FLOWER_PASSWORD=PASSWORD, PIER_FLOWER_PORT=str(port))
    # periodic without its beat: a worker for flower to list, running no periodic round on the test's database
    commands = [procfile("flower"), procfile("periodic").replace(" --beat-thread", "")]
    processes = [subprocess.Popen(["/bin/sh", "-c", f"exec {command}"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                 for command in commands]
    try:
        url, found = f"http://127.0.0.1:{port}/api/workers?refresh=1", {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(name.startswith("periodic@") for name in found):
            try:
                answer = requests.get(url, auth=("pier", PASSWORD), timeout=10)
                found = answer.json() if answer.status_code == 200 else {}
            except (requests.ConnectionError, ValueError):
                pass
            time.sleep(1)
        assert any(name.startswith("periodic@") for name in found), found
        assert requests.get(url, timeout=10).status_code == 401
        assert requests.get(url, auth=("pier", "wrong"), timeout=10).status_code == 401
        assert "FLOWER_BASIC_AUTH" not in shlex.join(Path(f"/proc/{processes[0].pid}/cmdline").read_text().split("\0"))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
