"""Config: values, limits, tags, registry and healthchecks, and the releases they make (API.md 2.4)."""
import json

import pytest

from tests.support import latest_release

CONFIG_FIELDS = {"uuid", "app", "owner", "values", "memory", "cpu", "tags", "registry", "healthcheck",
                 "created", "updated"}
HTTP_PROBE = {"httpGet": {"path": "/health", "port": 5000}, "initialDelaySeconds": 2}


@pytest.fixture
def hello(alice):
    alice.create_app("hello")
    return alice


def set_config(caller, body):
    return caller.post("/v2/apps/hello/config", body)


def test_get_config_shape(hello):
    response = hello.get("/v2/apps/hello/config")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == CONFIG_FIELDS
    assert (body["app"], body["owner"]) == ("hello", "alice")
    assert body["values"] == {"DEIS_APP": "hello", "DEIS_RELEASE": "v1"}
    for name in ("memory", "cpu", "tags", "registry", "healthcheck"):
        assert body[name] == {}


def test_setting_values_makes_a_release_without_a_build(hello):
    response = set_config(hello, {"values": {"FOO": "bar", "COUNT": 3}})
    assert response.status_code == 201
    body = response.get_json()
    assert body["values"] == {"FOO": "bar", "COUNT": "3", "DEIS_APP": "hello", "DEIS_RELEASE": "v2"}
    release = latest_release(hello, "hello")
    assert release["version"] == 2 and release["build"] is None
    assert release["summary"] == "alice added COUNT, FOO"
    assert release["config"] == body["uuid"]
    assert hello.get("/v2/apps/hello/config").get_json()["values"]["FOO"] == "bar"


def test_changing_and_unsetting_values(hello):
    set_config(hello, {"values": {"FOO": "1", "BAR": "1"}})
    assert set_config(hello, {"values": {"FOO": "2"}}).status_code == 201
    assert latest_release(hello, "hello")["summary"] == "alice changed FOO"
    response = set_config(hello, {"values": {"BAR": None}})
    assert response.status_code == 201
    assert "BAR" not in response.get_json()["values"]
    assert latest_release(hello, "hello")["summary"] == "alice removed BAR"
    assert "BAR" not in hello.get("/v2/apps/hello/config").get_json()["values"]


def test_change_that_changes_nothing_conflicts(hello):
    set_config(hello, {"values": {"FOO": "1"}})
    response = set_config(hello, {"values": {"FOO": "1"}})
    assert response.status_code == 409
    assert response.get_json() == {"detail": "alice changed nothing - release stopped"}
    assert latest_release(hello, "hello")["version"] == 2


@pytest.mark.parametrize("values", [{"1FOO": "x"}, {"FOO-BAR": "x"}, {"FOO": {"a": 1}}, {"FOO": True},
                                    {"FOO": ["x"]}])
def test_invalid_values_are_refused(hello, values):
    response = set_config(hello, {"values": values})
    assert response.status_code == 400
    assert "values" in response.get_json()


@pytest.mark.parametrize("port", ["abc", "0", 70000, "-1", "80.5"])
def test_invalid_port_is_refused(hello, port):
    response = set_config(hello, {"values": {"PORT": port}})
    assert response.status_code == 400
    assert "PORT" in response.get_json()["values"][0]


def test_valid_port_is_stored_as_text(hello):
    response = set_config(hello, {"values": {"PORT": 5000}})
    assert response.status_code == 201
    assert response.get_json()["values"]["PORT"] == "5000"


@pytest.mark.parametrize("field,value,stored", [
    ("memory", "512M", "512M"), ("memory", "256m/512m", "256M/512M"), ("memory", "1GB", "1GB"),
    ("cpu", "500m", "500m"), ("cpu", "100m/1000m", "100m/1000m"), ("cpu", "2", "2"),
])
def test_valid_limits_are_stored(hello, field, value, stored):
    response = set_config(hello, {field: {"web": value}})
    assert response.status_code == 201
    assert response.get_json()[field] == {"web": stored}
    assert latest_release(hello, "hello")["summary"] == f"alice changed limits for web={stored}"


@pytest.mark.parametrize("field,body", [
    ("memory", {"web": "lots"}), ("memory", {"web": "512X"}), ("memory", {"web": 512}),
    ("memory", {"Web": "512M"}), ("memory", "512M"),
    ("cpu", {"web": "fast"}), ("cpu", {"web": "100m/"}), ("cpu", {"web_1": "100m"}),
])
def test_invalid_limits_are_refused(hello, field, body):
    response = set_config(hello, {field: body})
    assert response.status_code == 400
    assert field in response.get_json()
    assert hello.get("/v2/apps/hello/config").get_json()[field] == {}


def test_unsetting_a_missing_limit_is_unprocessable(hello):
    set_config(hello, {"memory": {"web": "512M"}})
    response = set_config(hello, {"memory": {"worker": None}})
    assert response.status_code == 422
    assert "worker" in response.get_json()["detail"]
    response = set_config(hello, {"memory": {"web": None}})
    assert response.status_code == 201 and response.get_json()["memory"] == {}


def test_tags(hello):
    response = set_config(hello, {"tags": {"environ": "prod", "example.com/disk": "ssd"}})
    assert response.status_code == 201
    assert response.get_json()["tags"] == {"environ": "prod", "example.com/disk": "ssd"}
    for bad in ({"environ": "not valid!"}, {"-bad": "x"}, {"environ": 3}):
        bad_response = set_config(hello, {"tags": bad})
        assert bad_response.status_code == 400 and "tags" in bad_response.get_json()
    assert set_config(hello, {"tags": {"zone": None}}).status_code == 422


