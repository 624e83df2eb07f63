import pytest

AUDITED = {"uuid", "app", "owner", "created", "updated"}
RULE = {"min": 2, "max": 5, "cpu_percent": 70}


@pytest.fixture
def hello(alice):
    alice.create_app("hello")
    return alice


def settings_of(caller):
    response = caller.get("/v2/apps/hello/settings")
    assert response.status_code == 200
    return response.get_json()


def test_settings_shape(hello):
    body = settings_of(hello)
    assert set(body) == AUDITED | {"maintenance", "routable", "whitelist", "autoscale", "label"}
    assert body["app"] == "hello" and body["owner"] == "alice"
    assert body["maintenance"] is False and body["routable"] is True
    assert body["whitelist"] == [] and body["autoscale"] == {} and body["label"] == {}


@pytest.mark.parametrize("field, value", [("maintenance", True), ("routable", False)])
def test_set_boolean(hello, field, value):
    response = hello.post("/v2/apps/hello/settings", {field: value})
    assert response.status_code == 201
    assert response.get_json()[field] is value
    assert settings_of(hello)[field] is value


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, [], {}])
def test_boolean_fields_refuse_other_types(hello, value):
    for field in ("maintenance", "routable"):
        response = hello.post("/v2/apps/hello/settings", {field: value})
        assert response.status_code == 400
        assert field in response.get_json()
    assert settings_of(hello)["maintenance"] is False and settings_of(hello)["routable"] is True


def test_autoscale_set_and_unset(hello):
    response = hello.post("/v2/apps/hello/settings", {"autoscale": {"web": RULE}})
    assert response.status_code == 201 and response.get_json()["autoscale"] == {"web": RULE}
    hello.post("/v2/apps/hello/settings", {"autoscale": {"worker": {"min": 1, "max": 1, "cpu_percent": 50}}})
    assert set(settings_of(hello)["autoscale"]) == {"web", "worker"}
    response = hello.post("/v2/apps/hello/settings", {"autoscale": {"web": None}})
    assert response.status_code == 201
    assert settings_of(hello)["autoscale"] == {"worker": {"min": 1, "max": 1, "cpu_percent": 50}}


@pytest.mark.parametrize("rule", [
    {"min": 2, "max": 5}, {"min": 6, "max": 5, "cpu_percent": 50}, {"min": 0, "max": 5, "cpu_percent": 50},
    {"min": 1, "max": 5, "cpu_percent": 101}, {"min": "1", "max": 5, "cpu_percent": 50},
    {"min": 1, "max": 5, "cpu_percent": 50, "extra": 1}, "1-5",
])
def test_autoscale_refuses_bad_rules(hello, rule):
    response = hello.post("/v2/apps/hello/settings", {"autoscale": {"web": rule}})
    assert response.status_code == 400 and "autoscale" in response.get_json()
    assert settings_of(hello)["autoscale"] == {}


def test_autoscale_refuses_bad_process_type(hello):
    response = hello.post("/v2/apps/hello/settings", {"autoscale": {"Web_1": RULE}})
    assert response.status_code == 400 and "autoscale" in response.get_json()


def test_label_set_and_unset(hello):
    response = hello.post("/v2/apps/hello/settings", {"label": {"team": "web", "tier": "gold"}})
    assert response.status_code == 201 and response.get_json()["label"] == {"team": "web", "tier": "gold"}
    assert hello.post("/v2/apps/hello/settings", {"label": {"team": None}}).status_code == 201
    assert settings_of(hello)["label"] == {"tier": "gold"}


def test_label_refuses_bad_values(hello):
    response = hello.post("/v2/apps/hello/settings", {"label": {"team": "not valid!"}})
    assert response.status_code == 400 and "label" in response.get_json()
    response = hello.post("/v2/apps/hello/settings", {"label": {"team": 5}})
    assert response.status_code == 400 and "label" in response.get_json()


def test_change_nothing_is_a_conflict(hello):
    for body in ({"maintenance": False}, {"routable": True}, {"label": {}}):
        response = hello.post("/v2/apps/hello/settings", body)
        assert response.status_code == 409
        assert response.get_json() == {"detail": "alice changed nothing"}
    hello.post("/v2/apps/hello/settings", {"label": {"team": "web"}})
    assert hello.post("/v2/apps/hello/settings", {"label": {"team": "web"}}).status_code == 409


@pytest.mark.parametrize("field", ["autoscale", "label"])
def test_unset_missing_key(hello, field):
    response = hello.post("/v2/apps/hello/settings", {field: {"nothere": None}})
    assert response.status_code == 422
    assert "nothere" in response.get_json()["detail"]


def test_unknown_field(hello):
    response = hello.post("/v2/apps/hello/settings", {"maintenance": True, "colour": "red"})
    assert response.status_code == 400 and "colour" in response.get_json()
    assert settings_of(hello)["maintenance"] is False


def test_empty_body(hello):
    assert hello.post("/v2/apps/hello/settings").status_code == 400


def test_settings_changes_are_logged(hello):
    hello.post("/v2/apps/hello/settings", {"maintenance": True})
    assert "changed settings: maintenance" in hello.get("/v2/apps/hello/logs").get_data(as_text=True)


