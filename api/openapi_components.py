"""Reusable parts of the OpenAPI document: object shapes, request bodies, parameters and error responses."""
from core.config_changes import PROBE_SCHEMA
from core.services.operations import KINDS


def ref(name, kind="schemas"):
    return {"$ref": f"#/components/{kind}/{name}"}


def string(**extra):
    return {"type": "string", **extra}


def integer(**extra):
    return {"type": "integer", **extra}


def boolean(**extra):
    return {"type": "boolean", **extra}


def nullable(schema):
    return {**schema, "nullable": True}


def array(items, **extra):
    return {"type": "array", "items": items, **extra}


def map_of(values, **extra):
    return {"type": "object", "additionalProperties": values, **extra}


def obj(properties, required=(), closed=False, **extra):
    """An object; `required=True` means every property. `closed` rejects unknown fields, as the view does."""
    schema = {"type": "object", "properties": properties, **extra}
    names = list(properties) if required is True else list(required)
    if names:
        schema["required"] = names
    if closed:
        schema["additionalProperties"] = False
    return schema


def paginated(item):
    return obj({"count": integer(minimum=0), "next": nullable(string()), "previous": nullable(string()),
                "results": array(item)}, required=True)


INT32_MAX = 2 ** 31 - 1  # PostgreSQL integer columns: versions, offsets
WHEN = string(format="date-time", description="UTC, formatted as %Y-%m-%dT%H:%M:%SZ")
UUID = string(format="uuid")
OWNER = nullable(string(description="username; null once the author's account is cancelled"))
TEXT_MAP = map_of(string())


def audited(**fields):
    """The common frame of an app's records: uuid, app, owner, the record's fields, created, updated."""
    return obj({"uuid": UUID, "app": string(), "owner": OWNER, **fields, "created": WHEN, "updated": WHEN},
               required=True)


# the bound of min and max is a setting of the server (PIER_MAX_REPLICAS), so the document states no maximum
AUTOSCALE_RULE = obj({"min": integer(minimum=1), "max": integer(minimum=1),
                      "cpu_percent": integer(minimum=1, maximum=100)}, required=True, closed=True,
                      description="1 <= min <= max <= PIER_MAX_REPLICAS, a setting of the server (100 unless "
                                  "set); a larger max, or min above max, answers 400. cpu_percent: the CPU "
                                  "utilization aimed at, in percent of each process's CPU request.")
HEALTHCHECK = obj({"livenessProbe": ref("Probe"), "readinessProbe": ref("Probe")}, closed=True,
                  minProperties=1)
PROCFILE = map_of(string(minLength=1), description="process type -> command")

