"""Celery workers of a test's own, started from the Procfile's lines as `make run` starts them, on a broker
(a Redis database) no other worker consumes."""
import os
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLEET = "workers"  # the Procfile's line that forks workers/Procfile's lines from one parent (workers/fleet.py)


def read_procfile(path):
    """A Procfile's commands by process name, in order."""
    lines = [line for line in Path(path).read_text().splitlines() if line.strip() and not line.startswith("#")]
    return {name.strip(): command.strip() for name, _, command in (line.partition(":") for line in lines)}


def procfile():
    """Every process's command by name: the Procfile's own lines, and workers/Procfile's instead of the fleet."""
    lines = read_procfile(ROOT / "Procfile")
    del lines[FLEET]
    return lines | read_procfile(ROOT / "workers" / "Procfile")


def worker_env(settings, broker, **extra):
    """A worker's environment: the test's database and secrets, `broker` as its Redis, and `extra` settings."""
    return dict(os.environ, DATABASE_URL=settings.database_url, REDIS_URL=broker,
                PIER_SECRET_KEY=settings.secret_key, PIER_BUILDER_KEY=settings.builder_key, **extra)


def start(name, env):
    """The Procfile's process `name`, without the start-up chatter between workers."""
    return subprocess.Popen(shlex.split(procfile()[name]) + ["--without-mingle", "--without-gossip"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
