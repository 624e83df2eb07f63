"""Per-app proxy settings, read from the app's config values (`deis config:set PIER_PROXY_BODY_SIZE=10m`).

Config values are user text that would reach nginx's configuration, so each one is parsed strictly into a
plain number and unit; a value that does not parse is left out (the platform default applies to that app
only) and reported, so one app's typo never stops nginx from taking everyone else's routes.
"""
import re

# config key -> route field
KEYS = {
    "PIER_PROXY_BODY_SIZE": "body_size",
    "PIER_PROXY_READ_TIMEOUT": "read_timeout",
    "PIER_PROXY_CONNECT_TIMEOUT": "connect_timeout",
}
SIZE = re.compile(r"^([1-9][0-9]{0,9})([kmg]?)$")
UNIT_BYTES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
MAX_BODY_BYTES = 1 << 30
SECONDS = re.compile(r"^([1-9][0-9]{0,4})s?$")
MAX_SECONDS = {"read_timeout": 3600, "connect_timeout": 75}  # nginx caps connect timeouts at about 75 s


def body_size(text):
    """'10M' -> '10m'; ValueError unless it is a size of 1 byte to 1g."""
    match = SIZE.fullmatch(str(text).strip().lower())
    if not match or int(match.group(1)) * UNIT_BYTES[match.group(2)] > MAX_BODY_BYTES:
        raise ValueError("is not a size such as 512k or 10m (at most 1g)")
    return match.group(1) + match.group(2)


def seconds(text, field):
    """'30' or '30s' -> 30; ValueError unless it is a whole number of seconds within the field's range."""
    match = SECONDS.fullmatch(str(text).strip().lower())
    if not match or int(match.group(1)) > MAX_SECONDS[field]:
        raise ValueError(f"is not a whole number of seconds from 1 to {MAX_SECONDS[field]}")
    return int(match.group(1))


PARSERS = {
    "body_size": body_size,
    "read_timeout": lambda text: seconds(text, "read_timeout"),
    "connect_timeout": lambda text: seconds(text, "connect_timeout"),
}


def proxy_settings(values):
    """values: an app's config values (only PIER_PROXY_* keys are read). Returns ({route field: parsed value},
    [problem, ...]); a field with a bad value is left out so that the default applies."""
    settings, problems = {}, []
    for key, field in KEYS.items():
        text = values.get(key)
        if text is None:
            continue
        try:
            settings[field] = PARSERS[field](text)
        except ValueError as exc:
            problems.append(f"{key}={str(text)[:40]!r} {exc}; using the platform default")
    return settings, problems


def checked(settings, owner):
    """The route's proxy settings, refusing anything that is not already in parsed form."""
    for field, value in settings.items():
        if field not in PARSERS or str(value) != str(PARSERS[field](value)):
            raise ValueError(f"proxy setting {field}={value!r} of {owner}")
    return settings
