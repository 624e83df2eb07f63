"""Who gets through the builder's door, against the real daemon with real OpenSSH clients and raw sockets:
keys tried one by one as OpenSSH's sshd does, failed authentications and unauthenticated connections
limited per source address, idle connections closed. Every 127.x.y.z address is a client of its own."""
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.builder import (LiveController, Pusher, builder, free_port, pusher, served,  # noqa: F401
                                   start_builder)
from tests.support.docker_apps import APPS
from tests.support.waiting import wait_for

WEB_FILES = {name: (Path(APPS) / "web" / name).read_text() for name in ("Dockerfile", "server.py")}

# Small enough that a test reaches each limit in a few connections.
LIMITS = {"PIER_BUILDER_AUTH_FAILURES": "3", "PIER_BUILDER_AUTH_FAILURE_WINDOW": "15",
          "PIER_BUILDER_UNAUTHENTICATED_PER_SOURCE": "3", "PIER_BUILDER_UNAUTHENTICATED": "8",
          "PIER_BUILDER_LOGIN_GRACE": "10", "PIER_BUILDER_IDLE_TIMEOUT": "20"}


@pytest.fixture(scope="module")
def guarded(app, builder, tmp_path_factory):
    """A second builder, with LIMITS, next to the usual one (whose settings and images it shares)."""
    workdir = tmp_path_factory.mktemp("guarded")
    controller = LiveController(app)
    port = free_port()
    process = start_builder(app.config["PIER"], controller.url, workdir, port, extra_env=LIMITS)
    yield port
    process.terminate()
    process.wait(timeout=10)
    controller.stop()


@pytest.fixture
def sockets():
    """Raw TCP connections to a builder from a given source address, closed after the test."""
    opened = []

    def connect(port, source):
        connection = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
        opened.append(connection)
        return connection
    yield connect
    for connection in opened:
        connection.close()


def first_line(connection):
    received = b""
    while b"\n" not in received:
        chunk = connection.recv(256)
        if not chunk:
            break
        received += chunk
    return received.split(b"\n")[0]


def read_until_closed(connection, seconds):
    """Everything the builder sent until it closed the connection; None if it was still open after `seconds`."""
    deadline = time.monotonic() + seconds
    received = b""
    while time.monotonic() < deadline:
        connection.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            chunk = connection.recv(4096)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    return None


def turned_away(connection):
    """What the builder said to a connection it closed before any SSH was spoken (None: it was not)."""
    said = read_until_closed(connection, 10)
    return None if said is None or b"SSH-" in said else said


def web_app(message):
    return dict(WEB_FILES, **{"default.txt": message})


def test_a_push_offering_an_unknown_key_first_succeeds(app, alice, pusher, tmp_path):
    alice.create_app("sshd-agent")
    stranger = Pusher(tmp_path / "stranger", pusher.port)
    user = Pusher(pusher.home, pusher.port, log_level="INFO")
    user.identities = [stranger.key, user.key]  # as from an agent holding an old key before the added one
    code, output = user.push(user.repo("sshd-agent", web_app("several keys")), "sshd-agent")
    assert code == 0, output
    assert stranger.fingerprint() in output  # offered first, refused, and the next key was tried
    assert "Done, sshd-agent:v2 deployed to Pier" in output
    assert served(app, "sshd-agent") == "several keys"


def test_a_client_with_no_known_key_is_told_about_each_key_it_offered(alice, builder, tmp_path):
    alice.create_app("sshd-nokey")
    one, two = Pusher(tmp_path / "one", builder, log_level="INFO"), Pusher(tmp_path / "two", builder)
    one.identities = [one.key, two.key]
    code, output = one.ssh("git-upload-pack '/sshd-nokey.git'")
    assert code == 255 and "Permission denied (publickey)" in output, output
    for key in (one, two):
        assert f"Your SSH key ({key.fingerprint()}) is not known to Pier" in output
    assert "pier keys:add" in output


