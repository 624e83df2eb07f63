"""The registry, configured by scripts/registry-config for S3, keeps its layers in a real S3 server."""
import io
import os
import subprocess
import tarfile
import time
import urllib.request
import uuid
from pathlib import Path

import docker
import pytest

from core.storage import S3Store
from tests.support.s3 import free_port, s3_endpoint  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]


def tiny_image(client, tag):
    """A one-file image made with `docker import`, so the push is quick."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        body = uuid.uuid4().hex.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    repository, version = tag.rsplit(":", 1)
    client.api.import_image_from_data(data.getvalue(), repository=repository, tag=version)
    return client.images.get(tag)


@pytest.fixture
def s3_registry(s3_endpoint, tmp_path):  # noqa: F811
    bucket = f"registry-{uuid.uuid4().hex[:8]}"
    store = S3Store(bucket, s3_endpoint, "us-east-1", "AKIAPIERTEST", "pier-test-secret-key", path_style=True)
    store.ensure_bucket()
    port = free_port()
    env = dict(os.environ, PIER_STORAGE="s3", PIER_S3_BUCKET=bucket, PIER_S3_ENDPOINT=s3_endpoint,
               PIER_S3_ACCESS_KEY="AKIAPIERTEST", PIER_S3_SECRET_KEY="pier-test-secret-key")
    config = tmp_path / "config.yml"
    config.write_text(subprocess.run([str(ROOT / "scripts" / "registry-config"), f"127.0.0.1:{port}",
                                      str(tmp_path / "unused")], env=env, check=True, capture_output=True,
                                     text=True).stdout)
    log = open(tmp_path / "registry.log", "wb")
    registry = subprocess.Popen(["env", "-u", "AWS_CA_BUNDLE", "docker-registry", "serve", str(config)],
                                stdout=log, stderr=subprocess.STDOUT)  # as scripts/platform.sh starts it
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
            break
        except OSError:
            assert registry.poll() is None and time.monotonic() < deadline, (tmp_path / "registry.log").read_text()
            time.sleep(0.1)
    yield f"127.0.0.1:{port}", store
    registry.terminate()
    registry.wait(timeout=10)


def test_an_image_pushed_to_the_registry_lands_in_s3_and_pulls_back(s3_registry):
    address, store = s3_registry
    client = docker.from_env()
    tag = f"{address}/tiny:{uuid.uuid4().hex[:6]}"
    image = tiny_image(client, tag)
    repository, version = tag.rsplit(":", 1)
    for chunk in client.api.push(repository, tag=version, stream=True, decode=True):
        assert "error" not in chunk, chunk
    keys = store.list("registry")
    assert any("/repositories/tiny/" in key for key in keys), keys[:10]
    assert any("/blobs/sha256/" in key for key in keys)
    client.images.remove(image.id, force=True)
    pulled = client.images.pull(tag)
    assert pulled.id == image.id
    client.images.remove(pulled.id, force=True)
