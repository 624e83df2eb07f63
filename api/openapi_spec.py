"""The API's OpenAPI 3.0 document, served at /v2/openapi.json. One entry per route of the Flask app;
tests/integration/test_openapi.py fails when a route has no entry here (or an entry has no route)."""
import copy
import functools
import re

from api.openapi_components import (
    BODIES,
    ERROR_RESPONSES,
    QUERY_PARAMETERS,
    VERSION_HEADERS,
    array,
    components,
    integer,
    json_response,
    nullable,
    obj,
    paginated,
    path_parameter,
    ref,
    string,
)
from core.settings import VERSION

TOKEN = [{"token": []}]
TOKEN_OPTIONAL = [{}, {"token": []}]
BUILDER = [{"builderKey": []}]
METRICS = [{"metricsToken": []}]
ANONYMOUS = []
APP = "401 403 404"
PAGE = ("limit", "offset")

TAGS = {
    "auth": "Users and tokens", "apps": "Apps, logs, one-off commands and scaling", "pods": "Process containers",
    "config": "Environment, limits, tags, registry credentials, healthchecks", "builds": "Images deployed",
    "releases": "Release history and rollback", "domains": "Custom domains", "routing": "Router-facing settings",
    "perms": "Collaborators and administrators", "certs": "TLS certificates", "keys": "SSH keys",
    "operations": "Long jobs (Pier extension)", "hooks": "Builder callbacks (builder key, not a user token)",
    "health": "Probes outside /v2", "meta": "This document",
    "metrics": "The controller's metrics, for Prometheus (outside /v2)",
    "backups": "The platform database's backups (administrators; Pier extension)",
    "gc": "Garbage collection of old builds' images, slugs and sources (administrators; Pier extension)",
}


def body(name, required=True, override=None):
    """A JSON request body; `override` changes the named schema for this one operation."""
    schema = {**BODIES[name], **override} if override else ref(name)
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def json(status, description, schema):
    return {status: json_response(description, schema)}


def empty(status, description):
    return {status: {"description": description, "headers": VERSION_HEADERS}}


def text(status, description):
    return {status: {"description": description, "headers": VERSION_HEADERS,
                     "content": {"text/plain": {"schema": string()}}}}


def accepted():
    return {"202": json_response("the job was queued (Prefer: respond-async, or it outlasted PIER_SYNC_TIMEOUT)",
                                 ref("Operation"), {"Location": {"description": "/v2/operations/{uuid}",
                                                                 "schema": string()}})}


def op(summary, tag, responses, errors="", request=None, query=(), security=None, job=False):
    """One operation. `errors` lists error statuses ("400 401"); `job` marks a long job done by a worker."""
    operation = {"tags": [tag], "summary": summary}
    parameters = [QUERY_PARAMETERS[name] for name in query] + ([QUERY_PARAMETERS["prefer"]] if job else [])
    if parameters:
        operation["parameters"] = parameters
    if request is not None:
        operation["requestBody"] = request
    operation["responses"] = {**responses, **(accepted() if job else {}),
                              **{code: ref(ERROR_RESPONSES[code][0], "responses") for code in errors.split()}}
    if security is not None:
        operation["security"] = security
    return operation


def listing(summary, tag, item, errors=APP):
    return op(summary, tag, json("200", "a page of results", paginated(ref(item))), "400 " + errors, query=PAGE)


def show(summary, tag, schema, errors=APP):
    return op(summary, tag, json("200", summary, schema), errors)


def remove(summary, tag, errors=APP, **kw):
    return op(summary, tag, empty("204", "removed"), errors, **kw)


def _auth_routes():
    token = "/v2/auth/tokens/"
    return [
        ("/v2/auth/register", "post", op("Register a user; the first one becomes an administrator", "auth",
                                         json("201", "the new user", ref("User")), "400 401 403 429",
                                         body("Register"), security=TOKEN_OPTIONAL)),
        ("/v2/auth/login/", "post", op("Exchange a username and password for a token", "auth",
                                       json("200", "a new token", ref("Token")), "400 401 429", body("Login"),
                                       security=ANONYMOUS)),
        ("/v2/auth/cancel", "delete", remove("Delete your account (an administrator may name another one)", "auth",
                                             "400 401 403 404 409", request=body("Cancel", required=False))),
        ("/v2/auth/whoami", "get", show("The calling user", "auth", ref("User"), "401")),
        (token, "post", op("Regenerate a token; an administrator may name a user or rotate all",
                           "auth", json("200", 'the new token, or "" after rotating all of them',
                                        {"oneOf": [ref("Token"), string(enum=[""])]}),
                           "400 401 403 404", body("RegenerateToken", required=False))),
        (token, "get", listing("List your tokens (never their keys), newest first", "auth", "TokenInfo", "401")),
        (token + "{token_id}", "delete", remove("Revoke one of your tokens", "auth", "401 404")),
        ("/v2/auth/passwd", "post", op("Change a password; revokes every token of the user", "auth",
                                       json("200", "password set; `token` (a new one) when you changed your own",
                                            obj({"status": string(), "token": string()}, required=["status"])),
                                       "400 401 403 404", body("ChangePassword"))),
        ("/v2/users", "get", listing("List every user (administrators only)", "auth", "User", "401 403")),
    ]


