"""The controller's gunicorn workers (gunicorn.conf.py, api/balanced_worker.py): clients that keep their
connections alive are spread evenly over the workers."""
import collections
import http.client
import os
import signal
import subprocess
import sys

import pytest

from tests.support.services import free_port
from tests.support.waiting import wait_for

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pid_of(port, keep_alive=None):
    """The pid that answers on a new connection (closed after it), or on `keep_alive`, kept open."""
    connection = keep_alive or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/", headers={} if keep_alive else {"Connection": "close"})
    pid = int(connection.getresponse().read())
    if not keep_alive:
        connection.close()
    return pid


@pytest.fixture
def three_workers(tmp_path):
    port = free_port()
    # a long wait per connection held: on a loaded machine a worker may take more than a millisecond to wake up
    env = dict(os.environ, PIER_WEB_WORKERS="3", PIER_WEB_ACCEPT_WAIT="0.05", PIER_METRICS_FOLDER=str(tmp_path))
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
                               f"127.0.0.1:{port}", "tests.support.pid_app:app"],
                              cwd=TOP, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen = set()

        def all_answered():  # every worker is in its loop once each has answered
            try:
                seen.add(pid_of(port))
            except OSError:
                pass
            return len(seen) == 3

        assert wait_for(all_answered, seconds=60, step=0.01), f"three workers did not all answer: {seen}"
        yield port, seen
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_kept_alive_connections_are_spread_evenly_over_the_workers(three_workers):
    port, _ = three_workers
    # Without the balance, whichever worker wakes first takes a connection: 4/4/4 comes up about one time in 15.
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(12)]
    try:
        pids = [pid_of(port, keep_alive=connection) for connection in connections]
        assert sorted(collections.Counter(pids).values()) == [4, 4, 4], pids
        # each stays with its worker
        assert [pid_of(port, keep_alive=connection) for connection in connections] == pids
    finally:
        for connection in connections:
            connection.close()


def test_a_worker_that_cannot_take_a_connection_does_not_hold_it_up(three_workers):
    port, pids = three_workers
    stopped, *running = sorted(pids)
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(6)]
    os.kill(stopped, signal.SIGSTOP)  # it holds no connection: the others let each new one wait for it, then take it
    try:
        answered = [pid_of(port, keep_alive=connection) for connection in connections]
        assert set(answered) <= set(running) and len(answered) == 6, answered
    finally:
        os.kill(stopped, signal.SIGCONT)
        for connection in connections:
            connection.close()
