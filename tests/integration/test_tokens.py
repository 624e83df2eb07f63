"""Tokens: they expire (PIER_TOKEN_TTL), a password change revokes them all, and users list and revoke their
own (GET /v2/auth/tokens/, DELETE /v2/auth/tokens/{id})."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from api import create_app
from core.extensions import db
from tests.conftest import settings_for_tests
from tests.factories import PASSWORD, Caller

TOKEN_FIELDS = {"id", "created", "expires", "last_used", "current"}


def as_token(caller, token):
    return Caller(caller.client, caller.username, token)


def log_in(caller, password=PASSWORD):
    response = caller.client.post("/v2/auth/login/", json={"username": caller.username, "password": password})
    assert response.status_code == 200, response.get_json()
    return as_token(caller, response.get_json()["token"])


def backdate_tokens(app, username, days):
    with app.app_context():
        db.session.execute(text("UPDATE tokens SET created = created - make_interval(days => :days) "
                                "WHERE user_id = (SELECT id FROM users WHERE username = :name)"),
                           {"days": days, "name": username})
        db.session.commit()
        db.session.remove()


def parse(when):
    return datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def test_a_token_older_than_the_ttl_is_refused(app, alice, bob):
    backdate_tokens(app, "alice", days=31)  # the default PIER_TOKEN_TTL is 30 days
    response = alice.get("/v2/auth/whoami")
    assert response.status_code == 401 and response.get_json() == {"detail": "Token expired; log in again"}
    assert response.headers["WWW-Authenticate"] == "Token"
    assert log_in(alice).get("/v2/auth/whoami").status_code == 200
    assert bob.get("/v2/auth/whoami").status_code == 200


def test_a_shorter_ttl_applies_to_tokens_issued_before(app, alice):
    backdate_tokens(app, "alice", days=2)
    assert alice.get("/v2/auth/whoami").status_code == 200
    client = create_app(settings_for_tests(token_ttl=24 * 3600)).test_client()
    assert as_token(Caller(client, "alice", None), alice.token).get("/v2/auth/whoami").status_code == 401


def test_a_ttl_of_zero_means_tokens_never_expire(app, alice):
    backdate_tokens(app, "alice", days=400)
    client = create_app(settings_for_tests(token_ttl=0)).test_client()
    caller = Caller(client, "alice", alice.token)
    assert caller.get("/v2/auth/whoami").status_code == 200
    assert [t["expires"] for t in caller.get("/v2/auth/tokens/").get_json()["results"]] == [None]


def test_logging_in_forgets_the_users_expired_tokens(app, alice):
    backdate_tokens(app, "alice", days=31)
    log_in(alice)
    with app.app_context():
        count = db.session.execute(text("SELECT count(*) FROM tokens WHERE user_id = :id"), {"id": alice.id}).scalar()
        db.session.remove()
    assert count == 1


def test_changing_your_password_revokes_every_token_and_gives_you_a_new_one(alice):
    other = log_in(alice)
    response = alice.post("/v2/auth/passwd", {"password": PASSWORD, "new_password": "brand-new-pass"})
    assert response.status_code == 200 and set(response.get_json()) == {"status", "token"}
    assert response.get_json()["status"] == "password set"
    assert alice.get("/v2/auth/whoami").status_code == 401
    assert other.get("/v2/auth/whoami").status_code == 401
    fresh = as_token(alice, response.get_json()["token"])
    assert fresh.get("/v2/auth/whoami").get_json()["username"] == "alice"
    assert fresh.get("/v2/auth/tokens/").get_json()["count"] == 1


def test_an_administrator_resetting_a_password_revokes_that_users_tokens(admin, alice):
    response = admin.post("/v2/auth/passwd", {"username": "alice", "new_password": "reset-by-admin"})
    assert response.status_code == 200 and response.get_json() == {"status": "password set"}
    assert alice.get("/v2/auth/whoami").status_code == 401
    assert admin.get("/v2/auth/whoami").status_code == 200


def test_a_refused_new_password_revokes_nothing(alice):
    response = alice.post("/v2/auth/passwd", {"password": PASSWORD, "new_password": "short"})
    assert response.status_code == 400 and list(response.get_json()) == ["new_password"]
    assert alice.get("/v2/auth/whoami").status_code == 200


def test_list_your_tokens(alice, bob):
    unused = log_in(alice)
    body = alice.get("/v2/auth/tokens/").get_json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    tokens = body["results"]
    assert all(set(t) == TOKEN_FIELDS for t in tokens)
    assert all(alice.token not in str(t) and unused.token not in str(t) for t in tokens)
    newest, oldest = tokens
    assert (newest["current"], oldest["current"]) == (False, True)
    assert newest["last_used"] is None and oldest["last_used"] is not None
    assert parse(oldest["expires"]) - parse(oldest["created"]) == timedelta(days=30)
    assert [t["current"] for t in bob.get("/v2/auth/tokens/").get_json()["results"]] == [True]


def test_the_tokens_list_needs_a_token(client):
    assert client.get("/v2/auth/tokens/").status_code == 401


def test_revoke_one_of_your_tokens(alice):
    other = log_in(alice)
    other_id = next(t["id"] for t in alice.get("/v2/auth/tokens/").get_json()["results"] if not t["current"])
    assert alice.delete(f"/v2/auth/tokens/{other_id}").status_code == 204
    assert other.get("/v2/auth/whoami").status_code == 401
    assert alice.get("/v2/auth/whoami").status_code == 200
    assert alice.delete(f"/v2/auth/tokens/{other_id}").status_code == 404


def test_revoking_the_token_you_use_logs_you_out(alice):
    current = alice.get("/v2/auth/tokens/").get_json()["results"][0]["id"]
    assert alice.delete(f"/v2/auth/tokens/{current}").status_code == 204
    assert alice.get("/v2/auth/whoami").status_code == 401


@pytest.mark.parametrize("token_id", ["bobs", "999999", str(2 ** 31), str(10 ** 20)])
def test_another_users_token_is_as_unknown_as_a_missing_one(alice, bob, token_id):
    if token_id == "bobs":
        token_id = bob.get("/v2/auth/tokens/").get_json()["results"][0]["id"]
    response = alice.delete(f"/v2/auth/tokens/{token_id}")
    assert response.status_code == 404 and response.get_json() == "No Token matches the given query."
    assert bob.get("/v2/auth/whoami").status_code == 200
