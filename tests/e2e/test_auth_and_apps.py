"""Accounts, keys, permissions and apps, as a Deis user would drive them from the CLI."""
import json

from tests.e2e.users import PASSWORD, User, web_app
from tests.support.waiting import wait_for


def test_the_first_user_is_admin_and_only_admins_register_others(platform, ada, tmp_path):
    out = ada.ok("whoami")
    assert "ada" in out and platform.url in out
    stranger = User(platform, tmp_path / "eve", "eve")
    out = stranger.fails("register", platform.url, "--username", "eve", "--password", PASSWORD,
                         "--email", "eve@example.com")
    assert "Error:" in out


def test_users_list_is_for_administrators(ada, bob):
    assert "bob" in ada.ok("users:list")
    out = bob.fails("users:list")
    assert "Error:" in out and ("permission" in out.lower() or "forbidden" in out.lower() or "admin" in out.lower())


def test_regenerate_replaces_the_token_and_the_cli_keeps_working(bob):
    bob.ok("auth:regenerate")
    assert "bob" in bob.ok("whoami")


def test_keys_list_add_and_remove(bob, tmp_path):
    assert "bob-laptop" in bob.ok("keys:list")
    spare = User(bob.platform, tmp_path / "spare", "spare")
    bob.ok("keys:add", str(spare.key) + ".pub", "--name", "spare")
    assert "spare" in bob.ok("keys:list")
    bob.ok("keys:remove", "spare")
    assert "spare" not in bob.ok("keys:list")


def test_create_with_and_without_a_remote_duplicate_info_and_a_missing_app(ada):
    repo = ada.repo("remoted", web_app("x"))
    ada.ok("create", "remoted", cwd=repo)
    remotes = ada.git(repo, "remote", "-v").stdout
    assert f"ssh://git@127.0.0.1:{ada.platform.ssh_port}/remoted.git" in remotes
    assert "remoted" in ada.ok("info", cwd=repo)  # the app comes from the pier remote
    plain = ada.repo("plain", web_app("x"))
    ada.ok("apps:create", "unremoted", "--no-remote", cwd=plain)
    assert "pier" not in ada.git(plain, "remote").stdout
    out = ada.fails("apps:create", "remoted", "--no-remote")
    assert "Error: App with this id already exists." in out
    assert "not found" in ada.fails("apps:info", "-a", "no-such-app")
    assert {"remoted", "unremoted"} <= {a["id"] for a in json.loads(ada.pier("apps:list", "--json")[1])}
    out = ada.fails("apps:info")
    assert "no app given" in out


def test_destroy_and_transfer(ada, bob):
    ada.ok("apps:create", "doomed", "--no-remote")
    ada.ok("apps:destroy", "-a", "doomed", "--confirm", "doomed")
    assert "not found" in ada.fails("apps:info", "-a", "doomed")
    ada.ok("apps:create", "gift", "--no-remote")
    ada.ok("apps:transfer", "bob", "-a", "gift")
    assert "gift" in bob.ok("apps:list")


def test_a_collaborator_can_push_and_a_stranger_cannot(ada, bob):
    repo = ada.repo("shared", web_app("shared v1"))
    ada.ok("create", "shared", cwd=repo)
    bob_repo = bob.repo("shared", web_app("pushed by bob"))
    bob.git(bob_repo, "remote", "add", "pier", f"ssh://git@127.0.0.1:{bob.platform.ssh_port}/shared.git")
    code, output = bob.git_push(bob_repo)
    assert code == 128 and "user bob has no access to app shared" in output
    ada.ok("perms:create", "bob", "-a", "shared")
    assert "bob" in ada.ok("perms:list", "-a", "shared")
    code, output = bob.git_push(bob_repo)
    assert code == 0, output
    assert wait_for(lambda: bob.platform.get("shared") == (200, "pushed by bob"))
    ada.ok("perms:delete", "bob", "-a", "shared")
    bob.fails("perms:create", "--admin", "bob")
    ada.ok("perms:create", "--admin", "bob")
    assert "bob" in ada.ok("perms:list", "--admin")
    ada.ok("perms:delete", "--admin", "bob")
