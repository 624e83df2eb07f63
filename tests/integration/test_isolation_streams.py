"""`logs -f` cannot exhaust the API: streams are bounded per user and per process, and a stream whose client
went away frees its thread within about a second (32 abandoned ones once left every other request waiting).
Against the controller under gunicorn, as `make run` serves it."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.builder import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
ABANDONED = 50


@pytest.fixture
def controller(app):
    settings = app.config["PIER"]
    port = free_port()
    env = dict(os.environ, PIER_BIND=f"127.0.0.1:{port}", PIER_WEB_WORKERS="1", PIER_WEB_THREADS="8",
               DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
               PIER_SECRET_KEY=settings.secret_key, PIER_BUILDER_KEY=settings.builder_key,
               PIER_LOG_FOLLOW_PER_USER="2", PIER_LOG_FOLLOW_MAX="4")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process)
    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60).read()  # its worker has booted
    yield port
    process.terminate()
    process.wait(timeout=30)


def open_stream(port, token, app_id):
    """A follow request whose answer's head is read; returns (status, socket)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET /v2/apps/{app_id}/logs?follow=true HTTP/1.1\r\nHost: pier\r\n"
                 f"Authorization: token {token}\r\n\r\n".encode())
    head = b""
    while b"\r\n" not in head:
        head += sock.recv(1024)
    return int(head.split()[1]), sock


def abandon(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    sock.close()


class Health(threading.Thread):
    """/healthz every 0.1 s, keeping the slowest answer."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.url, self.failures, self.stop = f"http://127.0.0.1:{port}/healthz", [], threading.Event()
        self.times = []

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                urllib.request.urlopen(self.url, timeout=5).read()
            except OSError as exc:
                self.failures.append(repr(exc))
            self.times.append(time.monotonic() - started)
            time.sleep(0.1)


def test_abandoned_follow_streams_never_starve_the_api(controller, alice):
    alice.create_app("followed")
    health = Health(controller)
    health.start()
    try:
        first, second = open_stream(controller, alice.token, "followed"), open_stream(controller, alice.token,
                                                                                         "followed")
        assert (first[0], second[0]) == (200, 200)
        status, extra = open_stream(controller, alice.token, "followed")
        assert status == 429, "a third stream of one user was let in"
        extra.close()
        abandon(first[1])
        abandon(second[1])
        opened = 0
        deadline = time.monotonic() + 120
        while opened < ABANDONED and time.monotonic() < deadline:
            status, sock = open_stream(controller, alice.token, "followed")
            if status == 200:
                opened += 1
            abandon(sock)
            time.sleep(0.05)
        assert opened == ABANDONED, f"only {opened} streams got a slot back after their client left"
    finally:
        health.stop.set()
        health.join()
    print(f"\n/healthz over {len(health.times)} requests: slowest {max(health.times):.3f} s, "
          f"{sorted(health.times)[len(health.times) // 2] * 1000:.1f} ms median")
    assert health.failures == [] and max(health.times) < 1.0, (sorted(health.times)[-5:], health.failures[:3])


def test_a_request_line_too_long_for_gunicorn_gets_the_apis_json_error(controller):
    sock = socket.create_connection(("127.0.0.1", controller), timeout=10)
    sock.sendall(f"GET /v2/apps/{'x' * 5000} HTTP/1.1\r\nHost: pier\r\n\r\n".encode())
    answer = b""
    while chunk := sock.recv(4096):
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414") and b"Content-Type: application/json" in head
    assert json.loads(body)["detail"].startswith("URI Too Long")
