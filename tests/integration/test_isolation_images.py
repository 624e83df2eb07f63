"""A tenant deploys only images it may read: never an image id (whatever the engine holds, other tenants'
builds too) and never another app's repository in Pier's registry, however the registry is spelled."""
import pytest

from core import images

FORBIDDEN = ["cc3d", "sha256:0123456789abcdef", "127.0.0.1:5000/victim:git-1234abcd", "localhost:5000/victim",
             "[::1]:5000/victim:latest", "127.0.0.2:5000/victim", "127.0.0.1:5000/victim@sha256:" + "a" * 64,
             "127.0.0.1:5000/pier/stack:bookworm"]


@pytest.mark.parametrize("image", FORBIDDEN)
def test_a_stranger_cannot_deploy_another_apps_image(alice, bob, image):
    alice.create_app("victim")
    bob.create_app("stranger")
    response = bob.post("/v2/apps/stranger/builds", {"image": image})
    assert response.status_code == 400
    assert "image" in response.get_json()
    assert [r["version"] for r in bob.get("/v2/apps/stranger/releases").get_json()["results"]] == [1]


@pytest.mark.parametrize("image", ["127.0.0.1:5000/mine:git-1234abcd", "localhost:5000/mine@sha256:" + "b" * 64,
                                   "nginx", "registry.example.com/team/web:1.2", "127.0.0.1:5001/other:1"])
def test_an_app_may_deploy_its_own_images_and_outside_ones(image):
    assert images.check(image, "mine", "127.0.0.1:5000") == image


def test_the_registry_answers_only_to_the_platforms_credentials(app):
    import requests
    anonymous = requests.get("http://127.0.0.1:5000/v2/_catalog", timeout=10)
    assert anonymous.status_code == 401
    auth = app.config["PIER"].registry_auth()
    assert requests.get("http://127.0.0.1:5000/v2/_catalog", timeout=10,
                        auth=(auth["username"], auth["password"])).status_code == 200
