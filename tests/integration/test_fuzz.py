"""Property-based fuzzing of every documented operation with schemathesis, in-process over WSGI.

Each operation gets its own test: requests generated from the OpenAPI document (its examples, boundary
values and random data) are sent as an administrator, about half of them aimed at an app that exists.
No answer may be a 5xx, and status codes, content types and bodies must be the documented ones.
Hand-picked hostile values that the generator seldom reaches follow, checked the same way."""
import re
import time
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.openapi_spec import build_spec
from core.extensions import db
from core.models import Operation

# 503 is documented: with no scheduler configured (PIER_SCHEDULER=none in tests) the pod list says so.
NOT_SERVER_ERRORS = ["2xx", "3xx", "4xx", "503"]
config = schemathesis.Config.from_dict({"checks": {"not_a_server_error": {"expected-statuses": NOT_SERVER_ERRORS}}})
SPEC = build_spec()
schema = schemathesis.openapi.from_dict(SPEC, config=config)

APP_ID = "fuzz-target"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Values that name existing objects; a case uses them when its own values hash to an even number.
KNOWN = {"app_id": APP_ID, "username": "admin", "name": APP_ID, "domain_name": APP_ID, "kind": "web"}


@pytest.fixture
def target(app, admin, worker):
    """An administrator owning one app; waits for jobs the run queued before the tables are emptied."""
    admin.create_app(APP_ID)
    yield admin
    deadline = time.monotonic() + 30
    with app.app_context():
        while time.monotonic() < deadline:
            busy = db.session.execute(db.select(Operation.uuid).where(
                Operation.state.in_(("pending", "running"))).limit(1)).first()
            db.session.rollback()
            if busy is None:
                break
            time.sleep(0.1)
        db.session.remove()


def _aim_at_known_objects(case):
    for name in case.path_parameters or {}:
        if name in KNOWN and zlib.crc32(repr(case.path_parameters).encode()) % 2 == 0:
            case.path_parameters[name] = KNOWN[name]


def _credentials(app, path, token):
    if path.startswith("/v2/hooks/"):
        return {"X-Deis-Builder-Auth": app.config["PIER"].builder_key}
    return {"Authorization": f"token {token}"}


# Each POST /v2/backups takes a real pgBackRest backup of the machine's cluster (4 s), and the coverage phase
# sends every case its body allows whatever max_examples says: they are sent asking for the asynchronous answer
# (202 and the operation), and the worker takes them one after another while the next tests run.
COSTLY = {"method": "POST", "path": "/v2/backups"}


@schema.exclude(**COSTLY).parametrize()
@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_operation_answers_as_documented(case, app, target):
    _call_and_validate(case, app, target)


@schema.include(**COSTLY).parametrize()
@settings(max_examples=3, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_a_costly_operation_answers_as_documented(case, app, target):
    _call_and_validate(case, app, target, {"Prefer": "respond-async"})


def _call_and_validate(case, app, target, headers=None):
    _aim_at_known_objects(case)
    if case.query:
        case.query.pop("follow", None)  # a followed log never ends; test_apps covers it
    case.call_and_validate(app=app, headers={**_credentials(app, case.path, target.token), **(headers or {})},
                           checks=CHECKS)


# A NUL character in each path parameter and in each string field of each request body (PostgreSQL text
# cannot hold one), and integers too large for the database's integer columns.
OPERATIONS = {(method, path): operation for path, item in SPEC["paths"].items()
              for method, operation in item.items() if method != "parameters"}
SAMPLES = {"email": "someone@example.com", "image": "example/image:1", "receive_user": "admin",
           "receive_repo": APP_ID, "username": "admin", "owner": "admin", "domain": "www.example.com",
           "command": "ls", "addresses": ["10.0.0.1"], "https_enforced": True}
TYPE_SAMPLES = {"string": "x", "integer": 1, "boolean": True, "object": {}, "array": []}
NESTED_NUL = [("post", "/v2/apps/{app_id}/builds", {"image": "example/image:1", "procfile": {"web": "x\x00y"}}),
              ("post", "/v2/hooks/build", {"receive_user": "admin", "receive_repo": APP_ID, "image": "x",
                                           "procfile": {"web": "x\x00y"}}),
              ("post", "/v2/apps/{app_id}/config", {"values": {"FOO": "x\x00y"}}),
              ("post", "/v2/apps/{app_id}/config", {"tags": {"disk": "x\x00y"}}),
              ("post", "/v2/apps/{app_id}/settings", {"label": {"team": "x\x00y"}}),
              ("post", "/v2/apps/{app_id}/whitelist", {"addresses": ["10.0.0.1\x00"]})]
HUGE = 10 ** 20


def body_schema(operation):
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def minimal_body(method, path):
    operation = OPERATIONS[(method, path)]
    if "requestBody" not in operation:
        return None
    schema = body_schema(operation)
    return {name: SAMPLES.get(name, TYPE_SAMPLES[schema["properties"][name]["type"]])
            for name in schema.get("required", [])}


def nul_path_cases():
    for method, path in OPERATIONS:
        for name in re.findall(r"{(\w+)}", path):
            yield pytest.param(method, path, name, id=f"{method.upper()} {path} {name}")


def nul_body_cases():
    for (method, path), operation in OPERATIONS.items():
        fields = body_schema(operation).get("properties", {}) if "requestBody" in operation else {}
        for name, field in fields.items():
            if field.get("type") == "string":
                yield pytest.param(method, path, name, id=f"{method.upper()} {path} {name}")


def huge_integer_cases():
    for (method, path), operation in OPERATIONS.items():
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["schema"]["type"] == "integer":
                query = f"?{parameter['name']}={HUGE}"
                yield pytest.param(method, path, query, None, id=path + query)
    yield pytest.param("get", "/v2/apps/{app_id}/releases/v{version}", "", None, id="release version")
    yield pytest.param("post", "/v2/apps/{app_id}/releases/rollback", "", {"version": HUGE}, id="rollback version")


def send(app, target, method, template, body, path=None, query=""):
    path = re.sub(r"{(\w+)}", lambda m: KNOWN.get(m.group(1), "x"), path or template) + query
    headers = {"Prefer": "respond-async", **_credentials(app, path, target.token)}
    response = target.request(method.upper(), path, body, headers=headers)
    assert response.status_code < 500, response.get_json()
    assert str(response.status_code) in OPERATIONS[(method, template)]["responses"], response.get_json()


@pytest.mark.parametrize("method,path,name", list(nul_path_cases()))
def test_nul_in_a_path_parameter_is_refused(app, target, method, path, name):
    send(app, target, method, path, minimal_body(method, path), path=path.replace("{%s}" % name, "x%00y"))


@pytest.mark.parametrize("method,path,name", list(nul_body_cases()))
def test_nul_in_a_body_field_is_refused(app, target, method, path, name):
    send(app, target, method, path, {**minimal_body(method, path), name: "x\x00y"})


@pytest.mark.parametrize("method,path,body", NESTED_NUL, ids=[f"{m.upper()} {p} {b}" for m, p, b in NESTED_NUL])
def test_nul_in_a_nested_value_is_refused(app, target, method, path, body):
    send(app, target, method, path, body)


@pytest.mark.parametrize("method,path,query,body", list(huge_integer_cases()))
def test_integer_too_large_for_the_database_is_refused(app, target, method, path, query, body):
    send(app, target, method, path, body, path=path.replace("{version}", str(HUGE)), query=query)