OBJECTS = {
    "App": obj({"uuid": UUID, "id": string(), "owner": string(), "structure": map_of(integer(minimum=0)),
                "created": WHEN, "updated": WHEN}, required=True),
    "Config": audited(values=TEXT_MAP, memory=TEXT_MAP, cpu=TEXT_MAP, tags=TEXT_MAP, registry=TEXT_MAP,
                      healthcheck=map_of(HEALTHCHECK)),
    "Build": audited(image=string(), sha=string(), procfile=TEXT_MAP, dockerfile=string()),
    "Release": audited(version=integer(minimum=1), build=nullable(UUID), config=UUID, summary=string(),
                       failed=boolean(), state=string(enum=["pending", "deployed", "failed", "superseded"]),
                       exception=nullable(string())),
    "Domain": obj({"app": string(), "owner": OWNER, "domain": string(), "created": WHEN, "updated": WHEN},
                  required=True),
    "Settings": audited(maintenance=boolean(), routable=boolean(), whitelist=array(string()),
                        autoscale=map_of(AUTOSCALE_RULE), label=TEXT_MAP),
    "TLS": audited(https_enforced=boolean()),
    "Key": obj({"uuid": UUID, "id": string(), "owner": string(), "public": string(), "fingerprint": string(),
                "created": WHEN, "updated": WHEN}, required=True),
    "Certificate": obj({"id": integer(), "name": string(), "owner": OWNER, "common_name": string(),
                        "san": array(string()), "domains": array(string()), "fingerprint": string(),
                        "issuer": string(), "subject": string(), "starts": WHEN, "expires": WHEN,
                        "created": WHEN, "updated": WHEN,
                        "problem": nullable(string(description="Pier extension: why the router leaves the "
                                                   "domains of this certificate out, in nginx's words (its "
                                                   "last verdict, kept after a detach); null: none known"))},
                       required=True),
    "User": obj({"id": integer(), "username": string(), "email": string(), "first_name": string(),
                 "last_name": string(), "is_superuser": boolean(), "is_staff": boolean(), "is_active": boolean(),
                 "last_login": nullable(WHEN), "date_joined": WHEN, "groups": array(string()),
                 "user_permissions": array(string())}, required=True),
    "Admin": obj({"username": string(), "is_superuser": boolean()}, required=True),
    "Backup": obj({"label": string(), "type": string(enum=["full", "diff", "incr"]), "start": string(),
                   "end": string(), "size": integer(), "repository_size": integer(), "wal_start": string(),
                   "wal_stop": string(), "lsn_start": string(), "lsn_stop": string(),
                   "prior": nullable(string())}, required=True),
    "Operation": obj({"uuid": UUID, "app": nullable(string()),
                      "kind": string(enum=list(KINDS)),
                      "state": string(enum=["pending", "running", "succeeded", "failed"]),
                      "error": nullable(string()), "created": WHEN, "updated": WHEN}, required=True),
    "Pod": obj({"name": string(), "release": string(description="vN"), "started": nullable(WHEN),
                "state": string(description="up, down, crashed, starting..."), "type": string()},
               required=["name", "type", "state"]),
    "PodList": obj({"count": integer(minimum=0), "results": array(ref("Pod"))}, required=True),
    "Token": obj({"token": string()}, required=True),
    "TokenInfo": obj({"id": integer(), "created": WHEN,
                      "expires": nullable({**WHEN, "description": "created + PIER_TOKEN_TTL; null: never"}),
                      "last_used": nullable({**WHEN, "description": "to the minute; null: not used yet"}),
                      "current": boolean(description="the token this request was sent with")}, required=True),
    "Addresses": obj({"addresses": array(string())}, required=True),
    "Collaborators": obj({"users": array(string())}, required=True),
    "BuilderKeys": map_of(array(obj({"key": string(), "fingerprint": string()}, required=True)),
                      description="username -> that user's SSH keys"),
    "Probe": PROBE_SCHEMA,
    "Error": obj({"detail": string(), "request_id": string()}, required=["detail"]),
    "BadRequest": map_of({"anyOf": [string(), array(string()), {"type": "object"}]}, minProperties=1,
                         description='{"detail": "..."} or field errors: {"field": ["message", ...]}'),
    "NotFound": string(description="the message itself, e.g. \"No App matches the given query.\""),
}

NEW_PASSWORD = ("at least PIER_PASSWORD_MIN_LENGTH characters (8 by default), not one of the 30,000 most common "
                "passwords, not the username")
RECEIVE = {"receive_user": string(minLength=1, maxLength=150), "receive_repo": string(minLength=1, maxLength=63)}
BUILD_FIELDS = {"procfile": PROCFILE, "sha": string(maxLength=40), "dockerfile": string(maxLength=1024 * 1024)}
CONFIG_MAP = {
    "values": map_of(nullable({"anyOf": [string(), {"type": "number"}]}), description="env vars; null unsets"),
    "memory": map_of(nullable(string()), description="process type -> 512M or 256M/512M; null unsets"),
    "cpu": map_of(nullable(string()), description="process type -> 500m or 100m/1000m; null unsets"),
    "tags": map_of(nullable(string()), description="node label -> value; null unsets"),
    "registry": obj({"username": nullable(string(minLength=1)), "password": nullable(string(minLength=1))},
                    closed=True, description="private registry credentials; PORT must be set too"),
    "healthcheck": map_of(nullable(HEALTHCHECK), description="process type -> probes; null unsets"),
}