def _app_routes(app):
    return [
        ("/v2/apps", "get", listing("List the apps you own or share (administrators: all)", "apps", "App", "401")),
        ("/v2/apps", "post", op("Create an app (random name when id is omitted)", "apps",
                                json("201", "the new app", ref("App")), "400 401 409",
                                body("CreateApp", required=False))),
        (app, "get", show("An app", "apps", ref("App"))),
        (app, "post", op("Transfer an app to another owner", "apps", empty("200", "transferred"), "400 " + APP,
                         body("TransferApp"))),
        (app, "delete", remove("Destroy an app (not collaborators)", "apps", "400 409 " + APP, job=True)),
        (app + "/logs", "get", op("Recent log lines; with follow=true, then new ones as they come", "apps",
                                  {**text("200", "lines, oldest first"), **empty("204", "no log lines yet")},
                                  "400 " + APP, query=["log_lines", "follow"])),
        (app + "/run", "post", op("Run a one-off command in a container of the current release", "apps",
                                  json("200", "the command's result",
                                       obj({"exit_code": integer(), "output": string()}, required=True)),
                                  "400 " + APP, body("RunCommand"), job=True)),
        (app + "/scale", "post", op("Set replica counts per process type", "apps", empty("204", "scaled"),
                                    "400 409 " + APP, body("Scale"), job=True)),
    ]


def _pod_routes(app):
    pods = json("200", "pods", ref("PodList"))
    restarted = json("200", "the restarted pods", array(ref("Pod")))
    return [
        (app + "/pods", "get", op("List pods", "pods", pods, "503 " + APP)),
        (app + "/pods/{kind}", "get", op("List the pods of one process type", "pods", pods, "503 " + APP)),
        (app + "/pods/{kind}/{name}", "get", op("One pod", "pods", pods, "503 " + APP)),
        (app + "/pods/restart", "post", op("Restart every pod", "pods", restarted, "400 " + APP, job=True)),
        (app + "/pods/{kind}/restart", "post", op("Restart the pods of one process type", "pods", restarted,
                                                  "400 " + APP, job=True)),
        (app + "/pods/{kind}/{name}/restart", "post", op("Restart one pod", "pods", restarted, "400 " + APP,
                                                         job=True)),
    ]


def _release_routes(app):
    return [
        (app + "/config", "get", show("The config of the latest good release", "config", ref("Config"))),
        (app + "/config", "post", op("Change config; makes a release, deployed once a build exists", "config",
                                     json("201", "the new config", ref("Config")), "400 409 422 " + APP,
                                     body("ConfigChanges"), job=True)),
        (app + "/builds", "get", listing("List builds, newest first", "builds", "Build")),
        (app + "/builds", "post", op("Deploy an existing Docker image", "builds",
                                     json("201", "the new build", ref("Build")), "400 409 " + APP,
                                     body("NewBuild"), job=True)),
        (app + "/builds/{build_uuid}", "get", show("A build", "builds", ref("Build"))),
        (app + "/releases", "get", listing("Release history, newest first", "releases", "Release")),
        (app + "/releases/v{version}", "get", show("A release", "releases", ref("Release"))),
        (app + "/releases/rollback", "post", op("Roll back: a new release with an older one's build and config",
                                                "releases", json("201", "the new release's version",
                                                                 obj({"version": integer()}, required=True)),
                                                "400 409 " + APP, body("Rollback", required=False), job=True)),
    ]


