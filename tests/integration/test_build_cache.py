"""The build cache on the worker's machine: moved into the source's folder for a build and back, so that the
Python buildpack links an unchanged venv into the slug instead of copying it. Real stack image, real engine."""
import dataclasses
import os
import shutil
import time
import uuid
from pathlib import Path

import docker
import pytest

from core.settings import Settings
from workers.build import BuildFailed, buildpack
from workers.runners.build import SCRATCH, SWEPT, forget_destroyed_caches, scratch_folder

TOP = Path(__file__).resolve().parents[2]
QUICKSTART = TOP / "examples" / "python-app"
SITE = "lib/python3.11/site-packages/pip/__init__.py"


class Quiet:
    """The build's output, kept."""

    def __init__(self):
        self.lines = []

    def line(self, text):
        self.lines.append(text)

    step = line

    def cancelled(self):
        return False


@pytest.fixture
def work(tmp_path):
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)  # the build user's files: root removes them


def compile_in(client, settings, work, name, cache, keep=True):
    """One build of the quickstart in work/name with `cache` kept across builds; returns (source, output, inodes
    of the venv's pip/__init__.py in the slug and in the cache, seen while the build's cache is in the source)."""
    source = work / name
    shutil.copytree(QUICKSTART, source)
    buildpack.write_env_dir(work / "env", {})
    publish = Quiet()
    with buildpack.cache_in(source, cache, keep=keep) as inside:
        buildpack.compile_slug(client, settings, publish, time.monotonic() + 600, source, inside, work / "env",
                               work / "out")
        slug, cached = source / ".venv" / SITE, inside / "venv" / SITE
        inodes = (os.stat(slug).st_ino, os.stat(cached).st_ino if cached.exists() else None)
    return source, publish.lines, inodes


def test_an_unchanged_venv_is_linked_from_the_cache_not_copied(work):
    settings, client = Settings.from_env(), docker.from_env()
    cache = work / "cache"
    first, output, (slug, cached) = compile_in(client, settings, work, "first", cache)
    assert any("Creating virtualenv" in line for line in output), output
    assert slug == cached, "the new venv was copied into the cache instead of linked"
    assert (cache / "venv").is_dir() and not (first / buildpack.CACHE_IN_APP).exists()

    second, output, (slug, cached) = compile_in(client, settings, work, "second", cache)
    assert any("Using cached dependencies" in line for line in output), output
    assert slug == cached, "the cached venv was copied into the slug"
    assert (cache / "venv" / SITE).stat().st_ino == cached, "the cache moved back is not the cache the build had"
    assert sorted(os.listdir(second)) == [".profile.d", ".venv", "Procfile", "app.py", "requirements.txt",
                                          "runtime.txt"]


def test_a_disabled_cache_builds_from_nothing_and_drops_the_kept_one(work):
    settings, client = Settings.from_env(), docker.from_env()
    cache = work / "cache"
    compile_in(client, settings, work, "first", cache)
    _, output, _ = compile_in(client, settings, work, "second", cache, keep=False)
    assert any("Creating virtualenv" in line for line in output), output
    assert not cache.exists()


def test_the_cache_goes_back_after_a_failed_build(work):
    cache = work / "cache"
    (cache / "venv").mkdir(parents=True)
    source = work / "source"
    source.mkdir()
    with pytest.raises(RuntimeError):
        with buildpack.cache_in(source, cache) as inside:
            assert (inside / "venv").is_dir() and not cache.exists()
            raise RuntimeError("the build failed")
    assert (cache / "venv").is_dir() and not (source / buildpack.CACHE_IN_APP).exists()


def test_a_source_with_the_cache_folders_name_is_refused(work):
    cache = work / "cache"
    (cache / "venv").mkdir(parents=True)
    source = work / "source"
    (source / buildpack.CACHE_IN_APP).mkdir(parents=True)
    with pytest.raises(BuildFailed, match="remove it from the repository"):
        with buildpack.cache_in(source, cache):
            pass
    assert (cache / "venv").is_dir(), "a refused build lost the cache"


def test_builds_work_beside_the_caches_and_old_leftovers_are_removed(work):
    settings = Settings.from_env(build_cache_path=str(work / "caches"), build_timeout=60)
    folder = scratch_folder(settings)
    assert folder == work / "caches" / SCRATCH
    old, recent = folder / "pier-build-old", folder / "pier-build-recent"
    (old / "source").mkdir(parents=True)
    recent.mkdir()
    long_ago = time.time() - 60 - 601
    os.utime(old, (long_ago, long_ago))
    scratch_folder(settings)
    assert not old.exists() and recent.is_dir()


def test_the_dependency_image_is_found_by_a_worker_that_made_it_or_not(work):
    settings, client = Settings.from_env(), docker.from_env()
    cache = work / "cache"
    first, _, _ = compile_in(client, settings, work, "first", cache)
    second, _, _ = compile_in(client, settings, work, "second", cache)
    repository = "127.0.0.1:5000/pier-cache-test"
    try:
        made, names, key = buildpack.runtime_image(client, settings, first, repository, "one", {})
        assert names == [".venv"] and buildpack._seen[key] == made.attrs["Parent"]
        for remembered in (True, False):  # the worker that made it; one started since (it lists the engine's)
            if not remembered:
                buildpack._seen.clear()
            publish = Quiet()
            again, _, same = buildpack.runtime_image(client, settings, second, repository, "two", {}, publish)
            assert same == key and again.attrs["Parent"] == made.attrs["Parent"]
            assert publish.lines == ["Reusing the dependency layer (.venv unchanged)"]
    finally:
        for tag in ("one", "two"):
            client.images.remove(f"{repository}:{tag}", force=True)


def test_the_caches_of_destroyed_apps_are_removed_a_day_after_their_last_use(app, alice, work):
    """After a build, at most once an hour: the caches of apps that are gone, untouched for a day."""
    settings = dataclasses.replace(app.config["PIER"], build_cache_path=str(work))
    living = alice.post("/v2/apps", {"id": "living"}).json["uuid"]
    gone = str(uuid.uuid4())
    for name in (living, gone, SCRATCH, "not-a-uuid"):
        (work / name / "venv").mkdir(parents=True)
    later = time.time() + 2 * 86400
    with app.app_context():
        forget_destroyed_caches(settings)  # all touched just now: kept
        assert (work / gone).exists() and (work / SWEPT).exists()
        forget_destroyed_caches(settings, now=later)
    assert sorted(entry.name for entry in work.iterdir()) == sorted([living, SCRATCH, "not-a-uuid", SWEPT])
    (work / gone).mkdir()
    with app.app_context():
        forget_destroyed_caches(settings, now=later - 1800)  # half an hour after the last sweep
    assert (work / gone).exists()
