"""Who may call what, for every route, derived from the OpenAPI document (which test_openapi keeps equal to
the app's routes): a new route is covered here without editing this file, or fails loudly for lack of a
fill-in value for a new kind of path parameter."""
import datetime
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from api.openapi_spec import build_spec, parameter_kind
from core.extensions import db
from core.models import App, Build, Operation, User
from core.pods import PodStates
from tests.factories import Caller

SPEC = build_spec()
OPERATIONS = [(method, path, operation) for path, item in SPEC["paths"].items()
              for method, operation in item.items() if method != "parameters"]
APP_ID = "owned"
DOMAIN = "www.example.com"
CERT = "example-cert"
KEY_ID = "alice-laptop"
ASYNC = {"Prefer": "respond-async"}
# Valid bodies, so that a missing permission check shows as a success rather than hiding behind a 400.
BODIES = {
    ("post", "/v2/apps/{app_id}"): {"owner": "bob"},
    ("post", "/v2/apps/{app_id}/run"): {"command": "ls"},
    ("post", "/v2/apps/{app_id}/scale"): {"web": 2},
    ("post", "/v2/apps/{app_id}/config"): {"values": {"FOO": "bar"}},
    ("post", "/v2/apps/{app_id}/builds"): {"image": "example/image:2"},
    ("post", "/v2/apps/{app_id}/domains"): {"domain": "other.example.com"},
    ("post", "/v2/apps/{app_id}/settings"): {"maintenance": True},
    ("post", "/v2/apps/{app_id}/whitelist"): {"addresses": ["10.0.0.1"]},
    ("delete", "/v2/apps/{app_id}/whitelist"): {"addresses": ["10.0.0.9"]},
    ("post", "/v2/apps/{app_id}/tls"): {"https_enforced": True},
    ("post", "/v2/apps/{app_id}/perms"): {"username": "bob"},
    ("post", "/v2/admin/perms"): {"username": "bob"},
    ("post", "/v2/certs/{name}/domain/"): {"domain": DOMAIN},
}


def security(operation):
    return operation.get("security", SPEC["security"])


def ids(routes):
    return [f"{method.upper()} {path}" for method, path in routes]


TOKEN_ROUTES = [(method, path) for method, path, operation in OPERATIONS
                if security(operation) == [{"token": []}] and path.startswith("/v2/")]
OBJECT_ROUTES = [(method, path) for method, path in TOKEN_ROUTES if "{" in path]
APP_DELETES = [(method, path) for method, path in OBJECT_ROUTES if method == "delete" and "{app_id}" in path]
HOOKS = [(method, path) for method, path, operation in OPERATIONS if security(operation) == [{"builderKey": []}]]


def self_signed(hostname):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def ssh_public_key():
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


@pytest.fixture
def world(app, caller, admin, alice, bob):
    """alice owns an app with a domain (and a certificate on it), a key, a build and an operation; carol and
    dave (an administrator) collaborate on it; bob has nothing to do with it."""
    carol, dave = caller("carol"), caller("dave", admin=True)
    alice.create_app(APP_ID)
    certificate, key = self_signed(DOMAIN)
    for path, body in (("/v2/apps/owned/domains", {"domain": DOMAIN}), ("/v2/apps/owned/perms", {"username": "carol"}),
                       ("/v2/apps/owned/perms", {"username": "dave"}),
                       ("/v2/apps/owned/whitelist", {"addresses": ["10.0.0.9"]}),
                       ("/v2/certs", {"name": CERT, "certificate": certificate, "key": key}),
                       (f"/v2/certs/{CERT}/domain/", {"domain": DOMAIN}),
                       ("/v2/keys", {"id": KEY_ID, "public": ssh_public_key()})):
        response = alice.post(path, body)
        assert response.status_code == 201, (path, response.get_json())
    with app.app_context():
        owned = db.session.execute(db.select(App).where(App.id == APP_ID)).scalar_one()
        owner = db.session.get(User, alice.id)
        build = Build(app=owned, owner=owner, image="example/image:1", procfile={"web": "serve"})
        operation = Operation(app_id=owned.id, app_uuid=owned.uuid, owner_id=owner.id, kind="restart",
                              state="failed", error="No scheduler is configured")
        db.session.add_all([build, operation])
        db.session.commit()
        PodStates(app.config["PIER"].redis_url).write(APP_ID, [{
            "name": "owned.v2.web.1", "release": "v2", "started": "2026-01-01T00:00:00Z", "state": "up",
            "type": "web"}])
        values = {"app_id": APP_ID, "build_uuid": str(build.uuid), "domain": DOMAIN, "cert": CERT, "kind": "web",
                  "pod": "owned.v2.web.1", "username": "dave", "version": "1", "key_id": KEY_ID,
                  "operation_id": str(operation.uuid),
                  "fingerprint": alice.get(f"/v2/keys/{KEY_ID}").get_json()["fingerprint"],
                  "token_id": str(alice.get("/v2/auth/tokens/").get_json()["results"][0]["id"])}
    return {"alice": alice, "bob": bob, "carol": carol, "admin": admin, "values": values,
            "anonymous": Caller(alice.client, "anonymous", None)}


def url(path, values):
    """The path with each parameter filled in with an existing object of its kind."""
    for name in re.findall(r"{(\w+)}", path):
        path = path.replace("{%s}" % name, values[parameter_kind(path, name)])
    return path


def send(who, method, path, values, headers=None):
    return who.request(method.upper(), url(path, values), BODIES.get((method, path)),
                       headers={**ASYNC, **(headers or {})})