def _routing_routes(app):
    addresses = ref("Addresses")
    return [
        (app + "/domains", "get", listing("List the app's domains", "domains", "Domain")),
        (app + "/domains", "post", op("Add a domain", "domains", json("201", "the new domain", ref("Domain")),
                                      "400 409 " + APP, body("NewDomain"))),
        (app + "/domains/{name}", "delete", remove("Remove a domain", "domains")),
        (app + "/settings", "get", show("Router settings", "routing", ref("Settings"))),
        (app + "/settings", "post", op("Change router settings", "routing",
                                       json("201", "the new settings", ref("Settings")), "400 409 422 " + APP,
                                       body("SettingsChanges"))),
        (app + "/whitelist", "get", show("The IP allow-list", "routing", addresses)),
        (app + "/whitelist", "post", op("Add addresses to the allow-list", "routing",
                                        json("201", "the allow-list", addresses), "400 " + APP,
                                        body("AddressList"))),
        (app + "/whitelist", "delete", remove("Remove addresses from the allow-list", "routing", "400 422 " + APP,
                                              request=body("AddressList"))),
        (app + "/tls", "get", show("TLS settings", "routing", ref("TLS"))),
        (app + "/tls", "post", op("Enforce HTTPS, or stop", "routing", json("201", "the new TLS settings", ref("TLS")),
                                  "400 409 " + APP, body("TLSChange"))),
    ]


def _perm_routes(app):
    return [
        (app + "/perms", "get", show("The app's collaborators (not its owner)", "perms", ref("Collaborators"))),
        (app + "/perms", "post", op("Share the app with a user (owner or administrator)", "perms",
                                    empty("201", "shared"), "400 " + APP, body("Username"))),
        (app + "/perms/{username}", "delete", remove("Stop sharing the app with a user", "perms")),
        ("/v2/admin/perms", "get", listing("List administrators", "perms", "Admin", "401 403")),
        ("/v2/admin/perms", "post", op("Make a user an administrator", "perms",
                                       json("201", "the new administrator", ref("Admin")), "400 401 403 404",
                                       body("Username"))),
        ("/v2/admin/perms/{username}", "delete", remove("Take a user's administrator rights", "perms")),
    ]


def _cert_routes():
    cert = "/v2/certs/{name}"
    attached = json("201", "the certificate", ref("Certificate"))
    return [
        ("/v2/certs", "get", listing("List certificates (yours; administrators: all)", "certs", "Certificate",
                                     "401")),
        ("/v2/certs", "post", op("Upload a certificate and its key", "certs",
                                 json("201", "the certificate", ref("Certificate")), "400 401 409",
                                 body("NewCertificate"))),
        (cert, "get", show("A certificate", "certs", ref("Certificate"), "401 404")),
        (cert, "delete", remove("Delete a certificate", "certs", "401 404")),
        (cert + "/domain/", "post", op("Attach the certificate to a domain", "certs", attached,
                                       "400 409 " + APP, body("AttachDomain", override={"required": ["domain"]}))),
        (cert + "/domain/{domain_name}", "post", op("Attach the certificate to the domain in the URL", "certs",
                                                    attached, "400 409 " + APP,
                                                    body("AttachDomain", required=False))),
        (cert + "/domain/{domain_name}", "delete", remove("Detach the certificate from a domain", "certs")),
    ]


def _other_routes():
    key = "/v2/keys/{key_id}"
    return [
        ("/v2/keys", "get", listing("List your SSH keys", "keys", "Key", "401")),
        ("/v2/keys", "post", op("Add an SSH key", "keys", json("201", "the new key", ref("Key")), "400 401",
                                body("NewKey"))),
        (key, "get", show("One of your SSH keys", "keys", ref("Key"), "401 404")),
        (key, "delete", remove("Remove one of your SSH keys", "keys", "401 404")),
        ("/v2/backups", "get", op("The database's backups, as the workers last listed them", "backups", json(
            "200", "the backups, the listing's error and time", obj({
                "count": integer(), "next": nullable(string()), "previous": nullable(string()),
                "results": array(ref("Backup")), "error": nullable(string()), "observed": nullable(string())},
                required=True)), "401 403")),
        ("/v2/backups", "post", op("Take a backup of the database now, as an operation", "backups", json(
            "201", "the backup taken (or why it was skipped)", {"type": "object"}), "400 401 403 409",
            body("NewBackup", required=False), job=True)),
        ("/v2/gc", "post", op("Collect old builds now (PIER_RETENTION_RELEASES), as an operation", "gc", json(
            "201", "what was freed: registry manifests, storage keys and bytes, engine images and bytes, the "
            "registry's sweep", {"type": "object"}), "400 401 403 409", job=True)),
        ("/v2/operations/{operation_id}", "get", show("A long job's state", "operations", ref("Operation"),
                                                      "401 404")),
        ("/healthz", "get", op("Liveness probe", "health", text("200", "OK"), security=ANONYMOUS)),
        ("/readiness", "get", op("Readiness: the database and the broker answer", "health",
                                 {**text("200", "OK"), **text("503", "what is not ready")}, security=ANONYMOUS)),
        ("/v2/openapi.json", "get", op("This document", "meta", json("200", "OpenAPI 3.0", {"type": "object"}),
                                       "401", security=ANONYMOUS)),
        ("/metrics", "get", op("Requests by route rule and status, and their latency, in Prometheus' text format "
                               "(404 while PIER_METRICS_TOKEN is unset)", "metrics",
                               text("200", "the metrics"), "401 404", security=METRICS)),
    ]


