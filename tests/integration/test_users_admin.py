"""Token regeneration, password changes, account cancellation and the admin's user list."""
from urllib.parse import parse_qs, urlparse

import pytest

from tests.factories import PASSWORD, Caller


def as_token(caller, token):
    return Caller(caller.client, caller.username, token)


def can_log_in(client, username, password):
    response = client.post("/v2/auth/login/", json={"username": username, "password": password})
    return response.status_code == 200


def whoami_status(caller):
    return caller.get("/v2/auth/whoami").status_code


def test_regenerating_own_token_revokes_the_old_one(alice):
    response = alice.post("/v2/auth/tokens/", {})
    assert response.status_code == 200 and list(response.get_json()) == ["token"]
    new_token = response.get_json()["token"]
    assert new_token != alice.token
    assert whoami_status(alice) == 401
    assert as_token(alice, new_token).get("/v2/auth/whoami").get_json()["username"] == "alice"


def test_admin_regenerates_another_users_token(admin, alice):
    response = admin.post("/v2/auth/tokens/", {"username": "alice"})
    assert response.status_code == 200
    assert whoami_status(alice) == 401
    assert as_token(alice, response.get_json()["token"]).get("/v2/auth/whoami").get_json()["username"] == "alice"
    assert whoami_status(admin) == 200


def test_non_admin_cannot_regenerate_another_users_token(alice, bob):
    assert alice.post("/v2/auth/tokens/", {"username": "bob"}).status_code == 403
    assert whoami_status(bob) == 200 and whoami_status(alice) == 200


def test_admin_rotates_every_token(admin, alice, bob):
    response = admin.post("/v2/auth/tokens/", {"all": True})
    assert response.status_code == 200 and response.get_json() == ""
    assert [whoami_status(c) for c in (admin, alice, bob)] == [401, 401, 401]
    assert can_log_in(alice.client, "alice", PASSWORD)


def test_non_admin_cannot_rotate_every_token(alice, bob):
    assert alice.post("/v2/auth/tokens/", {"all": True}).status_code == 403
    assert whoami_status(bob) == 200


def test_change_own_password(alice):
    response = alice.post("/v2/auth/passwd", {"password": PASSWORD, "new_password": "brand-new-pass"})
    assert response.status_code == 200 and response.get_json()["status"] == "password set"
    assert can_log_in(alice.client, "alice", "brand-new-pass")
    assert not can_log_in(alice.client, "alice", PASSWORD)


def test_change_own_password_with_a_wrong_current_password(alice):
    response = alice.post("/v2/auth/passwd", {"password": "not-it", "new_password": "brand-new-pass"})
    assert response.status_code == 401 and response.get_json() == {"detail": "Current password does not match"}
    assert can_log_in(alice.client, "alice", PASSWORD)


@pytest.mark.parametrize("body, field", [({"password": PASSWORD}, "new_password"),
                                         ({"new_password": "brand-new-pass"}, "password")])
def test_change_password_with_a_missing_field(alice, body, field):
    response = alice.post("/v2/auth/passwd", body)
    assert response.status_code == 400 and response.get_json()[field]
    assert can_log_in(alice.client, "alice", PASSWORD)


def test_admin_sets_another_users_password_without_the_current_one(admin, alice):
    response = admin.post("/v2/auth/passwd", {"username": "alice", "new_password": "reset-by-admin"})
    assert response.status_code == 200
    assert can_log_in(alice.client, "alice", "reset-by-admin")
    assert not can_log_in(alice.client, "alice", PASSWORD)
    assert can_log_in(admin.client, "admin", PASSWORD)


def test_non_admin_cannot_set_another_users_password(alice, bob):
    response = alice.post("/v2/auth/passwd", {"username": "bob", "password": PASSWORD, "new_password": "hijack"})
    assert response.status_code == 403
    assert can_log_in(bob.client, "bob", PASSWORD)


def test_cancel_own_account(alice):
    assert alice.delete("/v2/auth/cancel").status_code == 204
    assert whoami_status(alice) == 401
    assert not can_log_in(alice.client, "alice", PASSWORD)


def test_cancel_is_refused_while_the_user_owns_apps(alice):
    alice.create_app("keeper")
    response = alice.delete("/v2/auth/cancel")
    assert response.status_code == 409 and "Delete or transfer ownership" in response.get_json()["detail"]
    assert whoami_status(alice) == 200
    assert alice.get("/v2/apps/keeper").status_code == 200


def test_cancel_a_user_with_keys_and_shared_apps(alice, bob):
    public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBp6Z0y6hCxBQ+6kyYBOWJ6dXxnTw5bHV2M3yVMxWFc1 alice@laptop"
    assert alice.post("/v2/keys", {"id": "laptop", "public": public}).status_code == 201
    bob.create_app("shared")
    assert bob.post("/v2/apps/shared/perms", {"username": "alice"}).status_code == 201
    assert alice.delete("/v2/auth/cancel").status_code == 204
    assert bob.get("/v2/apps/shared/perms").get_json() == {"users": []}


def test_cancelling_a_collaborator_keeps_the_apps_history(alice, bob):
    alice.create_app("alpha")
    assert alice.post("/v2/apps/alpha/perms", {"username": "bob"}).status_code == 201
    assert bob.post("/v2/apps/alpha/config", {"values": {"FOO": "bar"}}).status_code == 201
    assert bob.post("/v2/apps/alpha/domains", {"domain": "bob.example.com"}).status_code == 201
    assert bob.delete("/v2/auth/cancel").status_code == 204

    releases = alice.get("/v2/apps/alpha/releases").get_json()
    assert releases["count"] == 2 and releases["results"][0]["owner"] is None
    config = alice.get("/v2/apps/alpha/config")
    assert config.status_code == 200 and config.get_json()["values"]["FOO"] == "bar"
    assert "bob.example.com" in [d["domain"] for d in alice.get("/v2/apps/alpha/domains").get_json()["results"]]


def test_admin_cancels_another_user(admin, alice):
    assert admin.delete("/v2/auth/cancel", {"username": "alice"}).status_code == 204
    assert whoami_status(alice) == 401
    assert whoami_status(admin) == 200
    names = [u["username"] for u in admin.get("/v2/users").get_json()["results"]]
    assert names == ["admin"]


def test_admin_cancelling_an_unknown_user_is_404(admin):
    assert admin.delete("/v2/auth/cancel", {"username": "ghost"}).status_code == 404


def test_non_admin_cannot_cancel_another_user(alice, bob):
    assert alice.delete("/v2/auth/cancel", {"username": "bob"}).status_code == 403
    assert whoami_status(bob) == 200


def test_admin_lists_users_page_by_page(admin, alice, bob):
    everyone = admin.get("/v2/users").get_json()
    assert everyone["count"] == 3 and everyone["next"] is None and everyone["previous"] is None
    assert [u["username"] for u in everyone["results"]] == ["admin", "alice", "bob"]
    assert all("password" not in u and "password_hash" not in u for u in everyone["results"])

    first = admin.get("/v2/users?limit=2").get_json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["previous"] is None
    assert parse_qs(urlparse(first["next"]).query) == {"limit": ["2"], "offset": ["2"]}

    last = admin.get("/v2/users?limit=2&offset=2").get_json()
    assert [u["username"] for u in last["results"]] == ["bob"]
    assert last["next"] is None and parse_qs(urlparse(last["previous"]).query)["offset"] == ["0"]


def test_non_admin_cannot_list_users(alice):
    response = alice.get("/v2/users")
    assert response.status_code == 403 and "detail" in response.get_json()
