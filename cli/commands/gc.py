"""gc — garbage collection of old builds' images, slugs and sources (administrators only)."""
import click

from cli import output
from cli.client import Finished
from cli.commands.backups import size
from cli.options import client, command, json_option


@command("gc")
@json_option
def collect(as_json):
    """Delete old builds now: the images, slugs and sources of releases older than the controller's
    PIER_RETENTION_RELEASES (the running release and the rollback target stay)."""
    with output.progress("Collecting old builds", timed=True):
        freed = client().post("/v2/gc") or {}
    if as_json:
        output.echo_json(freed)
        return
    if isinstance(freed, Finished):  # outlasted the controller's wait: the report is on the operation's worker
        click.echo("Done.")
        return
    sweep = freed.get("registry_sweep") or {}
    swept = (f"skipped: {sweep['skipped']}" if "skipped" in sweep else
             f"{sweep.get('blobs_deleted', 0)} layers swept"
             + (f", {size(sweep['bytes_freed'])} freed" if sweep.get("bytes_freed") is not None else ""))
    click.echo(f"Registry: {freed.get('registry_manifests', 0)} images deleted; {swept}")
    click.echo(f"Object storage: {freed.get('storage_keys', 0)} files, {size(freed.get('storage_bytes', 0))} freed")
    click.echo(f"Docker engine: {freed.get('engine_images', 0)} images removed, "
               f"{size(freed.get('engine_bytes', 0))} freed")
    for app, outcome in sorted((freed.get("apps") or {}).items()):
        if "skipped" in outcome:
            click.echo(f"{app}: skipped ({outcome['skipped']})")
        else:
            click.echo(f"{app}: collected {', '.join(outcome['collected']) or 'nothing'}"
                       + (f"; kept {', '.join(outcome['shared_with_kept'])} (its image is a kept build's too)"
                          if outcome["shared_with_kept"] else ""))
