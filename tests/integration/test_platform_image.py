"""The platform image (image/Dockerfile, what the Helm chart runs) on the real Docker engine.

`scripts/image` builds pier/platform:<version> when the tree changed. Its entry point migrates a database of
this test's own, then runs the controller (`web`) and a deploys worker (`worker`) as the chart does: as the
pier user, on a read-only root filesystem with only /tmp and var/ writable, every capability dropped. They
reach the test PostgreSQL and Redis on 127.0.0.1 over the host's network. The worker runs releases with the
in-memory scheduler (the chart's Kubernetes scheduler has no cluster here), whose web processes really serve
HTTP on 127.0.0.1. A user registers, creates an app and deploys an image through that controller.

The database part runs as the chart's StatefulSet runs it: as root with only the capabilities scripts/database
needs, its data and the object store on volumes of their own. Its WAL and backups reach the store, and an
emptied data volume is restored from there when the pod starts again.
"""
import json
import os
import subprocess
import urllib.request
import uuid
from pathlib import Path

import docker
import pytest
import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from tests.support.builder import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("PIER_TEST_IMAGE_REDIS_URL", "redis://127.0.0.1:6379/11")
SECRET_KEY, BUILDER_KEY = "image-test-secret-key-" + "s" * 32, "image-test-builder-key-" + "b" * 32


