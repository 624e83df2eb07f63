"""Per-app proxy settings (config values PIER_PROXY_*) and WebSockets, through the real nginx."""
import base64
import http.client
import logging
import os
import socket
import time
from contextlib import contextmanager

import pytest

from core.endpoints import Endpoints
from core.extensions import db
from core.models import App
from core.services.releases import latest_good
from router.apply import Nginx, RouterConfigError
from router.sync import sync_once
from tests.integration.test_router import fetch, free_port, router  # noqa: F401
from tests.support.docker_apps import remove_app_containers
from tests.support.router_backend import Backend, accept_key, frame, read_frame


@pytest.fixture
def registry(app):
    """The endpoint registry the router reads; the apps a test registers are cleared afterwards."""
    endpoints, registered = Endpoints(app.config["PIER"].redis_url), []

    def register(app_id, backend):
        endpoints.publish(app_id, {"web": [backend.endpoint]})
        registered.append(app_id)
    yield register
    for app_id in registered:
        endpoints.clear(app_id)


@pytest.fixture
def router_log(caplog):
    """The router's warnings. Alembic's fileConfig (run by the `app` fixture) disables loggers that existed
    before it, this one included; the router process itself never runs migrations."""
    logger = logging.getLogger("pier.router")
    disabled, logger.disabled = logger.disabled, False
    with caplog.at_level(logging.WARNING, logger="pier.router"):
        yield caplog
    logger.disabled = disabled


def post(port, host, size):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/", body=b"x" * size, headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def plant_config_value(flask_app, app_id, key, value):
    """Writes a value the API would refuse straight into the app's current config."""
    with flask_app.app_context():
        app_row = db.session.execute(db.select(App).where(App.id == app_id)).scalar_one()
        config = latest_good(app_row).config
        config.values = dict(config.values, **{key: value})
        db.session.commit()
        db.session.remove()


def test_a_body_size_limit_applies_to_its_own_app_only(app, alice, router, registry, router_log):
    _, nginx, port, _ = router
    with Backend("small") as small, Backend("big") as big, Backend("plain") as plain, Backend("typo") as typo:
        for backend in (small, big, plain, typo):
            alice.create_app(backend.name)
            registry(backend.name, backend)
        for name, size in (("small", "1k"), ("big", "3M")):
            assert alice.post(f"/v2/apps/{name}/config", {"values": {"PIER_PROXY_BODY_SIZE": size}}).status_code == 201
        assert alice.post("/v2/apps/typo/config", {"values": {"PIER_PROXY_BODY_SIZE": "10m; deny all"}}).status_code == 400
        plant_config_value(app, "typo", "PIER_PROXY_BODY_SIZE", "10m; deny all")  # as if stored before the check
        assert sync_once(app, nginx) is True
        two_megabytes = 2 * 1024 * 1024
        assert post(port, "small.localhost", 1000) == (200, "small received 1000 bytes")
        assert post(port, "small.localhost", 2048)[0] == 413
        assert post(port, "plain.localhost", 2048) == (200, "plain received 2048 bytes")
        assert post(port, "plain.localhost", two_megabytes)[0] == 413, "the platform default is 1m"
        assert post(port, "big.localhost", two_megabytes) == (200, f"big received {two_megabytes} bytes")
        assert post(port, "typo.localhost", 2048) == (200, "typo received 2048 bytes")
        assert post(port, "typo.localhost", two_megabytes)[0] == 413, "a bad value must mean the default"
        assert "deny all" not in nginx.current()
        assert [r.getMessage() for r in router_log.records] == [
            "typo: PIER_PROXY_BODY_SIZE='10m; deny all' is not a size such as 512k or 10m (at most 1g); "
            "using the platform default"]
        sync_once(app, nginx)
        assert len(router_log.records) == 1, "a bad value is logged once, not on every sync"
        alice.post("/v2/apps/small/config", {"values": {"PIER_PROXY_BODY_SIZE": None}})
        sync_once(app, nginx)
        assert post(port, "small.localhost", 2048) == (200, "small received 2048 bytes")


def test_a_short_read_timeout_answers_504_for_a_slow_request(app, alice, router):
    client, nginx, port, _ = router
    created = alice.create_app("patient")
    try:
        alice.post("/v2/apps/patient/builds", {"image": "pier-test/web:one"})
        sync_once(app, nginx)
        assert fetch(port, "patient.localhost", "/slow?seconds=2") == (200, "slow done")
        response = alice.post("/v2/apps/patient/config", {"values": {"PIER_PROXY_READ_TIMEOUT": "1"}})
        assert response.status_code == 201
        sync_once(app, nginx)
        started = time.monotonic()
        status, _ = fetch(port, "patient.localhost", "/slow?seconds=3")
        elapsed = time.monotonic() - started
        assert status == 504 and 0.9 < elapsed < 2.5, (status, elapsed)
        assert fetch(port, "patient.localhost") == (200, "one")
    finally:
        remove_app_containers(client, created["uuid"])


@contextmanager
def websocket(port, host):
    """A raw-socket WebSocket client: handshake through nginx, then (send text, receive frame) helpers."""
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        stream = sock.makefile("rb")
        status = stream.readline().decode().strip()
        headers = {}
        while (line := stream.readline().decode().strip()):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        assert status == "HTTP/1.1 101 Switching Protocols", status
        assert headers["sec-websocket-accept"] == accept_key(key)
        assert headers["upgrade"].lower() == "websocket"

        def send(opcode, payload):
            sock.sendall(frame(opcode, payload, mask=os.urandom(4)))

        yield send, lambda: read_frame(stream)


def test_a_websocket_is_proxied_end_to_end_and_idles_within_the_app_read_timeout(app, alice, router, registry):
    _, nginx, port, _ = router
    with Backend("echo") as echo:
        for name in ("echo", "hasty"):
            alice.create_app(name)
            registry(name, echo)
        alice.post("/v2/apps/hasty/config", {"values": {"PIER_PROXY_READ_TIMEOUT": "1"}})
        sync_once(app, nginx)
        with websocket(port, "echo.localhost") as (send, receive):
            version, headers = echo.last_request
            assert version == "HTTP/1.1" and headers["Upgrade"] == "websocket"
            assert headers["Connection"].lower() == "upgrade"
            send(0x1, "héllo pier".encode())
            assert receive() == (0x1, "héllo pier".encode())
            large = os.urandom(70_000)
            send(0x2, large)
            assert receive() == (0x2, large)
            time.sleep(2.5)  # idle for longer than hasty's timeout: the default (60 s) keeps this one open
            send(0x1, b"still here")
            assert receive() == (0x1, b"still here")
            send(0x8, b"\x03\xe8")
            assert receive() == (0x8, b"\x03\xe8")
        with websocket(port, "hasty.localhost") as (send, receive):
            send(0x1, b"quick")
            assert receive() == (0x1, b"quick")
            time.sleep(2)
            with pytest.raises((ConnectionError, OSError)):
                send(0x1, b"too late")
                receive()


def test_a_runtime_folder_nginx_workers_cannot_reach_is_refused_at_start(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    if os.geteuid() == 0:  # workers run as nobody: bodies over 16k would get 500
        with pytest.raises(RouterConfigError, match="cannot reach"):
            Nginx(str(private / "router"), "127.0.0.1:1")
    else:  # workers run as this user, who can reach it
        Nginx(str(private / "router"), "127.0.0.1:1")
