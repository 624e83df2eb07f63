"""The Kubernetes backend reads an image's port from its registry (a cluster pulls images itself), over the
Docker Registry HTTP API: here a real registry (distribution, as Pier runs it), of this test's own, that
answers only to the app's credentials."""
import os
import shutil
import socket
import subprocess
import tempfile

import bcrypt
import pytest

from tests.conftest import settings_for_tests
from tests.support.docker_apps import build_images
from tests.support.waiting import wait_for
from workers.scheduler.kubernetes.images import RegistryImages, reference

CREDENTIALS = {"username": "ada", "password": "a registry password"}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(address):
    try:
        with socket.create_connection(("127.0.0.1", int(address.rsplit(":", 1)[1])), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def private_registry():
    folder = tempfile.mkdtemp(prefix="pier-kube-registry-")
    address = f"127.0.0.1:{_free_port()}"
    with open(os.path.join(folder, "htpasswd"), "w") as f:
        hashed = bcrypt.hashpw(CREDENTIALS["password"].encode(), bcrypt.gensalt()).decode()
        f.write(f"{CREDENTIALS['username']}:{hashed}\n")
    with open(os.path.join(folder, "config.yml"), "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: warn\nhttp:\n  addr: {address}\n"
                f"auth:\n  htpasswd:\n    realm: test\n    path: {folder}/htpasswd\n"
                f"storage:\n  filesystem:\n    rootdirectory: {folder}/data\n")
    server = subprocess.Popen(["docker-registry", "serve", os.path.join(folder, "config.yml")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: _answers(address)), "the test's registry did not start"
        yield address
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_exposed_port_is_read_from_the_registry_with_the_apps_credentials(private_registry):
    client = build_images()
    target = f"{private_registry}/shop"
    client.images.get("pier-test/web:one").tag(target, "git-1a2b3c4d")
    try:
        for line in client.images.push(target, "git-1a2b3c4d", stream=True, decode=True, auth_config=CREDENTIALS):
            assert "error" not in line, line
        images = RegistryImages(settings_for_tests())
        assert images.port(f"{target}:git-1a2b3c4d", CREDENTIALS) == 8080  # EXPOSE 8080 in apps/web/Dockerfile
        assert images.port(f"{target}:git-1a2b3c4d") is None  # refused without them: the backend uses 5000
        assert images.port(f"{target}:no-such-tag", CREDENTIALS) is None
    finally:
        client.images.remove(f"{target}:git-1a2b3c4d", force=True)


def test_image_references():
    assert reference("127.0.0.1:5000/hello:git-1a2b") == ("127.0.0.1:5000", "hello", "git-1a2b")
    assert reference("python") == ("registry-1.docker.io", "library/python", "latest")
    assert reference("acme/web:v3") == ("registry-1.docker.io", "acme/web", "v3")
    assert reference("registry.example.com/a/b@sha256:0f") == ("registry.example.com", "a/b", "sha256:0f")
    assert reference("localhost:5000/web") == ("localhost:5000", "web", "latest")
