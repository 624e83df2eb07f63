"""Faults against the running platform, with load through its router: each time, the app serves again (or
never stopped) within the time the platform promises, each deploy makes exactly one release, no container
is left over, no operation stays pending, and no row is lost.
Marked `slow`: `make test-faults` runs them and `make test` leaves them out; CI (.ci/run) runs both.
"""
import subprocess
import time
import uuid

import pytest

from tests.support.faults import FaultPlatform, Load, wait_until

pytestmark = pytest.mark.slow
CONTAINER_RECOVERY = 30  # seconds, after a container is killed or removed
RECOVERY = 60  # seconds, after any other fault
FIGURES = {}  # fault -> seconds to recover, printed at the end of the module


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    platform = FaultPlatform(tmp_path_factory.mktemp("faults")).start()
    try:
        yield platform
    finally:
        platform.stop()
        print("\nrecovery, in seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in FIGURES.items()))


def settled(faults, app, replicas, rows=None):
    """Nothing pending, exactly `replicas` containers of the app running, and no row lost."""
    wait_until(lambda: not faults.operations(), RECOVERY, "every operation finishing")
    wait_until(lambda: len([c for c in faults.process_containers(app) if c.status == "running"]) == replicas
               and len(faults.process_containers(app)) == replicas, RECOVERY, f"{app} at {replicas} containers")
    if rows is not None:
        assert faults.count_rows() == rows


def recover(faults, load, app, body, since, limit, name):
    at = wait_until(lambda: load.recovered_at(since, body), limit + 30, f"{app} serving {body!r} again")
    FIGURES[name] = at - since
    assert at - since <= limit, f"{name}: {app} served again after {at - since:.1f} s"
    return at - since


@pytest.mark.parametrize("replicas, how", [(1, "kill"), (3, "kill"), (1, "rm"), (3, "rm")])
def test_a_dead_container_is_replaced(faults, replicas, how):
    app = f"dead-{how}-{replicas}"
    faults.deploy(app, replicas=replicas)
    releases, rows = faults.releases(app), faults.count_rows()
    load = Load(faults, app)
    load.start()
    time.sleep(2)
    victim = faults.process_containers(app)[0]
    since = time.monotonic()
    if how == "kill":
        victim.kill()
    else:
        victim.remove(force=True)
    recover(faults, load, app, "one", since, CONTAINER_RECOVERY, f"{how} 1 of {replicas}")
    load.finish()
    settled(faults, app, replicas, rows)
    assert faults.releases(app) == releases


def test_redis_losing_its_data(faults):
    app = "redis-loss"
    faults.deploy(app)
    rows = faults.count_rows()
    load = Load(faults, app)
    load.start()
    time.sleep(2)
    since = time.monotonic()
    faults.redis.restart(lose_data=True)
    recover(faults, load, app, "one", since, RECOVERY, "Redis lost its data")
    load.finish()
    settled(faults, app, 1, rows)
    faults.deploy(app, image="pier-test/web:two")  # the queues work again
    assert faults.get(app) == (200, "two")


def test_postgresql_restarted_in_the_middle_of_a_deploy(faults):
    app = "pg-restart"
    faults.deploy(app)
    before = faults.releases(app)
    answer = faults.api.post(f"/v2/apps/{app}/builds", {"image": "pier-test/web:two"},
                             headers={"Prefer": "respond-async"})
    assert answer.status_code == 202
    time.sleep(0.5)
    since = time.monotonic()
    faults.postgres.restart()
    load = Load(faults, app)
    load.start()
    recover(faults, load, app, "two", since, RECOVERY, "PostgreSQL restarted mid-deploy")
    load.finish()
    settled(faults, app, 1)
    after = faults.releases(app)
    assert after[:len(before) - 1] == before[:-1] and after[-1].endswith("deployed") and len(after) == len(before) + 1


@pytest.mark.parametrize("process", ["web", "workers", "worker", "periodic", "watcher", "router", "builder"])
def test_a_pier_process_killed_during_a_deploy(faults, process):
    app = f"kill-{process}"
    faults.deploy(app)
    before = faults.releases(app)
    load = Load(faults, app)
    load.start()
    answer = faults.api.post(f"/v2/apps/{app}/builds", {"image": "pier-test/web:two"},
                             headers={"Prefer": "respond-async"})
    assert answer.status_code == 202
    time.sleep(0.3)
    since = time.monotonic()
    faults.kill_process(process)
    recover(faults, load, app, "two", since, RECOVERY, f"{process} killed mid-deploy")
    load.finish()
    settled(faults, app, 1)
    assert len(faults.releases(app)) == len(before) + 1 and faults.releases(app)[-1].endswith("deployed")
    assert not load.failures_after(since) or process == "router", load.failures_after(since)[:3]


def test_a_crash_looping_app_is_never_given_up(faults):
    app = "crasher"
    faults.deploy(app)
    faults.api.ok("post", f"/v2/apps/{app}/builds", {"image": "pier-test/web:one", "procfile": {
        "web": "python3 /app/server.py & sleep 2; exit 1"}})
    container = wait_until(lambda: faults.process_containers(app) and faults.process_containers(app)[0], 30,
                           "the container")
    wait_until(lambda: any(p["state"] == "crashed" for p in faults.api.get(f"/v2/apps/{app}/pods").json()["results"]),
               10 + 5, "ps showing the crash")
    counts = []
    for _ in range(8):
        container.reload()
        counts.append(container.attrs["RestartCount"])
        time.sleep(10)
    assert counts[-1] > counts[0] >= 1, counts
    assert counts == sorted(counts), counts
    assert container.attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"


def test_the_reboot_case(faults):
    app = "reboot"
    faults.deploy(app)
    rows = faults.count_rows()
    since = time.monotonic()
    faults.reboot()
    load = Load(faults, app)
    load.start()
    recover(faults, load, app, "one", since, RECOVERY, "reboot (make run again)")
    load.finish()
    settled(faults, app, 1, rows)
    faults.deploy(app, image="pier-test/web:two")
    assert faults.get(app) == (200, "two")


def test_dockerd_restarted(faults):
    app = "dockerd"
    faults.deploy(app, replicas=2)
    rows = faults.count_rows()
    load = Load(faults, app)
    load.start()
    since = time.monotonic()
    faults.restart_dockerd()
    recover(faults, load, app, "one", since, RECOVERY, "dockerd restarted")
    load.finish()
    settled(faults, app, 2, rows)
    assert subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def slow_build(step):
    """A Dockerfile whose build takes a while at RUN `step`: a step of its own each time, so that Docker's build
    cache (of this run or of an earlier one on the machine) never skips it."""
    return {"Dockerfile": f"FROM pier/base:bookworm\nRUN {step}\nCOPY server.py default.txt /app/\n"
                          "EXPOSE 8080\nCMD [\"python3\", \"/app/server.py\"]\n"}


@pytest.mark.parametrize("process", ["builder", "builds", "web", "worker", "periodic", "router"])
def test_a_pier_process_killed_during_a_push(faults, process, tmp_path):
    from tests.integration.test_builder import WEB_FILES
    from tests.support.builder import Pusher
    pusher = Pusher(tmp_path / "ada", faults.platform.ssh_port)
    faults.api.post("/v2/keys", {"id": f"key-{process}", "public": pusher.public_key})
    app = f"push-{process}"
    faults.api.ok("post", "/v2/apps", {"id": app})
    step = f"sleep 6 && echo {app} {uuid.uuid4().hex}"
    repo = pusher.repo(app, dict(WEB_FILES, **slow_build(step), **{"default.txt": "first"}))
    push = pusher.push(repo, app, background=True)
    wait_until(lambda: any(c.attrs["Config"].get("Cmd") == ["/bin/sh", "-c", step]
                           for c in faults.docker.containers.list(ignore_removed=True)), 120, "the build's slow step")
    since = time.monotonic()
    faults.kill_process(process)
    first_output = push.communicate(timeout=300)[0]
    pusher.commit(repo, {"default.txt": "second"})

    def pushed_again():
        code, output = pusher.push(repo, app)
        return code == 0 and faults.get(app) == (200, "second")

    wait_until(pushed_again, RECOVERY + 60, f"a push after {process} died")
    FIGURES[f"{process} killed mid-push, to the next good push"] = time.monotonic() - since
    settled(faults, app, 1)
    print(f"\nthe push during which {process} died:\n{first_output[-600:]}")
