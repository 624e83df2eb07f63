"""apps:* (create, list, info, open, logs, run, destroy, transfer) and git:remote."""
import ipaddress
import sys
from urllib.parse import urlsplit

import click

from cli import output, remote
from cli.client import CliError, Finished, api_path
from cli.options import app_option, client, command, json_option, limit_option, resolve_app, settings, topic

topic("apps", "create, inspect and destroy apps")
topic("git", "the git remote you push to")

remote_option = click.option("--remote", "remote_name", default=remote.REMOTE, show_default=True,
                             help="The git remote's name.")


def _add_remote(api, app, name):
    url = remote.builder_url(api.controller, app, settings().builder_port)
    change = remote.set_remote(name, url)
    click.echo(f"Git remote {name} {change}: {url}" if change != "unchanged" else
               f"Git remote {name} already points at {url}")


def app_url(controller, app):
    """http://<app>.<platform domain>: PIER_DOMAIN, else the controller's domain without its first label."""
    domain = settings().domain
    if domain is None:
        host = urlsplit(controller).hostname or "localhost"
        try:
            ipaddress.ip_address(host)
            domain = "localhost"
        except ValueError:
            domain = host.split(".", 1)[1] if host.count(".") >= 2 else host
    return f"http://{app}.{domain}"


@command("apps:create")
@click.argument("app", required=False)
@click.option("--no-remote", is_flag=True, help="Do not add a git remote.")
@remote_option
@click.option("--buildpack", metavar="URL", help="Set BUILDPACK_URL in the new app's config.")
def create(app, no_remote, remote_name, buildpack):
    """Create an app and add its git remote.

    APP defaults to a generated name. Inside a git repository this adds the remote "pier" (see --remote)
    pointing at the builder, so that `git push pier main` deploys.
    """
    api = client()
    with output.progress("Creating application") as step:
        created = api.post(api_path("apps"), {"id": app} if app else {})
        step.suffix = f", created {created['id']}"
    if buildpack:
        with output.progress("Setting BUILDPACK_URL"):
            api.post(api_path("apps", created["id"], "config"), {"values": {"BUILDPACK_URL": buildpack}})
    if not no_remote and remote.in_repository():
        _add_remote(api, created["id"], remote_name)


@command("apps:list")
@limit_option
@json_option
def list_apps(limit, as_json):
    """List the apps you own or share."""
    apps, count = client().list(api_path("apps"), limit)
    if as_json:
        output.echo_json(apps)
        return
    output.heading(f"Apps ({len(apps)} of {count})" if count > len(apps) else "Apps")
    for app in apps:
        click.echo(app["id"])


@command("apps:info")
@app_option
@json_option
def info(app, as_json):
    """Show an app: owner, URL, processes and domains."""
    api, app = client(), resolve_app(app)
    details = api.get(api_path("apps", app))
    try:
        pods = api.get(api_path("apps", app, "pods"))["results"]
    except CliError as exc:
        pods = f"unavailable: {exc.message}"
    domains, _ = api.list(api_path("apps", app, "domains"))
    url = app_url(api.controller, app)
    if as_json:
        output.echo_json({"app": details, "url": url, "processes": pods, "domains": domains})
        return
    output.heading(f"{app} Application")
    output.table([("uuid:", details["uuid"]), ("url:", url), ("owner:", details["owner"]),
                  ("id:", details["id"]), ("structure:", _structure(details["structure"])),
                  ("created:", output.when(details["created"])), ("updated:", output.when(details["updated"]))])
    click.echo()
    output.heading(f"{app} Processes")
    if isinstance(pods, str):
        click.echo(f"({pods})")
    else:
        output.table([(p["name"], p["state"], p["release"], p["type"]) for p in pods])
    click.echo()
    output.heading(f"{app} Domains")
    for domain in domains:
        click.echo(domain["domain"])


def _structure(structure):
    return " ".join(f"{kind}={count}" for kind, count in sorted(structure.items())) or "(none)"


@command("apps:open")
@app_option
def open_app(app):
    """Open the app's URL in a browser."""
    api, app = client(), resolve_app(app)
    api.get(api_path("apps", app))
    url = app_url(api.controller, app)
    click.echo(f"Opening {url}")
    click.launch(url)


@command("apps:logs")
@app_option
@click.option("-n", "--lines", type=click.IntRange(1, 10000), help="How many lines of history (default 100).")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new lines until interrupted.")
def logs(app, lines, follow):
    """Show the app's logs: platform events and its containers' output."""
    api, app = client(), resolve_app(app)
    params = {"log_lines": lines} if lines else {}
    if follow:
        params["follow"] = "true"
    chunks = api.stream_text(api_path("apps", app, "logs"), params)
    if chunks is None:
        click.echo(f"No logs for {app} yet.", err=True)
        return
    try:
        for text in chunks:
            click.echo(text, nl=False)
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass


@command("apps:run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@app_option
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(app, command):
    """Run a one-off command; exits with the command's exit code.

    The command runs in a new container of the current release.

    \b
    Example: pier run -a myapp python manage.py migrate
    """
    api, app = client(), resolve_app(app)
    line = " ".join(command)
    click.echo(f"Running '{line}'...", err=True)
    result = api.post(api_path("apps", app, "run"), {"command": line})
    if isinstance(result, Finished):
        raise CliError(f"the command finished (operation {result['uuid']}) after the controller stopped "
                       "waiting, so its output is lost; run it again or use pier logs")
    click.echo(result["output"], nl=False)
    sys.exit(result["exit_code"])


@command("apps:destroy")
@app_option
@click.option("--confirm", metavar="APP", help="Skip the prompt by naming the app again.")
def destroy(app, confirm):
    """Destroy an app, its releases and its containers."""
    api, app = client(), resolve_app(app)
    if confirm is None:
        click.echo(f" !    WARNING: Potentially Destructive Action\n !    This command will destroy the "
                   f"application: {app}\n !    To proceed, type \"{app}\" or re-run this command with "
                   f"--confirm={app}\n", err=True)
        confirm = click.prompt(">", default="", show_default=False, err=True)
    if confirm != app:
        raise CliError(f"app {app} not destroyed: the confirmation did not match")
    with output.progress(f"Destroying {app}", timed=True):
        api.delete(api_path("apps", app))
    if remote.remove_remote_for(remote.REMOTE, app):
        click.echo(f"Git remote {remote.REMOTE} removed")


@command("apps:transfer")
@click.argument("username")
@app_option
def transfer(username, app):
    """Make USERNAME the app's owner."""
    api, app = client(), resolve_app(app)
    with output.progress(f"Transferring {app} to {username}"):
        api.post(api_path("apps", app), {"owner": username}, not_found=f"user {username}")


@command("git:remote")
@app_option
@remote_option
def git_remote(app, remote_name):
    """Add (or update) the git remote that deploys to the app."""
    api, app = client(), resolve_app(app)
    if not remote.in_repository():
        raise CliError("not inside a git repository; run git init first")
    api.get(api_path("apps", app))
    _add_remote(api, app, remote_name)
