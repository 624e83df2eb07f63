"""Garbage collection with a real worker, real images in a registry of the test's own (the machine's registry
is never swept by tests), the filesystem store and the engine: of an app's 15 releases, the builds of the
newest 10 and of its running release stay; the others leave the registry (404, their layers swept from its
disk), object storage and the engine, and a rollback to them is refused with the reason."""
import dataclasses
import io
import os
import secrets
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import bcrypt
import docker
import pytest
import requests
from celery.schedules import crontab
from docker.errors import ImageNotFound

from core.extensions import db
from core.models import Operation
from core.push_locks import PushLocks
from core.storage import FilesystemStore
from tests.integration.test_builder import web_app
from tests.integration.test_destroy import registry_tags
from tests.integration.test_registry_s3 import s3_registry, tiny_image  # noqa: F401 - fixture
from tests.support import recording_scheduler as recorder
from tests.support import release_list, wait_for_operation
from tests.support.builder import builder, pusher, served  # noqa: F401 - fixtures
from tests.support.s3 import free_port, s3_endpoint  # noqa: F401 - fixture
from tests.support.waiting import wait_for
from workers import registry as registries
from workers.registry import folder_bytes
from workers.registry_gate import RegistryGate
from workers.celery_app import make_celery
from workers.runners import gc as gc_runner

ROOT = Path(__file__).resolve().parents[2]
APP = "gc-shop"
LAYER_BYTES = 1024 * 1024  # each build's own layer: random, so compression keeps its size
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def own_registry(tmp_path):
    """A registry configured by scripts/registry-config as platform.sh does, with an htpasswd of its own."""
    password = secrets.token_hex(12)
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"pier:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}\n")
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(subprocess.run(
        [str(ROOT / "scripts" / "registry-config"), f"127.0.0.1:{port}", str(tmp_path / "registry"), str(htpasswd)],
        env=dict(os.environ, PIER_STORAGE="filesystem"), check=True, capture_output=True, text=True).stdout)
    log = open(tmp_path / "registry.log", "wb")
    process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
        except urllib.error.HTTPError as answer:
            assert answer.code == 401, "the registry must want the credentials"
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "registry.log").read_text()
            time.sleep(0.1)
    yield SimpleNamespace(address=f"127.0.0.1:{port}", config=config, data=tmp_path / "registry",
                          user="pier", password=password)
    process.terminate()
    process.wait(timeout=10)
    log.close()


def small_image(client, reference):
    """pier/base plus one layer of random bytes of its own."""
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (("Dockerfile", b"FROM pier/base:bookworm\nCOPY blob /blob\n"),
                           ("blob", os.urandom(LAYER_BYTES))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=reference, rm=True)


def push(client, reference, registry):
    repository, tag = reference.rsplit(":", 1)
    for chunk in client.api.push(repository, tag=tag, stream=True, decode=True,
                                 auth_config={"username": registry.user, "password": registry.password}):
        assert "error" not in chunk, chunk


def manifest_status(registry, tag):
    """What the registry answers for the app's image `tag` (with the platform's credentials), and its digest."""
    answer = requests.head(f"http://{registry.address}/v2/{APP}/manifests/{tag}", headers={"Accept": MANIFEST_V2},
                           auth=(registry.user, registry.password), timeout=10)
    return answer.status_code, answer.headers.get("Docker-Content-Digest")


def in_engine(client, reference):
    try:
        client.images.get(reference)
        return True
    except ImageNotFound:
        return False


def store_build_files(store, sha, version):
    """The build's source tarball and, for every other build (as buildpack apps have), its slug."""
    folder = f"apps/{APP}/git-{sha[:8]}"
    store.put_bytes(f"{folder}/source.tar.gz", os.urandom(20_000 + version))
    if version % 2 == 0:
        store.put_bytes(f"{folder}/slug.tgz", os.urandom(50_000 + version))
    return store.sizes(folder)


def rollback(caller, version):
    return caller.post(f"/v2/apps/{APP}/releases/rollback", {"version": version})


