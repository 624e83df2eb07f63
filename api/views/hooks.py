"""Endpoints for the builder, authenticated by the shared builder key instead of a user token."""
from flask import jsonify
from marshmallow import Schema, fields, validate

from api.auth import BUILDER, allow, can_use_app, find_app, user_by_name
from api.errors import Forbidden, not_found
from api.extensions import db
from api.http import load
from api.models import App, Collaborator, Key
from api.schemas.resources import dump_config
from api.services import operations, releases
from api.views import v2
from api.views.builds import check_procfile


class ReceiveSchema(Schema):
    receive_user = fields.String(required=True, validate=validate.Length(min=1, max=150))
    receive_repo = fields.String(required=True, validate=validate.Length(min=1, max=63))


class BuildHookSchema(ReceiveSchema):
    image = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    sha = fields.String(load_default="", validate=validate.Length(max=40))
    procfile = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    dockerfile = fields.String(load_default="", validate=validate.Length(max=1024 * 1024))


def _apps_of(user):
    select = db.select(App.id).order_by(App.id)
    if not user.is_superuser:
        shared = db.select(Collaborator.app_uuid).where(Collaborator.user_id == user.id)
        select = select.where((App.owner_id == user.id) | App.uuid.in_(shared))
    return list(db.session.execute(select).scalars())


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
    return jsonify({"username": key.owner.username, "apps": _apps_of(key.owner)})


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
    db.session.execute(db.select(App.uuid).where(App.uuid == app.uuid).with_for_update())
    _, release = releases.new_build(app, user, data["image"], check_procfile(data["procfile"]), data["sha"],
                                    data["dockerfile"])
    operation = releases.deploy_if_built(app, user, release, "build")
    db.session.commit()
    return operations.start(operation, lambda op: jsonify({"release": {"version": release.version}}))
