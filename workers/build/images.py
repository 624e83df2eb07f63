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
    only loses this one, and one a container still uses stays. Returns (names removed, bytes freed: the
    layers that were the removed images' own). An engine that cannot be reached holds nothing to remove."""
    try:
        client = docker.from_env(timeout=120)
        own_bytes = {image["Id"]: image["Size"] - max(image["SharedSize"], 0) for image in client.df()["Images"]}
    except DockerException:
        return [], 0
    removed, freed = [], 0
    try:
        for reference in references:
            try:
                answer = client.api.remove_image(reference)
            except ImageNotFound:
                continue
            except APIError as exc:  # 409: a container still uses it
                if exc.status_code != 409:
                    raise
                continue
            removed.append(reference)
            freed += sum(own_bytes.get(entry["Deleted"], 0) for entry in answer or () if "Deleted" in entry)
    finally:
        client.close()
    return removed, freed
