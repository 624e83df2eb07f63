"""Users and tokens: register, login, whoami, regenerate, passwd, cancel, and the admin's user list."""
from flask import current_app, g, jsonify

from api.auth import ANONYMOUS, allow, require_admin
from api.blueprint import v2
from api.http import created, load, no_content, paginate
from api.schemas.user import CancelSchema, LoginSchema, PasswdSchema, RegisterSchema, TokensSchema, dump_user
from core.access import user_by_name
from core.errors import NotAuthenticated, ValidationError
from core.extensions import db
from core.models import User
from core.services import users


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
    if not username or username == g.user.username:
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


@v2.route("/auth/passwd", methods=["POST"])
def passwd():
    data = load(PasswdSchema())
    user = _target_user(data.get("username"))
    if not g.user.is_superuser:
        if "password" not in data:
            raise ValidationError({"password": ["This field is required."]})
        if not users.password_matches(user, data["password"]):
            raise NotAuthenticated("Current password does not match")
    users.set_password(user, data["new_password"])
    return jsonify({"status": "password set"})


@v2.route("/users", methods=["GET"])
def list_users():
    require_admin()
    return paginate(db.select(User).order_by(User.username), dump_user)
