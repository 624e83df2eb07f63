"""A build job: fetch the pushed source, build an image (Dockerfile or buildpack), push it to the registry.

The builder (sshd) waits on the build's channel and, when the build succeeded, asks the controller to
release it through `hooks/build`: builds never touch releases themselves. What nobody waits for (storing a
buildpack app's slug) happens after the build has said it is done.
"""
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.errors import DockerException
from sqlalchemy import select

from core.build_output import Publisher
from core.extensions import db
from core.models import App
from core.services import apps, releases
from core.storage import StorageError, store_for
from core.storage.keys import slug_key, source_key
from workers import metrics, safe_tar
from workers.build import BuildFailed, buildpack, dockerfile, dockerfile_rules, procfile, registry, slugs
from workers.registry_gate import GateClosed, RegistryGate

log = logging.getLogger("pier.builds")
SCRATCH = ".builds"  # in the build cache's folder: the builds running on this machine
STALE_MARGIN = 600  # seconds past the build timeout after which a build's folder is a leftover
SWEPT = ".swept"  # in the build cache's folder: its time is when the caches of destroyed apps were last removed
SWEEP_SECONDS = 3600
DESTROYED_GRACE = 86400  # seconds a destroyed app's cache is kept after it was last touched


def run(settings, build_id, app_id, sha, buildpack_url="", disable_cache=False):
    publish = Publisher(settings.redis_url, build_id)
    started = time.monotonic()
    try:
        client = docker.from_env(timeout=120)
    except DockerException as exc:
        metrics.build_finished("error", time.monotonic() - started)
        publish.done(False, error=f"The Docker engine cannot be reached: {exc}")
        return
    try:
        with tempfile.TemporaryDirectory(prefix="pier-build-", dir=scratch_folder(settings)) as scratch:
            job = Build(settings, publish, store_for(settings), client, app_id, sha, Path(scratch),
                        started + settings.build_timeout)
            try:
                publish.alive()
                with publish.heartbeat():
                    result = job.run(buildpack_url, disable_cache)
            except BuildFailed as exc:
                metrics.build_finished("failed", time.monotonic() - started)
                publish.done(False, error=str(exc))
                return
            except Exception as exc:  # the user gets a short reason; the trace goes to the worker log
                log.exception("build %s of %s failed", build_id, app_id)
                metrics.build_finished("error", time.monotonic() - started)
                publish.done(False, error=f"Internal error in the build ({type(exc).__name__}); build {build_id}")
                return
            metrics.build_finished("succeeded", time.monotonic() - started)
            publish.step(f"Build finished in {time.monotonic() - started:.1f}s ({job.timings()})")
            publish.done(True, **result)
            job.afterwards()
    finally:
        client.close()
        forget_destroyed_caches(settings)


def _app(app_id):
    """(app uuid, config values) of the app being built."""
    app = db.session.execute(db.select(App).where(App.id == app_id)).scalar_one()
    values = dict(releases.latest_good(app).config.values)
    app_uuid = str(app.uuid)
    db.session.rollback()  # nothing to write: do not hold a transaction through a long build
    return app_uuid, values


def cache_folder(settings, app_uuid):
    """Where an app's build cache is kept on this machine: by uuid, so a new app of an old name starts empty."""
    return Path(settings.build_cache_path).resolve() / app_uuid


def scratch_folder(settings):
    """Where builds work: beside the caches, on their filesystem, so that a cache moves into a build (and a
    buildpack links to its files) without a copy. Folders a killed worker left there are removed once they
    are older than any build may run."""
    folder = Path(settings.build_cache_path).resolve() / SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    oldest = time.time() - settings.build_timeout - STALE_MARGIN
    for entry in folder.iterdir():
        try:
            if entry.lstat().st_mtime < oldest:
                shutil.rmtree(entry, ignore_errors=True)
        except FileNotFoundError:  # another build's cleanup got there first
            pass
    return folder


def forget_destroyed_caches(settings, now=None):
    """Removes the build caches of apps that no longer exist, on the machine that keeps them (the builds
    worker's): at most once an hour, after a build, so a build never waits for it. A cache is named by its app's
    uuid, which no later app gets, so an app gone is a cache nobody will use; one touched in the last day is kept
    all the same (a build of it may still be running, or the folder may be shared with another platform's
    database, as a development checkout's is with its tests'). Never fails the build: what goes wrong is
    logged."""
    now = time.time() if now is None else now
    root = Path(settings.build_cache_path).resolve()
    marker = root / SWEPT
    try:
        if now - marker.stat().st_mtime < SWEEP_SECONDS:
            return
    except FileNotFoundError:
        pass
    try:
        marker.touch()
        os.utime(marker, (now, now))
        folders = {entry.name: entry for entry in root.iterdir() if _is_uuid(entry.name) and entry.is_dir()
                   and now - entry.stat().st_ctime > DESTROYED_GRACE}  # ctime: any change
        if not folders:
            return
        uuids = [uuid.UUID(name) for name in folders]
        kept = {str(found) for found in db.session.scalars(select(App.uuid).where(App.uuid.in_(uuids)))}
        db.session.rollback()
        for name in folders.keys() - kept:
            log.info("removing the build cache of the destroyed app %s", name)
            shutil.rmtree(folders[name], ignore_errors=True)
    except Exception:  # noqa: BLE001 - the build is done; the next sweep tries again
        db.session.rollback()
        log.exception("removing the build caches of destroyed apps")


def _is_uuid(name):
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


