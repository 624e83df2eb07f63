"""A build job: fetch the pushed source, build an image (Dockerfile or buildpack), push it to the registry.

The builder (sshd) waits on the build's channel and, when the build succeeded, asks the controller to
release it through `hooks/build`: builds never touch releases themselves.
"""
import gzip
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException

from core.build_output import Publisher
from core.extensions import db
from core.models import App
from core.services import releases
from core.storage import NotFound, StorageError, store_for
from core.storage.keys import cache_key, slug_key, source_key
from workers import metrics, safe_tar
from workers.build import BuildFailed, buildpack, dockerfile, dockerfile_rules, procfile, registry

log = logging.getLogger("pier.builds")


def run(settings, build_id, app_id, sha, buildpack_url="", disable_cache=False):
    publish = Publisher(settings.redis_url, build_id)
    started = time.monotonic()
    try:
        publish.alive()
        with publish.heartbeat():
            result = _build(settings, publish, app_id, sha, buildpack_url, disable_cache, started)
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
    publish.step(f"Build finished in {time.monotonic() - started:.1f}s")
    publish.done(True, **result)


def _config_values(app_id):
    app = db.session.execute(db.select(App).where(App.id == app_id)).scalar_one()
    values = dict(releases.latest_good(app).config.values)
    db.session.rollback()  # nothing to write: do not hold a transaction through a long build
    return values


def _build(settings, publish, app_id, sha, buildpack_url, disable_cache, started):
    try:
        client = docker.from_env(timeout=120)
    except DockerException as exc:
        raise BuildFailed(f"The Docker engine cannot be reached: {exc}") from None
    try:
        with tempfile.TemporaryDirectory(prefix="pier-build-") as scratch:
            job = Build(settings, publish, store_for(settings), client, app_id, sha, Path(scratch),
                        started + settings.build_timeout)
            return job.run(buildpack_url, disable_cache)
    finally:
        client.close()


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

    def run(self, buildpack_url, disable_cache):
        repository, tag = registry.reference(self.settings, self.app_id, self.sha)
        source = self.fetch_source()
        try:
            types = procfile.read(source)
        except ValueError as exc:
            raise BuildFailed(str(exc)) from None
        if (source / "Dockerfile").is_file():
            self.dockerfile(source, f"{repository}:{tag}", disable_cache)
            kind = "true"
        else:
            types = self.buildpack(source, types, repository, tag, buildpack_url, disable_cache)
            kind = ""
        registry.push(self.client, repository, tag, self.publish, self.settings.registry_auth())
        return {"image": f"{repository}:{tag}", "procfile": types, "dockerfile": kind}

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
        values = _config_values(self.app_id)
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
        """Compiles the slug and makes the runtime image; returns the process types (Procfile first)."""
        workdir, store = self.workdir, self.store
        cache_file = None
        if not disable_cache:
            try:
                store.get_file(cache_key(self.app_id), workdir / "cache.in.tar.gz")
                cache_file = _gunzip(workdir / "cache.in.tar.gz", workdir / "cache.in.tar")
            except NotFound:
                cache_file = None
        slug, cache, defaults = buildpack.compile_slug(
            self.client, source, self.settings, self.publish, self.deadline, workdir, cache_file=cache_file,
            config=_config_values(self.app_id), buildpack_url=buildpack_url)
        merged = dict(defaults, **types)  # the Procfile wins over the buildpack's defaults
        if not merged:
            raise BuildFailed("No process types: add a Procfile with a web process, e.g. `web: python3 server.py`")
        self.publish.step("Compressing slug")
        store.put_file(slug_key(self.app_id, self.sha), _gzip(slug, workdir / "slug.tgz"))
        store.put_file(cache_key(self.app_id), _gzip(cache, workdir / "cache.out.tar.gz"))
        self.publish.detail(f"slug {(workdir / 'slug.tgz').stat().st_size / 2**20:.1f} MiB")
        buildpack.runtime_image(self.client, self.settings, slug, repository, tag,
                                {"io.pier.app": self.app_id, "io.pier.sha": self.sha})
        return merged


def _gzip(source, target):
    with open(source, "rb") as data, gzip.open(target, "wb", compresslevel=1) as out:
        shutil.copyfileobj(data, out, 1024 * 1024)
    return target


def _gunzip(source, target):
    with gzip.open(source, "rb") as data, open(target, "wb") as out:
        shutil.copyfileobj(data, out, 1024 * 1024)
    return target
