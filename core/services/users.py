"""Users and their tokens: registration, login, cancellation, tokens and passwords."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, text

from core.errors import Conflict, Forbidden, ValidationError, not_found
from core.extensions import db
from core.models import App, Token, User
from core.models.base import utcnow
from core.models.user import token_expiry
from core.passwords import check_password, check_password_of_nobody, hash_password, password_problem

REGISTRATION_LOCK = 0x70696572  # a fixed advisory-lock id, so that only one first user becomes admin
LAST_USED_EVERY = timedelta(minutes=1)  # a token's last_used is written at most this often


def _superuser_exists():
    return db.session.execute(db.select(User.id).where(User.is_superuser.is_(True)).limit(1)).first() is not None


def _check_registration_allowed(mode, caller):
    if mode == "disabled":
        raise Forbidden("User registration is disabled.")
    if mode == "admin_only" and _superuser_exists() and not (caller and caller.is_superuser):
        raise Forbidden("Only an administrator can register new users.")


def _token_ttl():
    return current_app.config["PIER"].token_ttl


def _check_new_password(field, password, username):
    problem = password_problem(password, current_app.config["PIER"].password_min_length, username)
    if problem:
        raise ValidationError({field: [problem]})


def register(caller, mode, username, email, password, first_name="", last_name=""):
    """A new user; the first one ever becomes an administrator."""
    db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": REGISTRATION_LOCK})
    _check_registration_allowed(mode, caller)
    if db.session.execute(db.select(User.id).where(User.username == username)).first():
        raise ValidationError({"username": ["A user with that username already exists."]})
    _check_new_password("password", password, username)
    first = db.session.execute(db.select(func.count(User.id))).scalar() == 0
    user = User(username=username, email=email, first_name=first_name, last_name=last_name,
                password_hash=hash_password(password), is_superuser=first, is_staff=first)
    db.session.add(user)
    db.session.commit()
    return user


def login(username, password):
    """A new token's clear-text key for valid credentials. An unknown username costs one password
    verification too, so the time of the answer does not tell whether the user exists."""
    user = db.session.execute(db.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        valid = check_password_of_nobody(password)
    else:
        valid = check_password(user.password_hash, password) and user.is_active
    if not valid:
        raise ValidationError({"non_field_errors": ["Unable to log in with provided credentials."]})
    user.last_login = utcnow()
    _forget_expired_tokens(user)
    key = Token.issue(user)
    db.session.commit()
    return key


def _forget_expired_tokens(user):
    if _token_ttl():
        cutoff = utcnow() - timedelta(seconds=_token_ttl())
        db.session.execute(db.delete(Token).where(Token.user_id == user.id, Token.created <= cutoff))


def cancel(user):
    owns_apps = db.session.execute(db.select(App.uuid).where(App.owner_id == user.id).limit(1)).first()
    if owns_apps:
        raise Conflict(f"{user.username} still has applications assigned. Delete or transfer ownership")
    db.session.delete(user)
    db.session.commit()


def revoke_every_token():
    db.session.execute(db.delete(Token))
    db.session.commit()


def regenerate_token(user):
    """Revokes all of the user's tokens and returns one new key."""
    db.session.execute(db.delete(Token).where(Token.user_id == user.id))
    key = Token.issue(user)
    db.session.commit()
    return key


def password_matches(user, password):
    return check_password(user.password_hash, password)


def set_password(user, new_password, caller):
    """Sets the password and revokes every token of the user; a caller changing their own password gets a
    new token's key back (None when an administrator set someone else's)."""
    _check_new_password("new_password", new_password, user.username)
    user.password_hash = hash_password(new_password)
    db.session.execute(db.delete(Token).where(Token.user_id == user.id))
    key = Token.issue(user) if user.id == caller.id else None
    db.session.commit()
    return key


def tokens_of(user):
    """A select of the user's tokens, newest first."""
    return db.select(Token).where(Token.user_id == user.id).order_by(Token.created.desc(), Token.id.desc())


def token_expires(token):
    return token.expires(_token_ttl())


def token_expired(token):
    """Whether a token (a Token, or a row with its `created`) is past its lifetime."""
    expiry = token_expiry(token.created, _token_ttl())
    return expiry is not None and utcnow() >= expiry


def revoke_token(user, token_id):
    """Revokes one of the user's own tokens; another user's token is as unknown as a missing one."""
    token = db.session.get(Token, token_id)
    if token is None or token.user_id != user.id:
        raise not_found("Token")
    db.session.delete(token)
    db.session.commit()


def mark_token_used(token):
    """Records that the token was just used, at most once a minute (a write per request would cost more)."""
    now = utcnow()
    if token.last_used is not None and now - token.last_used < LAST_USED_EVERY:
        return
    db.session.execute(db.update(Token).where(Token.id == token.id).values(last_used=now))
    db.session.commit()


def set_admin(user, admin):
    user.is_superuser = user.is_staff = admin
    db.session.commit()
