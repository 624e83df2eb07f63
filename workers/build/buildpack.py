"""Buildpack apps: the Heroku buildpack API runs in a container from the stack image, as an unprivileged user.

The build works in place, with nothing copied in or out: the extracted source is bind-mounted at /app (the
slug is /app afterwards), the config files (Heroku's ENV_DIR) at /env, and /tmp/out receives bin/release's
output. See stack/build. The app's build cache (a folder kept on this machine, by app uuid) is moved into the
source's folder for the build (/app/.pier-cache, the CACHE_DIR the buildpacks get) and back after it: in the
same mount as /app, a buildpack restores unchanged dependencies as hard links to the cache's files (a tenth of
a second for a virtualenv) instead of copying them (most of a second), and keeps new ones the same way.

The runtime image is the stack, then a layer of the dependencies (.venv, node_modules: what a buildpack
installed), then a layer of the rest of the slug. The dependencies' image is labelled with a fingerprint of
their files (paths, modes, links and contents) and of the stack: unchanged dependencies find that image in the
engine and reuse it as it is, neither packed, sent to the engine, built nor pushed again (the registry already
holds its layer), whichever app made it.
"""
import hashlib
import json
import os
import shutil
import stat
import tarfile
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager

import requests
import yaml
from docker.errors import APIError, DockerException, ImageNotFound

from core.units import memory_bytes
from workers.build import BuildFailed

STACK_USER = 1000
WAIT_STEP = 2.0
DEPENDENCY_DIRS = (".venv", "node_modules", ".heroku")  # top-level folders of the slug a buildpack installs
DEPENDENCIES_LABEL = "io.pier.dependencies"
CACHE_IN_APP = ".pier-cache"  # where the build cache is, inside the source's folder, while the build runs


def own(path):
    """Hands a folder tree to the build user, links included (never following them). What the user already
    owns (a kept cache) is only looked at: a chown writes the inode even when nothing changes."""
    def claim(entry):
        info = os.lstat(entry)
        if info.st_uid != STACK_USER or info.st_gid != STACK_USER:
            os.chown(entry, STACK_USER, STACK_USER, follow_symlinks=False)
    claim(path)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            claim(os.path.join(root, name))


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


@contextmanager
def cache_in(app_dir, cache_dir, keep=True):
    """The app's build cache in `app_dir/.pier-cache` for the build, then back in `cache_dir` (also after a
    failed build: what the buildpacks left there is theirs to check). With keep=False the build starts from
    an empty cache and the kept one is dropped (DEIS_DISABLE_CACHE, `--no-cache`)."""
    inside = app_dir / CACHE_IN_APP
    if inside.exists() or inside.is_symlink():
        raise BuildFailed(f"The pushed source has a {CACHE_IN_APP} entry at its top, where Pier puts the build "
                          "cache during the build: remove it from the repository and push again")
    if keep and cache_dir.is_dir():
        shutil.move(cache_dir, inside)  # a rename on one filesystem, else a copy
    else:
        shutil.rmtree(cache_dir, ignore_errors=True)
        inside.mkdir()
    try:
        yield inside
    finally:
        if keep:
            shutil.rmtree(cache_dir, ignore_errors=True)  # nothing should be there: the cache was in the build
            cache_dir.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(inside, cache_dir)
        else:
            shutil.rmtree(inside, ignore_errors=True)


