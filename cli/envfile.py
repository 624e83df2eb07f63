"""Reading and writing `.env` files: KEY=value lines, quoted values for anything a shell would mangle.

Accepted: `KEY=value` (taken literally up to the end of the line, surrounding blanks trimmed), `export KEY=...`,
`KEY="..."` with the escapes \\n \\r \\t \\" \\\\ \\$ and real newlines, `KEY='...'` taken literally (newlines
too), blank lines, `#` comment lines, CRLF line ends and a UTF-8 byte-order mark.
"""
import re

LINE = re.compile(r"\s*(?:export\s+)?([^=\s]+)\s*=[ \t]*(.*)", re.DOTALL)
SAFE = re.compile(r"[^\s\"'\\#$`]*")
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


class EnvFileError(ValueError):
    pass


def _double_quoted(text, start, line_no):
    """The value inside "..." starting at text[start] (after the quote), and the index after the closing quote."""
    value, i = [], start
    while i < len(text):
        char = text[i]
        if char == '"':
            return "".join(value), i + 1
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1]
            value.append(ESCAPES.get(following, "\\" + following))
            i += 2
            continue
        value.append(char)
        i += 1
    raise EnvFileError(f"line {line_no}: the double quote is never closed")


def parse(text):
    """The `.env` text as an ordered {KEY: value}; raises EnvFileError naming the bad line."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    values, i, line_no = {}, 0, 1
    while i < len(text):
        end = text.find("\n", i)
        end = len(text) if end < 0 else end
        line = text[i:end]
        if not line.strip() or line.lstrip().startswith("#"):
            i, line_no = end + 1, line_no + 1
            continue
        match = LINE.fullmatch(line)
        if not match:
            raise EnvFileError(f"line {line_no}: expected KEY=value, got {line.strip()[:40]!r}")
        key, rest = match.group(1), match.group(2)
        value_start = i + match.start(2)
        start_line = line_no
        if rest.startswith('"'):
            value, after = _double_quoted(text, value_start + 1, start_line)
        elif rest.startswith("'"):
            close = text.find("'", value_start + 1)
            if close < 0:
                raise EnvFileError(f"line {start_line}: the single quote is never closed")
            value, after = text[value_start + 1:close], close + 1
        else:
            value, after = rest.strip(), end
        line_no += text.count("\n", i, after)
        tail_end = text.find("\n", after)
        tail_end = len(text) if tail_end < 0 else tail_end
        tail = text[after:tail_end].strip()
        if tail and not tail.startswith("#"):
            raise EnvFileError(f"line {line_no}: unexpected text after the closing quote: {tail[:40]!r}")
        values[key] = value
        i, line_no = tail_end + 1, line_no + 1
    return values


def quote(value):
    if SAFE.fullmatch(value):
        return value
    escaped = "".join({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "$": "\\$"}.get(c, c)
                      for c in value)
    return f'"{escaped}"'


def render(values):
    """{KEY: value} as `.env` text, keys sorted; parse(render(v)) == v."""
    return "".join(f"{key}={quote(str(value))}\n" for key, value in sorted(values.items()))
