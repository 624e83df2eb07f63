"""The `pier` command: Deis Workflow's `topic:command` syntax, so `deis` muscle memory carries over."""
import click

from cli import API_VERSION, VERSION
from cli.commands import (apps, auth, backups, builds, config, domains, gc, healthchecks, keys, limits,  # noqa: F401
                          perms, ps, routing)
from cli.options import COMMANDS, TOPICS

# Deis's shortcuts (workflow-cli `parser`), plus a bare topic meaning its list or info command.
SHORTCUTS = {
    "create": "apps:create", "destroy": "apps:destroy", "info": "apps:info", "logs": "apps:logs",
    "open": "apps:open", "run": "apps:run", "login": "auth:login", "logout": "auth:logout",
    "register": "auth:register", "whoami": "auth:whoami", "passwd": "auth:passwd", "pull": "builds:create",
    "rollback": "releases:rollback", "scale": "ps:scale", "restart": "ps:restart",
    "sharing": "perms:list", "sharing:list": "perms:list", "sharing:add": "perms:create",
    "sharing:remove": "perms:delete",
}


def resolve_name(name):
    name = SHORTCUTS.get(name, name)
    if name in COMMANDS or ":" in name:
        return name
    for default in ("list", "info"):
        if f"{name}:{default}" in COMMANDS:
            return f"{name}:{default}"
    return name


class PierGroup(click.Group):
    """Resolves `topic:command` names, Deis shortcuts and bare topics; `pier help` lists by topic."""

    def get_command(self, ctx, cmd_name):
        return self.commands.get(resolve_name(cmd_name))

    def resolve_command(self, ctx, args):
        name, cmd, rest = super().resolve_command(ctx, args)
        return (cmd.name if cmd else name), cmd, rest  # usage lines show `pier ps:scale`, not `pier scale`

    def list_commands(self, ctx):
        return list(self.commands)

    def format_commands(self, ctx, formatter):
        by_topic = {}
        for name, cmd in self.commands.items():
            topic = name.split(":")[0] if name.split(":")[0] in TOPICS else "other"
            by_topic.setdefault(topic, []).append((name, cmd.get_short_help_str(80)))
        for topic in sorted(by_topic, key=lambda t: (t == "other", t)):
            title = f"{topic} ({TOPICS[topic]})" if topic in TOPICS else "Other commands"
            with formatter.section(title):
                formatter.write_dl(by_topic[topic])
        with formatter.section("Shortcuts"):
            formatter.write_dl([(short, f"= {name}") for short, name in sorted(SHORTCUTS.items())])


@click.group(cls=PierGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.pass_context
def cli(ctx):
    """Pier: deploy and manage apps on a Pier (Deis Workflow v2.3 compatible) platform.

    Commands are written `topic:command`, e.g. `pier config:set KEY=value -a myapp`; a bare topic lists
    (`pier apps`). `pier help <command>` or `pier <command> --help` explains one command.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@cli.command("help")
@click.argument("name", required=False)
@click.pass_context
def help_command(ctx, name):
    """Show every command, or the help of one command or topic."""
    group = ctx.parent.command
    if not name:
        click.echo(ctx.parent.get_help())
        return
    cmd = group.get_command(ctx, name)
    if cmd is not None and name in TOPICS and ":" not in name:
        cmd = None  # `pier help config` lists the topic rather than showing config:list
    if cmd is None:
        names = [n for n in group.commands if n.split(":")[0] == name]
        if not names:
            raise click.UsageError(f"no command or topic named {name!r}; run pier help")
        click.echo(f"{name}: {TOPICS.get(name, '')}\n")
        width = max(map(len, names))
        for n in names:
            click.echo(f"  {n.ljust(width)}  {group.commands[n].get_short_help_str(80)}")
        click.echo(f"\nRun pier help {names[0]} for one command's options.")
        return
    with click.Context(cmd, info_name=resolve_name(name), parent=ctx.parent) as sub:
        click.echo(cmd.get_help(sub))


@cli.command("version")
def version():
    """Show the client's version and the API version it speaks."""
    click.echo(f"pier {VERSION} (Deis Workflow API {API_VERSION})")


for _name, _cmd in COMMANDS.items():
    cli.add_command(_cmd, _name)


def main():
    cli(prog_name="pier")


if __name__ == "__main__":
    main()
