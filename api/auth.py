"""Who is calling, and what they may do. Every /v2 view needs a user token unless it says otherwise."""
import functools
import hmac
from collections import namedtuple
from dataclasses import dataclass

from flask import current_app, g, request
from flask.ctx import _AppCtxGlobals
from flask.sessions import SessionInterface
from sqlalchemy import bindparam

from core import statements
from core.access import can_use_app, find_app
from core.errors import Forbidden, NotAuthenticated
from core.extensions import db
from core.models import App, Token, User
from core.models.user import hash_token
from core.services import users

ANONYMOUS = "anonymous"
NO_PERMISSION = "You do not have permission to perform this action."  # DRF's words, as Deis answered
BUILDER = "builder"


def allow(kind):
    """Marks a view as open to anonymous callers or to the builder's shared key."""
    def mark(view):
        view.pier_auth = kind
        return view
    return mark


@dataclass(frozen=True)
class Caller:
    """Who sent the request: the facts authorization needs (core.access takes it where it takes a User), read
    with the token in one statement. The caller's User, which services take, is g.user, loaded on first use."""
    id: int
    username: str
    is_superuser: bool


class Globals(_AppCtxGlobals):
    """flask.g, whose `user` is the caller's User, loaded when a view first asks for it: the hot reads need only
    g.caller, and loading a User with the token cost more CPU than the rest of such a read's statement."""

    @property
    def user(self):
        if "_user" not in self.__dict__:
            caller = self.__dict__.get("caller")
            self._user = db.session.get(User, caller.id) if caller is not None else None
            if caller is not None and self._user is None:  # deleted since its token was read
                raise NotAuthenticated("Invalid token.")
        return self._user


class NoSessions(SessionInterface):
    """Flask's cookie session, never opened: callers authenticate with tokens, and `flask.session` is a
    NullSession, which refuses to be written to (opening a signed-cookie session cost a read a twentieth of its
    CPU)."""

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response):
        pass


def authenticate_request():
    view = current_app.view_functions.get(request.endpoint)
    kind = getattr(view, "pier_auth", None)
    if kind == BUILDER:
        check_builder_key()
        return
    for name in ("caller", "caller_read", "token", "key_hash", "_user"):
        g.pop(name, None)  # an app context may outlive a request (tests push one): its g, another caller
    key = key_from_header()
    if key is None:
        if kind != ANONYMOUS:
            raise NotAuthenticated("Authentication credentials were not provided.")
        g.token = g.caller = None
        return
    g.key_hash = hash_token(key)
    if kind == IN_STATEMENT:
        return  # the view reads the token in its own statement (read_as_caller)
    if request.method in READ_METHODS:
        read_without_transaction()
    accept(statements.one_or_none(_token_statement(), key_hash=g.key_hash))


READ_METHODS = ("GET", "HEAD")


def read_without_transaction():
    """A read runs its statements without BEGIN and ROLLBACK (two of a hot read's round trips), from its first:
    the token's. Reads write nothing but a token's last use, one statement that commits by itself."""
    if not db.session().in_transaction():  # else a caller's transaction (a test's app context) goes on
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def key_from_header():
    """The key of the request's `Authorization: token KEY`, None without the header."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "token" or not key or " " in key:
        raise NotAuthenticated("Invalid token header.")
    return key


def accept(token):
    """Makes the caller the user of `token`, the row of the request's token (its id, created, last_used and its
    user's user_id, username, is_superuser, is_active; None: no such token), if it is still valid."""
    if token is None or not token.is_active:
        raise NotAuthenticated("Invalid token.")
    if users.token_expired(token):
        raise NotAuthenticated("Token expired; log in again")
    users.mark_token_used(token)
    g.token = token
    g.caller = Caller(token.user_id, token.username, token.is_superuser)


TokenRow = namedtuple("TokenRow", "id created last_used user_id username is_superuser is_active")


@functools.cache
def _token_statement():
    """Built once, with a bound parameter: a select built per request took twice the CPU (0.45 against 0.2 ms).
    Columns, not a Token and a User: loading those objects cost 0.12 ms more than this whole statement. Their
    order is TokenRow's."""
    return (db.select(Token.id, Token.created, Token.last_used, Token.user_id, User.username, User.is_superuser,
                      User.is_active)
            .join(User, User.id == Token.user_id).where(Token.key_hash == bindparam("key_hash")))


def check_builder_key():
    presented = request.headers.get("X-Deis-Builder-Auth", "")
    expected = current_app.config["PIER"].builder_key
    if not presented:
        raise NotAuthenticated("Builder key missing: send the X-Deis-Builder-Auth header.")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Forbidden("Builder key does not match.")


def require_admin():
    if not g.caller.is_superuser:
        raise Forbidden(NO_PERMISSION)


def app_for_request(app_id, lock=False):
    """The app in the URL, if the caller may use it with this request's method."""
    app = find_app(app_id)
    if not can_use_app(app, g.caller, request.method):
        raise Forbidden(NO_PERMISSION)
    if lock:
        db.session.execute(db.select(App.uuid).where(App.uuid == app.uuid).with_for_update())
    return app


IN_STATEMENT = "in the view's statement"


def caller_in_statement(view):
    """Marks a hot read that reads the request's token in its own statement (`read_as_caller`): one round trip to
    PostgreSQL instead of two, which made GET /v2/apps/{app} a fifth faster (bench/api.py). The blueprint's
    authentication then checks only the header. Should the view raise or return before it has read its caller,
    the token is checked the usual way, so a caller without a valid token gets the same 401 as anywhere else; a
    view that returns without reading its caller is a bug, answered with a 500."""
    @functools.wraps(view)
    def read(*args, **kwargs):
        try:
            response = view(*args, **kwargs)
        finally:
            caller_read = "caller_read" in g
            if not caller_read:
                accept(statements.one_or_none(_token_statement(), key_hash=g.key_hash))
        if not caller_read:
            raise RuntimeError(f"{view.__name__} never read its caller: call read_as_caller")
        return response
    read.pier_auth = IN_STATEMENT
    return read


def read_as_caller(view_select, **params):
    """The row of `view_select` (built once; `caller_id()` and `caller_is_admin()` stand for the caller in it),
    read with the request's token in one statement (on a connection of its own: statements.read_one), once the
    token is accepted. A view marked `caller_in_statement` calls it before it answers anything, and reads
    nothing more. A view_select without a row gives Nones."""
    row = statements.read_one(_with_caller(view_select), key_hash=g.key_hash, **params)
    g.caller_read = True
    accept(None if row is None else TokenRow._make(row[:len(TokenRow._fields)]))
    return row[len(TokenRow._fields):]


@functools.cache
def _caller():
    return _token_statement().cte("caller")


def caller_id():
    """The caller's user id in a select given to read_as_caller."""
    return db.select(_caller().c.user_id).scalar_subquery().correlate(None)


def caller_is_admin():
    return db.select(_caller().c.is_superuser).scalar_subquery().correlate(None)


@functools.cache
def _with_caller(view_select):
    caller = _caller()
    view = view_select.subquery("view")
    return db.select(caller, view).select_from(caller.outerjoin(view, db.true()))
