import pytest

from core.settings import Settings
from workers.scheduler.docker import containers as specs
from workers.scheduler.spec import ReleaseSpec

SETTINGS = Settings(secret_key="s" * 40, builder_key="b" * 40, container_memory="1G", container_pids=512)

SPEC = ReleaseSpec(app="hello", app_uuid="u-1", version=3, image="hello:git-abc", procfile={"web": "bin/web"},
                   env={"FOO": "bar", "DEIS_APP": "hello"}, memory={"web": "256M/1G"}, cpu={"web": "100m/500m"})


@pytest.mark.parametrize("value, expected", [
    ("512M", {"mem_limit": 512 * 1024 ** 2}),
    ("1G", {"mem_limit": 1024 ** 3}),
    ("64MB", {"mem_limit": 64 * 1024 ** 2}),
    ("256M/512M", {"mem_reservation": 256 * 1024 ** 2, "mem_limit": 512 * 1024 ** 2}),
    (None, {}),
])
def test_memory_limits(value, expected):
    assert specs.memory_limits(value) == expected


@pytest.mark.parametrize("value, expected", [
    ("500m", {"nano_cpus": 500_000_000}),
    ("2", {"nano_cpus": 2_000_000_000}),
    ("100m/1000m", {"cpu_shares": 102, "nano_cpus": 1_000_000_000}),
    ("", {}),
])
def test_cpu_limits(value, expected):
    assert specs.cpu_limits(value) == expected


def test_port_comes_from_config_then_the_image_then_5000():
    assert specs.port_for(ReleaseSpec("a", "u", 1, "i", env={"PORT": "9000"}), {"8080/tcp": {}}) == 9000
    assert specs.port_for(SPEC, {"9090/tcp": {}, "8080/tcp": {}, "53/udp": {}}) == 8080
    assert specs.port_for(SPEC, {}) == 5000


def test_container_spec_carries_env_labels_limits_and_the_procfile_command():
    built = specs.container_spec(SPEC, "web", 1, 5000, SETTINGS)
    assert built["name"] == "hello.v3.web.1"
    assert built["command"] == ["/bin/sh", "-c", "bin/web"]
    assert built["environment"] == {"FOO": "bar", "DEIS_APP": "hello", "PORT": "5000"}
    assert built["labels"] == {"io.pier.app": "hello", "io.pier.app-uuid": "u-1", "io.pier.release": "v3",
                               "io.pier.type": "web", "io.pier.index": "1"}
    assert built["mem_limit"] == 1024 ** 3 and built["mem_reservation"] == 256 * 1024 ** 2
    assert built["nano_cpus"] == 500_000_000 and built["network"] == "pier-apps"
    assert specs.container_spec(SPEC, "cmd", 1, 5000, SETTINGS)["command"] is None


def test_every_container_is_hardened_and_bounded_even_without_limits():
    built = specs.container_spec(SPEC, "worker", 1, 5000, SETTINGS)
    assert built["security_opt"] == ["no-new-privileges"] and built["cap_drop"] == ["ALL"]
    assert "NET_RAW" not in built["cap_add"] and "SYS_ADMIN" not in built["cap_add"]
    assert built["pids_limit"] == 512 and built["mem_limit"] == 1024 ** 3
    one_off = specs.run_spec(SPEC, "ls", 5000, SETTINGS)
    assert one_off["cap_drop"] == ["ALL"] and one_off["pids_limit"] == 512


def test_unmatched_tags():
    labels = ["region=eu", "disk=ssd", "bare"]
    assert specs.unmatched_tags({"region": "eu"}, labels) == {}
    assert specs.unmatched_tags({"region": "us", "gpu": "yes"}, labels) == {"region": "us", "gpu": "yes"}


@pytest.mark.parametrize("status, code, restarting, state", [
    ("running", 0, False, "up"), ("created", None, False, "starting"), ("restarting", 1, True, "crashed"),
    ("exited", 1, False, "crashed"), ("exited", 0, False, "down"),
])
def test_pod_state(status, code, restarting, state):
    assert specs.pod_state(status, code, restarting) == state


def test_epoch_seconds_is_a_little_early():
    assert specs.epoch_seconds("1970-01-01T00:01:40.123456789Z") == 99.0


def test_names_of_two_apps_never_meet_whatever_their_names():
    # app "cl-v2" type "web" and app "cl" type "v2-web" at release v2 once both named "cl-v2-v2-web-0"
    victim = specs.container_name(ReleaseSpec("cl-v2", "u-1", 2, "i"), "web", 1)
    attacker = specs.container_name(ReleaseSpec("cl", "u-2", 2, "i"), "v2-web", 1)
    assert victim != attacker
