"""What a pushed Dockerfile may not do, checked before the engine sees it.

The engine runs parts of a build itself, in the host's network and with the host's images: `ADD <url>` is
fetched by the engine (it would reach the platform's loopback services: the registry, flower, Redis), and
`FROM`/`COPY --from` take any image the engine holds or can pull (another tenant's build, by id or from Pier's
registry). So an app's build may start only from images the app may deploy (core.images), and may not ADD
URLs (RUN curl inside the build does the same from the build's own network).
"""
import json
import re

from core import images

LINE_CONTINUATION = re.compile(r"\\\s*\n")
VARIABLE = re.compile(r"\$(\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
OPTION = re.compile(r"^--([a-z-]+)(=(.*))?$")


class Refused(ValueError):
    pass


def instructions(text):
    """(keyword, arguments, line number) of each instruction, continuation lines joined, comments skipped."""
    found, number, pending, start = [], 0, "", 0
    for line in text.splitlines():
        number += 1
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment line inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        found.append((keyword.upper(), arguments.strip(), start))
        pending = ""
    if pending:
        keyword, _, arguments = pending.partition(" ")
        found.append((keyword.upper(), arguments.strip(), start))
    return found


def substitute(text, values):
    """$NAME, ${NAME} and ${NAME:-default} from `values` (ARGs seen so far); unknown ones become ""."""
    def one(match):
        name = match.group(2) or match.group(5)
        default = match.group(4) or ""
        return values.get(name) or default
    return VARIABLE.sub(one, text)


def check(text, app_id, platform_registry, build_args=None):
    """Raises Refused (naming the line) for the first thing the build may not do."""
    args, stages = dict(build_args or {}), set()
    for keyword, arguments, line in instructions(text):
        if keyword == "ARG":
            name, _, default = arguments.partition("=")
            args.setdefault(name.strip(), default.strip().strip('"'))
        elif keyword == "FROM":
            words = [w for w in arguments.split() if not w.startswith("--")]
            reference = substitute(words[0], args) if words else ""
            if reference.lower() != "scratch" and reference not in stages:
                _image(reference, app_id, platform_registry, line)
            if len(words) >= 3 and words[1].upper() == "AS":
                stages.add(words[2])
        elif keyword in ("COPY", "ADD"):
            for word in _words(arguments):
                option = OPTION.match(word)
                if option and option.group(1) == "from":
                    source = substitute(option.group(3) or "", args)
                    if source not in stages and not source.isdigit():
                        _image(source, app_id, platform_registry, line)
                elif keyword == "ADD" and not option and URL.match(substitute(word, args)):
                    raise Refused(f"Dockerfile line {line}: ADD with a URL is not allowed on Pier: the engine "
                                  "would fetch it from inside the platform. Download it in a RUN step (curl, wget) "
                                  "instead.")


def _words(arguments):
    """The arguments of COPY/ADD, in either form: `a b /dest` or `["a", "b", "/dest"]` (after --options)."""
    options = [w for w in arguments.split() if w.startswith("--")]
    rest = " ".join(w for w in arguments.split() if not w.startswith("--"))
    if rest.startswith("["):
        try:
            return options + [str(w) for w in json.loads(rest)]
        except ValueError:
            pass
    return options + rest.split()


def _image(reference, app_id, platform_registry, line):
    try:
        images.check(reference, app_id, platform_registry)
    except ValueError as exc:
        raise Refused(f"Dockerfile line {line}: {reference}: {exc}") from None
