"""config:* — the app's environment: list, set, unset, and pull/push a `.env` file."""
import os
import shlex

import click

from cli import envfile, output
from cli.client import CliError, api_path
from cli.options import app_option, client, command, json_option, parse_pairs, resolve_app, topic

topic("config", "the app's environment variables (each change makes a new release)")

INJECTED = ("DEIS_APP", "DEIS_RELEASE")  # the controller adds these; pushing them back would pin them


def get_config(api, app):
    return api.get(api_path("apps", app, "config"))


def post_config(api, app, changes, message):
    """POSTs a config change (a new release, deployed when the app has a build) with progress."""
    with output.progress(message):
        api.post(api_path("apps", app, "config"), changes)


def print_values(app, values, oneline=False):
    if oneline:
        click.echo(" ".join(f"{key}={shlex.quote(str(value))}" for key, value in sorted(values.items())))
        return
    output.heading(f"{app} Config")
    output.key_values(values)


@command("config:list")
@app_option
@click.option("--oneline", is_flag=True, help="Print KEY=value pairs on one line, shell-quoted.")
@json_option
def list_config(app, oneline, as_json):
    """List the app's environment variables."""
    api, app = client(), resolve_app(app)
    config = get_config(api, app)
    if as_json:
        output.echo_json(config["values"])
    else:
        print_values(app, config["values"], oneline)


@command("config:set")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=value...")
@app_option
def set_config(pairs, app):
    """Set environment variables.

    A value keeps everything after the first `=`: spaces, `=`, any Unicode.

    \b
    Example: pier config:set DATABASE_URL=postgres://db/app GREETING="hello world"
    """
    api, app = client(), resolve_app(app)
    values = parse_pairs(pairs)
    post_config(api, app, {"values": values}, "Creating config")
    print_values(app, get_config(api, app)["values"])


@command("config:unset")
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@app_option
def unset_config(keys, app):
    """Remove environment variables."""
    api, app = client(), resolve_app(app)
    post_config(api, app, {"values": {key: None for key in keys}}, "Removing config")
    print_values(app, get_config(api, app)["values"])


@command("config:pull")
@app_option
@click.option("-o", "--output", "path", default=".env", show_default=True, help="The file to write.")
@click.option("--overwrite", is_flag=True, help="Replace the file if it exists.")
def pull(app, path, overwrite):
    """Write the app's environment to a .env file.

    The file is created with mode 0600, as it may hold secrets.
    """
    api, app = client(), resolve_app(app)
    values = {k: v for k, v in get_config(api, app)["values"].items() if k not in INJECTED}
    if os.path.exists(path) and not overwrite:
        raise CliError(f"{path} already exists; pass --overwrite to replace it")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(os.open(path, flags, 0o600), "w", encoding="utf-8", newline="\n") as f:
        f.write(envfile.render(values))
    click.echo(f"Wrote {len(values)} variable{'s' if len(values) != 1 else ''} of {app} to {path}")


@command("config:push")
@app_option
@click.option("-p", "--path", default=".env", show_default=True, help="The file to read.")
def push(app, path):
    """Set the variables listed in a .env file.

    KEY=value lines; CRLF line ends, "double" or 'single' quotes and # comments are understood.
    """
    api, app = client(), resolve_app(app)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            values = envfile.parse(f.read())
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text") from None
    except envfile.EnvFileError as exc:
        raise CliError(f"{path} {exc}") from None
    if not values:
        raise CliError(f"{path} holds no KEY=value lines")
    post_config(api, app, {"values": values}, "Creating config")
    print_values(app, get_config(api, app)["values"])
