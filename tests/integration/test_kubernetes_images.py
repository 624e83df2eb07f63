"""The Kubernetes backend reads an image's port from its registry (a cluster pulls images itself): here
the real registry Pier pushes builds to, over the Docker Registry HTTP API."""
import uuid

from tests.conftest import settings_for_tests
from tests.support.docker_apps import build_images
from workers.registry import Registry
from workers.scheduler.kubernetes.images import RegistryImages, reference


def test_the_exposed_port_is_read_from_the_registry():
    settings = settings_for_tests()
    client = build_images()
    repository = f"pier-kube-test-{uuid.uuid4().hex[:8]}"
    image = client.images.get("pier-test/web:one")
    target = f"{settings.registry}/{repository}"
    image.tag(target, "one")
    try:
        for line in client.images.push(target, "one", stream=True, decode=True):
            assert "error" not in line, line
        images = RegistryImages(settings)
        assert images.port(f"{target}:one") == 8080  # EXPOSE 8080 in tests/support/apps/web/Dockerfile
        assert images.port(f"{target}:no-such-tag") is None  # the backend then uses 5000
    finally:
        Registry(settings).delete_repository(repository)
        client.images.remove(f"{target}:one", force=True)


def test_image_references():
    assert reference("127.0.0.1:5000/hello:git-1a2b") == ("127.0.0.1:5000", "hello", "git-1a2b")
    assert reference("python") == ("registry-1.docker.io", "library/python", "latest")
    assert reference("acme/web:v3") == ("registry-1.docker.io", "acme/web", "v3")
    assert reference("registry.example.com/a/b@sha256:0f") == ("registry.example.com", "a/b", "sha256:0f")
    assert reference("localhost:5000/web") == ("localhost:5000", "web", "latest")
