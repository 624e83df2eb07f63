"""Registration, login and token authentication against the real database."""
import pytest
from sqlalchemy import text

from api import create_app
from core.extensions import db
from core.models import User
from core.passwords import hash_password
from tests.conftest import settings_for_tests as settings_with
from tests.factories import PASSWORD, Caller

USER_FIELDS = {"id", "username", "email", "first_name", "last_name", "is_superuser", "is_staff", "is_active",
               "last_login", "date_joined", "groups", "user_permissions"}


def new_user(username, **extra):
    return {"username": username, "password": "s3cret-pass", "email": f"{username}@example.com", **extra}


@pytest.fixture
def anonymous(client):
    return Caller(client, None, None)


@pytest.fixture
def app_with_mode(app):
    """A second app on the already migrated database, with another registration mode."""
    def make(mode):
        return create_app(settings_with(registration_mode=mode))
    return make


def stored_user(username):
    return db.session.execute(db.select(User).where(User.username == username)).scalar_one()


def test_first_registered_user_becomes_superuser_and_the_next_does_not(anonymous):
    first = anonymous.post("/v2/auth/register/", new_user("first", first_name="Ada", last_name="L"))
    assert first.status_code == 201
    body = first.get_json()
    assert set(body) == USER_FIELDS
    assert body["username"] == "first" and body["email"] == "first@example.com"
    assert body["first_name"] == "Ada" and body["last_name"] == "L"
    assert body["is_superuser"] is True and body["is_staff"] is True and body["is_active"] is True
    assert "password" not in body

    token = anonymous.post("/v2/auth/login/", {"username": "first", "password": "s3cret-pass"}).get_json()["token"]
    first_caller = Caller(anonymous.client, "first", token)
    second = first_caller.post("/v2/auth/register/", new_user("second"))
    assert second.status_code == 201
    assert second.get_json()["is_superuser"] is False and second.get_json()["is_staff"] is False


def test_stored_password_is_an_argon2_hash(anonymous, ctx):
    assert anonymous.post("/v2/auth/register", new_user("carol")).status_code == 201
    stored = stored_user("carol").password_hash
    assert stored.startswith("$argon2") and "s3cret-pass" not in stored


def test_admin_only_mode_lets_anyone_register_until_a_superuser_exists(anonymous):
    assert anonymous.post("/v2/auth/register", new_user("boss")).status_code == 201
    refused = anonymous.post("/v2/auth/register", new_user("stranger"))
    assert refused.status_code == 403 and "detail" in refused.get_json()


def test_admin_only_mode_lets_an_admin_register_users(admin, alice, anonymous):
    assert anonymous.post("/v2/auth/register", new_user("stranger")).status_code == 403
    assert alice.post("/v2/auth/register", new_user("friend")).status_code == 403
    response = admin.post("/v2/auth/register", new_user("newbie"))
    assert response.status_code == 201 and response.get_json()["is_superuser"] is False


def test_enabled_mode_lets_anyone_register(app_with_mode, admin):
    client = app_with_mode("enabled").test_client()
    response = Caller(client, None, None).post("/v2/auth/register", new_user("walkin"))
    assert response.status_code == 201 and response.get_json()["is_superuser"] is False


def test_disabled_mode_refuses_everyone(app_with_mode, admin):
    client = app_with_mode("disabled").test_client()
    assert Caller(client, None, None).post("/v2/auth/register", new_user("walkin")).status_code == 403
    assert Caller(client, "admin", admin.token).post("/v2/auth/register", new_user("other")).status_code == 403


def test_duplicate_username_is_a_field_error(admin):
    response = admin.post("/v2/auth/register", new_user("admin"))
    assert response.status_code == 400 and list(response.get_json()) == ["username"]
    assert isinstance(response.get_json()["username"], list)


@pytest.mark.parametrize("body, field", [
    ({"password": "pw", "email": "x@example.com"}, "username"),
    ({"username": "x", "email": "x@example.com"}, "password"),
    ({"username": "x", "password": "pw"}, "email"),
    ({"username": "x", "password": "", "email": "x@example.com"}, "password"),
    ({"username": "x", "password": "pw", "email": "not-an-email"}, "email"),
    ({"username": "bad name!", "password": "pw", "email": "x@example.com"}, "username"),
    ({"username": "x", "password": "pw", "email": "x@example.com", "shoe_size": 9}, "shoe_size"),
])
def test_register_rejects_bad_fields(anonymous, body, field):
    response = anonymous.post("/v2/auth/register", body)
    assert response.status_code == 400
    assert isinstance(response.get_json()[field], list) and response.get_json()[field]


def test_register_cannot_grant_itself_superuser(admin, anonymous, ctx):
    response = admin.post("/v2/auth/register", new_user("sneaky", is_superuser=True, is_staff=True))
    assert response.status_code == 400 and response.get_json()["is_superuser"]
    assert db.session.execute(db.select(User).where(User.username == "sneaky")).first() is None


def test_malformed_json_is_a_parse_error(anonymous):
    response = anonymous.post("/v2/auth/register", raw=b'{"username": ')
    assert response.status_code == 400
    assert response.get_json()["detail"].startswith("JSON parse error - ")