def test_whitelist_starts_empty(hello):
    response = hello.get("/v2/apps/hello/whitelist")
    assert response.status_code == 200 and response.get_json() == {"addresses": []}


def test_whitelist_add_is_a_union(hello):
    response = hello.post("/v2/apps/hello/whitelist", {"addresses": ["10.0.0.1", "2001:DB8::1", "192.168.0.0/24"]})
    assert response.status_code == 201
    assert response.get_json() == {"addresses": ["10.0.0.1", "2001:db8::1", "192.168.0.0/24"]}
    response = hello.post("/v2/apps/hello/whitelist", {"addresses": ["10.0.0.1", "172.16.0.0/12"]})
    assert response.status_code == 201
    expected = ["10.0.0.1", "2001:db8::1", "192.168.0.0/24", "172.16.0.0/12"]
    assert response.get_json() == {"addresses": expected}
    assert hello.get("/v2/apps/hello/whitelist").get_json() == {"addresses": expected}
    assert settings_of(hello)["whitelist"] == expected


@pytest.mark.parametrize("addresses", [
    ["10.0.0.300"], ["10.0.0.1", "not-an-ip"], ["10.0.0.0/33"], ["fe80::1%eth0"], [5], [],
])
def test_whitelist_refuses_invalid_addresses(hello, addresses):
    response = hello.post("/v2/apps/hello/whitelist", {"addresses": addresses})
    assert response.status_code == 400 and "addresses" in response.get_json()
    assert hello.get("/v2/apps/hello/whitelist").get_json() == {"addresses": []}


def test_whitelist_requires_addresses(hello):
    response = hello.post("/v2/apps/hello/whitelist", {})
    assert response.status_code == 400 and "addresses" in response.get_json()


def test_whitelist_delete(hello):
    hello.post("/v2/apps/hello/whitelist", {"addresses": ["10.0.0.1", "10.0.0.2", "2001:db8::1"]})
    response = hello.delete("/v2/apps/hello/whitelist", {"addresses": ["10.0.0.1", "2001:DB8::1"]})
    assert response.status_code == 204
    assert hello.get("/v2/apps/hello/whitelist").get_json() == {"addresses": ["10.0.0.2"]}


def test_whitelist_delete_missing_address(hello):
    hello.post("/v2/apps/hello/whitelist", {"addresses": ["10.0.0.1"]})
    response = hello.delete("/v2/apps/hello/whitelist", {"addresses": ["10.0.0.1", "10.9.9.9"]})
    assert response.status_code == 422
    detail = response.get_json()["detail"]
    assert "10.9.9.9" in detail and detail.endswith("does not exist in whitelist")
    assert hello.get("/v2/apps/hello/whitelist").get_json() == {"addresses": ["10.0.0.1"]}


def test_tls_shape(hello):
    response = hello.get("/v2/apps/hello/tls")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == AUDITED | {"https_enforced"}
    assert body["https_enforced"] is False and body["app"] == "hello"


def test_tls_enforce(hello):
    response = hello.post("/v2/apps/hello/tls", {"https_enforced": True})
    assert response.status_code == 201 and response.get_json()["https_enforced"] is True
    assert hello.get("/v2/apps/hello/tls").get_json()["https_enforced"] is True
    again = hello.post("/v2/apps/hello/tls", {"https_enforced": True})
    assert again.status_code == 409 and again.get_json() == {"detail": "alice changed nothing"}
    assert hello.post("/v2/apps/hello/tls", {"https_enforced": False}).status_code == 201
    assert hello.get("/v2/apps/hello/tls").get_json()["https_enforced"] is False


@pytest.mark.parametrize("body", [{"https_enforced": "true"}, {"https_enforced": 1}, {}])
def test_tls_refuses_non_boolean(hello, body):
    response = hello.post("/v2/apps/hello/tls", body)
    assert response.status_code == 400 and "https_enforced" in response.get_json()
    assert hello.get("/v2/apps/hello/tls").get_json()["https_enforced"] is False


def test_collaborator_may_change_settings(hello, bob):
    hello.post("/v2/apps/hello/perms", {"username": "bob"})
    assert bob.post("/v2/apps/hello/settings", {"maintenance": True}).status_code == 201
    assert bob.post("/v2/apps/hello/tls", {"https_enforced": True}).status_code == 201
    assert bob.post("/v2/apps/hello/whitelist", {"addresses": ["10.0.0.1"]}).status_code == 201
    assert bob.delete("/v2/apps/hello/whitelist", {"addresses": ["10.0.0.1"]}).status_code == 403


def test_stranger_is_refused(hello, bob):
    assert bob.get("/v2/apps/hello/settings").status_code == 403
    assert bob.post("/v2/apps/hello/settings", {"maintenance": True}).status_code == 403
    assert bob.get("/v2/apps/hello/whitelist").status_code == 403
    assert bob.post("/v2/apps/hello/tls", {"https_enforced": True}).status_code == 403
    assert settings_of(hello)["maintenance"] is False