@dataclass
class Build:
    """One build's collaborators and scratch folder, so that its steps need only their own arguments."""
    settings: object
    publish: Publisher
    store: object
    client: object
    app_id: str
    sha: str
    workdir: Path
    deadline: float
    later: list = field(default_factory=list)  # what to do once the build said it is done
    spent: dict = field(default_factory=dict)  # step -> seconds

    def timed(self, step, started):
        self.spent[step] = self.spent.get(step, 0.0) + time.monotonic() - started

    def timings(self):
        return ", ".join(f"{step} {seconds:.1f}s" for step, seconds in self.spent.items())

    def afterwards(self):
        for action in self.later:
            try:
                action()
            except Exception:  # noqa: BLE001 - the release stands; what failed here is logged
                log.exception("after the build of %s at %s", self.app_id, self.sha)

    def run(self, buildpack_url, disable_cache):
        repository, tag = registry.reference(self.settings, self.app_id, self.sha)
        started = time.monotonic()
        source = self.fetch_source()
        self.timed("source", started)
        try:
            types = procfile.read(source)
        except ValueError as exc:
            raise BuildFailed(str(exc)) from None
        if (source / "Dockerfile").is_file():
            started = time.monotonic()
            self.dockerfile(source, f"{repository}:{tag}", disable_cache)
            self.timed("docker build", started)
            kind = "true"
        else:
            types = self.buildpack(source, types, repository, tag, buildpack_url, disable_cache)
            kind = ""
        self.push(repository, tag)
        return {"image": f"{repository}:{tag}", "procfile": types, "dockerfile": kind}

    def push(self, repository, tag):
        """Pushes through the registry gate: never while the registry's garbage collection sweeps."""
        gate = RegistryGate(self.settings.redis_url)
        try:
            with gate.pushing(max(1.0, self.deadline - time.monotonic()),
                              on_wait=lambda: self.publish.step("Waiting for the registry's garbage collection")):
                started = time.monotonic()
                registry.push(self.client, repository, tag, self.publish, self.settings.registry_auth())
                self.timed("registry", started)
        except GateClosed:
            raise BuildFailed("The registry's garbage collection outlasted this build's time limit "
                              "(PIER_BUILD_TIMEOUT); push again when it ends.") from None

    def fetch_source(self):
        source = self.workdir / "source"
        try:
            self.store.get_file(source_key(self.app_id, self.sha), self.workdir / "source.tar.gz")
            safe_tar.extract(self.workdir / "source.tar.gz", source)
        except StorageError as exc:
            raise BuildFailed(f"The pushed source could not be fetched: {exc}") from None
        except safe_tar.UnsafeArchive as exc:
            raise BuildFailed(f"The pushed source was refused: {exc}") from None
        return source

    def dockerfile(self, source, image, disable_cache):
        _, values = _app(self.app_id)
        # As Deis did: config reaches `docker build` as build args only when the app opts in.
        buildargs = values if values.get("DEIS_DOCKER_BUILD_ARGS_ENABLED") in ("1", "true", "True") else {}
        try:
            dockerfile_rules.check((source / "Dockerfile").read_text(errors="replace"), self.app_id,
                                   self.settings.registry, {k: str(v) for k, v in buildargs.items()})
        except dockerfile_rules.Refused as exc:
            raise BuildFailed(str(exc)) from None
        dockerfile.build(self.client, source, image, self.settings, self.publish, self.deadline,
                         nocache=disable_cache, buildargs={k: str(v) for k, v in buildargs.items()})

    def buildpack(self, source, types, repository, tag, buildpack_url, disable_cache):
        """Compiles the slug in place and makes the runtime image; returns the process types (Procfile first).
        The slug is stored once the build is done (nobody waits for it)."""
        app_uuid, values = _app(self.app_id)
        buildpack.write_env_dir(self.workdir / "env", values)
        started = time.monotonic()
        # with the cache disabled, the build starts from an empty one and the kept one is dropped
        with buildpack.cache_in(source, cache_folder(self.settings, app_uuid), keep=not disable_cache) as cache:
            defaults = buildpack.compile_slug(self.client, self.settings, self.publish, self.deadline, source,
                                              cache, self.workdir / "env", self.workdir / "out", buildpack_url)
        self.timed("compile", started)
        merged = dict(defaults, **types)  # the Procfile wins over the buildpack's defaults
        if not merged:
            raise BuildFailed("No process types: add a Procfile with a web process, e.g. `web: python3 server.py`")
        started = time.monotonic()
        _, dependencies, key = buildpack.runtime_image(
            self.client, self.settings, source, repository, tag, {"io.pier.app": self.app_id, "io.pier.sha": self.sha},
            self.publish)
        self.timed("image", started)
        self.later.append(lambda: self.store_slug(source, app_uuid, dependencies, key))
        return merged

    def store_slug(self, slug, app_uuid, dependencies=(), key=None):
        """The slug (Deis's slug.tgz) in object storage, for whoever asks for it later, its dependencies'
        compressed part reused when they did not change (see workers/build/slugs.py). It is written after the
        build said it is done: if the app was destroyed meanwhile (its storage already emptied), it goes again,
        so nothing of a destroyed app is left for the next app of its name."""
        packed = self.workdir / "slug.tgz"
        slugs.pack(Path(self.settings.build_cache_path).resolve(), slug, packed, dependencies, key)
        key = slug_key(self.app_id, self.sha)
        self.store.put_file(key, packed)
        if not apps.kept(uuid.UUID(app_uuid)):
            log.info("%s was destroyed while its slug was stored: removing it", self.app_id)
            self.store.delete(key)
