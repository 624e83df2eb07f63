"""moto's standalone S3 server, a real HTTP server in a subprocess on 127.0.0.1, for the S3 backends."""
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(folder):
    """(process, endpoint) of a moto server logging into `folder`/moto.log, once it answers."""
    port = free_port()
    log = open(folder / "moto.log", "w+b")
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1).close()
            break
        except OSError:
            log.seek(0)
            assert server.poll() is None, f"moto_server exited: {log.read().decode(errors='replace')}"
            assert time.monotonic() < deadline, "moto_server did not answer within 30 seconds"
            time.sleep(0.1)
    log.close()
    return server, endpoint


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    server, endpoint = start_moto(tmp_path_factory.mktemp("moto"))
    yield endpoint
    server.terminate()
    server.wait(timeout=10)
