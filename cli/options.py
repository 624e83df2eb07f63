"""What every topic module shares: registering a `topic:command`, the common options, finding the app."""
import click

from cli import remote
from cli.client import Client, ClientSettings, CliError

COMMANDS = {}  # "topic:command" -> click.Command, filled as the topic modules are imported
TOPICS = {}  # topic -> one line about it, for `pier help`
NO_APP = 'no app given; use -a <app> or run inside a git repository with a "pier" remote'


def topic(name, summary):
    TOPICS[name] = summary


def command(name, **settings):
    """Registers a click command under its Deis-style name, e.g. `config:set`."""
    def register(function):
        cmd = click.command(name, **settings)(function)
        COMMANDS[name] = cmd
        return cmd
    return register


def app_option(function):
    return click.option("-a", "--app", "app", metavar="APP",
                        help='The app; by default the one the "pier" git remote points at.')(function)


def json_option(function):
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(function)


def limit_option(function):
    return click.option("-l", "--limit", type=click.IntRange(min=1), metavar="N",
                        help="Show at most N results (default: all).")(function)


def resolve_app(app):
    if app:
        return app
    found = remote.app_from_remote(remote.REMOTE)
    if found:
        return found
    raise CliError(NO_APP)


def client():
    return Client.from_profile()


def settings():
    return ClientSettings.from_env()


def parse_pairs(pairs, what="KEY=value"):
    """["a=1", "b=x=y"] -> {"a": "1", "b": "x=y"}: values keep every character after the first `=`."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"expected {what}, got {pair!r}")
        result[key] = value
    return result
