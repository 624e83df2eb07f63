"""pier register / login / logout / whoami / auth:* / users:list against the real controller."""
import json
import socket
import stat

from sqlalchemy import text

from core.extensions import db
from tests.cli.conftest import PASSWORD, saved_token

NOT_LOGGED_IN = "Error: not logged in; run pier login <url>\n"


def test_first_registered_user_is_admin_and_is_logged_in(pier):
    result = pier("register", pier.controller, "--username", "ada", "--password", PASSWORD,
                  "--email", "ada@example.com")
    assert "Registered ada (administrator)" in result.output
    assert f"Logged in as ada at {pier.controller}" in result.output
    assert PASSWORD not in result.output
    profile_dir = pier.home / ".pier"
    assert stat.S_IMODE(profile_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((profile_dir / "client.json").stat().st_mode) == 0o600
    profile = json.loads((profile_dir / "client.json").read_text())
    assert (profile["controller"], profile["username"]) == (pier.controller, "ada")
    assert pier("whoami").stdout == f"You are ada at {pier.controller}\n"
    assert pier.json("whoami")["is_superuser"] is True


def test_admin_registers_others_and_stays_logged_in(logged_in):
    result = logged_in("register", logged_in.controller, "--username", "bob", "--password", PASSWORD,
                       "--email", "bob@example.com")
    assert "Registered bob\n" in result.output and "Logged in" not in result.output
    assert logged_in("whoami").stdout.startswith("You are ada ")
    users = logged_in.json("users:list")
    assert [(u["username"], u["is_superuser"]) for u in users] == [("ada", True), ("bob", False)]
    assert "bob" in logged_in("users").stdout


def test_registration_is_closed_to_anonymous_users_once_an_admin_exists(logged_in):
    logged_in("logout")
    result = logged_in("register", logged_in.controller, "--username", "eve", "--password", PASSWORD,
                       "--email", "eve@example.com", code=1)
    assert result.stderr == "Error: forbidden: Only an administrator can register new users.\n"


def test_registration_validation_errors_name_the_field(pier):
    result = pier("register", pier.controller, "--username", "no spaces", "--password", PASSWORD,
                  "--email", "not-an-email", code=1)
    assert result.stderr.startswith("Error: ")
    assert "username: Usernames are 1 to 150 letters" in result.stderr
    assert "email: Not a valid email address." in result.stderr
    assert not (pier.home / ".pier" / "client.json").exists()


def test_logout_then_login_with_hidden_password_prompt(logged_in):
    assert logged_in("logout").stdout == "Logged out\n"
    assert not (logged_in.home / ".pier" / "client.json").exists()
    assert logged_in("whoami", code=1).stderr == NOT_LOGGED_IN
    assert logged_in("logout", code=1).stderr == "Error: not logged in\n"
    result = logged_in("login", logged_in.controller, input=f"ada\n{PASSWORD}\n")
    assert "Username: ada" in result.output and "Password: " in result.output
    assert PASSWORD not in result.output
    assert logged_in("whoami").stdout.startswith("You are ada ")


def test_login_with_a_wrong_password(logged_in):
    logged_in("logout")
    result = logged_in("login", logged_in.controller, "--username", "ada", "--password", "wrong", code=1)
    assert result.stderr == "Error: Unable to log in with provided credentials.\n"


def test_a_revoked_token_asks_to_log_in_again(logged_in):
    profile_path = logged_in.home / ".pier" / "client.json"
    profile = json.loads(profile_path.read_text())
    profile["token"] = "0" * 40
    profile_path.write_text(json.dumps(profile))
    result = logged_in("apps", code=1)
    assert result.stderr == (f"Error: not logged in (the controller refused the saved token); "
                             f"run pier login {logged_in.controller}\n")


def test_regenerate_saves_a_new_token_and_the_old_one_stops_working(logged_in):
    old = saved_token(logged_in.home)
    assert logged_in("auth:regenerate").stdout == "Token regenerated and saved\n"
    assert saved_token(logged_in.home) not in (None, old)
    assert logged_in("whoami").stdout.startswith("You are ada ")


def test_profiles_are_separate_files(logged_in, monkeypatch):
    monkeypatch.setenv("PIER_PROFILE", "staging")
    assert logged_in("whoami", code=1).stderr == NOT_LOGGED_IN
    logged_in("login", logged_in.controller, "--username", "ada", "--password", PASSWORD)
    assert (logged_in.home / ".pier" / "staging.json").exists()
    assert stat.S_IMODE((logged_in.home / ".pier" / "staging.json").stat().st_mode) == 0o600


def test_cancel_needs_the_confirmation_and_refuses_owners_of_apps(logged_in):
    logged_in("register", logged_in.controller, "--username", "bob", "--password", PASSWORD,
              "--email", "bob@example.com")
    assert "not cancelled" in logged_in("auth:cancel", "--username", "bob", "--confirm", "eve", code=1).stderr
    logged_in("auth:cancel", "--username", "bob", "--confirm", "bob")
    assert [u["username"] for u in logged_in.json("users:list")] == ["ada"]
    logged_in("create", "kept", "--no-remote")
    result = logged_in("auth:cancel", input="ada\n", code=1)
    assert "still has applications assigned" in result.stderr
    assert logged_in("whoami").stdout.startswith("You are ada ")


def test_passwd_changes_the_password(logged_in):
    old = saved_token(logged_in.home)
    result = logged_in("passwd", "--password", PASSWORD, "--new-password", "another long passphrase")
    assert result.stdout == "Password changed; your other tokens were revoked (log in again on other machines)\n"
    assert saved_token(logged_in.home) not in (None, old)
    assert logged_in("whoami").stdout.startswith("You are ada ")
    logged_in("logout")
    logged_in("login", logged_in.controller, "--username", "ada", "--password", PASSWORD, code=1)
    logged_in("login", logged_in.controller, "--username", "ada", "--password", "another long passphrase")


def test_unreachable_controller(pier):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = pier("login", f"127.0.0.1:{port}", "--username", "ada", "--password", PASSWORD, code=1)
    assert result.stderr == f"Error: cannot reach the controller at http://127.0.0.1:{port}: Connection refused\n"


def test_api_version_mismatch_warns_on_stderr_only(logged_in, monkeypatch):
    monkeypatch.setattr("cli.client.API_VERSION", "2.4")
    result = logged_in("whoami")
    assert result.stdout == f"You are ada at {logged_in.controller}\n"
    assert result.stderr == ("Warning: the controller speaks API 2.3 and this client speaks 2.4; some commands "
                             "may not work as expected.\n")
    monkeypatch.setattr("cli.client.API_VERSION", "2.3")
    assert logged_in("whoami").stderr == ""


def test_passwd_refuses_a_common_password(logged_in):
    result = logged_in("passwd", "--password", PASSWORD, "--new-password", "iloveyou", code=1)
    assert result.stderr == "Error: new_password: This password is too common.\n"
    assert logged_in("whoami").stdout.startswith("You are ada ")


def test_an_administrator_resetting_a_password_logs_that_user_out(logged_in):
    logged_in("register", logged_in.controller, "--username", "bob", "--password", PASSWORD,
              "--email", "bob@example.com")
    result = logged_in("passwd", "--username", "bob", "--new-password", "reset by the admin")
    assert result.stdout == "Password changed; every token of bob was revoked\n"


def test_tokens_list_and_revoke(logged_in, monkeypatch):
    monkeypatch.setenv("PIER_PROFILE", "laptop")  # a second login: a second token
    logged_in("login", logged_in.controller, "--username", "ada", "--password", PASSWORD)
    monkeypatch.delenv("PIER_PROFILE")
    tokens = logged_in.json("tokens:list")
    assert [t["current"] for t in tokens] == [False, True]
    assert all(set(t) == {"id", "created", "expires", "last_used", "current"} for t in tokens)
    lines = logged_in("tokens:list").stdout.splitlines()
    assert lines[0] == "=== ada Tokens" and lines[1].split() == ["ID", "Created", "Expires", "Last", "used"]
    assert lines[3].startswith(str(tokens[1]["id"])) and lines[3].endswith("(this one)")
    assert lines[2].split()[-1] == "-"  # the laptop's token has not been used yet
    laptop = tokens[0]["id"]
    assert logged_in("tokens:revoke", laptop).stdout == f"Token {laptop} revoked\n"
    assert logged_in("tokens:revoke", laptop, code=1).stderr == f"Error: token {laptop} not found\n"
    monkeypatch.setenv("PIER_PROFILE", "laptop")
    assert "refused the saved token" in logged_in("whoami", code=1).stderr
    monkeypatch.delenv("PIER_PROFILE")
    assert [t["current"] for t in logged_in.json("tokens:list")] == [True]


def test_revoking_this_sessions_token_logs_out(logged_in):
    current = logged_in.json("tokens:list")[0]["id"]
    result = logged_in("tokens:revoke", current)
    assert result.stdout == f"Token {current} revoked; it was this session's, so you are logged out\n"
    assert not (logged_in.home / ".pier" / "client.json").exists()


def test_an_expired_login_says_so(logged_in, app):
    with app.app_context():
        db.session.execute(text("UPDATE tokens SET created = created - interval '31 days'"))
        db.session.commit()
        db.session.remove()
    result = logged_in("apps", code=1)
    assert result.stderr == f"Error: your login expired; run pier login {logged_in.controller}\n"


def test_repeated_wrong_passwords_are_refused_for_a_while(logged_in):
    logged_in("logout")
    for _ in range(10):
        logged_in("login", logged_in.controller, "--username", "ada", "--password", "wrong", code=1)
    result = logged_in("login", logged_in.controller, "--username", "ada", "--password", PASSWORD, code=1)
    assert result.stderr.startswith("Error: Too many failed logins for this username from your address; try again in ")
    assert not (logged_in.home / ".pier" / "client.json").exists()

