"""The OpenAPI document: valid OpenAPI 3.0, served to anyone, and in step with the app's routes.

openapi-spec-validator is not installed, so the document is checked with jsonschema against the official
OpenAPI 3.0 schema (the copy schemathesis ships), plus the rules that schema cannot express."""
import re

import jsonschema
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_30
from werkzeug.routing import Rule

from api.auth import ANONYMOUS, BUILDER
from api.openapi_spec import build_spec
from api.ratelimit import LIMITS

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def openapi_path(rule):
    """Flask's /v2/apps/<app_id>/releases/v<int:version> -> /v2/apps/{app_id}/releases/v{version}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def app_routes(rules):
    return {(openapi_path(rule.rule), method.lower()): rule
            for rule in rules for method in rule.methods - IGNORED_METHODS}


def documented_operations(spec):
    return {(path, method): operation for path, item in spec["paths"].items()
            for method, operation in item.items() if method != "parameters"}


def refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


@pytest.fixture(scope="module")
def spec():
    return build_spec()


def test_document_validates_against_the_openapi_3_schema(spec):
    errors = sorted(jsonschema.Draft4Validator(OPENAPI_30).iter_errors(spec), key=lambda e: list(e.path))
    assert spec["openapi"].startswith("3.0.")
    assert [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors] == []


def test_every_reference_resolves(spec):
    for target in set(refs(spec)):
        assert target.startswith("#/components/"), target
        node = spec
        for part in target[2:].split("/"):
            assert part in node, f"unresolved $ref {target}"
            node = node[part]


def test_every_path_template_declares_its_parameters(spec):
    for path, item in spec["paths"].items():
        declared = [p["name"] for p in item.get("parameters", []) if p["in"] == "path"]
        assert declared == re.findall(r"{(\w+)}", path), path
        assert all(p["required"] for p in item.get("parameters", []) if p["in"] == "path")


def test_document_is_served_without_a_token(client, spec):
    response = client.get("/v2/openapi.json")
    assert response.status_code == 200
    assert response.is_json and response.get_json() == spec
    assert response.headers["DEIS_API_VERSION"] == "2.3"


def test_documented_operations_are_exactly_the_app_routes(app, spec):
    routes = set(app_routes(app.url_map.iter_rules()))
    documented = set(documented_operations(spec))
    assert sorted(routes - documented) == [], "routes without documentation"
    assert sorted(documented - routes) == [], "documented operations without a route"
    assert {("/v2/certs/{name}/domain/", "post"), ("/v2/certs/{name}/domain/{domain_name}", "post"),
            ("/v2/certs/{name}/domain/{domain_name}", "delete")} <= documented


def test_a_route_added_without_documentation_is_noticed(app, spec):
    rules = [*app.url_map.iter_rules(), Rule("/v2/apps/<app_id>/undocumented", endpoint="new", methods=["PUT"])]
    assert set(app_routes(rules)) - set(documented_operations(spec)) == {("/v2/apps/{app_id}/undocumented", "put")}


def test_path_parameter_types_follow_the_flask_converters(app, spec):
    for (path, method), rule in app_routes(app.url_map.iter_rules()).items():
        parameters = {p["name"]: p["schema"] for p in spec["paths"][path].get("parameters", [])}
        for name, converter in rule._converters.items():
            wanted = "integer" if type(converter).__name__ == "IntegerConverter" else "string"
            assert parameters[name]["type"] == wanted, (path, name)
    assert "/v2/apps/{app_id}/releases/v{version}" in spec["paths"]


def test_security_matches_how_each_view_authenticates(app, spec):
    for (path, method), rule in app_routes(app.url_map.iter_rules()).items():
        operation = documented_operations(spec)[(path, method)]
        security = operation.get("security", spec["security"])
        kind = getattr(app.view_functions[rule.endpoint], "pier_auth", None)
        if path == "/metrics":
            assert security == [{"metricsToken": []}]
        elif not path.startswith("/v2/"):
            assert security == [], path
        elif kind == BUILDER:
            assert security == [{"builderKey": []}], path
        elif kind == ANONYMOUS:
            assert {"token": []} not in security or {} in security, path
        else:
            assert security == [{"token": []}], path
        if path.startswith("/v2/") and kind != ANONYMOUS:
            assert "401" in operation["responses"], (method, path)


def test_routes_with_an_app_document_forbidden_and_not_found(spec):
    for (path, method), operation in documented_operations(spec).items():
        if "{app_id}" in path:
            assert {"403", "404"} <= set(operation["responses"]), (method, path)


def test_security_schemes_are_the_token_and_the_builder_key(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["token"] == {**schemes["token"], "type": "apiKey", "in": "header", "name": "Authorization"}
    assert schemes["builderKey"]["name"] == "X-Deis-Builder-Auth"
    assert spec["security"] == [{"token": []}]


def test_request_bodies_reject_unknown_fields_where_the_views_do(spec):
    schemas = spec["components"]["schemas"]
    for name in ("CreateApp", "NewBuild", "ConfigChanges", "SettingsChanges", "Register", "NewKey", "HookBuild"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["Scale"]["additionalProperties"] == {"type": "integer", "minimum": 0, "maximum": 1000}


def test_the_autoscale_rule_bound_is_the_setting_not_a_number(spec):
    schemas = spec["components"]["schemas"]
    for rule in (schemas["Settings"]["properties"]["autoscale"]["additionalProperties"],
                 schemas["SettingsChanges"]["properties"]["autoscale"]["additionalProperties"]):
        assert rule["properties"]["min"] == rule["properties"]["max"] == {"type": "integer", "minimum": 1}
        assert "PIER_MAX_REPLICAS" in rule["description"]


def test_rate_limited_operations_document_429_with_retry_after(app, spec):
    limited = {(path, method) for (path, method), rule in app_routes(app.url_map.iter_rules()).items()
               if rule.endpoint in LIMITS}
    assert limited == {("/v2/auth/login/", "post"), ("/v2/auth/register", "post"),
                       ("/v2/hooks/key/{fingerprint}", "get")}
    for path, method in limited:
        assert spec["paths"][path][method]["responses"]["429"] == {"$ref": "#/components/responses/TooManyRequests"}
    headers = spec["components"]["responses"]["TooManyRequests"]["headers"]
    assert headers["Retry-After"]["required"] is True

