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


def flower_env(app, port):
    """The environment of flower's line (and a worker's) on the test's broker, with the test's password."""
    settings = app.config["PIER"]
    return dict(os.environ, REDIS_URL=BROKER, DATABASE_URL=settings.database_url, PIER_SECRET_KEY=settings.secret_key,
                PIER_BUILDER_KEY=settings.builder_key, PIER_FLOWER_PASSWORD=PASSWORD, PIER_FLOWER_PORT=str(port))


def max_tasks():
    """workers.flower's MAX_TASKS, without keeping the FLOWER_* variables its import puts into this process."""
    saved = dict(os.environ)
    try:
        from workers.flower import MAX_TASKS
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return MAX_TASKS


def test_flower_lists_the_workers_to_the_platform_only(app):
    redis.Redis.from_url(BROKER).flushdb()
    port = free_port()
    env = flower_env(app, port)
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


def test_flower_keeps_only_the_newest_tasks_in_memory(app):
    """flower's own default keeps 100,000 tasks (270 MiB); Pier's keeps workers.flower.MAX_TASKS."""
    from celery import Celery
    limit = max_tasks()
    redis.Redis.from_url(BROKER).flushdb()
    port = free_port()
    env = flower_env(app, port)
    env.pop("FLOWER_MAX_TASKS", None)
    flower = subprocess.Popen(["/bin/sh", "-c", f"exec {procfile('flower')}"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    sender = Celery(broker=BROKER, set_as_current=False)

    def tasks():
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/api/tasks", auth=("pier", PASSWORD), timeout=10)
            return answer.json() if answer.status_code == 200 else {}
        except (requests.ConnectionError, ValueError):
            return {}

    try:
        with sender.connection_for_write() as connection:
            events = sender.events.Dispatcher(connection, hostname="sender@test", enabled=True)
            deadline = time.monotonic() + 90
            while "probe" not in tasks():  # flower listens to the events once it has started
                assert time.monotonic() < deadline, "flower never took a task event"
                events.send("task-succeeded", uuid="probe", result="None", runtime=0.01)
                time.sleep(0.5)
            for number in range(limit + 100):
                events.send("task-succeeded", uuid=f"task-{number:05}", result="None", runtime=0.01)
        last = f"task-{limit + 99:05}"
        deadline = time.monotonic() + 60
        while last not in (kept := tasks()):
            assert time.monotonic() < deadline, f"flower never took {last}"
            time.sleep(0.5)
        assert len(kept) == limit and "task-00000" not in kept and "probe" not in kept
    finally:
        flower.terminate()
        flower.wait(timeout=30)
        redis.Redis.from_url(BROKER).flushdb()
