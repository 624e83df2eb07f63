"""Endpoints for the builder, authenticated by the shared builder key instead of a user token."""
import uuid

from flask import jsonify
from marshmallow import Schema, fields, validate

from api.auth import BUILDER, allow
from api.blueprint import v2
from api.http import load
from api.operations import dump, respond, wants_async
from api.schemas.resources import dump_config
from api.views.builds import check_procfile
from core.access import can_use_app, find_app, user_by_name
from core.errors import Forbidden, not_found
from core.extensions import db
from core.models import App, Collaborator, Key, Operation
from core.services import releases


class ReceiveSchema(Schema):
    receive_user = fields.String(required=True, validate=validate.Length(min=1, max=150))
    receive_repo = fields.String(required=True, validate=validate.Length(min=1, max=63))


class BuildHookSchema(ReceiveSchema):
    image = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    sha = fields.String(load_default="", validate=validate.Length(max=40))
    procfile = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    dockerfile = fields.String(load_default="", validate=validate.Length(max=1024 * 1024))


def _apps_of(user):
    """{app id: app uuid} of the apps the user may push to."""
    select = db.select(App.id, App.uuid).order_by(App.id)
    if not user.is_superuser:
        shared = db.select(Collaborator.app_uuid).where(Collaborator.user_id == user.id)
        select = select.where((App.owner_id == user.id) | App.uuid.in_(shared))
    return {app_id: str(app_uuid) for app_id, app_uuid in db.session.execute(select)}


def _users_of(app):
    users = {app.owner.id: app.owner}
    users.update({u.id: u for u in app.collaborators})
    return users.values()


def _keys_of(user):
    keys = db.session.execute(db.select(Key).where(Key.owner_id == user.id).order_by(Key.id)).scalars()
    return [{"key": k.public, "fingerprint": k.fingerprint} for k in keys]


def _authorized(data):
    """The pushing user and their app, if that user may use it."""
    app = find_app(data["receive_repo"])
    user = user_by_name(data["receive_user"])
    if not can_use_app(app, user, "POST"):
        raise Forbidden(f"user {user.username} has no access to app {app.id}")
    return user, app


@v2.route("/hooks/key/<path:fingerprint>", methods=["GET"])
@allow(BUILDER)
def user_for_key(fingerprint):
    if fingerprint.startswith("SHA256:"):
        match = Key.fingerprint == fingerprint
    else:  # the legacy MD5 form, with or without colons
        digits = fingerprint.replace(":", "").lower()
        match = Key.fingerprint_md5 == ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))
    key = db.session.execute(db.select(Key).where(match)).scalar_one_or_none()
    if key is None:
        raise not_found("Key")
    apps = _apps_of(key.owner)
    # "apps" as Deis answered; "app_uuids" so the builder binds each repository to one app, not one name
    return jsonify({"username": key.owner.username, "apps": list(apps), "app_uuids": apps})


@v2.route("/hooks/apps", methods=["GET"])
@allow(BUILDER)
def every_app():
    """{app id: uuid} of every app, for the builder's sweep of repositories of gone apps."""
    rows = db.session.execute(db.select(App.id, App.uuid).order_by(App.id))
    return jsonify({"apps": {app_id: str(app_uuid) for app_id, app_uuid in rows}})


@v2.route("/hooks/keys/<app_id>", methods=["GET"])
@allow(BUILDER)
def keys_for_app(app_id):
    app = find_app(app_id)
    return jsonify({user.username: _keys_of(user) for user in _users_of(app)})


@v2.route("/hooks/keys/<app_id>/<username>", methods=["GET"])
@allow(BUILDER)
def keys_for_app_user(app_id, username):
    app = find_app(app_id)
    user = user_by_name(username)
    if not can_use_app(app, user, "POST"):
        raise Forbidden(f"user {username} has no access to app {app.id}")
    keys = _keys_of(user)
    if not keys:
        raise not_found("Key")
    return jsonify({username: keys})


@v2.route("/hooks/config", methods=["POST"])
@allow(BUILDER)
def config_for_build():
    _, app = _authorized(load(ReceiveSchema()))
    release = releases.latest_good(app)
    return jsonify(dump_config(release.config, release))


@v2.route("/hooks/build", methods=["POST"])
@allow(BUILDER)
def build_done():
    data = load(BuildHookSchema())
    user, app = _authorized(data)
    _, release, operation = releases.add_build(app, user, data["image"], check_procfile(data["procfile"]),
                                               data["sha"], data["dockerfile"])
    if wants_async():  # the builder follows the deploy itself (hooks/operations), however long it takes
        return jsonify({"release": {"version": release.version}, "operation": dump(operation)}), 202
    return respond(operation, lambda op: jsonify({"release": {"version": release.version}}))


@v2.route("/hooks/operations/<operation_id>", methods=["GET"])
@allow(BUILDER)
def operation_for_builder(operation_id):
    try:
        operation = db.session.get(Operation, uuid.UUID(operation_id))
    except ValueError:
        operation = None
    if operation is None:
        raise not_found("Operation")
    return jsonify(dict(dump(operation), result=operation.result))  # the builder shows a deploy's timings
