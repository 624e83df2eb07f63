"""`builds:create` from a private registry: the app's registry credentials are used for the pull."""
import subprocess
import time
import urllib.error
import urllib.request

import bcrypt
import pytest

from tests.integration.test_docker_api import docker_platform, served  # noqa: F401 - fixture
from tests.support.s3 import free_port


@pytest.fixture
def private_registry(tmp_path):
    """A registry on 127.0.0.1 that wants a password; pier-test/web:two is in it, and not left locally."""
    hashed = bcrypt.hashpw(b"s3cret-pass", bcrypt.gensalt(rounds=5)).decode()
    (tmp_path / "htpasswd").write_text(f"deployer:{hashed}\n")
    port = free_port()
    (tmp_path / "config.yml").write_text(f"""version: 0.1
log:
  level: warn
http:
  addr: 127.0.0.1:{port}
storage:
  filesystem:
    rootdirectory: {tmp_path / "data"}
auth:
  htpasswd:
    realm: pier-test
    path: {tmp_path / "htpasswd"}
""")
    registry = subprocess.Popen(["docker-registry", "serve", str(tmp_path / "config.yml")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
        except urllib.error.HTTPError as answer:
            assert answer.code == 401
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    registry.terminate()
    registry.wait(timeout=10)


def test_an_image_from_a_private_registry_deploys_with_the_apps_credentials(app, alice, docker_platform,  # noqa: F811
                                                                            private_registry):
    client = docker_platform
    image = f"{private_registry}/team/web:two"
    client.images.get("pier-test/web:two").tag(image)
    auth = {"username": "deployer", "password": "s3cret-pass"}
    for chunk in client.api.push(image, stream=True, decode=True, auth_config=auth):
        assert "error" not in chunk, chunk
    client.images.remove(image)

    alice.create_app("privy")
    response = alice.post("/v2/apps/privy/builds", {"image": image})
    assert response.status_code == 400
    assert "not found or not pullable" in response.get_json()["detail"]

    body = {"registry": {"username": "deployer", "password": "wrong"}, "values": {"PORT": "8080"}}
    assert alice.post("/v2/apps/privy/config", body).status_code == 201
    response = alice.post("/v2/apps/privy/builds", {"image": image})
    assert response.status_code == 400
    assert "wrong" not in response.get_json()["detail"]

    assert alice.post("/v2/apps/privy/config", {"registry": auth}).status_code == 201
    assert alice.post("/v2/apps/privy/builds", {"image": image}).status_code == 201
    assert served(app, "privy") == "two"
    client.images.remove(image, force=True)
