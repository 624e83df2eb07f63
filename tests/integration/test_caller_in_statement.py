"""The hot reads (GET /v2/apps, GET /v2/apps/{app}) read the caller's token in their own statement
(api/auth.py `caller_in_statement`): they refuse and accept exactly the tokens every other route does."""
import pytest
from flask import Blueprint, g, jsonify
from sqlalchemy import text

from api import create_app
from api.auth import authenticate_request, caller_in_statement, caller_id, read_as_caller
from core.extensions import db
from core.models import User
from tests.conftest import settings_for_tests
from tests.factories import Caller
from tests.integration.test_tokens import as_token, backdate_tokens

HOT_READS = ("/v2/apps", "/v2/apps/shop")
WHOAMI = "/v2/auth/whoami"


@pytest.fixture
def shop(alice):
    assert alice.post("/v2/apps", {"id": "shop"}).status_code == 201


def refusal(caller, path):
    response = caller.get(path)
    assert response.status_code == 401, response.get_json()
    assert response.headers["WWW-Authenticate"] == "Token"
    return response.get_json()


@pytest.mark.parametrize("path", HOT_READS)
def test_an_unknown_token_gets_the_401_of_any_route(alice, shop, path):
    stranger = as_token(alice, "0" * 40)
    assert refusal(stranger, path) == refusal(stranger, WHOAMI) == {"detail": "Invalid token."}


@pytest.mark.parametrize("path", HOT_READS)
def test_no_token_and_a_malformed_header_get_401(alice, shop, path):
    nobody = as_token(alice, None)
    assert refusal(nobody, path) == {"detail": "Authentication credentials were not provided."}
    response = alice.client.get(path, headers={"Authorization": "Bearer x"})
    assert response.status_code == 401 and response.get_json() == {"detail": "Invalid token header."}


@pytest.mark.parametrize("path", HOT_READS)
def test_an_expired_token_is_refused(app, alice, shop, path):
    backdate_tokens(app, "alice", days=31)
    assert refusal(alice, path) == {"detail": "Token expired; log in again"}


@pytest.mark.parametrize("path", HOT_READS)
def test_a_deactivated_users_token_is_refused(app, alice, shop, path):
    assert alice.get(path).status_code == 200
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == "alice").values(is_active=False))
        db.session.commit()
        db.session.remove()
    assert refusal(alice, path) == {"detail": "Invalid token."}


def test_a_bad_query_is_answered_after_the_token_is_checked(alice):
    stranger = as_token(alice, "0" * 40)
    assert refusal(stranger, "/v2/apps?limit=x") == {"detail": "Invalid token."}
    response = alice.get("/v2/apps?limit=x")
    assert response.status_code == 400 and response.get_json() == {"limit": ["A valid integer is required."]}


@pytest.mark.parametrize("path", HOT_READS)
def test_a_hot_read_records_the_tokens_use(app, alice, shop, path):
    with app.app_context():
        db.session.execute(text("UPDATE tokens SET last_used = NULL"))
        db.session.commit()
        db.session.remove()
    assert alice.get(path).status_code == 200
    [token] = alice.get("/v2/auth/tokens/").get_json()["results"]
    assert token["last_used"] is not None


def test_the_caller_is_the_tokens_user(alice, bob, admin, shop):
    assert [a["id"] for a in alice.get("/v2/apps").get_json()["results"]] == ["shop"]
    assert bob.get("/v2/apps").get_json()["count"] == 0
    assert bob.get("/v2/apps/shop").status_code == 403
    assert admin.get("/v2/apps").get_json()["count"] == 1
    assert admin.get("/v2/apps/shop").get_json()["owner"] == "alice"
    assert alice.post("/v2/apps/shop/perms", {"username": "bob"}).status_code == 201
    assert [a["id"] for a in bob.get("/v2/apps").get_json()["results"]] == ["shop"]
    assert bob.get("/v2/apps/shop").get_json()["owner"] == "alice"


@pytest.fixture
def marked_views(app, alice):
    """A fresh controller with three views marked caller_in_statement: one that reads its caller, one that
    fails before it does, one that never does."""
    views = Blueprint("marked", __name__, url_prefix="/marked")
    views.before_request(authenticate_request)

    @views.get("/reads")
    @caller_in_statement
    def reads():
        [user_id] = read_as_caller(db.select(caller_id().label("user_id")))
        return jsonify(user_id=user_id, caller=g.caller.username)

    @views.get("/fails")
    @caller_in_statement
    def fails():
        raise ValueError("before the caller is read")

    @views.get("/forgets")
    @caller_in_statement
    def forgets():
        return jsonify(secret="nobody checked")

    marked = create_app(settings_for_tests())
    marked.register_blueprint(views)
    return Caller(marked.test_client(), "alice", alice.token)


def test_a_marked_view_reads_its_caller(marked_views):
    body = marked_views.get("/marked/reads").get_json()
    assert body["caller"] == "alice" and isinstance(body["user_id"], int)


def test_a_marked_view_that_fails_first_still_refuses_a_bad_token(marked_views):
    assert refusal(as_token(marked_views, "0" * 40), "/marked/fails") == {"detail": "Invalid token."}
    assert marked_views.get("/marked/fails").status_code == 500


def test_a_marked_view_that_never_reads_its_caller_answers_500(marked_views):
    response = marked_views.get("/marked/forgets")
    assert response.status_code == 500 and "nobody checked" not in response.get_data(as_text=True)
    assert refusal(as_token(marked_views, "0" * 40), "/marked/forgets") == {"detail": "Invalid token."}
