"""perms:* — an app's collaborators, or with --admin the platform's administrators."""
import click

from cli import output
from cli.client import api_path
from cli.options import app_option, client, command, json_option, resolve_app, topic

topic("perms", "who may use an app (collaborators), and the administrators")

admin_option = click.option("--admin", is_flag=True,
                            help="The platform's administrators instead of an app's users.")


def _check(app, admin):
    if app and admin:
        raise click.UsageError("use -a APP or --admin, not both")


@command("perms:list")
@app_option
@admin_option
@json_option
def list_perms(app, admin, as_json):
    """List an app's collaborators, or the administrators.

    The owner is not listed; --admin lists the platform's administrators.
    """
    _check(app, admin)
    api = client()
    if admin:
        admins, _ = api.list(api_path("admin", "perms"))
        users, title = [a["username"] for a in admins], "Administrators"
    else:
        app = resolve_app(app)
        users, title = api.get(api_path("apps", app, "perms"))["users"], f"{app}'s Users"
    if as_json:
        output.echo_json(users)
        return
    output.heading(title)
    for username in users:
        click.echo(username)


@command("perms:create")
@click.argument("username")
@app_option
@admin_option
def create_perm(username, app, admin):
    """Share an app with USERNAME (or make them an --admin)."""
    _check(app, admin)
    api = client()
    if admin:
        with output.progress(f"Adding {username} to the administrators"):
            api.post(api_path("admin", "perms"), {"username": username}, not_found=f"user {username}")
        return
    app = resolve_app(app)
    with output.progress(f"Adding {username} to {app} collaborators"):
        api.post(api_path("apps", app, "perms"), {"username": username}, not_found=f"user {username}")


@command("perms:delete")
@click.argument("username")
@app_option
@admin_option
def delete_perm(username, app, admin):
    """Stop sharing an app with USERNAME (or remove an --admin)."""
    _check(app, admin)
    api = client()
    if admin:
        if username == api.username:
            click.echo("Note: you are removing your own administrator rights.", err=True)
        with output.progress(f"Removing {username} from the administrators"):
            api.delete(api_path("admin", "perms", username), not_found=f"administrator {username}")
        return
    app = resolve_app(app)
    with output.progress(f"Removing {username} from {app} collaborators"):
        api.delete(api_path("apps", app, "perms", username), not_found=f"user {username}")
