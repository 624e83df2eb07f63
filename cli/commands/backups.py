"""backups:* — the platform database's backups (administrators only)."""
import click

from cli import output
from cli.options import client, command, json_option, topic

topic("backups", "the platform database's backups (administrators)")


def size(count):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024


@command("backups:list")
@json_option
def list_backups(as_json):
    """List the database's backups: label, type, start, end, size and WAL range."""
    listing = client().get("/v2/backups")
    if as_json:
        output.echo_json(listing)
        return
    output.heading("Database backups")
    if listing.get("error"):
        click.echo(f"The repository could not be listed: {listing['error']}")
    output.table([(b["label"], b["type"], output.when(b["start"]), output.when(b["end"]), size(b["size"]),
                   f"{b['wal_start']}..{b['wal_stop']}") for b in listing["results"]])
    if listing.get("observed"):
        click.echo(f"(as listed at {output.when(listing['observed'])})")


@command("backups:create")
@click.option("--type", "kind", type=click.Choice(["full", "diff", "incr"]), default="full", show_default=True)
def create_backup(kind):
    """Take a backup of the database now."""
    with output.progress(f"Taking a {kind} backup", timed=True):
        taken = client().post("/v2/backups", {"type": kind})
    backup = (taken or {}).get("backup")
    if backup:
        click.echo(f"{backup['label']} ({backup['type']}, {size(backup['size'])})")
    elif taken and taken.get("skipped"):
        click.echo(f"Skipped: {taken['skipped']}")