def own_database():
    """An empty database of this test's own, next to the test database (made by the pier role, which may)."""
    url = make_url(os.environ["PIER_TEST_DATABASE_URL"])
    name = f"{url.database}_image"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def image():
    built = subprocess.run([str(ROOT / "scripts" / "image")], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return built.stdout.strip()


class Containers:
    """Containers started from the image as the chart starts its pods, removed at the end."""

    def __init__(self, image, database_url):
        self.client = docker.from_env()
        self.image, self.started = image, []
        self.environment = dict(PIER_SECRET_KEY=SECRET_KEY, PIER_BUILDER_KEY=BUILDER_KEY, DATABASE_URL=database_url,
                                REDIS_URL=REDIS_URL, PIER_SCHEDULER="memory", PIER_DEPLOY_TIMEOUT="30",
                                PIER_DRAIN_SECONDS="0")

    def run(self, *args, detach=True, **environment):
        options = dict(network_mode="host", read_only=True, tmpfs={"/tmp": "", "/opt/pier/app/var": ""},
                       cap_drop=["ALL"], security_opt=["no-new-privileges"],
                       environment={**self.environment, **environment}, labels={"io.pier.test": "platform-image"})
        if not detach:
            return self.client.containers.run(self.image, list(args), remove=True, stderr=True, **options)
        container = self.client.containers.run(self.image, list(args), detach=True, **options)
        self.started.append(container)
        return container

    def logs(self):
        return "\n".join(f"--- {c.name}\n{c.logs(tail=40).decode(errors='replace')}" for c in self.started)

    def remove(self):
        for container in self.started:
            container.remove(force=True)


@pytest.fixture(scope="module")
def platform(image):
    redis.Redis.from_url(REDIS_URL).flushdb()
    containers = Containers(image, own_database())
    port = free_port()
    try:
        migrated = containers.run("migrate", detach=False)
        assert b"the database is migrated" in migrated
        containers.run("web", PIER_BIND=f"127.0.0.1:{port}", PIER_WEB_WORKERS="1")
        containers.run("worker")
        url = f"http://127.0.0.1:{port}"

        def answers():
            try:
                return urllib.request.urlopen(url + "/healthz", timeout=2).status == 200
            except OSError:
                return False
        assert wait_for(answers, seconds=60), containers.logs()
        yield url, containers
    finally:
        containers.remove()
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_the_processes_run_as_the_unprivileged_pier_user(image, platform):
    _, containers = platform
    for container in containers.started:
        top = container.top(ps_args="-o pid,uid,comm")
        uids = {int(process[1]) for process in top["Processes"]}
        assert uids == {1000}, (container.name, top)
    assert docker.from_env().images.get(image).attrs["Config"]["User"] == "1000:1000"


def test_a_deploy_through_the_image_s_controller_and_worker_succeeds(platform):
    url, containers = platform
    http = requests.Session()
    registered = http.post(f"{url}/v2/auth/register/", json={
        "username": "ada", "password": "a long passphrase", "email": "ada@example.com"})
    assert registered.status_code == 201, registered.text
    token = http.post(f"{url}/v2/auth/login/", json={"username": "ada", "password": "a long passphrase"}).json()["token"]
    http.headers["Authorization"] = f"token {token}"
    assert http.post(f"{url}/v2/apps", json={"id": "imaged"}).status_code == 201

    build = http.post(f"{url}/v2/apps/imaged/builds", json={"image": "pier-test/web:one"})
    assert build.status_code == 201, f"{build.text}\n{containers.logs()}"

    releases = http.get(f"{url}/v2/apps/imaged/releases").json()["results"]
    newest = max(releases, key=lambda release: release["version"])
    assert (newest["version"], newest["state"], newest["failed"]) == (2, "deployed", False), releases
    pods = http.get(f"{url}/v2/apps/imaged/pods").json()["results"]
    assert [(pod["type"], pod["release"], pod["state"]) for pod in pods] == [("cmd", "v2", "up")]

    # The worker in its container published the new process's address, and the process answers there.
    endpoints = json.loads(redis.Redis.from_url(REDIS_URL).hget("pier:endpoints", "imaged"))
    (address,) = endpoints["cmd"]
    assert requests.get(f"http://{address}/", timeout=5).text == "pier-test/web:one"


def test_with_the_node_s_docker_socket_the_pier_user_pulls_the_stack_image(image, tmp_path):
    """workers.builds.docker.mode=socket: the pier user reaches a mounted engine socket through its group, and
    hands the node's build folder (root's, as the kubelet makes it; mounted at the same path) to itself through
    that engine. A second start finds it done."""
    socket_group = os.stat("/var/run/docker.sock").st_gid
    stack = "127.0.0.1:5000/pier/stack:bookworm"  # scripts/platform.sh images pushes it there
    folder = tmp_path / "pier-builds"
    folder.mkdir()
    assert folder.stat().st_uid == 0
    for start in ("first", "again"):
        container = docker.from_env().containers.run(
            image, ["pull-stack"], detach=True, read_only=True, tmpfs={"/tmp": ""}, cap_drop=["ALL"],
            security_opt=["no-new-privileges"], group_add=[socket_group],
            volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock"}, str(folder): {"bind": str(folder)}},
            environment={"PIER_STACK_IMAGE": stack, "DOCKER_HOST": "unix:///var/run/docker.sock",
                         "PIER_BUILD_FOLDER": str(folder),
                         "PIER_REGISTRY_PASSWORD": os.environ["PIER_REGISTRY_PASSWORD"]},  # the registry asks
            labels={"io.pier.test": "platform-image"})
        try:  # it retries until the engine answers, as an init container waiting for its engine must
            assert wait_for(lambda: container.reload() or container.status == "exited", seconds=120), container.logs()
            assert container.wait()["StatusCode"] == 0, container.logs()
            assert f"the Docker engine has {stack}".encode() in container.logs()
            assert (b"belongs to the builds' user" in container.logs()) == (start == "first"), container.logs()
        finally:
            container.remove(force=True)
        assert (folder.stat().st_uid, folder.stat().st_gid) == (1000, 1000)


# What a builds worker does with a buildpack app, run in the image as the chart's socket mode runs it
SOCKET_MODE_BUILD = """
import shutil, time
from pathlib import Path
import docker
from core.settings import Settings
from workers.build import buildpack
from workers.runners.build import cache_folder, scratch_folder
class Output:
    line = step = staticmethod(print)
    cancelled = staticmethod(lambda: False)
settings = Settings.from_env()
source = scratch_folder(settings) / "quickstart"
shutil.copytree("/quickstart", source)
buildpack.write_env_dir(source.parent / "env", {})
with buildpack.cache_in(source, cache_folder(settings, "socket-mode-app")) as inside:
    buildpack.compile_slug(docker.from_env(), settings, Output, time.monotonic() + 600, source, inside,
                                   source.parent / "env", source.parent / "out")
print("built:", sorted(entry.name for entry in source.iterdir()))
"""


def test_in_socket_mode_the_builds_worker_compiles_a_buildpack_app_with_the_node_s_engine(image, tmp_path):
    """The node's engine bind-mounts the build's folders by their paths on the node: with the chart's node folder
    mounted at the same path (PIER_BUILD_CACHE_PATH), a buildpack build of the quickstart works from the image,
    as the pier user, read-only root, no capabilities."""
    folder = tmp_path / "pier-builds"
    folder.mkdir()
    os.chown(folder, 1000, 1000)  # what pull-stack does (the test above)
    container = docker.from_env().containers.run(
        image, ["python", "-c", SOCKET_MODE_BUILD], detach=True, read_only=True, tmpfs={"/tmp": ""},
        cap_drop=["ALL"], security_opt=["no-new-privileges"], group_add=[os.stat("/var/run/docker.sock").st_gid],
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock"}, str(folder): {"bind": str(folder)},
                 str(ROOT / "examples" / "python-app"): {"bind": "/quickstart", "mode": "ro"}},
        environment={"PIER_BUILD_CACHE_PATH": str(folder), "DOCKER_HOST": "unix:///var/run/docker.sock",
                     "PIER_STACK_IMAGE": "127.0.0.1:5000/pier/stack:bookworm", "PIER_SECRET_KEY": SECRET_KEY,
                     "PIER_BUILDER_KEY": BUILDER_KEY},
        labels={"io.pier.test": "platform-image"})
    try:
        code = container.wait(timeout=600)["StatusCode"]
        output = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
    assert code == 0, output
    assert "-----> Build succeeded" in output, output
    assert "built: ['.profile.d', '.venv', 'Procfile', 'app.py', 'requirements.txt', 'runtime.txt']" in output, output
    assert (folder / "socket-mode-app" / "venv").is_dir()  # the cache, back on the node for the next build
    subprocess.run(["rm", "-rf", str(folder)], check=True)  # the build user's files


