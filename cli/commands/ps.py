"""ps:* — the app's processes (containers): list, scale, restart."""
import click

from cli import output
from cli.client import CliError, api_path
from cli.options import app_option, client, command, json_option, resolve_app, topic

topic("ps", "the app's processes: list, scale, restart")


def print_pods(app, pods):
    output.heading(f"{app} Processes")
    if not pods:
        click.echo("No processes are running.")
    by_type = {}
    for pod in pods:
        by_type.setdefault(pod["type"], []).append(pod)
    for kind, group in sorted(by_type.items()):
        click.echo(f"--- {kind}:")
        output.table([(p["name"], p["state"], f"({p['release']})", output.when(p.get("started")))
                      for p in group])


def _pods(api, app):
    return api.get(api_path("apps", app, "pods"))["results"]


@command("ps:list")
@app_option
@json_option
def list_processes(app, as_json):
    """List the app's processes by type."""
    api, app = client(), resolve_app(app)
    pods = _pods(api, app)
    if as_json:
        output.echo_json(pods)
    else:
        print_pods(app, pods)


def parse_scale(pairs):
    wanted = {}
    for pair in pairs:
        kind, sep, count = pair.partition("=")
        if not sep or not kind or not count.isdigit():
            raise CliError(f"expected TYPE=COUNT (e.g. web=3), got {pair!r}")
        wanted[kind] = int(count)
    return wanted


@command("ps:scale")
@click.argument("pairs", nargs=-1, required=True, metavar="TYPE=COUNT...")
@app_option
def scale(pairs, app):
    """Set how many containers of each process type run.

    \b
    Example: pier ps:scale web=3 worker=1
    """
    api, app = client(), resolve_app(app)
    wanted = parse_scale(pairs)
    with output.progress("Scaling processes", timed=True):
        api.post(api_path("apps", app, "scale"), wanted)
    print_pods(app, _pods(api, app))


@command("ps:restart")
@click.argument("target", required=False, metavar="[TYPE|POD]")
@app_option
def restart(target, app):
    """Restart all processes, one type, or one process.

    TYPE is a process type (web); POD a process name as ps:list shows it.
    """
    api, app = client(), resolve_app(app)
    path = api_path("apps", app, "pods", "restart")
    if target:
        pod = next((p for p in _pods(api, app) if p["name"] == target), None)
        if pod is None and target not in api.get(api_path("apps", app))["structure"]:
            raise CliError(f"{app} has no process type or process named {target}; see pier ps:list -a {app}")
        parts = (pod["type"], pod["name"]) if pod else (target,)
        path = api_path("apps", app, "pods", *parts, "restart")
    with output.progress("Restarting processes", timed=True):
        restarted = api.post(path)
    if isinstance(restarted, list):
        print_pods(app, restarted)
    else:
        print_pods(app, _pods(api, app))
