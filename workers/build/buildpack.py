"""Buildpack apps: the Heroku buildpack API runs in a container from the stack image, as an unprivileged user.

Inside the container (see stack/): the source is at /app, the previous cache at /cache, config files in
/env; `/pier/build` detects (or fetches BUILDPACK_URL), compiles and writes bin/release's output to
/tmp/out/release.yml. The slug is /app afterwards; the runtime image is the stack image plus the slug.
"""
import io
import tarfile
import threading
import time
import uuid

import requests
import yaml
from docker.errors import APIError, DockerException

from core.units import memory_bytes
from workers import safe_tar
from workers.build import BuildFailed

STACK_USER = 1000
WAIT_STEP = 2.0


def _config_tar(values):
    """Heroku's ENV_DIR: one file per config var."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for key, value in sorted(values.items()):
            data = ("" if value is None else str(value)).encode()
            info = tarfile.TarInfo(key)
            info.size, info.mode, info.uid, info.gid = len(data), 0o400, STACK_USER, STACK_USER
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _stream_logs(container, publish):
    """Publishes the container's output line by line until it stops."""
    pending = b""
    for chunk in container.logs(stream=True, follow=True):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            publish.line(line.decode("utf-8", errors="replace"))
    if pending:
        publish.line(pending.decode("utf-8", errors="replace"))


def _wait(container, settings, publish, deadline):
    while True:
        if time.monotonic() > deadline:
            raise BuildFailed(f"Build took longer than PIER_BUILD_TIMEOUT ({settings.build_timeout} s)")
        if publish.cancelled():
            raise BuildFailed("Build cancelled: the git push client went away")
        try:
            return container.wait(timeout=WAIT_STEP)["StatusCode"]
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            continue


def _read_file(container, path):
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.next()
        return tar.extractfile(member).read().decode("utf-8", errors="replace") if member else ""


def default_process_types(release_yaml):
    try:
        release = yaml.safe_load(release_yaml) or {}
    except yaml.YAMLError as exc:
        raise BuildFailed(f"The buildpack's bin/release printed invalid YAML: {exc}") from None
    types = release.get("default_process_types") if isinstance(release, dict) else None
    if not isinstance(types, dict):
        return {}
    return {str(k): str(v) for k, v in types.items() if v}


def compile_slug(client, source, settings, publish, deadline, workdir, cache_file=None, config=None,
                 buildpack_url=""):
    """Runs the buildpack over `source`; returns (slug tar path, next cache tar path, default process types).

    The tars hold `app/…` and `cache/…` entries as `docker cp` writes them.
    """
    limit = memory_bytes(settings.build_memory)
    container = client.containers.create(
        settings.stack_image, entrypoint=["/pier/build"], command=[], user=f"{STACK_USER}:{STACK_USER}",
        environment={"BUILDPACK_URL": buildpack_url} if buildpack_url else {},
        name=f"pier-build-{uuid.uuid4().hex[:12]}", labels={"io.pier.build": "buildpack"},
        mem_limit=limit, memswap_limit=limit, pids_limit=4096, cap_drop=["ALL"],
        security_opt=["no-new-privileges"], network_mode="bridge")
    try:
        source_tar = workdir / "source.tar"
        with open(source_tar, "wb") as out:
            safe_tar.pack(source, out, uid=STACK_USER, gid=STACK_USER)
        with open(source_tar, "rb") as data:
            container.put_archive("/app", data)
        if cache_file is not None:
            with open(cache_file, "rb") as data:
                container.put_archive("/", data)
        container.put_archive("/env", _config_tar(config or {}))
        container.start()
        logs = threading.Thread(target=_stream_logs, args=(container, publish), daemon=True)
        logs.start()
        code = _wait(container, settings, publish, deadline)
        logs.join(timeout=10)
        if code != 0:
            container.reload()
            if container.attrs["State"].get("OOMKilled"):
                raise BuildFailed(f"Build ran out of memory (PIER_BUILD_MEMORY={settings.build_memory})")
            raise BuildFailed(f"Buildpack build failed (exit code {code})")
        types = default_process_types(_read_file(container, "/tmp/out/release.yml"))
        slug, cache = workdir / "slug.tar", workdir / "cache.tar"
        for path, target in (("/app", slug), ("/cache", cache)):
            stream, _ = container.get_archive(path)
            with open(target, "wb") as out:
                for chunk in stream:
                    out.write(chunk)
        return slug, cache, types
    except (APIError, DockerException) as exc:
        raise BuildFailed(f"The build container failed: {exc}") from None
    finally:
        container.remove(force=True)


def runtime_image(client, settings, slug, repository, tag, labels):
    """The stack image with the slug at /app, committed as `repository:tag`."""
    container = client.containers.create(settings.stack_image, labels=labels)
    try:
        with open(slug, "rb") as data:
            container.put_archive("/", data)
        return container.commit(repository=repository, tag=tag)
    except (APIError, DockerException) as exc:
        raise BuildFailed(f"Making the runtime image failed: {exc}") from None
    finally:
        container.remove(force=True)