def test_gc_keeps_the_newest_releases_and_the_running_one_and_frees_the_rest(app, admin, alice, worker,
                                                                            own_registry, tmp_path):
    client, store = docker.from_env(), FilesystemStore(tmp_path / "storage")
    alice.create_app(APP)
    builds, files = {}, {}  # version -> (image reference, tag); version -> {key: bytes}
    settings = dict(registry=own_registry.address, registry_password=own_registry.password,
                    registry_config=str(own_registry.config), storage_path=str(tmp_path / "storage"),
                    sync_timeout=240.0)
    try:
        with recorder.installed(app, **settings):
            # v1 is the app's own; v2..v5 deploy; v6..v15 are builds whose deploys fail, so v5 keeps running
            # outside the newest ten. v7's image is v3's, under its own tag: one manifest, two tags.
            for version in range(2, 16):
                sha = secrets.token_hex(20)
                reference = f"{own_registry.address}/{APP}:git-{sha[:8]}"
                if version == 7:
                    client.images.get(builds[3][0]).tag(reference)
                else:
                    small_image(client, reference)
                push(client, reference, own_registry)
                builds[version] = (reference, f"git-{sha[:8]}")
                files[version] = store_build_files(store, sha, version)
                if version >= 6:
                    recorder.fail_next("the new containers never became ready", "deploy")
                response = alice.post(f"/v2/apps/{APP}/builds", {"image": reference, "sha": sha})
                assert response.status_code == (201 if version < 6 else 400), response.get_json()
            assert [r["version"] for r in release_list(alice, APP)] == list(range(15, 0, -1))
            assert manifest_status(own_registry, builds[3][1])[1] == manifest_status(own_registry, builds[7][1])[1]

            assert alice.post("/v2/gc").status_code == 403
            held = PushLocks(app.config["PIER"].redis_url, 30).acquire(APP)
            response = admin.post("/v2/gc")
            held.release()
            assert response.status_code == 201, response.get_json()
            assert response.get_json()["apps"] == {APP: {"skipped": "a git push of this app is in progress; the "
                                                                    "next collection takes it"}}
            assert manifest_status(own_registry, builds[2][1])[0] == 200

            registry_before = folder_bytes(own_registry.data)
            response = admin.post("/v2/gc")
            assert response.status_code == 201, response.get_json()
            freed = response.get_json()

            collected, kept = (2, 4), [3] + list(range(5, 16))
            assert freed["apps"] == {APP: {"collected": [builds[v][1] for v in collected],
                                           "shared_with_kept": [builds[3][1]]}}
            for version in collected:
                assert manifest_status(own_registry, builds[version][1]) == (404, None)
                assert store.list(f"apps/{APP}/{builds[version][1]}") == []
                assert not in_engine(client, builds[version][0])
            for version in kept:
                assert manifest_status(own_registry, builds[version][1])[0] == 200, version
                assert store.sizes(f"apps/{APP}/{builds[version][1]}") == files[version]
                assert in_engine(client, builds[version][0])
            assert (freed["registry_manifests"], freed["registry_tags"]) == (2, 2)
            assert freed["storage_keys"] == sum(len(files[v]) for v in collected)
            assert freed["storage_bytes"] == sum(sum(files[v].values()) for v in collected)
            assert freed["engine_images"] == 2 and freed["engine_bytes"] >= 2 * LAYER_BYTES

            sweep = freed["registry_sweep"]
            assert sweep["blobs_deleted"] >= 4, sweep  # each collected image's own layer and config
            assert sweep["bytes_freed"] >= 2 * LAYER_BYTES, sweep
            assert folder_bytes(own_registry.data) <= registry_before - 2 * LAYER_BYTES
            for version in kept:  # the sweep left every kept image whole: its layers still download
                status, digest = manifest_status(own_registry, builds[version][1])
                manifest = requests.get(f"http://{own_registry.address}/v2/{APP}/manifests/{digest}",
                                        headers={"Accept": MANIFEST_V2}, timeout=10,
                                        auth=(own_registry.user, own_registry.password)).json()
                for layer in manifest["layers"][-1:]:
                    blob = requests.head(f"http://{own_registry.address}/v2/{APP}/blobs/{layer['digest']}",
                                         auth=(own_registry.user, own_registry.password), timeout=10)
                    assert blob.status_code == 200, (version, layer)

            again = admin.post("/v2/gc").get_json()
            assert again["apps"] == {APP: {"collected": [], "shared_with_kept": [builds[3][1]]}}
            assert (again["registry_manifests"], again["storage_keys"], again["engine_images"]) == (0, 0, 0)

            for version in collected:
                response = rollback(alice, version)
                assert response.status_code == 400
                assert response.get_json() == {"detail": (
                    f"Release v{version}'s image was collected by garbage collection (PIER_RETENTION_RELEASES "
                    "keeps the last 10); deploy it again with git push or builds:create")}
            assert [r["version"] for r in release_list(alice, APP)][0] == 15
            response = rollback(alice, 5)
            assert response.status_code == 201, response.get_json()
            assert recorder.calls("deploy")[-1].args["spec"].image == builds[5][0]
            assert release_list(alice, APP)[0]["version"] == 16
    finally:
        for reference, _ in builds.values():
            if in_engine(client, reference):
                client.images.remove(reference, force=True)


