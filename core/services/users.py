"""Users and their tokens: registration, login, cancellation, token regeneration and passwords."""
from sqlalchemy import func, text

from core.errors import Conflict, Forbidden, ValidationError
from core.extensions import db
from core.models import App, Token, User
from core.models.base import utcnow
from core.passwords import check_password, hash_password

REGISTRATION_LOCK = 0x70696572  # a fixed advisory-lock id, so that only one first user becomes admin


def _superuser_exists():
    return db.session.execute(db.select(User.id).where(User.is_superuser.is_(True)).limit(1)).first() is not None


def _check_registration_allowed(mode, caller):
    if mode == "disabled":
        raise Forbidden("User registration is disabled.")
    if mode == "admin_only" and _superuser_exists() and not (caller and caller.is_superuser):
        raise Forbidden("Only an administrator can register new users.")


def register(caller, mode, username, email, password, first_name="", last_name=""):
    """A new user; the first one ever becomes an administrator."""
    db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": REGISTRATION_LOCK})
    _check_registration_allowed(mode, caller)
    if db.session.execute(db.select(User.id).where(User.username == username)).first():
        raise ValidationError({"username": ["A user with that username already exists."]})
    first = db.session.execute(db.select(func.count(User.id))).scalar() == 0
    user = User(username=username, email=email, first_name=first_name, last_name=last_name,
                password_hash=hash_password(password), is_superuser=first, is_staff=first)
    db.session.add(user)
    db.session.commit()
    return user


def login(username, password):
    """A new token's clear-text key for valid credentials."""
    user = db.session.execute(db.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active or not check_password(user.password_hash, password):
        raise ValidationError({"non_field_errors": ["Unable to log in with provided credentials."]})
    user.last_login = utcnow()
    key = Token.issue(user)
    db.session.commit()
    return key


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


def set_password(user, new_password):
    user.password_hash = hash_password(new_password)
    db.session.commit()


def set_admin(user, admin):
    user.is_superuser = user.is_staff = admin
    db.session.commit()
