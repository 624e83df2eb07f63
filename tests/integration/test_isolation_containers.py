"""App containers cannot reach each other (one tenant's one-off container once fetched another tenant's app
straight from the shared bridge, past its whitelist and maintenance mode), and every app container runs
hardened whatever its image asks."""
import shlex

from core.endpoints import Endpoints
from tests.integration.test_docker_api import docker_platform  # noqa: F401 - fixture

REACH = ("import sys, urllib.request\n"
         "try:\n"
         "    urllib.request.urlopen('http://{endpoint}/', timeout=3).read()\n"
         "    print('reached')\n"
         "except Exception as exc:\n"
         "    print('refused', type(exc).__name__)\n")


def test_a_container_cannot_reach_another_apps_container(app, alice, bob, docker_platform):  # noqa: F811
    alice.create_app("victim")
    assert alice.post("/v2/apps/victim/builds", {"image": "pier-test/web:one"}).status_code == 201
    bob.create_app("prober")
    assert bob.post("/v2/apps/prober/builds", {"image": "pier-test/web:one"}).status_code == 201
    [victim] = Endpoints(app.config["PIER"].redis_url).read("victim")["cmd"]
    [itself] = Endpoints(app.config["PIER"].redis_url).read("prober")["cmd"]
    for target in (victim, itself):  # not even its own web process: containers talk through the router
        command = "python3 -c " + shlex.quote(REACH.format(endpoint=target))
        ran = bob.post("/v2/apps/prober/run", {"command": command}).get_json()
        assert ran["output"].startswith("refused"), (target, ran)


def test_every_app_container_is_hardened(app, alice, docker_platform):  # noqa: F811
    alice.create_app("hardened")
    alice.post("/v2/apps/hardened/builds", {"image": "pier-test/web:one"})
    [container] = docker_platform.containers.list(filters={"label": "io.pier.app=hardened"})
    host = container.attrs["HostConfig"]
    settings = app.config["PIER"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["CapDrop"] == ["ALL"] and "NET_RAW" not in host["CapAdd"]
    assert host["PidsLimit"] == settings.container_pids
    assert host["Memory"] > 0, "a container without limits:set still has the platform's default memory limit"
    network = docker_platform.networks.get("pier-apps")
    assert network.attrs["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    ran = alice.post("/v2/apps/hardened/run", {"command": "grep ^CapEff /proc/self/status"}).get_json()
    assert ran["exit_code"] == 0 and int(ran["output"].split()[1], 16) & (1 << 13) == 0  # no CAP_NET_RAW
