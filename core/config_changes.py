"""Validation of config changes: each field maps keys to a value, or to null to unset the key."""
import jsonschema

from core import validators
from core.errors import UnprocessableEntity, ValidationError
from core.models.release import CONFIG_FIELDS

# What reaches an HTTP request line or header when the probe runs: no control characters, so one app's probe
# can never make the check itself fail (for it, or for the apps checked after it).
PROBE_PATH = r"^/[!-~]*$"
PROBE_HOST = r"^[A-Za-z0-9.:\[\]-]{1,253}$"
HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$"
HEADER_VALUE = r"^[\t -~\x80-\uffff]*$"
_PORT = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"type": "string", "minLength": 1}]}
_COMMON = {
    "initialDelaySeconds": {"type": "integer", "minimum": 0},
    "timeoutSeconds": {"type": "integer", "minimum": 1},
    "periodSeconds": {"type": "integer", "minimum": 1},
    "successThreshold": {"type": "integer", "minimum": 1},
    "failureThreshold": {"type": "integer", "minimum": 1},
}
PROBE_SCHEMA = {
    "type": "object",
    "properties": {
        "exec": {"type": "object", "additionalProperties": False, "required": ["command"],
                 "properties": {"command": {"type": "array", "minItems": 1, "items": {"type": "string"}}}},
        "httpGet": {"type": "object", "additionalProperties": False, "required": ["port"], "properties": {
            "path": {"type": "string", "pattern": PROBE_PATH}, "port": _PORT,
            "host": {"type": "string", "pattern": PROBE_HOST},
            "scheme": {"enum": ["HTTP", "HTTPS"]},
            "httpHeaders": {"type": "array", "items": {
                "type": "object", "required": ["name", "value"], "additionalProperties": False,
                "properties": {"name": {"type": "string", "pattern": HEADER_NAME},
                               "value": {"type": "string", "pattern": HEADER_VALUE}}}}}},
        "tcpSocket": {"type": "object", "additionalProperties": False, "required": ["port"],
                      "properties": {"port": _PORT}},
        **_COMMON,
    },
    "additionalProperties": False,
    "oneOf": [{"required": ["exec"]}, {"required": ["httpGet"]}, {"required": ["tcpSocket"]}],
}
PROBE_NAMES = ("livenessProbe", "readinessProbe")


def _check_probe(proc, name, probe):
    try:
        jsonschema.validate(probe, PROBE_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or name
        raise ValueError(f"{proc} {name}: {where}: {exc.message}") from None
    if name == "livenessProbe" and probe.get("successThreshold", 1) != 1:
        raise ValueError(f"{proc} livenessProbe: successThreshold must be 1.")
    return probe


def _check_healthcheck(proc, value):
    validators.process_type(proc)
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{proc}: a healthcheck is an object with livenessProbe and/or readinessProbe.")
    unknown = set(value) - set(PROBE_NAMES)
    if unknown:
        raise ValueError(f"{proc}: unknown probe {', '.join(sorted(unknown))}; use livenessProbe or "
                         "readinessProbe.")
    return {name: _check_probe(proc, name, probe) for name, probe in value.items()}


def _check_registry(key, value):
    if key not in ("username", "password"):
        raise ValueError(f"Unknown registry key {key!r}: use username and password.")
    if not isinstance(value, str) or not value:
        raise ValueError(f"registry {key} must be a non-empty string.")
    return value


CHECKS = {
    "values": lambda k, v: validators.config_value(validators.config_key(k), v),
    "memory": lambda k, v: validators.memory(v) if validators.process_type(k) else None,
    "cpu": lambda k, v: validators.cpu(v) if validators.process_type(k) else None,
    "tags": validators.tag,
    "registry": _check_registry,
    "healthcheck": _check_healthcheck,
}


def parse_changes(body):
    """Validates a config POST body; returns {field: function(old map) -> new map}."""
    if not isinstance(body, dict):
        raise ValidationError("Expected a JSON object in the request body.")
    unknown = set(body) - set(CONFIG_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    errors, changes = {}, {}
    for name in CONFIG_FIELDS:
        if name not in body or body[name] is None:
            continue
        updates = body[name]
        if not isinstance(updates, dict):
            errors[name] = ["Expected an object of keys to values."]
            continue
        clean = {}
        for key, value in updates.items():
            if value is None:
                clean[key] = None
                continue
            try:
                clean[key] = CHECKS[name](key, value)
            except ValueError as exc:
                errors.setdefault(name, []).append(str(exc))
        changes[name] = _merger(name, clean)
    if errors:
        raise ValidationError(errors)
    return changes


def _merger(name, updates):
    def merge(old):
        missing = sorted(k for k, v in updates.items() if v is None and k not in old)
        if missing and name != "values":
            raise UnprocessableEntity(f"{', '.join(missing)} does not exist under {name}")
        merged = dict(old)
        for key, value in updates.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged
    return merge


def check_merged(config):
    """Rules across fields, checked on the config a change would produce."""
    if config["registry"] and "PORT" not in config["values"]:
        raise ValidationError({"registry": ["PORT must also be set in values when registry credentials are "
                                            "used (e.g. config:set PORT=5000)."]})
