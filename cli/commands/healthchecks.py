"""healthchecks:* — liveness and readiness probes per process type (Kubernetes probe syntax)."""
import click

from cli import output
from cli.client import CliError, api_path
from cli.commands.config import get_config, post_config
from cli.options import app_option, client, command, json_option, resolve_app, topic

topic("healthchecks", "liveness and readiness probes per process type")

PROBES = {"liveness": "livenessProbe", "readiness": "readinessProbe"}
TIMINGS = (("initial_delay", "initialDelaySeconds"), ("timeout", "timeoutSeconds"),
           ("period", "periodSeconds"), ("success_threshold", "successThreshold"),
           ("failure_threshold", "failureThreshold"))


def _default_type(api, app, given):
    """--type, else `web` when the app has it, else `cmd` (an image without a Procfile), as Deis's web/cmd."""
    if given:
        return given
    structure = api.get(api_path("apps", app))["structure"]
    return "cmd" if "cmd" in structure and "web" not in structure else "web"


def _port(text):
    return int(text) if text.isdigit() else text


def build_probe(kind, args, path, headers, timings):
    """The Kubernetes probe object for `httpGet PORT`, `tcpSocket PORT` or `exec COMMAND...`."""
    if kind == "exec":
        probe = {"exec": {"command": list(args)}}
    elif len(args) != 1:
        raise CliError(f"{kind} takes exactly one argument, the port (e.g. 8000), not {' '.join(args)!r}")
    elif kind == "tcpSocket":
        probe = {"tcpSocket": {"port": _port(args[0])}}
    else:
        http = {"path": path, "port": _port(args[0])}
        if headers:
            pairs = [h.partition(":") for h in headers]
            if any(not sep or not name.strip() for name, sep, _ in pairs):
                raise CliError("headers are written Name:Value")
            http["httpHeaders"] = [{"name": n.strip(), "value": v.strip()} for n, _, v in pairs]
        probe = {"httpGet": http}
    probe.update({field: timings[option] for option, field in TIMINGS if timings[option] is not None})
    return probe


def describe(probe):
    if "httpGet" in probe:
        http = probe["httpGet"]
        text = f"HTTP GET {http.get('scheme', 'HTTP').lower()}://:{http['port']}{http.get('path', '/')}"
        for header in http.get("httpHeaders", []):
            text += f" {header['name']}={header['value']}"
    elif "tcpSocket" in probe:
        text = f"TCP socket on port {probe['tcpSocket']['port']}"
    else:
        text = "exec " + " ".join(probe["exec"]["command"])
    extras = [f"{field}={probe[field]}" for _, field in TIMINGS if field in probe]
    return text + (f" ({', '.join(extras)})" if extras else "")


def _print(app, healthcheck, only=None):
    output.heading(f"{app} Healthchecks")
    shown = {t: h for t, h in sorted(healthcheck.items()) if only in (None, t)}
    if not shown:
        click.echo("No healthchecks configured.")
    for proc, probes in shown.items():
        for name, field in PROBES.items():
            click.echo(f"--- {proc} {name.capitalize()}")
            click.echo(describe(probes[field]) if field in probes else "No " + name + " probe configured.")


@command("healthchecks:list")
@app_option
@click.option("-t", "--type", "proc", help="Only this process type.")
@json_option
def list_healthchecks(app, proc, as_json):
    """List the probes of each process type."""
    api, app = client(), resolve_app(app)
    healthcheck = get_config(api, app)["healthcheck"]
    if as_json:
        output.echo_json({t: h for t, h in healthcheck.items() if proc in (None, t)})
    else:
        _print(app, healthcheck, proc)


@command("healthchecks:set")
@click.argument("health", type=click.Choice(list(PROBES)))
@click.argument("kind", metavar="(httpGet|tcpSocket|exec)", type=click.Choice(["httpGet", "tcpSocket", "exec"]))
@click.argument("args", nargs=-1, required=True, type=click.UNPROCESSED)
@app_option
@click.option("-t", "--type", "proc", help="The process type (default: web, or cmd for a Procfile-less image).")
@click.option("--path", default="/", show_default=True, help="httpGet: the path to request.")
@click.option("--header", "--headers", "headers", multiple=True, metavar="NAME:VALUE",
              help="httpGet: a request header (repeatable).")
@click.option("--initial-delay-timeout", "--initial-delay", "initial_delay", type=click.IntRange(0),
              metavar="SECONDS", help="Wait before the first probe.")
@click.option("--timeout-seconds", "--timeout", "timeout", type=click.IntRange(1), metavar="SECONDS",
              help="A probe slower than this fails.")
@click.option("--period-seconds", "--period", "period", type=click.IntRange(1), metavar="SECONDS",
              help="Time between probes.")
@click.option("--success-threshold", type=click.IntRange(1), metavar="N",
              help="Successes in a row that make a failed process healthy again.")
@click.option("--failure-threshold", type=click.IntRange(1), metavar="N",
              help="Failures in a row that make a process unhealthy.")
def set_healthcheck(health, kind, args, app, proc, path, headers, **timings):
    """Set a liveness or readiness probe.

    Give `liveness` or `readiness`, then `httpGet PORT`, `tcpSocket PORT` or `exec -- COMMAND...`.

    \b
    Examples: pier healthchecks:set readiness httpGet 8000 --path /health
              pier healthchecks:set liveness exec --type worker -- cat /tmp/healthy
    """
    api, app = client(), resolve_app(app)
    proc = _default_type(api, app, proc)
    probe = build_probe(kind, args, path, headers, timings)
    probes = dict(get_config(api, app)["healthcheck"].get(proc, {}))
    probes[PROBES[health]] = probe
    post_config(api, app, {"healthcheck": {proc: probes}}, f"Applying {PROBES[health]} healthcheck")
    _print(app, get_config(api, app)["healthcheck"], proc)


@command("healthchecks:unset")
@click.argument("healths", nargs=-1, required=True, type=click.Choice(list(PROBES)),
                metavar="liveness|readiness...")
@app_option
@click.option("-t", "--type", "proc", help="The process type (default: web, or cmd for a Procfile-less image).")
def unset_healthcheck(healths, app, proc):
    """Remove liveness and/or readiness probes."""
    api, app = client(), resolve_app(app)
    proc = _default_type(api, app, proc)
    probes = dict(get_config(api, app)["healthcheck"].get(proc, {}))
    missing = [h for h in healths if PROBES[h] not in probes]
    if missing:
        raise CliError(f"{proc} has no {' or '.join(missing)} probe")
    for health in healths:
        del probes[PROBES[health]]
    post_config(api, app, {"healthcheck": {proc: probes or None}}, "Removing healthchecks")
    _print(app, get_config(api, app)["healthcheck"], proc)