def compile_slug(client, settings, publish, deadline, app_dir, cache_dir, env_dir, out_dir, buildpack_url=""):
    """Runs the buildpacks over `app_dir` in place, with `cache_dir` (a folder inside `app_dir`, see cache_in)
    as their cache; returns bin/release's default process types."""
    cache_path = f"/app/{cache_dir.relative_to(app_dir).as_posix()}"  # ValueError for a cache outside app_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    for folder in (app_dir, out_dir):  # the cache is in app_dir
        folder.mkdir(parents=True, exist_ok=True)
        own(folder)
    limit = memory_bytes(settings.build_memory)
    environment = {"PIER_CACHE_DIR": cache_path}
    if buildpack_url:
        environment["BUILDPACK_URL"] = buildpack_url
    volumes = {str(app_dir): {"bind": "/app", "mode": "rw"}, str(env_dir): {"bind": "/env", "mode": "ro"},
               str(out_dir): {"bind": "/tmp/out", "mode": "rw"}}
    try:
        container = client.containers.create(
            settings.stack_image, entrypoint=["/pier/build"], command=[], user=f"{STACK_USER}:{STACK_USER}",
            environment=environment, volumes=volumes,
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


def _archive(folder, entries):
    """`entries` of `folder` as a tar owned by the stack user (links kept as links), spooled to disk past 64 MiB."""
    def owned(info):
        info.uid = info.gid = STACK_USER
        info.uname = info.gname = ""
        return info
    data = tempfile.SpooledTemporaryFile(max_size=64 << 20)
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name in entries:
            tar.add(folder / name, arcname=name, filter=owned)
    data.seek(0)
    return data


def _layer(client, base, folder, entries, labels):
    """A new image: `base` plus one layer holding `entries` of `folder` in /app, with these labels. Made by
    committing a container that never runs: half the time of a `docker build` (no context to check, no steps)."""
    changes = [f"LABEL {key}={json.dumps(value)}" for key, value in sorted(labels.items())]
    try:
        container = client.api.create_container(base, name=f"pier-layer-{uuid.uuid4().hex[:12]}")["Id"]
        try:
            if entries:
                with _archive(folder, entries) as archive:
                    client.api.put_archive(container, "/app", archive)
            return client.api.commit(container, changes=changes)["Id"]
        finally:
            client.api.remove_container(container, force=True)
    except (APIError, DockerException) as exc:
        raise BuildFailed(f"Making the runtime image failed: {exc}") from None


def fingerprint(folder, names, base_id):
    """A hash of the trees `folder/<name>`: every path, its mode, a link's target and a file's contents, and the
    image they are copied onto. Owners and times are left out, as from Docker's own build cache key."""
    digest = hashlib.sha256(f"pier-dependencies 1 {base_id}\n".encode())
    for name in names:
        paths = []
        for root, dirs, files in os.walk(folder / name):
            paths.extend(os.path.join(root, entry) for entry in dirs + files)
        for path in [str(folder / name)] + sorted(paths):
            info = os.lstat(path)
            digest.update(f"{os.path.relpath(path, folder)}\0{info.st_mode:o}\0".encode())
            if stat.S_ISLNK(info.st_mode):
                digest.update(os.readlink(path).encode())
            elif stat.S_ISREG(info.st_mode):
                digest.update(f"{info.st_size}\0".encode())
                with open(path, "rb") as file:
                    for chunk in iter(lambda: file.read(1 << 20), b""):
                        digest.update(chunk)
            digest.update(b"\n")
    return digest.hexdigest()


def dependencies_image(client, settings, app_dir, names):
    """The stack plus a layer of the dependency folders: the engine's image of the same fingerprint if there is
    one, else a new one. Returns (image id, whether it was reused, the fingerprint)."""
    stack = client.images.get(settings.stack_image)
    key = fingerprint(app_dir, names, stack.id)
    stack_layers = _layers(stack)
    for image in _labelled(client, key):
        if _layers(image)[:len(stack_layers)] == stack_layers:
            _seen[key] = image.id
            return image.id, True, key
    made = _layer(client, stack.id, app_dir, names, {DEPENDENCIES_LABEL: key})
    _seen[key] = made
    return made, False, key


_seen = {}  # fingerprint -> the id of its dependencies' image, as this worker last found or made it


def _labelled(client, key):
    """The engine's images labelled with this fingerprint: the one this worker saw last if it is still there
    (2 ms), else all of them (listing every image with its label: 0.1 s on an engine with a thousand)."""
    if key in _seen:
        try:
            return [client.images.get(_seen[key])]
        except ImageNotFound:
            del _seen[key]
    return client.images.list(all=True, filters={"label": f"{DEPENDENCIES_LABEL}={key}"})


def _layers(image):
    return image.attrs.get("RootFS", {}).get("Layers") or []


def runtime_image(client, settings, app_dir, repository, tag, labels, publish=None):
    """The stack, a dependencies layer, the slug layer: tagged `repository:tag`. Returns the image, the
    dependency folders and their fingerprint (None without any)."""
    entries = sorted(os.listdir(app_dir))  # the cache is out of app_dir again (cache_in)
    dependencies = [name for name in entries if name in DEPENDENCY_DIRS and (app_dir / name).is_dir()]
    base, key = settings.stack_image, None
    if dependencies:
        base, reused, key = dependencies_image(client, settings, app_dir, dependencies)
        if reused and publish:
            publish.step(f"Reusing the dependency layer ({', '.join(dependencies)} unchanged)")
    rest = [name for name in entries if name not in dependencies]
    # the app's image inherits the dependencies' label unless it is blanked: it must never pass for their image
    image = client.images.get(_layer(client, base, app_dir, rest, dict(labels, **{DEPENDENCIES_LABEL: ""})))
    image.tag(repository, tag)
    return image, dependencies, key