BODIES = {
    "CreateApp": obj({"id": string(minLength=1, maxLength=63)}, closed=True),
    "TransferApp": obj({"owner": string(minLength=1, maxLength=150)}, required=True, closed=True),
    "RunCommand": obj({"command": string(minLength=1, maxLength=64 * 1024)}, required=True, closed=True),
    "Scale": map_of(integer(minimum=0, maximum=1000), description="process type -> replicas"),
    "NewBuild": obj({"image": string(minLength=1, maxLength=1024, pattern=r"^\S+$"), **BUILD_FIELDS},
                    required=["image"], closed=True),
    "ConfigChanges": obj({name: nullable(schema) for name, schema in CONFIG_MAP.items()}, closed=True),
    "NewDomain": obj({"domain": string(minLength=1, maxLength=253)}, required=True, closed=True),
    "Rollback": obj({"version": integer(minimum=-INT32_MAX, maximum=INT32_MAX,
                                        description="default: the current version - 1")}, closed=True),
    "SettingsChanges": obj({"maintenance": nullable(boolean()), "routable": nullable(boolean()),
                            "autoscale": nullable(map_of(nullable(AUTOSCALE_RULE))),
                            "label": nullable(map_of(nullable(string())))}, closed=True),
    "AddressList": obj({"addresses": array(string(), minItems=1)}, required=True, closed=True),
    "TLSChange": obj({"https_enforced": boolean()}, required=True, closed=True),
    "Username": obj({"username": string(minLength=1, maxLength=150)}, required=True, closed=True),
    "Register": obj({"username": string(pattern=r"^[\w.@+-]{1,150}$"),
                     "password": string(minLength=1, maxLength=1024, description=NEW_PASSWORD),
                     "email": string(format="email", maxLength=254),
                     "first_name": string(maxLength=150), "last_name": string(maxLength=150)},
                    required=["username", "password", "email"], closed=True),
    "Login": obj({"username": string(maxLength=150), "password": string(minLength=1, maxLength=1024)},
                 required=True, closed=True),
    "Cancel": obj({"username": string(maxLength=150)}, closed=True),
    "RegenerateToken": obj({"username": string(maxLength=150), "all": boolean()}, closed=True),
    "ChangePassword": obj({"username": string(maxLength=150), "password": string(maxLength=1024),
                           "new_password": string(minLength=1, maxLength=1024, description=NEW_PASSWORD)},
                          required=["new_password"], closed=True),
    "NewCertificate": obj({"name": string(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                                          description="`default` is reserved for the platform's certificate"),
                           "certificate": string(description="PEM: the server's certificate first, then each "
                                                             "issuer after the certificate it signed"),
                           "key": string(description="PEM, unencrypted")},
                          required=True, closed=True,
                          description="Refused (400) unless nginx would serve it: RSA or DSA keys of 2048 bits "
                                      "or more, EC keys on P-256, P-384 or P-521, or Ed25519; no MD5 or SHA-1 "
                                      "signatures; the key matching the first certificate; the chain in order; "
                                      "not expired."),
    "AttachDomain": obj({"domain": string(minLength=1)}, description="the domain; optional when it is in the URL"),
    "NewBackup": obj({"type": string(enum=["full", "diff", "incr"])}, closed=True),
    "NewKey": obj({"id": string(pattern=r"^[A-Za-z0-9_.@+-]{1,128}$"),
                   "public": string(description="one OpenSSH public key line")}, required=True, closed=True),
    "HookConfig": obj(RECEIVE, required=True, closed=True),
    "HookBuild": obj({**RECEIVE, "image": string(minLength=1, maxLength=1024), **BUILD_FIELDS},
                     required=["receive_user", "receive_repo", "image"], closed=True),
}

