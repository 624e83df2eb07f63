"""The images builds leave in the local Docker engine, by app."""
import docker
from docker.errors import APIError, DockerException, ImageNotFound

from workers.build.registry import reference


def remove_app_images(settings, app):
    """Removes every local image of the app's repository (`<registry>/<app>:*`); returns how many. An engine
    that cannot be reached holds nothing to remove."""
    repository, _ = reference(settings, app, "")
    try:
        client = docker.from_env(timeout=60)
        images = client.images.list(name=repository)
    except DockerException:
        return 0
    removed = 0
    for image in images:
        try:
            client.images.remove(image.id, force=True)
            removed += 1
        except ImageNotFound:
            pass
        except APIError as exc:  # e.g. a stopped container of the app still uses it: it goes with the app
            if exc.status_code != 409:
                raise
    client.close()
    return removed
