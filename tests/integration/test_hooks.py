"""The builder's hook endpoints, authenticated by the shared builder key."""
import pytest

from tests.conftest import settings_for_tests as settings_with
from tests.factories import Caller
from tests.integration.test_keys import openssh_fingerprint, ssh_key

CONFIG_FIELDS = {"uuid", "app", "owner", "values", "memory", "cpu", "tags", "registry", "healthcheck", "created",
                 "updated"}


@pytest.fixture
def builder(client):
    return Caller(client, None, None)


def hook(builder, method, path, body=None, key=None):
    key = settings_with().builder_key if key is None else key
    return builder.request(method, path, body, headers={"X-Deis-Builder-Auth": key})


def add_key(caller, directory, name):
    public, pub = ssh_key(directory, name)
    assert caller.post("/v2/keys", {"id": name, "public": public}).status_code == 201
    return public, pub


def share(owner, app_id, username):
    assert owner.post(f"/v2/apps/{app_id}/perms", {"username": username}).status_code == 201


HOOKS = [("GET", "/v2/hooks/key/SHA256:abc", None), ("GET", "/v2/hooks/keys/alpha", None),
         ("GET", "/v2/hooks/keys/alpha/alice", None),
         ("POST", "/v2/hooks/config", {"receive_user": "alice", "receive_repo": "alpha"}),
         ("POST", "/v2/hooks/build", {"receive_user": "alice", "receive_repo": "alpha", "image": "alpha:git-1"})]


@pytest.mark.parametrize("method, path, body", HOOKS)
def test_hooks_need_the_builder_key(builder, alice, method, path, body):
    alice.create_app("alpha")
    missing = builder.request(method, path, body)
    assert missing.status_code == 401 and "detail" in missing.get_json()
    wrong = hook(builder, method, path, body, key="not-the-builder-key")
    assert wrong.status_code == 403 and "detail" in wrong.get_json()
    with_user_token = alice.request(method, path, body)
    assert with_user_token.status_code == 401


def test_key_fingerprint_maps_to_the_user_and_their_apps(builder, alice, bob, tmp_path):
    _, pub = add_key(alice, tmp_path, "alice-laptop")
    alice.create_app("alpha")
    bob.create_app("beta")
    bob.create_app("gamma")
    share(bob, "beta", "alice")
    uuids = {name: owner.get(f"/v2/apps/{name}").get_json()["uuid"] for name, owner in (("alpha", alice),
                                                                                     ("beta", bob))}
    expected = {"username": "alice", "apps": ["alpha", "beta"], "app_uuids": uuids}

    sha256 = openssh_fingerprint(pub)
    assert sha256.startswith("SHA256:")
    response = hook(builder, "GET", f"/v2/hooks/key/{sha256}")
    assert response.status_code == 200 and response.get_json() == expected

    md5 = openssh_fingerprint(pub, "md5").removeprefix("MD5:")
    assert len(md5.split(":")) == 16
    for form in (md5, md5.replace(":", ""), md5.upper()):
        response = hook(builder, "GET", f"/v2/hooks/key/{form}")
        assert response.status_code == 200 and response.get_json() == expected


def test_an_admins_key_lists_every_app(builder, admin, alice, tmp_path):
    _, pub = add_key(admin, tmp_path, "admin-key")
    alpha = alice.create_app("alpha")["uuid"]
    response = hook(builder, "GET", f"/v2/hooks/key/{openssh_fingerprint(pub)}")
    assert response.get_json() == {"username": "admin", "apps": ["alpha"], "app_uuids": {"alpha": alpha}}


def test_unknown_fingerprints_are_not_found(builder, alice, tmp_path):
    add_key(alice, tmp_path, "known")
    _, other = ssh_key(tmp_path, "unknown")
    for fingerprint in (openssh_fingerprint(other), openssh_fingerprint(other, "md5").removeprefix("MD5:")):
        response = hook(builder, "GET", f"/v2/hooks/key/{fingerprint}")
        assert response.status_code == 404 and isinstance(response.get_json(), str)


def test_keys_of_an_app_cover_the_owner_and_collaborators(builder, alice, bob, caller, tmp_path):
    carol = caller("carol")
    alice_public, alice_pub = add_key(alice, tmp_path, "a1")
    bob_one, bob_one_pub = add_key(bob, tmp_path, "b1")
    bob_two, bob_two_pub = add_key(bob, tmp_path, "b2")
    add_key(carol, tmp_path, "c1")
    alice.create_app("alpha")
    share(alice, "alpha", "bob")

    response = hook(builder, "GET", "/v2/hooks/keys/alpha")
    assert response.status_code == 200
    assert response.get_json() == {
        "alice": [{"key": alice_public, "fingerprint": openssh_fingerprint(alice_pub)}],
        "bob": [{"key": bob_one, "fingerprint": openssh_fingerprint(bob_one_pub)},
                {"key": bob_two, "fingerprint": openssh_fingerprint(bob_two_pub)}],
    }
    assert hook(builder, "GET", "/v2/hooks/keys/nope").status_code == 404


