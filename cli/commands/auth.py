"""auth:* (register, login, logout, whoami, cancel, regenerate, passwd), tokens:* (list, revoke) and users:list."""
import click

from cli import output
from cli.client import Client, CliError, api_path, delete_profile, load_profile, save_profile
from cli.options import client, command, json_option, limit_option, topic

topic("auth", "register, log in and manage your account")
topic("users", "the platform's users (administrators only)")
topic("tokens", "your API tokens: one per login, each expiring")

password_option = click.option("--password", help="For scripts; prompted for (hidden) when omitted.")


def _login(controller, username, password):
    """Exchanges credentials for a token and saves the profile; the token is never printed."""
    anonymous = Client(controller)
    answer = anonymous.post("/v2/auth/login/", {"username": username, "password": password})
    save_profile({"controller": anonymous.controller, "username": username, "token": answer["token"]})
    click.echo(f"Logged in as {username} at {anonymous.controller}")


def _signed_in_at(controller):
    profile = load_profile()
    if profile and profile.get("token") and profile.get("controller") == controller:
        return Client(controller, profile["token"], profile.get("username"))
    return None


@command("auth:register")
@click.argument("controller")
@click.option("--username", prompt=True, help="The new account's username.")
@password_option
@click.option("--email", prompt=True, help="The new account's email address.")
@click.option("--login/--no-login", default=None,
              help="Log in as the new user (default: yes, unless you are logged in to this controller).")
def register(controller, username, password, email, login):
    """Register a user at CONTROLLER.

    The first user ever registered becomes the administrator.

    \b
    Example: pier register http://pier.example.com --username ada --email ada@example.com
    """
    caller = _signed_in_at(Client(controller).controller) or Client(controller)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Password (again)")
    user = caller.post(api_path("auth", "register"),
                       {"username": username, "password": password, "email": email})
    role = " (administrator)" if user.get("is_superuser") else ""
    click.echo(f"Registered {username}{role}")
    if login is None:
        login = caller.token is None  # an administrator registering someone else stays logged in
    if login:
        _login(caller.controller, username, password)


@command("auth:login")
@click.argument("controller")
@click.option("--username", prompt=True)
@password_option
def login(controller, username, password):
    """Log in to CONTROLLER and save the token in ~/.pier/client.json."""
    if password is None:
        password = click.prompt("Password", hide_input=True)
    _login(controller, username, password)


@command("auth:logout")
def logout():
    """Forget the saved token."""
    if not delete_profile():
        raise CliError("not logged in")
    click.echo("Logged out")


@command("auth:whoami")
@click.option("--all", "show_all", is_flag=True, help="Show every field of your account.")
@json_option
def whoami(show_all, as_json):
    """Show who you are logged in as, and where."""
    api = client()
    user = api.get(api_path("auth", "whoami"))
    if as_json:
        output.echo_json(user)
    elif show_all:
        output.table([(f"{key}:", value) for key, value in user.items()])
    else:
        click.echo(f"You are {user['username']} at {api.controller}")


@command("auth:cancel")
@click.option("--username", help="An administrator may cancel another account.")
@click.option("--confirm", metavar="USERNAME", help="Skip the prompt by naming the account again.")
def cancel(username, confirm):
    """Delete your account (or, for an administrator, another user's)."""
    api = client()
    target = username or api.username
    if confirm is None:
        confirm = click.prompt(f"Type {target} to delete that account for good", default="", show_default=False)
    if confirm != target:
        raise CliError(f"account {target} not cancelled: the confirmation did not match")
    with output.progress(f"Cancelling account {target}"):
        api.delete(api_path("auth", "cancel"), {"username": target} if username else None)
    if target == api.username:
        delete_profile()
        click.echo("Account cancelled; you are logged out")
    else:
        click.echo(f"Account {target} cancelled")


@command("auth:regenerate")
@click.option("-u", "--username", help="An administrator may regenerate another user's token.")
@click.option("--all", "everyone", is_flag=True, help="Administrators: revoke every user's tokens.")
def regenerate(username, everyone):
    """Revoke your tokens and get a new one (saved, never printed)."""
    api = client()
    if everyone and username:
        raise click.UsageError("use --username or --all, not both")
    body = {"all": True} if everyone else ({"username": username} if username else {})
    answer = api.post("/v2/auth/tokens/", body)
    if everyone:
        delete_profile()
        click.echo("Every token was revoked; log in again with pier login " + api.controller)
    elif not username or username == api.username:
        save_profile({"controller": api.controller, "username": api.username, "token": answer["token"]})
        click.echo("Token regenerated and saved")
    else:
        click.echo(f"Token of {username} regenerated; they must log in again")


@command("auth:passwd")
@click.option("--username", help="An administrator may set another user's password.")
@click.option("--password", help="Your current password (administrators may omit it).")
@click.option("--new-password", help="For scripts; prompted for (hidden) when omitted.")
def passwd(username, password, new_password):
    """Change a password."""
    api = client()
    if password is None and not username:
        password = click.prompt("Current password", hide_input=True)
    if new_password is None:
        new_password = click.prompt("New password", hide_input=True, confirmation_prompt="New password (again)")
    body = {"new_password": new_password}
    body.update({k: v for k, v in (("username", username), ("password", password)) if v is not None})
    answer = api.post(api_path("auth", "passwd"), body)
    if answer.get("token"):  # your own password: every token was revoked, and this is the new one
        save_profile({"controller": api.controller, "username": api.username, "token": answer["token"]})
        click.echo("Password changed; your other tokens were revoked (log in again on other machines)")
    else:
        click.echo(f"Password changed; every token of {username} was revoked")


@command("tokens:list")
@limit_option
@json_option
def tokens_list(limit, as_json):
    """List your tokens (never their keys): one per login, newest first."""
    api = client()
    tokens, _ = api.list(api_path("auth", "tokens"), limit)
    if as_json:
        output.echo_json(tokens)
        return
    output.heading(f"{api.username} Tokens")
    output.table([("ID", "Created", "Expires", "Last used", "")] + [
        (t["id"], output.when(t["created"]), output.when(t["expires"]) or "never",
         output.when(t["last_used"]) or "-", "(this one)" if t["current"] else "") for t in tokens])


@command("tokens:revoke")
@click.argument("token_id", type=click.IntRange(min=1), metavar="ID")
def tokens_revoke(token_id):
    """Revoke one of your tokens by its ID (from tokens:list)."""
    api = client()
    current = [t["id"] for t in api.list(api_path("auth", "tokens"), None)[0] if t["current"]]
    api.delete(api_path("auth", "tokens", token_id, slash=False), not_found=f"token {token_id}")
    if token_id in current:
        delete_profile()
        click.echo(f"Token {token_id} revoked; it was this session's, so you are logged out")
    else:
        click.echo(f"Token {token_id} revoked")


@command("users:list")
@limit_option
@json_option
def users_list(limit, as_json):
    """List the platform's users (administrators only)."""
    users, count = client().list(api_path("users"), limit)
    if as_json:
        output.echo_json(users)
        return
    output.heading(f"Users ({count})" if count > len(users) else "Users")
    output.table([(u["username"], "admin" if u["is_superuser"] else "", u["email"]) for u in users])
