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


def remove_images(references):
    """Removes these image names from the engine, never by force: an image that another name still holds
    only loses this one, and one a container still uses stays. Returns (names removed, bytes the engine's
    layers shrank by meanwhile). An engine that cannot be reached holds nothing to remove."""
    try:
        client = docker.from_env(timeout=120)
        before = client.df()["LayersSize"]
    except DockerException:
        return [], 0
    removed = []
    try:
        for reference in references:
            try:
                client.images.remove(reference)
                removed.append(reference)
            except ImageNotFound:
                pass
            except APIError as exc:  # 409: a container still uses it
                if exc.status_code != 409:
                    raise
        after = client.df()["LayersSize"]
    finally:
        client.close()
    return removed, max(0, before - after)
