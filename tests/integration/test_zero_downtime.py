"""No failed request through the router across 20 deploys of one app, at 1 and at 2 replicas, with at least
10,000 requests sent while the deploys run."""
import threading
import time
import urllib.error
import urllib.request

import pytest

from core.endpoints import Endpoints
from router.sync import ALIVE_SECONDS, sync_once
from tests.integration.test_router import free_port, router  # noqa: F401
from tests.support.docker_apps import remove_app_containers
from tests.support.recording_scheduler import settings_changed

RATE = 60  # requests per second from the paced loader, above the 50/s the platform promises
CLOSED_LOOP_THREADS = 6  # plus this many threads sending requests back to back
MIN_REQUESTS = 10_000


class Loader(threading.Thread):
    """Sends GETs through nginx, at a steady rate and from threads sending back to back, each on a new
    connection, and counts every non-2xx answer or connection error."""

    def __init__(self, port, host, path="/", back_to_back=0):
        super().__init__(daemon=True)
        self.url, self.host, self.back_to_back = f"http://127.0.0.1:{port}{path}", host, back_to_back
        self.sent, self.failures, self.stop = 0, [], threading.Event()
        self.lock = threading.Lock()

    def run(self):
        for _ in range(self.back_to_back):
            threading.Thread(target=self.loop, daemon=True).start()
        next_at = time.monotonic()
        while not self.stop.is_set():
            next_at += 1 / RATE
            threading.Thread(target=self.one, daemon=True).start()
            time.sleep(max(0.0, next_at - time.monotonic()))

    def loop(self):
        while not self.stop.is_set():
            self.one()

    def one(self):
        with self.lock:
            self.sent += 1
        request = urllib.request.Request(self.url, headers={"Host": self.host})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        except (urllib.error.URLError, OSError) as error:
            self.failures.append(f"{time.monotonic():.2f} {error!r}")


class RouterThread(threading.Thread):
    def __init__(self, app, nginx):
        super().__init__(daemon=True)
        self.app, self.nginx, self.stop = app, nginx, threading.Event()

    def run(self):
        endpoints = Endpoints(self.app.config["PIER"].redis_url)
        while not self.stop.is_set():
            endpoints.router_alive(ALIVE_SECONDS)  # as router.sync's loop says it runs: deploys wait for it
            sync_once(self.app, self.nginx)
            time.sleep(0.05)


# Load through twenty deploys (a minute with one replica, a minute and a half with two): the fault suite runs
# both (make test-faults, which CI runs after make test). make test keeps the drain of one deploy:
# tests/integration/test_builder.py::test_a_push_returns_once_live_while_the_old_container_still_drains.
@pytest.mark.slow
@pytest.mark.parametrize("replicas", [1, 2])
def test_twenty_deploys_fail_no_request(app, alice, router, replicas):  # noqa: F811
    client, nginx, port, _ = router
    created = alice.create_app("steady")
    with settings_changed(app, drain_seconds=1.0, stop_grace_seconds=10):
        try:
            alice.post("/v2/apps/steady/builds", {"image": "pier-test/web:one"})
            alice.post("/v2/apps/steady/scale", {"cmd": replicas})
            sync_once(app, nginx)
            syncer = RouterThread(app, nginx)
            loader = Loader(port, "steady.localhost", back_to_back=CLOSED_LOOP_THREADS)
            long_request = Loader(port, "steady.localhost", "/slow?seconds=5")
            syncer.start()
            loader.start()
            steps, timeline = [], []
            i = -1
            while i < 19 or loader.sent < MIN_REQUESTS:  # at least 20 deploys, and as many as 10,000 requests take
                i += 1
                if i == 3:
                    threading.Thread(target=long_request.one, daemon=True).start()
                    time.sleep(0.2)
                step = i % 5
                if step == 0:
                    response = alice.post("/v2/apps/steady/config", {"values": {"ROUND": str(i)}})
                elif step == 1:
                    image = "pier-test/web:two" if i % 2 else "pier-test/web:one"
                    response = alice.post("/v2/apps/steady/builds", {"image": image})
                elif step == 2:
                    response = alice.post("/v2/apps/steady/releases/rollback", {})
                elif step == 3:
                    response = alice.post("/v2/apps/steady/scale", {"cmd": replicas * 2})
                else:
                    response = alice.post("/v2/apps/steady/scale", {"cmd": replicas})
                steps.append(response.status_code)
                timeline.append(f"{time.monotonic():.2f} {('config', 'build', 'rollback', 'scale up', 'scale down')[step]}"
                                f" {response.status_code}")
            time.sleep(6)  # the long request and the last drain finish
            loader.stop.set()
            syncer.stop.set()
            loader.join(timeout=10)
            syncer.join(timeout=10)
            print(f"\nreplicas={replicas}: {loader.sent} requests, {len(loader.failures)} failed, "
                  f"long request failed: {bool(long_request.failures)}")
            assert all(code in (201, 204) for code in steps), steps
            assert loader.sent >= MIN_REQUESTS
            if loader.failures:
                print("failures:", *loader.failures[:5], "steps:", *timeline, sep="\n  ")
            assert loader.failures == [], (len(loader.failures), loader.failures[:5])
            assert long_request.sent == 1 and long_request.failures == []
        finally:
            remove_app_containers(client, created["uuid"])
