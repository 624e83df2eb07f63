import pytest


@pytest.fixture
def shared(alice, bob):
    alice.create_app("hello")
    response = alice.post("/v2/apps/hello/perms", {"username": "bob"})
    assert response.status_code == 201
    return alice, bob


@pytest.fixture
def carol(caller, admin):
    return caller("carol")


def users_of(caller, app_id="hello"):
    response = caller.get(f"/v2/apps/{app_id}/perms")
    assert response.status_code == 200
    return response.get_json()["users"]


def test_owner_grants_and_list_excludes_owner(shared):
    alice, bob = shared
    assert alice.get("/v2/apps/hello/perms").get_json() == {"users": ["bob"]}
    assert users_of(bob) == ["bob"]


def test_grant_is_logged(shared):
    alice, _ = shared
    assert "User bob was granted access" in alice.get("/v2/apps/hello/logs").get_data(as_text=True)


def test_grant_to_owner_is_not_listed(alice):
    alice.create_app("hello")
    alice.post("/v2/apps/hello/perms", {"username": "alice"})
    assert users_of(alice) == []


def test_grant_unknown_user(alice):
    alice.create_app("hello")
    assert alice.post("/v2/apps/hello/perms", {"username": "nobody"}).status_code == 404
    assert users_of(alice) == []


def test_grant_needs_username(alice):
    alice.create_app("hello")
    response = alice.post("/v2/apps/hello/perms", {})
    assert response.status_code == 400 and "username" in response.get_json()


def test_collaborator_sees_app_in_list(shared):
    _, bob = shared
    assert [a["id"] for a in bob.get("/v2/apps").get_json()["results"]] == ["hello"]


def test_collaborator_can_read_and_modify(shared):
    _, bob = shared
    assert bob.get("/v2/apps/hello").status_code == 200
    assert bob.get("/v2/apps/hello/config").status_code == 200
    response = bob.post("/v2/apps/hello/config", {"values": {"GREETING": "hi"}})
    assert response.status_code == 201
    assert response.get_json()["values"]["GREETING"] == "hi"
    assert bob.get("/v2/apps/hello/releases").get_json()["count"] == 2


def test_collaborator_cannot_delete_app(shared):
    alice, bob = shared
    assert bob.delete("/v2/apps/hello").status_code == 403
    assert alice.get("/v2/apps/hello").status_code == 200


def test_collaborator_cannot_transfer(shared):
    alice, bob = shared
    assert bob.post("/v2/apps/hello", {"owner": "bob"}).status_code == 403
    assert alice.get("/v2/apps/hello").get_json()["owner"] == "alice"


def test_list_excludes_new_owner_after_transfer(shared):
    alice, bob = shared
    assert alice.post("/v2/apps/hello", {"owner": "bob"}).status_code == 200
    assert users_of(bob) == []


def test_collaborator_cannot_grant(shared, carol):
    alice, bob = shared
    assert bob.post("/v2/apps/hello/perms", {"username": "carol"}).status_code == 403
    assert users_of(alice) == ["bob"]
    assert carol.get("/v2/apps/hello").status_code == 403


def test_collaborator_cannot_revoke_another(shared, carol):
    alice, bob = shared
    alice.post("/v2/apps/hello/perms", {"username": "carol"})
    assert bob.delete("/v2/apps/hello/perms/carol").status_code == 403
    assert users_of(alice) == ["bob", "carol"]


def test_owner_revokes(shared):
    alice, bob = shared
    assert alice.delete("/v2/apps/hello/perms/bob").status_code == 204
    assert users_of(alice) == []
    assert bob.get("/v2/apps/hello").status_code == 403
    assert bob.get("/v2/apps").get_json()["count"] == 0


def test_collaborator_removes_themself(shared):
    alice, bob = shared
    assert bob.delete("/v2/apps/hello/perms/bob").status_code == 204
    assert users_of(alice) == []
    assert bob.get("/v2/apps/hello").status_code == 403


def test_admin_grants_and_revokes(shared, admin, carol):
    alice, _ = shared
    assert admin.post("/v2/apps/hello/perms", {"username": "carol"}).status_code == 201
    assert users_of(alice) == ["bob", "carol"]
    assert admin.delete("/v2/apps/hello/perms/bob").status_code == 204
    assert users_of(alice) == ["carol"]


def test_stranger_is_refused(shared, carol):
    alice, _ = shared
    assert carol.get("/v2/apps/hello/perms").status_code == 403
    assert carol.post("/v2/apps/hello/perms", {"username": "carol"}).status_code == 403
    assert carol.delete("/v2/apps/hello/perms/bob").status_code == 403
    assert users_of(alice) == ["bob"]


def test_revoking_a_non_collaborator(shared, carol):
    alice, _ = shared
    assert alice.delete("/v2/apps/hello/perms/carol").status_code == 403
    assert carol.delete("/v2/apps/hello/perms/carol").status_code == 403


def test_perms_of_unknown_app(alice):
    assert alice.get("/v2/apps/nothere/perms").status_code == 404
    assert alice.post("/v2/apps/nothere/perms", {"username": "alice"}).status_code == 404
    assert alice.delete("/v2/apps/nothere/perms/alice").status_code == 404


def admin_names(caller):
    response = caller.get("/v2/admin/perms")
    assert response.status_code == 200
    return [u["username"] for u in response.get_json()["results"]]


def test_admin_list(admin, alice):
    body = admin.get("/v2/admin/perms").get_json()
    assert body["count"] == 1 and body["next"] is None
    assert body["results"] == [{"username": "admin", "is_superuser": True}]


def test_admin_grant_and_revoke(admin, alice):
    response = admin.post("/v2/admin/perms", {"username": "alice"})
    assert response.status_code == 201
    assert admin_names(admin) == ["admin", "alice"]
    assert alice.get("/v2/users").status_code == 200
    assert admin_names(alice) == ["admin", "alice"]
    assert admin.delete("/v2/admin/perms/alice").status_code == 204
    assert admin_names(admin) == ["admin"]
    assert alice.get("/v2/users").status_code == 403
    assert alice.get("/v2/admin/perms").status_code == 403


def test_new_admin_may_use_any_app(admin, alice, bob):
    bob.create_app("other")
    assert alice.get("/v2/apps/other").status_code == 403
    admin.post("/v2/admin/perms", {"username": "alice"})
    assert alice.get("/v2/apps/other").status_code == 200


def test_admin_grant_unknown_user(admin):
    assert admin.post("/v2/admin/perms", {"username": "nobody"}).status_code == 404
    assert admin.delete("/v2/admin/perms/nobody").status_code == 404


def test_non_admin_is_refused(admin, alice, bob):
    assert alice.get("/v2/admin/perms").status_code == 403
    assert alice.post("/v2/admin/perms", {"username": "alice"}).status_code == 403
    assert alice.post("/v2/admin/perms", {"username": "bob"}).status_code == 403
    assert alice.delete("/v2/admin/perms/admin").status_code == 403
    assert admin_names(admin) == ["admin"]
    assert bob.get("/v2/users").status_code == 403


def test_anonymous_is_refused(client, admin):
    assert client.get("/v2/admin/perms").status_code == 401