PARAMETERS = {
    "app_id": ("the app id", string(minLength=1)),
    "build_uuid": ("a build's uuid", UUID),
    "domain": ("a domain, Unicode or ACE form", string(minLength=1)),
    "cert": ("a certificate's name", string(minLength=1)),
    "kind": ("a process type, e.g. web", string(minLength=1)),
    "pod": ("a pod's name", string(minLength=1)),
    "username": ("a username", string(minLength=1)),
    "version": ("a release version (the N of vN)", integer(minimum=0)),
    "key_id": ("an SSH key's name", string(minLength=1)),
    "token_id": ("a token's id, from GET /v2/auth/tokens/", integer(minimum=0, maximum=INT32_MAX)),
    "operation_id": ("an operation's uuid", UUID),
    "fingerprint": ("an SSH key fingerprint: SHA256:... or the legacy MD5 form", string(minLength=1)),
}


def path_parameter(key, name):
    description, schema = PARAMETERS[key]
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


QUERY_PARAMETERS = {
    "limit": {"name": "limit", "in": "query", "schema": integer(minimum=0, maximum=INT32_MAX),
              "description": "page size: 100 by default, 1000 at most"},
    "offset": {"name": "offset", "in": "query", "schema": integer(minimum=0, maximum=INT32_MAX)},
    "log_lines": {"name": "log_lines", "in": "query", "schema": integer(minimum=1, maximum=10000),
                  "description": "how many recent lines (PIER_LOG_LINES, 100 by default)"},
    "follow": {"name": "follow", "in": "query", "schema": boolean(),
               "description": "true: after the history, stream new lines until the client disconnects"},
    "prefer": {"name": "Prefer", "in": "header", "schema": string(enum=["respond-async"]),
               "description": "answer 202 with the operation at once instead of waiting for the job"},
}

VERSION_HEADERS = {
    "DEIS_API_VERSION": {"description": "major.minor, e.g. 2.3", "schema": string()},
    "DEIS_PLATFORM_VERSION": {"description": "e.g. 2.3.0", "schema": string()},
}


def json_response(description, schema, headers=None):
    return {"description": description, "headers": {**VERSION_HEADERS, **(headers or {})},
            "content": {"application/json": {"schema": schema}}}


ERROR_RESPONSES = {
    "400": ("BadRequest", json_response("invalid request, or the job it started failed", ref("BadRequest"))),
    "401": ("Unauthorized", json_response("missing or invalid credentials", ref("Error"), {
        "WWW-Authenticate": {"required": True, "schema": string(enum=["Token"])}})),
    "403": ("Forbidden", json_response("not allowed for this user or key", ref("Error"))),
    "404": ("NotFound", json_response("no such object, or not visible to this user", ref("NotFound"))),
    "409": ("Conflict", json_response("conflicts with the current state", ref("Error"))),
    "422": ("Unprocessable", json_response("unsets something that is not set", ref("Error"))),
    "429": ("TooManyRequests", json_response("too many attempts; wait Retry-After seconds", ref("Error"), {
        "Retry-After": {"required": True, "description": "seconds until the next attempt may succeed",
                        "schema": integer(minimum=1)}})),
    "503": ("Unavailable", json_response("the scheduler is unavailable", ref("Error"))),
}


def components():
    return {
        "schemas": {**OBJECTS, **BODIES},
        "responses": {name: response for name, response in ERROR_RESPONSES.values()},
        "securitySchemes": {
            "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                      "description": "`token <key>`; the key comes from POST /v2/auth/login/"},
            "builderKey": {"type": "apiKey", "in": "header", "name": "X-Deis-Builder-Auth",
                           "description": "the builder's shared key (PIER_BUILDER_KEY), for /v2/hooks only"},
            "metricsToken": {"type": "http", "scheme": "bearer",
                             "description": "`Bearer <PIER_METRICS_TOKEN>`, for /metrics only"},
        },
    }