def test_registry_needs_port(hello):
    response = set_config(hello, {"registry": {"username": "bot", "password": "s3cret"}})
    assert response.status_code == 400
    assert "PORT" in response.get_json()["registry"][0]
    response = set_config(hello, {"values": {"PORT": "5000"},
                                  "registry": {"username": "bot", "password": "s3cret"}})
    assert response.status_code == 201
    assert response.get_json()["registry"] == {"username": "bot", "password": "s3cret"}


def test_invalid_registry_keys_are_refused(hello):
    set_config(hello, {"values": {"PORT": "5000"}})
    for bad in ({"token": "x"}, {"username": ""}, {"password": 5}):
        response = set_config(hello, {"registry": bad})
        assert response.status_code == 400 and "registry" in response.get_json()


def test_valid_healthchecks_are_stored(hello):
    healthcheck = {"web": {"livenessProbe": HTTP_PROBE,
                           "readinessProbe": {"tcpSocket": {"port": 5000}, "successThreshold": 3}},
                   "worker": {"livenessProbe": {"exec": {"command": ["cat", "/tmp/ok"]}, "successThreshold": 1}}}
    response = set_config(hello, {"healthcheck": healthcheck})
    assert response.status_code == 201
    assert response.get_json()["healthcheck"] == healthcheck
    assert latest_release(hello, "hello")["summary"] == "alice changed healthchecks"


@pytest.mark.parametrize("probe", [
    {},
    {"exec": {"command": ["true"]}, "httpGet": {"port": 80}},
    {"httpGet": {"path": "/"}},
    {"tcpSocket": {}},
    {"exec": {"command": []}},
    {"httpGet": {"port": 80, "scheme": "FTP"}},
    {"tcpSocket": {"port": 80}, "periodSeconds": 0},
    {"tcpSocket": {"port": 80}, "extra": 1},
    {"tcpSocket": {"port": 80}, "successThreshold": 2},
])
def test_invalid_liveness_probes_are_refused(hello, probe):
    response = set_config(hello, {"healthcheck": {"web": {"livenessProbe": probe}}})
    assert response.status_code == 400
    assert "healthcheck" in response.get_json()


@pytest.mark.parametrize("healthcheck", [{"web": {"startupProbe": HTTP_PROBE}}, {"web": {}},
                                         {"Web": {"livenessProbe": HTTP_PROBE}}, {"web": "yes"}])
def test_invalid_healthcheck_entries_are_refused(hello, healthcheck):
    response = set_config(hello, {"healthcheck": healthcheck})
    assert response.status_code == 400 and "healthcheck" in response.get_json()


def test_unsetting_a_missing_healthcheck_is_unprocessable(hello):
    assert set_config(hello, {"healthcheck": {"web": None}}).status_code == 422


def test_legacy_healthcheck_values_are_validated(hello):
    assert set_config(hello, {"values": {"HEALTHCHECK_URL": "health"}}).status_code == 400
    assert set_config(hello, {"values": {"HEALTHCHECK_PORT": "web"}}).status_code == 400
    assert set_config(hello, {"values": {"HEALTHCHECK_URL": "/health", "HEALTHCHECK_PORT": "80"}}).status_code == 201


def test_unknown_field_is_refused(hello):
    response = set_config(hello, {"values": {"FOO": "1"}, "bogus": {}})
    assert response.status_code == 400
    assert "bogus" in response.get_json()
    assert latest_release(hello, "hello")["version"] == 1


@pytest.mark.parametrize("raw", [b'{"values": {"FOO": ', b"not json", b"\xff\xfe",
                                 pytest.param(b"[" * 100000, id="deeply-nested-array"),
                                 pytest.param(b'{"values": ' * 50000, id="deeply-nested-object")])
def test_malformed_json_is_refused(hello, raw):
    response = hello.post("/v2/apps/hello/config", raw=raw)
    assert response.status_code == 400
    assert "detail" in response.get_json()


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"values"', b"3", b""])
def test_body_must_be_an_object(hello, raw):
    response = hello.post("/v2/apps/hello/config", raw=raw)
    assert response.status_code == 400
    assert "detail" in response.get_json()


def test_oversized_body_is_refused_with_json(hello):
    raw = json.dumps({"values": {"BIG": "x" * (1024 * 1024 + 1)}}).encode()
    response = hello.post("/v2/apps/hello/config", raw=raw)
    assert response.status_code == 413
    assert "detail" in response.get_json()
    assert latest_release(hello, "hello")["version"] == 1


def test_collaborator_may_set_config_and_stranger_may_not(hello, bob):
    assert bob.post("/v2/apps/hello/config", {"values": {"FOO": "1"}}).status_code == 403
    assert hello.post("/v2/apps/hello/perms", {"username": "bob"}).status_code == 201
    assert bob.post("/v2/apps/hello/config", {"values": {"FOO": "1"}}).status_code == 201
    assert latest_release(hello, "hello")["summary"] == "bob added FOO"


@pytest.mark.parametrize("body", [
    {"healthcheck": {"web": {"livenessProbe": {"exec": {"command": ["cat\u0000"]}}}}},
    {"healthcheck": {"web": {"livenessProbe": {"httpGet": {"port": 80, "path": "/\u0000"}}}}},
    {"values": {"PORT": "5000"}, "registry": {"username": "bot\u0000", "password": "x"}},
])
def test_nul_characters_are_refused(hello, body):
    response = set_config(hello, body)
    assert response.status_code == 400
    assert latest_release(hello, "hello")["version"] == 1