def test_beat_asks_daily_and_a_collection_waits_for_pushes_in_progress_while_others_are_refused(
        app, admin, worker, own_registry):
    celery = app.extensions.get("celery") or make_celery(app)
    entry = celery.conf.beat_schedule["garbage collection"]
    assert (entry["task"], entry["schedule"]) == ("gc.schedule", crontab(minute="0", hour="4"))
    with recorder.settings_changed(app, registry=own_registry.address, registry_password=own_registry.password,
                                   registry_config=str(own_registry.config)):
        with RegistryGate(app.config["PIER"].redis_url).pushing(120):
            first = admin.post("/v2/gc", headers={"Prefer": "respond-async"})
            assert first.status_code == 202
            second = admin.post("/v2/gc")
            assert second.status_code == 409
            assert second.get_json() == {"detail": "Garbage collection is running already; try again when it ends."}
            with app.app_context():
                gc_runner.scheduled()  # what beat runs: not a second collection either
                assert db.session.execute(db.select(db.func.count()).where(Operation.kind == "gc")).scalar() == 1
        finished = wait_for_operation(admin, first.headers["Location"], timeout=120)
        assert finished["state"] == "succeeded", finished["error"]
    with app.app_context():
        sweep = db.session.execute(db.select(Operation.result).where(Operation.kind == "gc")).scalar()["registry_sweep"]
    assert "skipped" not in sweep and sweep["blobs_deleted"] == 0, sweep  # it swept once the push had ended


def test_a_sweep_waits_for_pushes_in_progress_and_pushes_wait_for_the_sweep(app, tmp_path):
    settings = app.config["PIER"]
    gate = RegistryGate(settings.redis_url)
    config = tmp_path / "registry.yml"
    config.write_text("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /nonexistent\n")
    with gate.pushing(60):
        skipped = gc_runner.sweep_registry(dataclasses.replace(settings, registry_config=str(config)), 0.5)
    assert skipped == {"skipped": "1 builds were still pushing to the registry after 0.5 s; the next "
                                  "collection sweeps"}
    assert gate.in_progress() == 0

    waited, entered = [], threading.Event()

    def build_push():
        with gate.pushing(60, on_wait=lambda: waited.append("told")):
            entered.set()

    with gate.closed(60, drain_seconds=0) as pushing:
        assert pushing == 0
        thread = threading.Thread(target=build_push)
        thread.start()
        assert not entered.wait(2), "a push entered while the registry was being swept"
    assert entered.wait(10)
    thread.join(10)
    assert waited == ["told"] and gate.in_progress() == 0


def test_a_git_push_waits_at_the_gate_while_the_registry_is_swept(app, alice, pusher):
    alice.create_app("gc-pushed")
    repo = pusher.repo("gc-pushed", web_app("pushed after the sweep"))
    lines = []

    def read(process):
        for line in process.stdout:
            lines.append(line)

    def told():
        return any("Waiting for the registry's garbage collection" in line for line in lines)

    try:
        with RegistryGate(app.config["PIER"].redis_url).closed(600, drain_seconds=0):
            process = pusher.push(repo, "gc-pushed", background=True)
            reader = threading.Thread(target=read, args=(process,), daemon=True)
            reader.start()
            wait_for(lambda: told() or process.poll() is not None, 300)
            assert told(), "".join(lines)
            assert registry_tags("gc-pushed", app.config["PIER"]) == [], "it pushed while the registry was swept"
        assert process.wait(timeout=300) == 0
        reader.join(10)
        assert "Done, gc-pushed:v2 deployed to Pier" in "".join(lines)
        assert served(app, "gc-pushed") == "pushed after the sweep"
    finally:
        assert alice.delete("/v2/apps/gc-pushed").status_code == 204


def test_a_registry_on_s3_is_swept_too(s3_registry, tmp_path):  # noqa: F811
    address, store = s3_registry
    config = tmp_path / "config.yml"  # where the fixture wrote the registry's config
    client = docker.from_env()
    for tag in ("old", "new"):
        tiny_image(client, f"{address}/gc-s3:{tag}")
        for chunk in client.api.push(f"{address}/gc-s3", tag=tag, stream=True, decode=True):
            assert "error" not in chunk, chunk
        client.images.remove(f"{address}/gc-s3:{tag}", force=True)

    def blobs():
        return [key for key in store.list("registry") if "/blobs/" in key and key.endswith("/data")]

    digest = requests.head(f"http://{address}/v2/gc-s3/manifests/old", headers={"Accept": MANIFEST_V2},
                           timeout=10).headers["Docker-Content-Digest"]
    assert requests.delete(f"http://{address}/v2/gc-s3/manifests/{digest}", timeout=10).status_code == 202
    before = blobs()
    assert registries.data_folder(config) is None, "its bytes are not counted on S3"
    marked, deleted = registries.garbage_collect(config, 120)
    assert deleted == 3 and len(blobs()) == len(before) - 3  # the old image's layer, config and manifest
    pulled = client.images.pull(f"{address}/gc-s3:new")
    client.images.remove(pulled.id, force=True)
