"""Names and values checked at the edge. Each returns the clean value or raises ValueError(message)."""
import ipaddress
import re

import idna

from core import proxy

APP_ID = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
PROCESS_TYPE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CONFIG_KEY = re.compile(r"^[a-z_]+[a-z0-9_]*$", re.IGNORECASE)
MEMORY = re.compile(r"^(0|[0-9]+(MB|KB|GB|[BKMG]))(/[0-9]+(MB|KB|GB|[BKMG]))?$", re.IGNORECASE)
CPU = re.compile(r"^([0-9]*\.?[0-9]+m?)(/[0-9]*\.?[0-9]+m?)?$")
TAG_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
TAG_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
LABEL_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
KEY_ID = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")
USERNAME = re.compile(r"^[\w.@+-]{1,150}$")
DIGITS = re.compile(r"^[0-9]+$")
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

APP_ID_RULE = ("App name must start with a letter, cannot end with a hyphen, and can only contain "
               "a-z (lowercase), 0-9 and hyphens, 63 characters at most.")
INTEGER_HEALTHCHECK_KEYS = ("HEALTHCHECK_PORT", "HEALTHCHECK_INITIAL_DELAY", "HEALTHCHECK_TIMEOUT",
                            "HEALTHCHECK_PERIOD_SECONDS", "HEALTHCHECK_SUCCESS_THRESHOLD",
                            "HEALTHCHECK_FAILURE_THRESHOLD")


ALWAYS_RESERVED = ("localhost",)  # whatever PIER_RESERVED_NAMES says: <app>.<domain> must never mean the host


def app_id(value, reserved=()):
    if not isinstance(value, str) or len(value) > 63 or not APP_ID.fullmatch(value):
        raise ValueError(APP_ID_RULE)
    if value in reserved or value in ALWAYS_RESERVED:
        raise ValueError(f"{value} is a reserved name.")
    return value


def process_type(value):
    if not isinstance(value, str) or len(value) > 63 or not PROCESS_TYPE.fullmatch(value):
        raise ValueError(f"Process types can only contain lowercase alphanumerics and hyphens, "
                         f"not {value!r}.")
    return value


def config_key(value):
    if not CONFIG_KEY.fullmatch(value) or len(value) > 255:
        raise ValueError(f"Config keys must start with a letter or underscore and contain only letters, "
                         f"digits and underscores, not {value!r}.")
    return value


def config_value(key, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{key}: values must be strings or numbers.")
    text = str(value)
    if "\x00" in text:
        raise ValueError(f"{key}: values cannot contain NUL characters.")
    if key == "PORT" and (not DIGITS.fullmatch(text) or not 1 <= int(text) <= 65535):
        raise ValueError("PORT must be a number from 1 to 65535.")
    if key in INTEGER_HEALTHCHECK_KEYS and not DIGITS.fullmatch(text):
        raise ValueError(f"{key} must be a whole number.")
    if key == "HEALTHCHECK_URL" and not text.startswith("/"):
        raise ValueError("HEALTHCHECK_URL must be a path starting with /.")
    if key in proxy.KEYS:  # these reach the router's nginx configuration
        try:
            proxy.PARSERS[proxy.KEYS[key]](text)
        except ValueError as exc:
            raise ValueError(f"{key} {exc}.") from None
    return text


def memory(value):
    if not isinstance(value, str) or not MEMORY.fullmatch(value):
        raise ValueError("Memory limit format: <number><unit> or <request>/<limit>, where unit = B, K, M, G "
                         "(or KB, MB, GB), e.g. 512M or 256M/512M.")
    return value.upper()


def cpu(value):
    if not isinstance(value, str) or not CPU.fullmatch(value):
        raise ValueError("CPU limit format: <value> or <value>m, or <request>/<limit>, e.g. 500m or "
                         "100m/1000m.")
    return value


def tag(key, value):
    if not TAG_KEY.fullmatch(key) or len(key) > 253:
        raise ValueError(f"Invalid tag name {key!r}.")
    if not isinstance(value, str) or not TAG_VALUE.fullmatch(value):
        raise ValueError(f"Invalid tag value for {key}: use at most 63 letters, digits, '-', '_' or '.', "
                         "starting and ending with a letter or digit.")
    return value


def label_name(value, what="name"):
    if not isinstance(value, str) or not LABEL_NAME.fullmatch(value):
        raise ValueError(f"The {what} must be lowercase letters, digits and hyphens, starting and ending "
                         "with a letter or digit, 63 characters at most.")
    return value


def key_id(value):
    if not isinstance(value, str) or not KEY_ID.fullmatch(value):
        raise ValueError("Key ids are 1 to 128 letters, digits or any of _ . @ + -.")
    return value


def username(value):
    if not isinstance(value, str) or not USERNAME.fullmatch(value):
        raise ValueError("Usernames are 1 to 150 letters, digits or any of @ . + - _.")
    return value


def hostname(value):
    """A domain in its ASCII (punycode) form; `*.` may lead, a bare `*` may not."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Hostname must be a non-empty string.")
    text = value.strip().rstrip(".").lower()
    if text == "*":
        raise ValueError("Hostname can't only be a wildcard.")
    wildcard = text.startswith("*.")
    body = text[2:] if wildcard else text
    try:
        ascii_name = idna.encode(body, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"Hostname does not look valid: {exc}.") from None
    labels = ascii_name.split(".")
    if "*" in ascii_name or not all(HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError("Hostname does not look valid.")
    if labels[-1].isdigit():
        raise ValueError("Hostname's last label must not be all digits (IP addresses are not domains).")
    result = ("*." if wildcard else "") + ascii_name
    if len(result) > 253:
        raise ValueError("Hostname must be 253 characters or fewer.")
    return result


def address(value):
    """An IPv4/IPv6 address or CIDR block, in its canonical text."""
    if not isinstance(value, str):
        raise ValueError("Addresses must be strings.")
    if "%" in value:
        raise ValueError(f"{value!r}: IPv6 zone ids are not allowed.")
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IP address or CIDR block.") from None
    if network.num_addresses == 1 and "/" not in value:
        return str(network.network_address)
    return str(network)
