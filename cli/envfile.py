"""Reading and writing `.env` files: KEY=value lines, quoted values for anything a shell would mangle.

Accepted: what python-dotenv reads (`KEY=value`, `export KEY=...`, double-quoted values with escapes and real
newlines, single-quoted values taken literally, comments), CRLF line ends and a UTF-8 byte-order mark.
"""
import io
import re

from dotenv.parser import parse_stream

SAFE = re.compile(r"[^\s\"'\\#$`]*")


class EnvFileError(ValueError):
    pass


QUOTED = re.compile(r"""\s*(?:export\s+)?[^=\s]+\s*=\s*(["'])(.*)""", re.DOTALL)


def _problem(original):
    """What is wrong with a statement python-dotenv could not read, in words."""
    first = original.strip().splitlines()[0] if original.strip() else ""
    quoted = QUOTED.match(original)
    if quoted:
        kind = "double" if quoted.group(1) == '"' else "single"
        if quoted.group(1) not in quoted.group(2):
            return f"the {kind} quote is never closed"
        return f"unexpected text after the closing quote: {first[:40]!r}"
    return f"expected KEY=value, got {first[:40]!r}"


def parse(text):
    """The `.env` text as an ordered {KEY: value}; raises EnvFileError naming the bad line. Parsed by
    python-dotenv, without its variable expansion: values are taken as written."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    values = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error or (binding.key is not None and binding.value is None):
            raise EnvFileError(f"line {binding.original.line}: {_problem(binding.original.string)}")
        if binding.key is not None:
            values[binding.key] = binding.value
    return values


def quote(value):
    """Bare when nothing needs quoting; else double quotes, with the escapes python-dotenv decodes there."""
    if SAFE.fullmatch(value):
        return value
    escaped = "".join({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, c) for c in value)
    return f'"{escaped}"'


def render(values):
    """{KEY: value} as `.env` text, keys sorted; parse(render(v)) == v."""
    return "".join(f"{key}={quote(str(value))}\n" for key, value in sorted(values.items()))
