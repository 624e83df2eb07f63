"""Deploy speed on the Docker scheduler, next to a bare `docker run` of the same image (the baseline).

    scripts/with-env python bench/deploy.py [--rounds 5]

Prints the median time from a config change (a new release of the same image) to the new release serving,
and from `scale web=10` to ten ready containers. It drives the scheduler the way the deploy job does,
without the HTTP request and Celery hop in front (those add milliseconds; see bench/api.py).
A benchmark, not a test: it never fails on a figure.
"""
import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid

import docker

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)
IMAGE = "pier-bench/web:1"

from core.endpoints import Endpoints  # noqa: E402
from core.settings import Settings  # noqa: E402
from workers.scheduler import ReleaseSpec  # noqa: E402
from workers.scheduler.docker import DockerScheduler  # noqa: E402
from workers.scheduler.docker.containers import NETWORK  # noqa: E402


def build_image(client):
    with tempfile.TemporaryDirectory() as context:
        for name in ("Dockerfile", "server.py"):
            shutil.copy(os.path.join(TOP, "tests", "support", "apps", "web", name), context)
        with open(os.path.join(context, "default.txt"), "w") as f:
            f.write("bench")
        client.images.build(path=context, tag=IMAGE, rm=True)


def wait_port(ip, port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((ip, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"{ip}:{port} never opened")


def bare_run(client):
    start = time.monotonic()
    container = client.containers.run(IMAGE, detach=True, network=NETWORK, environment={"PORT": "8080"})
    try:
        container.reload()
        wait_port(container.attrs["NetworkSettings"]["Networks"][NETWORK]["IPAddress"], 8080)
        return time.monotonic() - start
    finally:
        container.remove(force=True)


def spec(app_id, app_uuid, version, message):
    return ReleaseSpec(app=app_id, app_uuid=app_uuid, version=version, image=IMAGE, env={"MESSAGE": message},
                       dockerfile=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings = Settings.from_env(drain_seconds=0.0, stop_grace_seconds=2)
    client = docker.from_env()
    build_image(client)
    endpoints = Endpoints(settings.redis_url)
    scheduler = DockerScheduler(settings, endpoints, client=client)
    scheduler._ensure_network()
    app_id, app_uuid = f"bench-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())
    bare, redeploy, scale = [], [], []
    try:
        scheduler.deploy(spec(app_id, app_uuid, 1, "v1"), {"cmd": 1})
        for n in range(args.rounds):
            bare.append(bare_run(client))
            start = time.monotonic()
            scheduler.deploy(spec(app_id, app_uuid, n + 2, f"v{n + 2}"), {"cmd": 1})
            redeploy.append(time.monotonic() - start)
            assert endpoints.read(app_id)["cmd"], "no endpoint published"
            last = spec(app_id, app_uuid, n + 2, f"v{n + 2}")
            start = time.monotonic()
            scheduler.scale(last, {"cmd": 10})
            scale.append(time.monotonic() - start)
            scheduler.scale(last, {"cmd": 1})
    finally:
        scheduler.destroy(app_id, app_uuid)
        endpoints.clear(app_id)
    print(f"{args.rounds} rounds, {os.cpu_count()} cores, medians")
    print(f"{'bare docker run to port open (baseline)':<44}{statistics.median(bare):>8.2f} s")
    print(f"{'config change to new release serving':<44}{statistics.median(redeploy):>8.2f} s"
          f"  ({statistics.median(redeploy) / statistics.median(bare):.1f}x baseline)")
    print(f"{'scale cmd=10 to ten ready containers':<44}{statistics.median(scale):>8.2f} s"
          f"  ({statistics.median(scale) / statistics.median(bare):.1f}x baseline)")


if __name__ == "__main__":
    main()
