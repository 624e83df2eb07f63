"""Procfiles: `type: command` per line, as Heroku reads them."""
import re

from core.validators import process_type

LINE = re.compile(r"^([^:#\s][^:\s]*)\s*:\s*(.*?)\s*$")
MAX_BYTES = 64 * 1024


def parse(text):
    """{type: command}; a bad line or process type raises ValueError naming it."""
    if len(text.encode()) > MAX_BYTES:
        raise ValueError("Procfile is larger than 64 KiB")
    types = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = LINE.match(line)
        if match is None or not match.group(2):
            raise ValueError(f"Procfile line {number} is not `type: command`: {line.strip()[:80]}")
        name, command = match.groups()
        try:
            process_type(name)
        except ValueError as exc:
            raise ValueError(f"Procfile line {number}: {exc}") from None
        types[name] = command
    return types


def read(directory):
    """The Procfile at the root of `directory`, or {} when there is none."""
    path = directory / "Procfile"
    if not path.is_file() or path.is_symlink():
        return {}
    return parse(path.read_text(encoding="utf-8", errors="replace"))