def snapshot(alice):
    paths = ("/v2/apps/owned", "/v2/apps/owned/domains", "/v2/apps/owned/perms", "/v2/apps/owned/whitelist",
             "/v2/apps/owned/config", "/v2/apps/owned/settings", "/v2/apps/owned/tls", "/v2/certs", "/v2/keys")
    return {path: alice.get(path).get_json() for path in paths}


@pytest.mark.parametrize("method,path", TOKEN_ROUTES, ids=ids(TOKEN_ROUTES))
def test_no_token_is_unauthorized(world, method, path):
    response = send(world["anonymous"], method, path, world["values"])
    assert response.status_code == 401, response.get_json()
    assert response.headers["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("method,path", OBJECT_ROUTES, ids=ids(OBJECT_ROUTES))
def test_owner_reaches_the_object(world, method, path):
    """The fill-in values name real objects: the refusals below come from permissions, not from typos."""
    owner = world["admin"] if path.startswith("/v2/admin/") else world["alice"]
    response = send(owner, method, path, world["values"])
    assert response.status_code not in (401, 403, 404), response.get_json()


@pytest.mark.parametrize("method,path", OBJECT_ROUTES, ids=ids(OBJECT_ROUTES))
def test_unrelated_user_is_refused(world, method, path):
    before = snapshot(world["alice"])
    response = send(world["bob"], method, path, world["values"])
    assert response.status_code in (403, 404), response.get_json()
    assert snapshot(world["alice"]) == before


@pytest.mark.parametrize("method,path", APP_DELETES, ids=ids(APP_DELETES))
def test_collaborator_cannot_delete(world, method, path):
    before = snapshot(world["alice"])
    response = send(world["carol"], method, path, world["values"])
    assert response.status_code == 403, response.get_json()
    assert snapshot(world["alice"]) == before


def test_collaborator_may_do_everything_but_delete(world):
    carol = world["carol"]
    assert carol.get("/v2/apps/owned").status_code == 200
    assert carol.post("/v2/apps/owned/config", {"values": {"FOO": "bar"}}).status_code == 201
    assert carol.delete("/v2/apps/owned/perms/carol").status_code == 204, "a collaborator may leave"
    assert carol.get("/v2/apps/owned").status_code == 403


def test_unrelated_user_lists_none_of_the_objects(world):
    for path in ("/v2/apps", "/v2/certs", "/v2/keys"):
        assert world["bob"].get(path).get_json()["count"] == 0, path


ADMIN_ONLY = [("GET", "/v2/users", None), ("GET", "/v2/admin/perms", None),
              ("POST", "/v2/admin/perms", {"username": "bob"}), ("DELETE", "/v2/admin/perms/dave", None),
              ("POST", "/v2/auth/tokens/", {"all": True}), ("POST", "/v2/auth/tokens/", {"username": "bob"}),
              ("POST", "/v2/auth/passwd", {"username": "bob", "new_password": "new secret"}),
              ("DELETE", "/v2/auth/cancel", {"username": "bob"})]


@pytest.mark.parametrize("method,path,body", ADMIN_ONLY, ids=[f"{m} {p} {b}" for m, p, b in ADMIN_ONLY])
def test_admin_only_actions_are_forbidden_to_others(world, method, path, body):
    admins = world["admin"].get("/v2/admin/perms").get_json()["results"]
    response = world["alice"].request(method, path, body)
    assert response.status_code == 403, response.get_json()
    assert world["admin"].get("/v2/admin/perms").get_json()["results"] == admins
    assert world["bob"].get("/v2/auth/whoami").status_code == 200
    assert world["admin"].get("/v2/auth/whoami").status_code == 200
    assert world["admin"].request(method, path, body).status_code < 300


HOOK_BODIES = {"/v2/hooks/config": {"receive_user": "alice", "receive_repo": APP_ID},
               "/v2/hooks/build": {"receive_user": "alice", "receive_repo": APP_ID, "image": "owned:git-1234abcd"}}


def hook(world, method, path, headers):
    values = {**world["values"], "username": "alice"}
    return world["anonymous"].request(method.upper(), url(path, values), HOOK_BODIES.get(path),
                                      headers={**ASYNC, **headers})


@pytest.mark.parametrize("method,path", HOOKS, ids=ids(HOOKS))
def test_hooks_need_the_builder_key(app, world, method, path):
    assert hook(world, method, path, {}).status_code == 401
    assert hook(world, method, path, {"X-Deis-Builder-Auth": "not-the-key"}).status_code == 403
    user_token = {"Authorization": f"token {world['admin'].token}"}
    assert hook(world, method, path, user_token).status_code == 401, "a user token is not the builder key"
    response = hook(world, method, path, {"X-Deis-Builder-Auth": app.config["PIER"].builder_key})
    assert response.status_code in (200, 202), response.get_json()


@pytest.mark.parametrize("method,path", [("GET", "/v2/hooks/keys/owned/bob"), ("POST", "/v2/hooks/config"),
                                         ("POST", "/v2/hooks/build")])
def test_hooks_refuse_a_user_who_may_not_use_the_app(app, world, method, path):
    body = {**HOOK_BODIES.get(path, {}), "receive_user": "bob"} if method == "POST" else None
    response = world["anonymous"].request(method, path, body,
                                          headers={"X-Deis-Builder-Auth": app.config["PIER"].builder_key})
    assert response.status_code == 403, response.get_json()
