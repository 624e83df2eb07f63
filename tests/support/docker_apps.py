"""Test images built locally from pier/base (no image is pulled), and helpers to reach containers."""
import os
import shutil
import tempfile
import urllib.request

import docker

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")


def build_images():
    """pier-test/web:one, pier-test/web:two (different default bodies) and pier-test/broken:1."""
    client = docker.from_env()
    for message in ("one", "two"):
        with tempfile.TemporaryDirectory() as context:
            for name in ("Dockerfile", "server.py"):
                shutil.copy(os.path.join(APPS, "web", name), context)
            with open(os.path.join(context, "default.txt"), "w") as f:
                f.write(message)
            client.images.build(path=context, tag=f"pier-test/web:{message}", rm=True)
    client.images.build(path=os.path.join(APPS, "broken"), tag="pier-test/broken:1", rm=True)
    return client


def build_burn_image(client):
    """pier-test/burn:1, whose GET /burn?ms=N spins the CPU for N ms (tests/support/apps/burn)."""
    client.images.build(path=os.path.join(APPS, "burn"), tag="pier-test/burn:1", rm=True)


def get(endpoint, path="/", timeout=5):
    with urllib.request.urlopen(f"http://{endpoint}{path}", timeout=timeout) as response:
        return response.read().decode()


def remove_app_containers(client, app_uuid):
    """Removes the app's containers; one the platform removes meanwhile (a deploy settling) is gone anyway."""
    for container in client.containers.list(all=True, ignore_removed=True,
                                            filters={"label": f"io.pier.app-uuid={app_uuid}"}):
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: its removal is already in progress
                raise
