"""Buildpack apps: the Heroku buildpack API runs in a container from the stack image, as an unprivileged user.

The build works in place, with nothing copied in or out: the extracted source is bind-mounted at /app (the
slug is /app afterwards), the app's build cache (a folder kept on this machine, by app uuid) at /cache, the
config files (Heroku's ENV_DIR) at /env, and /tmp/out receives bin/release's output. See stack/build.

The runtime image is the stack, then a layer of the dependencies (.venv, node_modules: what a buildpack
installed), then a layer of the rest of the slug. Docker's build cache keys a layer by its files' contents,
so unchanged dependencies give the very same layer: it is neither built nor pushed again.
"""
import io
import os
import tarfile
import threading
import time
import uuid

import requests
import yaml
from docker.errors import APIError, BuildError, DockerException

from core.units import memory_bytes
from workers.build import BuildFailed

STACK_USER = 1000
WAIT_STEP = 2.0
DEPENDENCY_DIRS = (".venv", "node_modules", ".heroku")  # top-level folders of the slug a buildpack installs


def own(path):
    """Hands a folder tree to the build user, links included (never following them)."""
    os.chown(path, STACK_USER, STACK_USER, follow_symlinks=False)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), STACK_USER, STACK_USER, follow_symlinks=False)


def write_env_dir(folder, values):
    """Heroku's ENV_DIR: one file per config var, readable by the build user only."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, value in sorted(values.items()):
        path = folder / key
        path.write_text("" if value is None else str(value))
        os.chmod(path, 0o400)
    own(folder)


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


def default_process_types(release_yaml):
    try:
        release = yaml.safe_load(release_yaml) or {}
    except yaml.YAMLError as exc:
        raise BuildFailed(f"The buildpack's bin/release printed invalid YAML: {exc}") from None
    types = release.get("default_process_types") if isinstance(release, dict) else None
    if not isinstance(types, dict):
        return {}
    return {str(k): str(v) for k, v in types.items() if v}


def compile_slug(client, settings, publish, deadline, app_dir, cache_dir, env_dir, out_dir, buildpack_url=""):
    """Runs the buildpacks over `app_dir` in place; returns bin/release's default process types."""
    for folder in (app_dir, cache_dir, out_dir):
        folder.mkdir(parents=True, exist_ok=True)
        own(folder)
    limit = memory_bytes(settings.build_memory)
    volumes = {str(app_dir): {"bind": "/app", "mode": "rw"}, str(cache_dir): {"bind": "/cache", "mode": "rw"},
               str(env_dir): {"bind": "/env", "mode": "ro"}, str(out_dir): {"bind": "/tmp/out", "mode": "rw"}}
    try:
        container = client.containers.create(
            settings.stack_image, entrypoint=["/pier/build"], command=[], user=f"{STACK_USER}:{STACK_USER}",
            environment={"BUILDPACK_URL": buildpack_url} if buildpack_url else {}, volumes=volumes,
            name=f"pier-build-{uuid.uuid4().hex[:12]}", labels={"io.pier.build": "buildpack"},
            mem_limit=limit, memswap_limit=limit, pids_limit=4096, cap_drop=["ALL"],
            security_opt=["no-new-privileges"], network_mode="bridge")
    except (APIError, DockerException) as exc:
        raise BuildFailed(f"The build container could not be made: {exc}") from None
    try:
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
    except (APIError, DockerException) as exc:
        raise BuildFailed(f"The build container failed: {exc}") from None
    finally:
        container.remove(force=True)
    release = out_dir / "release.yml"
    return default_process_types(release.read_text(errors="replace") if release.is_file() else "")


def _context(dockerfile, folder, entries):
    """A build context: the Dockerfile, and `entries` of `folder` under `slug/` (links kept as links)."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        text = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
        for name in entries:
            tar.add(folder / name, arcname=f"slug/{name}")
    data.seek(0)
    return data


def _build(client, context, labels):
    try:
        image, _ = client.images.build(fileobj=context, custom_context=True, rm=True, forcerm=True, pull=False,
                                       labels=labels)
        return image
    except (BuildError, APIError, DockerException) as exc:
        raise BuildFailed(f"Making the runtime image failed: {exc}") from None


def runtime_image(client, settings, app_dir, repository, tag, labels):
    """The stack, a dependencies layer, the slug layer: tagged `repository:tag`; returns the image."""
    entries = sorted(os.listdir(app_dir))
    dependencies = [name for name in entries if name in DEPENDENCY_DIRS and (app_dir / name).is_dir()]
    base = settings.stack_image
    if dependencies:
        copies = "".join(f"COPY --chown={STACK_USER}:{STACK_USER} slug/{name} /app/{name}\n" for name in dependencies)
        base = _build(client, _context(f"FROM {base}\n{copies}", app_dir, dependencies), {}).id
    rest = [name for name in entries if name not in dependencies]
    dockerfile = f"FROM {base}\n" + (f"COPY --chown={STACK_USER}:{STACK_USER} slug/ /app/\n" if rest else "")
    image = _build(client, _context(dockerfile, app_dir, rest), labels)
    image.tag(repository, tag)
    return image