def test_failed_authentications_close_the_source_for_the_rest_of_the_window(alice, pusher, guarded, sockets,
                                                                           tmp_path):
    alice.create_app("sshd-window")
    clone = "git-upload-pack '/sshd-window.git'"
    stranger = Pusher(tmp_path / "stranger", guarded, source="127.0.0.11")
    for _ in range(int(LIMITS["PIER_BUILDER_AUTH_FAILURES"]) - 1):
        code, output = stranger.ssh(clone)
        assert code == 255 and "Permission denied (publickey)" in output, output
    code, output = stranger.ssh(clone)  # the last failure the window allows
    assert code == 255 and "too many failed authentications from your address" in output, output

    same_address = Pusher(pusher.home, guarded, source="127.0.0.11")
    code, output = same_address.ssh(clone)
    assert code == 255 and "has no pushes yet" not in output, "a known key got in from a closed address"
    said = turned_away(sockets(guarded, "127.0.0.11"))
    assert said is not None and b"too many failed authentications" in said

    elsewhere = Pusher(pusher.home, guarded, source="127.0.0.12")
    code, output = elsewhere.ssh(clone)
    assert code == 128 and "has no pushes yet" in output, output
    # the window passes and the address may try again
    assert wait_for(lambda: "has no pushes yet" in same_address.ssh(clone)[1], seconds=60)


def test_idle_unauthenticated_connections_are_capped_per_source_and_closed_after_the_grace_time(
        app, alice, pusher, guarded, sockets):
    idle = [sockets(guarded, "127.0.0.21") for _ in range(int(LIMITS["PIER_BUILDER_UNAUTHENTICATED_PER_SOURCE"]))]
    for connection in idle:  # each never sends its version: a client that connected and went quiet
        assert first_line(connection).startswith(b"SSH-2.0-")
    said = turned_away(sockets(guarded, "127.0.0.21"))
    assert said is not None, "a connection over the per-source cap was let in"
    assert b"too many unauthenticated connections" in said

    alice.create_app("sshd-idle")  # another client pushes meanwhile
    user = Pusher(pusher.home, guarded)
    code, output = user.push(user.repo("sshd-idle", web_app("meanwhile")), "sshd-idle")
    assert code == 0, output
    assert served(app, "sshd-idle") == "meanwhile"

    for connection in idle:
        assert read_until_closed(connection, 60) is not None, "an idle connection outlived the login grace"


def test_of_150_idle_connections_from_one_address_the_defaults_keep_10(builder, sockets):
    greetings = [first_line(connection) for connection in [sockets(builder, "127.0.0.51") for _ in range(150)]]
    waiting = [line for line in greetings if line.startswith(b"SSH-2.0-")]
    assert len(waiting) == 10  # the default of PIER_BUILDER_UNAUTHENTICATED_PER_SOURCE; the rest were turned away
    assert all(b"too many unauthenticated connections" in line for line in greetings if line not in waiting)


def test_unauthenticated_connections_are_capped_in_total(guarded, sockets):
    per_source, total = (int(LIMITS[name]) for name in ("PIER_BUILDER_UNAUTHENTICATED_PER_SOURCE",
                                                         "PIER_BUILDER_UNAUTHENTICATED"))
    held = [sockets(guarded, f"127.0.0.{31 + n // per_source}") for n in range(total)]  # none over its own cap
    for connection in held:
        assert first_line(connection).startswith(b"SSH-2.0-")
    said = turned_away(sockets(guarded, "127.0.0.39"))
    assert said is not None, "a connection over the total cap was let in"
    assert b"too many unauthenticated connections" in said

    for connection in held:
        connection.close()

    def let_in():
        with socket.create_connection(("127.0.0.1", guarded), timeout=10, source_address=("127.0.0.39", 0)) as c:
            return first_line(c).startswith(b"SSH-2.0-")
    assert wait_for(let_in, seconds=30), "closed connections still count against the cap"


def test_an_authenticated_connection_without_channel_activity_is_closed(pusher, guarded):
    user = Pusher(pusher.home, guarded, log_level="VERBOSE", source="127.0.0.41")
    session = subprocess.Popen(["ssh", *user.ssh_options(), "-N", "-p", str(guarded), "git@127.0.0.1"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = session.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        session.kill()
        pytest.fail(f"an idle authenticated connection was kept open:\n{session.communicate()[0]}")
    assert "Authenticated to" in output, output  # so it is not the login grace that closed it
    assert "no channel activity" in output, output
