"""Dockerfile apps: `docker build` through the Docker SDK, output streamed line by line."""
import time

import requests
import urllib3
from docker.errors import APIError, DockerException

from workers.build import BuildFailed
from workers.scheduler.docker_spec import memory_bytes


def build(client, context, tag, settings, publish, deadline, nocache=False, buildargs=None):
    """Builds `context` (a safely extracted source tree) into the image `tag`."""
    publish.step("Building Docker image" + (" (cache disabled)" if nocache else ""))
    limit = memory_bytes(settings.build_memory)
    try:
        output = client.api.build(
            path=str(context), tag=tag, rm=True, forcerm=True, pull=False, nocache=nocache, decode=True,
            buildargs=buildargs or {}, container_limits={"memory": limit, "memswap": limit},
            timeout=max(1, int(deadline - time.monotonic())), labels={"io.pier.build": "true"})
        for chunk in output:
            _show(chunk, publish)
            if time.monotonic() > deadline:
                raise BuildFailed(f"Build took longer than PIER_BUILD_TIMEOUT ({settings.build_timeout} s)")
            if publish.cancelled():
                raise BuildFailed("Build cancelled: the git push client went away")
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError,
            urllib3.exceptions.ReadTimeoutError):
        raise BuildFailed(f"Build took longer than PIER_BUILD_TIMEOUT ({settings.build_timeout} s)") from None
    except APIError as exc:
        raise BuildFailed(f"docker build failed: {exc.explanation or exc}") from None
    except DockerException as exc:
        raise BuildFailed(f"docker build failed: {exc}") from None
    return client.images.get(tag)


def _show(chunk, publish):
    if "error" in chunk:
        message = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
        raise BuildFailed(message.strip())
    text = chunk.get("stream")
    if text and text.strip():
        publish.detail(text.rstrip("\n"))
    elif chunk.get("status") and not chunk.get("progressDetail"):
        publish.detail(chunk["status"])


def exposed_port(image):
    """The image's first exposed TCP port, or None."""
    ports = (image.attrs.get("Config") or {}).get("ExposedPorts") or {}
    tcp = sorted(int(p.split("/")[0]) for p in ports if p.endswith("/tcp") or "/" not in p)
    return tcp[0] if tcp else None
