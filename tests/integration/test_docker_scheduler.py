"""The Docker scheduler against the real Docker engine, with images built locally from pier/base."""
import threading
import time
import uuid

import pytest
import redis

from tests.conftest import settings_for_tests
from tests.support.docker_apps import build_images, get, remove_app_containers
from workers.endpoints import Endpoints
from workers.scheduler import SchedulerError
from workers.scheduler.docker import DockerScheduler


@pytest.fixture(scope="session")
def docker_client():
    return build_images()


@pytest.fixture
def scheduler(docker_client):
    settings = settings_for_tests(scheduler="docker", deploy_timeout=20.0, drain_seconds=0.0,
                                  stop_grace_seconds=2)
    return DockerScheduler(settings, client=docker_client)


@pytest.fixture
def spec(docker_client):
    app_id = f"dk-{uuid.uuid4().hex[:8]}"
    app_uuid = str(uuid.uuid4())

    def make(version=1, image="pier-test/web:one", **changes):
        value = {"app": app_id, "app_uuid": app_uuid, "version": version, "image": image, "procfile": {},
                 "dockerfile": True, "env": {"DEIS_APP": app_id, "DEIS_RELEASE": f"v{version}"},
                 "memory": {}, "cpu": {}, "tags": {}, "registry": {}, "healthcheck": {}}
        value.update(changes)
        return value

    yield make
    remove_app_containers(docker_client, app_uuid)


def web_endpoints(scheduler, spec):
    return Endpoints(scheduler.settings.redis_url).read(spec["app"]).get("cmd", [])


def test_deploy_serves_the_release_and_publishes_its_endpoints(scheduler, spec):
    first = spec()
    scheduler.deploy(first, {"cmd": 1})
    [pod] = scheduler.pods(first["app"])
    assert pod["state"] == "up" and pod["release"] == "v1" and pod["type"] == "cmd"
    [endpoint] = web_endpoints(scheduler, first)
    assert endpoint.endswith(":8080")
    assert get(endpoint) == "one"


def test_a_new_release_replaces_the_old_one(scheduler, spec):
    scheduler.deploy(spec(), {"cmd": 1})
    second = spec(version=2, image="pier-test/web:two", env={"MESSAGE": "hello v2"})
    scheduler.deploy(second, {"cmd": 1})
    pods = scheduler.pods(second["app"])
    assert [p["release"] for p in pods] == ["v2"]
    [endpoint] = web_endpoints(scheduler, second)
    assert get(endpoint) == "hello v2"


def test_a_failing_release_leaves_the_old_one_serving(scheduler, spec):
    scheduler.deploy(spec(), {"cmd": 1})
    [before] = web_endpoints(scheduler, spec())
    with pytest.raises(SchedulerError) as failure:
        scheduler.deploy(spec(version=2, image="pier-test/broken:1"), {"cmd": 1})
    assert "boom: the app cannot start" in str(failure.value)
    assert [p["release"] for p in scheduler.pods(spec()["app"])] == ["v1"]
    assert web_endpoints(scheduler, spec()) == [before]
    assert get(before) == "one"


def test_a_release_that_never_gets_ready_fails_on_time(scheduler, spec):
    scheduler.settings = settings_for_tests(deploy_timeout=2.0, drain_seconds=0.0)
    probe = {"cmd": {"readinessProbe": {"httpGet": {"path": "/missing", "port": 8080}}}}
    with pytest.raises(SchedulerError, match="was not ready within 2s"):
        scheduler.deploy(spec(healthcheck=probe), {"cmd": 1})
    assert scheduler.pods(spec()["app"]) == []


def test_scale_up_down_and_to_zero(scheduler, spec):
    first = spec()
    scheduler.scale(first, {"cmd": 3})
    assert len(scheduler.pods(first["app"])) == 3
    assert len(web_endpoints(scheduler, first)) == 3
    scheduler.scale(first, {"cmd": 1})
    assert [p["name"] for p in scheduler.pods(first["app"])] == [f"{first['app']}-v1-cmd-0"]
    scheduler.scale(first, {"cmd": 0})
    assert scheduler.pods(first["app"]) == []
    assert web_endpoints(scheduler, first) == []


def test_limits_are_applied_to_the_containers(scheduler, spec, docker_client):
    limited = spec(memory={"cmd": "64M"}, cpu={"cmd": "250m"})
    scheduler.deploy(limited, {"cmd": 1})
    [pod] = scheduler.pods(limited["app"])
    host = docker_client.containers.get(pod["name"]).attrs["HostConfig"]
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["NanoCpus"] == 250_000_000


def test_environment_reaches_the_container(scheduler, spec):
    scheduler.deploy(spec(env={"DEIS_APP": "x", "GREETING": "héllo wörld", "PORT": "9090"}), {"cmd": 1})
    [endpoint] = web_endpoints(scheduler, spec())
    assert endpoint.endswith(":9090")
    assert '"GREETING": "h\\u00e9llo w\\u00f6rld"' in get(endpoint, "/env")


def test_unmatched_tags_are_refused(scheduler, spec):
    with pytest.raises(SchedulerError, match="No nodes matched the provided labels"):
        scheduler.deploy(spec(tags={"region": "mars"}), {"cmd": 1})


def test_run_returns_output_and_exit_code(scheduler, spec):
    assert scheduler.run(spec(), "echo 'héllo \"quoted\"'; exit 3") == (3, 'héllo "quoted"\n')
    code, output = scheduler.run(spec(), "no-such-command --flag")
    assert code == 127 and "not found" in output


def test_restart_logs_and_destroy(scheduler, spec, docker_client):
    first = spec()
    scheduler.deploy(first, {"cmd": 2})
    name = f"{first['app']}-v1-cmd-0"
    started = docker_client.containers.get(name).attrs["State"]["StartedAt"]
    [restarted] = scheduler.restart(first["app"], name=name)
    assert restarted["name"] == name and restarted["state"] == "up"
    assert docker_client.containers.get(name).attrs["State"]["StartedAt"] != started
    lines = scheduler.logs(first["app"], 10)
    assert any("listening on 8080" in text for _, _, text in lines)
    assert {container for _, container, _ in lines} == {name, f"{first['app']}-v1-cmd-1"}
    scheduler.destroy(first["app_uuid"])
    assert scheduler.pods(first["app"]) == []


def test_a_crashing_container_is_restarted_and_shown_as_crashed(scheduler, spec, docker_client):
    crashing = spec(procfile={"web": "python3 /app/server.py & sleep 1; exit 1"})
    scheduler.deploy(crashing, {"web": 1})
    seen = set()
    for _ in range(100):  # the platform promises `ps` shows a crash within 10 s
        seen.add(scheduler.pods(crashing["app"])[0]["state"])
        if "crashed" in seen:
            break
        time.sleep(0.1)
    assert "crashed" in seen
    container = docker_client.containers.get(f"{crashing['app']}-v1-web-0")
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
            if message["data"] == first["app"].encode():
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
             if e["Actor"]["Attributes"].get("name") == f"{first['app']}-v1-cmd-0"]
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
