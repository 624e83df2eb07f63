"""Users and tokens: register, login, whoami, tokens (list, revoke, regenerate), passwd, cancel, and the admin's
user list. Login, register and the builder's key look-up are rate limited (api/ratelimit.py)."""
from flask import current_app, g, jsonify

from api.auth import ANONYMOUS, allow, require_admin
from api.blueprint import v2
from api.http import created, load, no_content, paginate, when
from api.schemas.user import CancelSchema, LoginSchema, PasswdSchema, RegisterSchema, TokensSchema, dump_user
from core.access import user_by_name
from core.errors import NotAuthenticated, ValidationError, not_found
from core.extensions import db
from core.models import User
from core.services import users

MAX_TOKEN_ID = 2 ** 31 - 1  # the tokens id column is a PostgreSQL integer


@v2.route("/auth/register", methods=["POST"])
@allow(ANONYMOUS)
def register():
    data = load(RegisterSchema())
    user = users.register(g.user, current_app.config["PIER"].registration_mode, **data)
    return created(dump_user(user))


@v2.route("/auth/login/", methods=["POST"], strict_slashes=True)
@allow(ANONYMOUS)
def login():
    data = load(LoginSchema())
    return jsonify({"token": users.login(data["username"], data["password"])})


def _target_user(username):
    """The caller, or the named user when the caller is an admin (or names themself)."""
    if not username or username == g.caller.username:
        return g.user
    require_admin()
    return user_by_name(username)


@v2.route("/auth/whoami", methods=["GET"])
def whoami():
    return jsonify(dump_user(g.user))


@v2.route("/auth/cancel", methods=["DELETE"])
def cancel():
    data = load(CancelSchema())
    users.cancel(_target_user(data.get("username")))
    return no_content()


@v2.route("/auth/tokens/", methods=["POST"], strict_slashes=True)
def regenerate_token():
    data = load(TokensSchema())
    if data.get("all"):
        require_admin()
        users.revoke_every_token()
        return jsonify("")
    return jsonify({"token": users.regenerate_token(_target_user(data.get("username")))})


def dump_token(token):
    return {"id": token.id, "created": when(token.created), "expires": when(users.token_expires(token)),
            "last_used": when(token.last_used), "current": token.id == g.token.id}


@v2.route("/auth/tokens/", methods=["GET"], strict_slashes=True)
def list_tokens():
    return paginate(users.tokens_of(g.user), dump_token)


@v2.route("/auth/tokens/<int:token_id>", methods=["DELETE"])
def revoke_token(token_id):
    if token_id > MAX_TOKEN_ID:
        raise not_found("Token")
    users.revoke_token(g.user, token_id)
    return no_content()


@v2.route("/auth/passwd", methods=["POST"])
def passwd():
    data = load(PasswdSchema())
    user = _target_user(data.get("username"))
    if not g.caller.is_superuser:
        if "password" not in data:
            raise ValidationError({"password": ["This field is required."]})
        if not users.password_matches(user, data["password"]):
            raise NotAuthenticated("Current password does not match")
    key = users.set_password(user, data["new_password"], g.user)
    # every token of the user is revoked; whoever changed their own password keeps working with a new one
    return jsonify({"status": "password set", **({"token": key} if key else {})})


@v2.route("/users", methods=["GET"])
def list_users():
    require_admin()
    return paginate(db.select(User).order_by(User.username), dump_user)
