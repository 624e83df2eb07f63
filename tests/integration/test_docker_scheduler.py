"""What only the Docker backend does, against the real engine (the shared behaviours are in tests/contract)."""
import threading
import time
import uuid

import pytest
import redis

from core.endpoints import Endpoints
from tests.conftest import settings_for_tests
from tests.support.docker_apps import build_images, get, remove_app_containers
from workers.scheduler import ReleaseSpec
from workers.scheduler.docker import DockerScheduler


@pytest.fixture(scope="session")
def docker_client():
    return build_images()


@pytest.fixture
def scheduler(docker_client):
    settings = settings_for_tests(scheduler="docker", deploy_timeout=20.0, drain_seconds=0.0,
                                  stop_grace_seconds=2)
    return DockerScheduler(settings, Endpoints(settings.redis_url), client=docker_client)


@pytest.fixture
def spec(docker_client):
    app_id = f"dk-{uuid.uuid4().hex[:8]}"
    app_uuid = str(uuid.uuid4())

    def make(version=1, image="pier-test/web:one", **changes):
        env = {"DEIS_APP": app_id, "DEIS_RELEASE": f"v{version}"}
        env.update(changes.pop("env", {}))
        return ReleaseSpec(app=app_id, app_uuid=app_uuid, version=version, image=image, env=env, dockerfile=True,
                           **changes)

    yield make
    remove_app_containers(docker_client, app_uuid)


def web_endpoints(scheduler, spec):
    return Endpoints(scheduler.settings.redis_url).read(spec.app).get("cmd", [])


def test_the_port_comes_from_the_image_or_config(scheduler, spec):
    scheduler.deploy(spec(), {"cmd": 1})
    assert web_endpoints(scheduler, spec())[0].endswith(":8080")
    scheduler.deploy(spec(version=2, env={"PORT": "9090"}), {"cmd": 1})
    assert web_endpoints(scheduler, spec())[0].endswith(":9090")


def test_a_build_container_of_the_app_does_not_stop_observation(scheduler, spec, docker_client):
    # a buildpack build's temporary container carries the app label but no release
    scheduler.deploy(spec(), {"cmd": 1})
    stray = docker_client.containers.run("pier-test/web:one", ["sleep", "30"], detach=True,
                                         labels={"io.pier.app": spec().app})
    try:
        assert [p.release for p in scheduler.observe()[spec().app]] == ["v1"]
    finally:
        stray.remove(force=True)


def test_a_crashing_container_is_restarted_and_shown_as_crashed(scheduler, spec, docker_client):
    crashing = spec(procfile={"web": "python3 /app/server.py & sleep 1; exit 1"})
    scheduler.deploy(crashing, {"web": 1})
    seen = set()
    for _ in range(100):  # the platform promises `ps` shows a crash within 10 s
        seen.add(scheduler.pods(crashing.app)[0].state)
        if "crashed" in seen:
            break
        time.sleep(0.1)
    assert "crashed" in seen
    container = docker_client.containers.get(f"{crashing.app}.v1.web.1")
    for _ in range(100):
        container.reload()
        if container.attrs["RestartCount"] >= 2:
            break
        time.sleep(0.1)
    assert container.attrs["RestartCount"] >= 2, "Docker did not keep restarting the crashed container"


def test_old_containers_stop_only_after_the_new_endpoints_are_published_and_requests_drain(
        scheduler, spec, docker_client):
    scheduler.settings = settings_for_tests(deploy_timeout=20.0, drain_seconds=3.0, stop_grace_seconds=2)
    first = spec()
    scheduler.deploy(first, {"cmd": 1})
    [old_endpoint] = web_endpoints(scheduler, first)
    published = []
    pubsub = redis.Redis.from_url(scheduler.settings.redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("pier:endpoints")

    def listen():
        for message in pubsub.listen():
            if message["data"] == first.app.encode():
                published.append(time.time_ns())
                return

    slow = {}
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    request = threading.Thread(target=lambda: slow.update(body=get(old_endpoint, "/slow?seconds=2")))
    since = int(time.time()) - 1
    request.start()
    time.sleep(0.2)
    scheduler.deploy(spec(version=2, image="pier-test/web:two"), {"cmd": 1})
    request.join(timeout=30)
    listener.join(timeout=5)
    pubsub.close()
    assert slow.get("body") == "slow done", "an in-flight request to the old release was cut off"
    kills = [e for e in docker_client.events(since=since, until=int(time.time()) + 1, decode=True,
                                             filters={"type": "container", "event": "kill"})
             if e["Actor"]["Attributes"].get("name") == f"{first.app}.v1.cmd.1"]
    assert published and kills, (published, kills)
    assert published[0] < kills[0]["timeNano"], "the old container got SIGTERM before the router was told"


def test_run_returns_large_output_whole(scheduler, spec):
    code, output = scheduler.run(spec(), "head -c 300000 /dev/zero | tr '\\0' x")
    assert code == 0 and output == "x" * 300000


def test_an_image_missing_locally_is_pulled_from_a_registry(scheduler, spec, docker_client):
    image = docker_client.images.get("pier-test/web:one")
    remote = f"127.0.0.1:5000/pier-test/web:pulled-{uuid.uuid4().hex[:6]}"
    image.tag(remote)
    for line in docker_client.images.push(remote, stream=True, decode=True):
        assert "error" not in line, line
    docker_client.images.remove(remote)
    pulled = spec(image=remote)
    scheduler.deploy(pulled, {"cmd": 1})
    [endpoint] = web_endpoints(scheduler, pulled)
    assert get(endpoint) == "one"
    assert remote in docker_client.images.get(remote).tags
