import pytest

from core.config_changes import check_merged, parse_changes
from core.errors import UnprocessableEntity, ValidationError

HTTP_PROBE = {"httpGet": {"path": "/health", "port": 5000, "scheme": "HTTP",
                          "httpHeaders": [{"name": "X-Check", "value": "1"}]},
              "initialDelaySeconds": 5, "timeoutSeconds": 2, "periodSeconds": 10, "failureThreshold": 3}
TCP_PROBE = {"tcpSocket": {"port": "http"}}
EXEC_PROBE = {"exec": {"command": ["cat", "/tmp/ready"]}, "successThreshold": 2}


def errors_of(body):
    with pytest.raises(ValidationError) as raised:
        parse_changes(body)
    return raised.value.detail


def apply(body, old=None):
    return {name: merge((old or {}).get(name, {})) for name, merge in parse_changes(body).items()}


def test_values_are_merged():
    result = apply({"values": {"GREETING": "hi", "COUNT": 3}}, {"values": {"OLD": "x"}})
    assert result == {"values": {"OLD": "x", "GREETING": "hi", "COUNT": "3"}}


def test_null_unsets_a_key():
    old = {"values": {"A": "1", "B": "2"}, "memory": {"web": "512M"}}
    result = apply({"values": {"A": None}, "memory": {"web": None}}, old)
    assert result == {"values": {"B": "2"}, "memory": {}}


def test_unsetting_a_missing_value_is_allowed():
    assert apply({"values": {"NOTHERE": None}}, {"values": {"A": "1"}}) == {"values": {"A": "1"}}


@pytest.mark.parametrize("field", ["memory", "cpu", "tags", "registry", "healthcheck"])
def test_unsetting_a_missing_key_is_unprocessable(field):
    changes = parse_changes({field: {"web": None}})
    with pytest.raises(UnprocessableEntity) as raised:
        changes[field]({})
    assert "web" in raised.value.detail and field in raised.value.detail


def test_null_field_is_ignored():
    assert parse_changes({"values": None}) == {}


def test_limits_tags_and_registry():
    result = apply({"memory": {"web": "256m/512m"}, "cpu": {"web": "100m/500m"}, "tags": {"disk": "ssd"},
                    "registry": {"username": "u", "password": "p"}})
    assert result == {"memory": {"web": "256M/512M"}, "cpu": {"web": "100m/500m"}, "tags": {"disk": "ssd"},
                      "registry": {"username": "u", "password": "p"}}


def test_valid_healthchecks():
    body = {"healthcheck": {"web": {"livenessProbe": HTTP_PROBE, "readinessProbe": EXEC_PROBE},
                            "worker": {"readinessProbe": TCP_PROBE}}}
    assert apply(body)["healthcheck"] == body["healthcheck"]


@pytest.mark.parametrize("check", [
    {"livenessProbe": {"httpGet": {"path": "/"}}},
    {"livenessProbe": {"tcpSocket": {"port": 80}, "httpGet": {"port": 80}}},
    {"livenessProbe": {"initialDelaySeconds": 5}},
    {"livenessProbe": {"exec": {"command": []}}},
    {"livenessProbe": {"exec": {"command": "cat /tmp/ready"}}},
    {"livenessProbe": {"tcpSocket": {"port": 80}, "successThreshold": 2}},
    {"livenessProbe": {"tcpSocket": {"port": 80}, "timeoutSeconds": 0}},
    {"livenessProbe": {"tcpSocket": {"port": 80}, "initialDelaySeconds": -1}},
    {"livenessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": "10"}},
    {"livenessProbe": {"tcpSocket": {"port": 80}, "colour": "red"}},
    {"livenessProbe": {"httpGet": {"port": 80, "scheme": "FTP"}}},
    {"livenessProbe": {"httpGet": {"port": 80, "httpHeaders": [{"name": "X"}]}}},
    {"livenessProbe": {"tcpSocket": {"port": 0}}},
    {"livenessProbe": {"tcpSocket": {"port": 70000}}},
    {"livenessProbe": {"tcpSocket": {"port": ""}}},
    {"startupProbe": {"tcpSocket": {"port": 80}}},
    {},
    "tcp:80",
])
def test_invalid_healthchecks(check):
    errors = errors_of({"healthcheck": {"web": check}})
    assert list(errors) == ["healthcheck"] and errors["healthcheck"]


def test_healthcheck_needs_a_valid_process_type():
    assert "healthcheck" in errors_of({"healthcheck": {"Web_1": {"readinessProbe": TCP_PROBE}}})


def test_liveness_success_threshold_message():
    errors = errors_of({"healthcheck": {"web": {"livenessProbe": {"tcpSocket": {"port": 80},
                                                                 "successThreshold": 3}}}})
    assert errors == {"healthcheck": ["web livenessProbe: successThreshold must be 1."]}


def test_unknown_fields():
    errors = errors_of({"values": {"A": "1"}, "colour": {}, "env": {}})
    assert errors == {"colour": ["Unknown field."], "env": ["Unknown field."]}


@pytest.mark.parametrize("body", [[], "values", None])
def test_body_must_be_an_object(body):
    errors_of(body)


@pytest.mark.parametrize("body, field", [
    ({"values": ["A=1"]}, "values"),
    ({"values": {"1A": "x"}}, "values"),
    ({"values": {"PORT": "http"}}, "values"),
    ({"values": {"FLAG": True}}, "values"),
    ({"memory": {"web": "lots"}}, "memory"),
    ({"memory": {"Web": "512M"}}, "memory"),
    ({"cpu": {"web": "fast"}}, "cpu"),
    ({"cpu": {"web_1": "500m"}}, "cpu"),
    ({"tags": {"disk": "solid state"}}, "tags"),
    ({"registry": {"token": "abc"}}, "registry"),
    ({"registry": {"username": ""}}, "registry"),
])
def test_invalid_values(body, field):
    assert field in errors_of(body)


def test_every_error_is_reported():
    errors = errors_of({"values": {"PORT": "0", "1BAD": "x"}, "memory": {"web": "lots"}})
    assert set(errors) == {"values", "memory"} and len(errors["values"]) == 2


def test_registry_needs_port():
    config = {"values": {}, "registry": {"username": "u", "password": "p"}}
    with pytest.raises(ValidationError) as raised:
        check_merged(config)
    assert "registry" in raised.value.detail
    check_merged({"values": {"PORT": "5000"}, "registry": {"username": "u", "password": "p"}})
    check_merged({"values": {}, "registry": {}})
