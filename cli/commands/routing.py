"""App settings: routing, maintenance, whitelist, tls, labels and autoscale rules."""
import click

from cli import output
from cli.client import api_path
from cli.options import app_option, client, command, json_option, parse_pairs, resolve_app, topic

topic("routing", "whether the router sends traffic to the app")
topic("maintenance", "serve 503 while you work on the app")
topic("whitelist", "the addresses allowed to reach the app")
topic("tls", "redirect HTTP to HTTPS")
topic("labels", "free-form labels describing the app")
topic("autoscale", "size process types by their CPU use")


def _settings(api, app):
    return api.get(api_path("apps", app, "settings"))


def _change(api, app, changes, message):
    with output.progress(message):
        return api.post(api_path("apps", app, "settings"), changes)


def _flag_commands(name, field, on_word, off_word, describe):
    """`<name>:info`, `<name>:<on_word>` and `<name>:<off_word>` for one boolean setting."""

    @command(f"{name}:info", help=f"Show the app's {name} setting.")
    @app_option
    @json_option
    def info(app, as_json):
        api, app = client(), resolve_app(app)
        value = _settings(api, app)[field]
        if as_json:
            output.echo_json({field: value})
        else:
            output.heading(f"{app} {name.capitalize()}")
            click.echo(describe(value))

    for value, word in ((True, on_word), (False, off_word)):
        _flag_setter(name, field, value, word)


def _flag_setter(name, field, value, word):
    verb = "Enable" if value else "Disable"

    @command(f"{name}:{word}", help=f"{verb} {name} for the app.")
    @app_option
    def set_value(app):
        api, app = client(), resolve_app(app)
        _change(api, app, {field: value}, f"{verb[:-1]}ing {name} for {app}")


_flag_commands("routing", "routable", "enable", "disable",
               lambda v: "Routing is enabled." if v else "Routing is disabled: the router does not serve this app.")
_flag_commands("maintenance", "maintenance", "on", "off",
               lambda v: "Maintenance mode is on: the router answers 503." if v else "Maintenance mode is off.")


@command("whitelist:list")
@app_option
@json_option
def whitelist_list(app, as_json):
    """List the addresses allowed to reach the app (empty: everyone)."""
    api, app = client(), resolve_app(app)
    addresses = api.get(api_path("apps", app, "whitelist"))["addresses"]
    if as_json:
        output.echo_json(addresses)
        return
    output.heading(f"{app} Whitelisted Addresses")
    click.echo("\n".join(addresses) if addresses else "(none: every address may connect)")


def _addresses(values):
    return [a.strip() for value in values for a in value.split(",") if a.strip()]


@command("whitelist:add")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS[,ADDRESS...]...")
@app_option
def whitelist_add(addresses, app):
    """Allow IP addresses or CIDR ranges (comma- or space-separated)."""
    api, app = client(), resolve_app(app)
    wanted = _addresses(addresses)
    with output.progress(f"Adding {', '.join(wanted)} to {app} whitelist"):
        api.post(api_path("apps", app, "whitelist"), {"addresses": wanted})


@command("whitelist:remove")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS[,ADDRESS...]...")
@app_option
def whitelist_remove(addresses, app):
    """Remove addresses from the whitelist."""
    api, app = client(), resolve_app(app)
    unwanted = _addresses(addresses)
    with output.progress(f"Removing {', '.join(unwanted)} from {app} whitelist"):
        api.delete(api_path("apps", app, "whitelist"), {"addresses": unwanted})


@command("tls:info")
@app_option
@json_option
def tls_info(app, as_json):
    """Show whether HTTP requests are redirected to HTTPS."""
    api, app = client(), resolve_app(app)
    tls = api.get(api_path("apps", app, "tls"))
    if as_json:
        output.echo_json(tls)
        return
    output.heading(f"{app} TLS")
    click.echo(f"HTTPS Enforced: {str(tls['https_enforced']).lower()}")


def _set_tls(app, enforced):
    api, app = client(), resolve_app(app)
    word = "Enabling" if enforced else "Disabling"
    with output.progress(f"{word} https-only requests for {app}"):
        api.post(api_path("apps", app, "tls"), {"https_enforced": enforced})


@command("tls:enable")
@app_option
def tls_enable(app):
    """Redirect HTTP requests to HTTPS (301)."""
    _set_tls(app, True)


@command("tls:disable")
@app_option
def tls_disable(app):
    """Serve HTTP requests without redirecting them."""
    _set_tls(app, False)


@command("labels:list")
@app_option
@json_option
def labels_list(app, as_json):
    """List the app's labels."""
    api, app = client(), resolve_app(app)
    labels = _settings(api, app)["label"]
    if as_json:
        output.echo_json(labels)
        return
    output.heading(f"{app} Labels")
    output.key_values(labels)


@command("labels:set")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=value...")
@app_option
def labels_set(pairs, app):
    """Set labels, e.g. team=payments git_repo=github.com/org/app."""
    api, app = client(), resolve_app(app)
    _change(api, app, {"label": parse_pairs(pairs)}, "Applying labels")


@command("labels:unset")
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@app_option
def labels_unset(keys, app):
    """Remove labels."""
    api, app = client(), resolve_app(app)
    _change(api, app, {"label": {key: None for key in keys}}, "Removing labels")


@command("autoscale:list")
@app_option
@json_option
def autoscale_list(app, as_json):
    """List the app's autoscale rules."""
    api, app = client(), resolve_app(app)
    rules = _settings(api, app)["autoscale"]
    if as_json:
        output.echo_json(rules)
        return
    output.heading(f"{app} Autoscale")
    if not rules:
        click.echo("No autoscale rules found.")
    for process_type, rule in sorted(rules.items()):
        click.echo(f"\n--- {process_type}:\nMin Replicas: {rule['min']}\nMax Replicas: {rule['max']}\n"
                   f"CPU: {rule['cpu_percent']}%")


@command("autoscale:set")
@click.argument("process_type", metavar="TYPE")
@click.option("--min", "minimum", type=int, required=True, help="Fewest processes of the type.")
@click.option("--max", "maximum", type=int, required=True, help="Most processes of the type.")
@click.option("--cpu-percent", type=int, required=True,
              help="Target CPU use per process, in percent of its CPU request (limits:set --cpu) or of one core.")
@app_option
def autoscale_set(process_type, minimum, maximum, cpu_percent, app):
    """Size a process type by its CPU use, e.g. `autoscale:set web --min 1 --max 5 --cpu-percent 70`; the
    type can no longer be scaled by hand until autoscale:unset."""
    api, app = client(), resolve_app(app)
    rule = {"min": minimum, "max": maximum, "cpu_percent": cpu_percent}
    _change(api, app, {"autoscale": {process_type: rule}},
            f"Applying autoscale settings for process type {process_type} on {app}")


@command("autoscale:unset")
@click.argument("process_type", metavar="TYPE")
@app_option
def autoscale_unset(process_type, app):
    """Stop autoscaling a process type; it keeps its count, and ps:scale sets it again."""
    api, app = client(), resolve_app(app)
    _change(api, app, {"autoscale": {process_type: None}},
            f"Removing autoscale for process type {process_type} on {app}")
