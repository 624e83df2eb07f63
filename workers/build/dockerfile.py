"""Dockerfile apps: `docker build` through the Docker SDK, output streamed line by line."""
import socket
import threading
import time

import requests
import urllib3
from docker.errors import APIError, DockerException

from core.units import memory_bytes
from workers.build import BuildFailed

WATCH_SECONDS = 1.0


def build(client, context, tag, settings, publish, deadline, nocache=False, buildargs=None):
    """Builds `context` (a safely extracted source tree) into the image `tag`.

    The output is read on a thread while this one watches the clock and the push's cancel flag: a long
    silent step (`RUN sleep 600`) is stopped on time too, by closing the client, which ends the build in
    the engine. The client is not usable afterwards, so a stopped build always raises.
    """
    publish.step("Building Docker image" + (" (cache disabled)" if nocache else ""))
    limit = memory_bytes(settings.build_memory)
    outcome, responses = {}, []
    _keep_responses(client, responses)

    def read_output():
        try:
            output = client.api.build(
                path=str(context), tag=tag, rm=True, forcerm=True, pull=False, nocache=nocache, decode=True,
                buildargs=buildargs or {}, container_limits={"memory": limit, "memswap": limit},
                timeout=settings.build_timeout + WATCH_SECONDS, labels={"io.pier.build": "true"})
            for chunk in output:
                _show(chunk, publish)
        except Exception as exc:  # handed to the watching thread, which decides what the user reads
            outcome["error"] = exc

    reader = threading.Thread(target=read_output, name="docker-build", daemon=True)
    reader.start()
    while reader.is_alive():
        reader.join(WATCH_SECONDS)
        stop = None
        if time.monotonic() > deadline:
            stop = f"Build took longer than PIER_BUILD_TIMEOUT ({settings.build_timeout} s)"
        elif reader.is_alive() and publish.cancelled():
            stop = "Build cancelled: the git push client went away"
        if stop and reader.is_alive():
            _hang_up(responses)
            client.close()
            reader.join(WATCH_SECONDS * 10)
            raise BuildFailed(stop)
    error = outcome.get("error")
    if isinstance(error, BuildFailed):
        raise error
    if isinstance(error, APIError):
        raise BuildFailed(f"docker build failed: {error.explanation or error}")
    if isinstance(error, (DockerException, requests.RequestException, urllib3.exceptions.HTTPError)):
        raise BuildFailed(f"docker build failed: {error}")
    if error is not None:
        raise error
    return client.images.get(tag)


def _keep_responses(client, responses):
    """The SDK hides the HTTP response of a build inside its output generator; keep it, to hang up on it."""
    helper = client.api._stream_helper

    def keep(response, *args, **kwargs):
        responses.append(response)
        return helper(response, *args, **kwargs)
    client.api._stream_helper = keep


def _hang_up(responses):
    """Shuts the build's connection down: the engine then cancels the build (a plain close would wait for
    the reading thread, and closing the client only drops idle connections)."""
    for response in responses:
        connection = getattr(response.raw, "_connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        response.close()


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
