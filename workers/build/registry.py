"""Pier's registry: every build's image is pushed as `<registry>/<app>:git-<sha>`."""
from docker.errors import APIError, DockerException

from workers.build import BuildFailed


def reference(settings, app, sha):
    return f"{settings.registry}/{app}", f"git-{sha[:8]}"


def push(client, repository, tag, publish, auth=None):
    """Pushes with the platform's registry credentials (`auth`), or the engine's own login when None."""
    publish.step(f"Pushing image to {repository}:{tag}")
    try:
        for chunk in client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth):
            if "error" in chunk:
                message = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
                raise BuildFailed(f"Pushing to the registry failed: {message}")
            if "aux" in chunk and chunk["aux"].get("Digest"):
                publish.detail(f"digest {chunk['aux']['Digest']}")
    except (APIError, DockerException) as exc:
        raise BuildFailed(f"Pushing to the registry failed: {exc}") from None
