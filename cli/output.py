"""Printing: headings and aligned tables for people, JSON for scripts, and progress on stderr."""
import contextlib
import json
import time

import click


def echo_json(data):
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def heading(text):
    click.echo(f"=== {text}")


def table(rows, indent=""):
    """Left-aligned columns; the last column is not padded, and a multi-line last cell stays aligned."""
    rows = [[str(cell) for cell in row] for row in rows]
    if not rows:
        return
    widths = [max(len(row[i]) for row in rows if len(row) > i) for i in range(max(map(len, rows)))]
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        prefix = indent + "".join(cell + "  " for cell in cells)
        lines = row[-1].split("\n") if row else [""]
        click.echo(prefix + lines[0])
        for line in lines[1:]:
            click.echo(" " * len(prefix) + line)


def key_values(mapping, empty="(none)"):
    if not mapping:
        click.echo(empty)
        return
    table(sorted(mapping.items()))


class Progress:
    def __init__(self):
        self.suffix = ""


@contextlib.contextmanager
def progress(message, timed=False):
    """`Scaling processes... done in 3s` on stderr, or `... failed` when the block raises."""
    click.echo(f"{message}... ", nl=False, err=True)
    state = Progress()
    started = time.monotonic()
    try:
        yield state
    except BaseException:
        click.echo("failed", err=True)
        raise
    elapsed = f" in {round(time.monotonic() - started)}s" if timed else ""
    click.echo(f"done{elapsed}{state.suffix}", err=True)


def when(text):
    """The API's `2024-01-01T00:00:00Z` as `2024-01-01 00:00:00`."""
    return (text or "").replace("T", " ").rstrip("Z")