def test_keys_of_one_user_of_an_app(builder, alice, bob, caller, tmp_path):
    carol = caller("carol")
    caller("dave")
    bob_public, bob_pub = add_key(bob, tmp_path, "b1")
    add_key(carol, tmp_path, "c1")
    alice.create_app("alpha")
    share(alice, "alpha", "bob")
    share(alice, "alpha", "dave")

    response = hook(builder, "GET", "/v2/hooks/keys/alpha/bob")
    assert response.status_code == 200
    assert response.get_json() == {"bob": [{"key": bob_public, "fingerprint": openssh_fingerprint(bob_pub)}]}
    assert hook(builder, "GET", "/v2/hooks/keys/alpha/carol").status_code == 403
    assert hook(builder, "GET", "/v2/hooks/keys/alpha/dave").status_code == 404
    assert hook(builder, "GET", "/v2/hooks/keys/alpha/ghost").status_code == 404


def test_config_hook_returns_the_apps_config(builder, alice, bob):
    alice.create_app("alpha")
    share(alice, "alpha", "bob")
    buildpack = {"values": {"BUILDPACK_URL": "https://example.com/bp"}}
    assert alice.post("/v2/apps/alpha/config", buildpack).status_code == 201
    for user in ("alice", "bob"):
        response = hook(builder, "POST", "/v2/hooks/config", {"receive_user": user, "receive_repo": "alpha"})
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == CONFIG_FIELDS and body["app"] == "alpha"
        assert body["values"]["DEIS_APP"] == "alpha"
        assert body["values"]["BUILDPACK_URL"] == "https://example.com/bp"
    assert body == alice.get("/v2/apps/alpha/config").get_json()


def test_config_hook_refuses_users_without_access(builder, alice, bob):
    alice.create_app("alpha")
    response = hook(builder, "POST", "/v2/hooks/config", {"receive_user": "bob", "receive_repo": "alpha"})
    assert response.status_code == 403 and response.get_json() == {"detail": "user bob has no access to app alpha"}


@pytest.mark.parametrize("body", [{"receive_user": "alice", "receive_repo": "nope"},
                                  {"receive_user": "ghost", "receive_repo": "alpha"}])
def test_config_hook_for_unknown_app_or_user_is_404(builder, alice, body):
    alice.create_app("alpha")
    assert hook(builder, "POST", "/v2/hooks/config", body).status_code == 404


def test_config_hook_needs_both_fields(builder, alice):
    alice.create_app("alpha")
    response = hook(builder, "POST", "/v2/hooks/config", {"receive_user": "alice"})
    assert response.status_code == 400 and response.get_json()["receive_repo"]


def test_build_hook_without_a_scheduler_records_a_failed_release(builder, alice, worker):
    alice.create_app("alpha")
    before = alice.get("/v2/apps/alpha/config").get_json()
    response = hook(builder, "POST", "/v2/hooks/build", {
        "receive_user": "alice", "receive_repo": "alpha", "image": "alpha:git-1a2b3c4d", "sha": "1a2b3c4d",
        "procfile": {"web": "python app.py"}, "dockerfile": ""})
    assert response.status_code == 400
    assert "No scheduler is configured" in response.get_json()["detail"]

    releases = alice.get("/v2/apps/alpha/releases").get_json()
    assert releases["count"] == 2
    newest = releases["results"][0]
    assert newest["version"] == 2 and newest["failed"] is True and newest["state"] == "failed"
    assert newest["build"] is not None
    assert releases["results"][1]["failed"] is False

    config = alice.get("/v2/apps/alpha/config")
    assert config.status_code == 200 and config.get_json() == before
    after_hook = hook(builder, "POST", "/v2/hooks/config", {"receive_user": "alice", "receive_repo": "alpha"})
    assert after_hook.status_code == 200 and after_hook.get_json()["values"]["DEIS_RELEASE"] == "v1"


def test_build_hook_refuses_users_without_access(builder, alice, bob):
    alice.create_app("alpha")
    response = hook(builder, "POST", "/v2/hooks/build",
                    {"receive_user": "bob", "receive_repo": "alpha", "image": "alpha:git-1"})
    assert response.status_code == 403 and response.get_json() == {"detail": "user bob has no access to app alpha"}
    assert alice.get("/v2/apps/alpha/releases").get_json()["count"] == 1


def test_build_hook_rejects_a_bad_procfile(builder, alice):
    alice.create_app("alpha")
    response = hook(builder, "POST", "/v2/hooks/build", {"receive_user": "alice", "receive_repo": "alpha",
                                                          "image": "alpha:git-1", "procfile": {"Web_1": "run"}})
    assert response.status_code == 400 and response.get_json()["procfile"]
    assert alice.get("/v2/apps/alpha/releases").get_json()["count"] == 1