def test_login_returns_a_token_that_works(alice, anonymous):
    response = anonymous.post("/v2/auth/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200 and list(response.get_json()) == ["token"]
    me = Caller(anonymous.client, "alice", response.get_json()["token"]).get("/v2/auth/whoami")
    assert me.status_code == 200 and me.get_json()["username"] == "alice"
    assert me.get_json()["last_login"] is not None


def test_login_requires_the_trailing_slash(alice, anonymous):
    response = anonymous.post("/v2/auth/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code in (301, 308, 404)
    if response.status_code != 404:
        assert response.headers["Location"].endswith("/v2/auth/login/")


@pytest.mark.parametrize("username, password", [("alice", "wrong"), ("nobody", PASSWORD)])
def test_login_with_bad_credentials_fails(alice, anonymous, username, password):
    response = anonymous.post("/v2/auth/login/", {"username": username, "password": password})
    assert response.status_code == 400 and list(response.get_json()) == ["non_field_errors"]
    assert response.get_json()["non_field_errors"]


def test_each_login_issues_a_new_token_and_old_ones_keep_working(alice, anonymous):
    credentials = {"username": "alice", "password": PASSWORD}
    first = anonymous.post("/v2/auth/login/", credentials).get_json()["token"]
    second = anonymous.post("/v2/auth/login/", credentials).get_json()["token"]
    assert first != second
    for token in (first, second, alice.token):
        assert Caller(anonymous.client, "alice", token).get("/v2/auth/whoami").status_code == 200


def test_tokens_are_stored_hashed(alice, anonymous, ctx):
    token = anonymous.post("/v2/auth/login/", {"username": "alice", "password": PASSWORD}).get_json()["token"]
    rows = db.session.execute(text("SELECT * FROM tokens")).all()
    assert len(rows) == 3
    assert all(token not in str(value) and alice.token not in str(value) for row in rows for value in row)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "token not-a-real-token"},
                                     {"Authorization": "Bearer abc"}])
def test_missing_or_bad_token_is_401_with_www_authenticate(client, alice, headers):
    response = client.get("/v2/auth/whoami", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert "detail" in response.get_json()


@pytest.mark.parametrize("method, path", [("GET", "/healthz"), ("GET", "/v2/auth/whoami"),
                                          ("POST", "/v2/auth/login/"), ("GET", "/v2/no-such-thing")])
def test_every_response_carries_version_headers(client, method, path):
    response = client.open(path, method=method, data="{}", content_type="application/json")
    assert response.headers["DEIS_API_VERSION"] == "2.3"
    assert response.headers["DEIS_PLATFORM_VERSION"] == "2.3.0"


def test_whoami_shows_the_caller(alice):
    body = alice.get("/v2/auth/whoami").get_json()
    assert set(body) == USER_FIELDS
    assert body["username"] == "alice" and body["id"] == alice.id and body["is_superuser"] is False
    assert body["groups"] == [] and body["user_permissions"] == []


@pytest.mark.parametrize("password, message", [
    ("x", "Ensure this field has at least 8 characters."),
    ("seven77", "Ensure this field has at least 8 characters."),
    ("password", "This password is too common."),
    ("12345678", "This password is too common."),
    ("IloveYou", "This password is too common."),
    ("trustno1", "This password is too common."),
    ("newcomer", "The password cannot be the username."),
])
def test_register_refuses_short_and_common_passwords(admin, password, message, ctx):
    response = admin.post("/v2/auth/register", {**new_user("newcomer"), "password": password})
    assert response.status_code == 400 and response.get_json() == {"password": [message]}
    assert db.session.execute(db.select(User).where(User.username == "newcomer")).first() is None


def test_the_minimum_password_length_is_a_setting(app, admin):
    client = create_app(settings_with(password_min_length=12)).test_client()
    caller = Caller(client, "admin", admin.token)
    refused = caller.post("/v2/auth/register", {**new_user("newcomer"), "password": "eleven chrs"})
    assert refused.status_code == 400 and refused.get_json() == {
        "password": ["Ensure this field has at least 12 characters."]}
    assert caller.post("/v2/auth/register", {**new_user("newcomer"), "password": "twelve chars"}).status_code == 201


@pytest.mark.parametrize("password", ["short", "qwertyuiop", "Password1"])
def test_passwd_refuses_short_and_common_passwords(alice, password):
    response = alice.post("/v2/auth/passwd", {"password": PASSWORD, "new_password": password})
    assert response.status_code == 400 and list(response.get_json()) == ["new_password"]
    assert anonymous_login(alice.client, "alice", PASSWORD).status_code == 200


def test_a_user_whose_old_password_is_short_still_logs_in(alice, ctx):
    stored_user("alice").password_hash = hash_password("abc")
    db.session.commit()
    assert anonymous_login(alice.client, "alice", "abc").status_code == 200


def anonymous_login(client, username, password):
    return client.post("/v2/auth/login/", json={"username": username, "password": password})



def test_each_request_acts_as_its_own_token_s_user_when_requests_share_an_app_context(ctx, admin, alice, bob):
    # g.user is loaded on first use (api.auth.Globals); here one app context, so one g, serves every request
    assert alice.post("/v2/apps", {"id": "alices"}).status_code == 201
    assert bob.post("/v2/apps", {"id": "bobs"}).status_code == 201
    assert alice.get("/v2/auth/whoami").get_json()["username"] == "alice"
    owners = {app["id"]: app["owner"] for app in admin.get("/v2/apps").get_json()["results"]}
    assert owners == {"alices": "alice", "bobs": "bob"}
    assert bob.get("/v2/apps/alices").status_code == 403 and alice.get("/v2/apps/alices").status_code == 200
