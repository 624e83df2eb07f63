"""Users and tokens: register, login, whoami, regenerate, passwd, cancel, and the admin's user list."""
from flask import current_app, g, jsonify
from sqlalchemy import func, text

from api.auth import ANONYMOUS, allow, require_admin, user_by_name
from api.errors import Conflict, Forbidden, NotAuthenticated, ValidationError
from api.extensions import db
from api.http import created, load, no_content, paginate
from api.models import App, Token, User
from api.models.base import utcnow
from api.passwords import check_password, hash_password
from api.schemas.user import (CancelSchema, LoginSchema, PasswdSchema, RegisterSchema, TokensSchema,
                              dump_user)
from api.views import v2

REGISTRATION_LOCK = 0x70696572  # a fixed advisory-lock id, so that only one first user becomes admin


def _superuser_exists():
    return db.session.execute(db.select(User.id).where(User.is_superuser.is_(True)).limit(1)).first() is not None


def _check_registration_allowed():
    mode = current_app.config["PIER"].registration_mode
    caller = g.user
    if mode == "disabled":
        raise Forbidden("User registration is disabled.")
    if mode == "admin_only" and _superuser_exists() and not (caller and caller.is_superuser):
        raise Forbidden("Only an administrator can register new users.")


@v2.route("/auth/register", methods=["POST"])
@allow(ANONYMOUS)
def register():
    data = load(RegisterSchema())
    db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": REGISTRATION_LOCK})
    _check_registration_allowed()
    taken = db.session.execute(db.select(User.id).where(User.username == data["username"])).first()
    if taken:
        raise ValidationError({"username": ["A user with that username already exists."]})
    first = db.session.execute(db.select(func.count(User.id))).scalar() == 0
    user = User(username=data["username"], email=data["email"], first_name=data["first_name"],
                last_name=data["last_name"], password_hash=hash_password(data["password"]),
                is_superuser=first, is_staff=first)
    db.session.add(user)
    db.session.commit()
    return created(dump_user(user))


@v2.route("/auth/login/", methods=["POST"], strict_slashes=True)
@allow(ANONYMOUS)
def login():
    data = load(LoginSchema())
    user = db.session.execute(db.select(User).where(User.username == data["username"])).scalar_one_or_none()
    if user is None or not user.is_active or not check_password(user.password_hash, data["password"]):
        raise ValidationError({"non_field_errors": ["Unable to log in with provided credentials."]})
    user.last_login = utcnow()
    key = Token.issue(user)
    db.session.commit()
    return jsonify({"token": key})


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
    user = _target_user(data.get("username"))
    owns_apps = db.session.execute(db.select(App.uuid).where(App.owner_id == user.id).limit(1)).first()
    if owns_apps:
        raise Conflict(f"{user.username} still has applications assigned. Delete or transfer ownership")
    db.session.delete(user)
    db.session.commit()
    return no_content()


@v2.route("/auth/tokens/", methods=["POST"], strict_slashes=True)
def regenerate_token():
    data = load(TokensSchema())
    if data.get("all"):
        require_admin()
        db.session.execute(db.delete(Token))
        db.session.commit()
        return jsonify("")
    user = _target_user(data.get("username"))
    db.session.execute(db.delete(Token).where(Token.user_id == user.id))
    key = Token.issue(user)
    db.session.commit()
    return jsonify({"token": key})


@v2.route("/auth/passwd", methods=["POST"])
def passwd():
    data = load(PasswdSchema())
    user = _target_user(data.get("username"))
    if not g.user.is_superuser:
        if "password" not in data:
            raise ValidationError({"password": ["This field is required."]})
        if not check_password(user.password_hash, data["password"]):
            raise NotAuthenticated("Current password does not match")
    user.password_hash = hash_password(data["new_password"])
    db.session.commit()
    return jsonify({"status": "password set"})


@v2.route("/users", methods=["GET"])
def list_users():
    require_admin()
    return paginate(db.select(User).order_by(User.username), dump_user)