DATABASE_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"]  # as helm/pier/templates/database.yaml


@pytest.mark.slow  # a lost volume is a fault: the fault suite runs it (make test-faults), half a minute
def test_the_database_pod_restores_an_emptied_volume_from_its_backups(image):
    client = docker.from_env()
    suffix = uuid.uuid4().hex[:8]
    data, store = (client.volumes.create(f"pier-test-{part}-{suffix}") for part in ("data", "store"))
    password = "database-password-" + suffix
    started = []

    def start():
        container = client.containers.run(
            image, ["database"], detach=True, user="0:0", cap_drop=["ALL"], cap_add=DATABASE_CAPABILITIES,
            security_opt=["no-new-privileges"], ports={"5432/tcp": ("127.0.0.1", None)},
            volumes={data.name: {"bind": "/var/lib/postgresql/data"}, store.name: {"bind": "/var/lib/pier/storage"}},
            environment=dict(PIER_SECRET_KEY=SECRET_KEY, PIER_BUILDER_KEY=BUILDER_KEY, PIER_DB_PASSWORD=password,
                             PIER_STORAGE="filesystem"),
            labels={"io.pier.test": "platform-image"})
        started.append(container)
        assert wait_for(lambda: b"the pier role and database are ready" in container.logs()
                        or container.reload() or container.status == "exited", seconds=180)
        logs = container.logs().decode(errors="replace")
        assert "the pier role and database are ready" in logs, logs
        container.reload()
        port = int(container.ports["5432/tcp"][0]["HostPort"])
        url = URL.create("postgresql+psycopg", "pier", password, "127.0.0.1", port, "pier")
        return container, create_engine(url), logs

    try:
        container, engine, logs = start()
        assert "full backup" in logs and "taken" in logs
        with engine.begin() as conn:  # as the pier role, over the network, with its password
            conn.execute(text("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('outlives its volume')"))
        engine.dispose()
        # the last WAL segment goes to the store now instead of within archive_timeout
        switched = container.exec_run(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-c",
                                       "SELECT pg_switch_wal(); SELECT pg_sleep(1); CHECKPOINT"])
        assert switched.exit_code == 0, switched.output
        container.stop(timeout=60)  # SIGTERM: a fast shutdown
        assert b"stopping PostgreSQL (fast shutdown)" in container.logs()
        assert container.wait()["StatusCode"] == 0
        started.remove(container)
        container.remove()
        data.remove()  # the disk is lost
        data = client.volumes.create(f"pier-test-data-{suffix}")

        container, engine, logs = start()
        assert "restoring the newest backup" in logs, logs
        with engine.connect() as conn:
            assert conn.execute(text("SELECT note FROM kept")).scalars().all() == ["outlives its volume"]
        engine.dispose()
    finally:
        for leftover in (*started, data, store):
            try:
                leftover.remove(force=True)
            except docker.errors.NotFound:
                pass