def _hook_routes():
    keys = json("200", "username -> SSH keys", ref("BuilderKeys"))
    return [
        ("/v2/hooks/key/{fingerprint}", "get", op(
            "The user owning an SSH key, and the apps they may push to", "hooks",
            json("200", "the key's user", obj({"username": string(), "apps": array(string()),
                                               "app_uuids": {"type": "object", "additionalProperties": string()}},
                                              required=True)),
            "401 403 404 429", security=BUILDER)),
        ("/v2/hooks/apps", "get", op("Every app's uuid by id, for the builder's sweep of gone apps' repositories",
                                     "hooks", json("200", "the apps", obj({"apps": {
                                         "type": "object", "additionalProperties": string()}}, required=True)),
                                     "401 403", security=BUILDER)),
        ("/v2/hooks/operations/{operation_id}", "get", op("A deploy's operation, followed by the builder", "hooks",
                                                          json("200", "the operation", ref("Operation")),
                                                          "401 403 404", security=BUILDER)),
        ("/v2/hooks/keys/{app_id}", "get", op("The SSH keys of everyone who may push to an app", "hooks", keys,
                                              "401 403 404", security=BUILDER)),
        ("/v2/hooks/keys/{app_id}/{username}", "get", op("One user's SSH keys, if they may push to the app",
                                                         "hooks", keys, "401 403 404", security=BUILDER)),
        ("/v2/hooks/config", "post", op("The app's config, at the start of a build", "hooks",
                                        json("200", "the config", ref("Config")), "400 401 403 404",
                                        body("HookConfig"), security=BUILDER)),
        ("/v2/hooks/build", "post", op("Record a finished build, make a release and deploy it", "hooks", json(
            "200", "the new release (with `Prefer: respond-async`: 202, the release and its deploy's operation)",
            obj({"release": obj({"version": integer()}, required=True)}, required=True)),
            "400 401 403 404 409", body("HookBuild"), security=BUILDER, job=True)),
    ]


def routes():
    app = "/v2/apps/{app_id}"
    return (_auth_routes() + _app_routes(app) + _pod_routes(app) + _release_routes(app) + _routing_routes(app)
            + _perm_routes(app) + _cert_routes() + _other_routes() + _hook_routes())


def parameter_kind(path, name):
    """Which kind of value a path parameter holds; `name` means different things under different paths."""
    if name == "name":
        return "cert" if path.startswith("/v2/certs") else "pod" if "/pods/" in path else "domain"
    return "domain" if name == "domain_name" else name


def path_parameters(path):
    return [path_parameter(parameter_kind(path, name), name) for name in re.findall(r"{(\w+)}", path)]


def operation_id(method, path):
    words = re.findall(r"[a-z0-9]+", path.replace("/v2/", "/").lower())
    return method + "".join(word.capitalize() for word in words)


@functools.cache
def _build():
    paths = {}
    for path, method, operation in routes():
        item = paths.setdefault(path, {})
        if method in item:
            raise ValueError(f"{method.upper()} {path} is documented twice")
        item[method] = {"operationId": operation_id(method, path), **operation}
    for path, item in paths.items():
        parameters = path_parameters(path)
        for operation in item.values():
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if path.startswith("/v2/") and (parameters or query):
                # a NUL (%00) anywhere in the URL is refused before any lookup
                operation["responses"].setdefault("400", ref(ERROR_RESPONSES["400"][0], "responses"))
        if parameters:
            item["parameters"] = parameters
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pier controller API", "version": VERSION,
                 "description": "Deis Workflow v2.3 compatible REST API, with Pier's extensions "
                                "(asynchronous operations). The contract in prose is API.md."},
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": description} for name, description in TAGS.items()],
        "security": TOKEN,
        "paths": paths,
        "components": components(),
    }


def build_spec():
    """The OpenAPI document as a fresh dict (callers may change it)."""
    return copy.deepcopy(_build())
