"""limits:*, tags:* and registry:* — the parts of an app's config that are not environment variables."""
import click

from cli import output
from cli.commands.config import get_config, post_config
from cli.options import app_option, client, command, json_option, parse_pairs, resolve_app, topic

topic("limits", "memory and CPU limits per process type")
topic("tags", "node labels the app's containers must run on")
topic("registry", "credentials for pulling the app's image from a private registry")

MASK = "********"


def _kind_option(function):
    function = click.option("-c", "--cpu", "kind", flag_value="cpu",
                            help="CPU, e.g. web=500m or 100m/500m.")(function)
    return click.option("-m", "--memory", "kind", flag_value="memory", default=True,
                        help="Memory (the default), e.g. web=512M or 256M/512M.")(function)


def _print_limits(app, config):
    output.heading(f"{app} Limits")
    for kind, title in (("memory", "Memory"), ("cpu", "CPU")):
        click.echo(f"--- {title}")
        output.key_values(config[kind], empty="Unlimited")


@command("limits:list")
@app_option
@json_option
def limits_list(app, as_json):
    """List the memory and CPU limits."""
    api, app = client(), resolve_app(app)
    config = get_config(api, app)
    if as_json:
        output.echo_json({"memory": config["memory"], "cpu": config["cpu"]})
    else:
        _print_limits(app, config)


@command("limits:set")
@click.argument("pairs", nargs=-1, required=True, metavar="TYPE=LIMIT...")
@_kind_option
@app_option
def limits_set(pairs, kind, app):
    """Limit memory (default) or, with --cpu, CPU per process type.

    \b
    Examples: pier limits:set web=512M worker=256M/1G
              pier limits:set --cpu web=500m
    """
    api, app = client(), resolve_app(app)
    post_config(api, app, {kind: parse_pairs(pairs, "TYPE=LIMIT")}, "Applying limits")
    _print_limits(app, get_config(api, app))


@command("limits:unset")
@click.argument("types", nargs=-1, required=True, metavar="TYPE...")
@_kind_option
@app_option
def limits_unset(types, kind, app):
    """Remove the memory (default) or CPU limit of process types."""
    api, app = client(), resolve_app(app)
    post_config(api, app, {kind: {t: None for t in types}}, "Removing limits")
    _print_limits(app, get_config(api, app))


def _print_map(app, title, mapping):
    output.heading(f"{app} {title}")
    output.key_values(mapping)


@command("tags:list")
@app_option
@json_option
def tags_list(app, as_json):
    """List the node tags."""
    api, app = client(), resolve_app(app)
    tags = get_config(api, app)["tags"]
    if as_json:
        output.echo_json(tags)
    else:
        _print_map(app, "Tags", tags)


@command("tags:set")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=value...")
@app_option
def tags_set(pairs, app):
    """Run the app only on nodes (Docker engines) labelled KEY=value."""
    api, app = client(), resolve_app(app)
    post_config(api, app, {"tags": parse_pairs(pairs)}, "Applying tags")
    _print_map(app, "Tags", get_config(api, app)["tags"])


@command("tags:unset")
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@app_option
def tags_unset(keys, app):
    """Remove node tags."""
    api, app = client(), resolve_app(app)
    post_config(api, app, {"tags": {key: None for key in keys}}, "Removing tags")
    _print_map(app, "Tags", get_config(api, app)["tags"])


def _masked(registry):
    return {k: (MASK if k == "password" else v) for k, v in registry.items()}


@command("registry:list")
@app_option
@json_option
def registry_list(app, as_json):
    """Show the private registry credentials (the password is masked)."""
    api, app = client(), resolve_app(app)
    registry = _masked(get_config(api, app)["registry"])
    if as_json:
        output.echo_json(registry)
    else:
        _print_map(app, "Registry", registry)


@command("registry:set")
@click.argument("pairs", nargs=-1, required=True, metavar="username=U password=P")
@app_option
def registry_set(pairs, app):
    """Set private registry credentials.

    The config must also set PORT (pier config:set PORT=5000).
    """
    api, app = client(), resolve_app(app)
    post_config(api, app, {"registry": parse_pairs(pairs, "username=... or password=...")}, "Applying registry")
    _print_map(app, "Registry", _masked(get_config(api, app)["registry"]))


@command("registry:unset")
@click.argument("keys", nargs=-1, required=True, metavar="username|password...")
@app_option
def registry_unset(keys, app):
    """Remove private registry credentials."""
    api, app = client(), resolve_app(app)
    post_config(api, app, {"registry": {key: None for key in keys}}, "Removing registry")
    _print_map(app, "Registry", _masked(get_config(api, app)["registry"]))
