"""Apps: list, create, info, transfer, destroy; logs, run and scale."""
import functools

from flask import current_app, g, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import Text, bindparam, func
from sqlalchemy.orm import aliased

from api.auth import NO_PERMISSION, app_for_request, caller_id, caller_in_statement, caller_is_admin, read_as_caller
from api.blueprint import v2
from api.http import created, json_body, load, no_content, page_json, page_statement, page_window, sql_when
from api.operations import respond
from api.schemas.resources import dump_app
from core.access import is_owner_or_admin, may_use, user_by_name
from core.errors import Forbidden, not_found
from core.extensions import db
from core.models import App, Collaborator, User
from core.services import apps as app_service
from core.services import processes


class CreateSchema(Schema):
    id = fields.String(validate=validate.Length(min=1, max=63))


class TransferSchema(Schema):
    owner = fields.String(required=True, validate=validate.Length(min=1, max=150))


class RunSchema(Schema):
    command = fields.String(required=True, validate=validate.Length(min=1, max=64 * 1024),
                            error_messages={"required": "command is a required field"})


def _app_json(app=App):
    """An app (App, or an alias of it) as dump_app writes it, built by PostgreSQL."""
    return func.cast(func.json_build_object(
        "uuid", app.uuid, "id", app.id, "owner", User.username, "structure", app.structure,
        "created", sql_when(app.created), "updated", sql_when(app.updated)), Text)


@functools.cache
def _list_statement():
    """GET /v2/apps's page and count in one select, built once: the caller and the page's window are bound
    parameters (built per request, they took more CPU than the rest of the request). PostgreSQL picks the page's
    rows by id, then builds only their JSON (a fifth less of its time than joining the page's ids to apps)."""
    shared = db.select(Collaborator.app_uuid).where(Collaborator.user_id == caller_id())
    visible = caller_is_admin() | (App.owner_id == caller_id()) | App.uuid.in_(shared)
    rows = aliased(App, db.select(App).where(visible).order_by(App.id)
                   .limit(bindparam("limit")).offset(bindparam("offset")).subquery("page"))
    page = db.select(_app_json(rows)).join(User, rows.owner_id == User.id)
    return page_statement(page, db.select(func.count(App.uuid)).where(visible), rows.id)


@functools.cache
def _info_statement():
    """GET /v2/apps/{app}'s select: the facts its authorization needs, and the app's JSON."""
    shared = (db.select(Collaborator.app_uuid)
              .where(Collaborator.app_uuid == App.uuid, Collaborator.user_id == caller_id()).exists())
    return (db.select(App.owner_id, shared, _app_json())
            .join(User, App.owner_id == User.id).where(App.id == bindparam("app_id")))


@v2.route("/apps", methods=["GET"])
@caller_in_statement
def list_apps():
    # The hottest list in the API: one statement reads the caller's token, the count and the page.
    limit, offset = page_window()
    count, results = read_as_caller(_list_statement(), limit=limit, offset=offset)
    return page_json(count, results, limit, offset)


@v2.route("/apps", methods=["POST"])
def create_app():
    data = load(CreateSchema())
    return created(dump_app(app_service.create(g.user, data.get("id"))))


@v2.route("/apps/<app_id>", methods=["GET"])
@caller_in_statement
def app_info(app_id):
    # The hottest single read: one statement reads the caller's token, the app and its owner, and the app's JSON.
    owner_id, shared, body = read_as_caller(_info_statement(), app_id=app_id)
    if body is None:
        raise not_found("App")
    if not may_use(g.caller, owner_id, lambda: shared):
        raise Forbidden(NO_PERMISSION)
    return current_app.response_class(body, mimetype="application/json")


@v2.route("/apps/<app_id>", methods=["POST"])
def transfer_app(app_id):
    app = app_for_request(app_id)
    if not is_owner_or_admin(app, g.caller):
        raise Forbidden("Only the owner or an administrator can transfer an app.")
    data = load(TransferSchema())
    app_service.transfer(app, user_by_name(data["owner"]))
    return "", 200


@v2.route("/apps/<app_id>", methods=["DELETE"])
def destroy_app(app_id):
    app = app_for_request(app_id)
    return respond(app_service.destroy(app, g.user), lambda op: no_content())


@v2.route("/apps/<app_id>/run", methods=["POST"])
def run_command(app_id):
    app = app_for_request(app_id)
    data = load(RunSchema())
    return respond(processes.run(app, g.user, data["command"]), lambda op: jsonify(op.result))


@v2.route("/apps/<app_id>/scale", methods=["POST"])
def scale(app_id):
    app = app_for_request(app_id)
    wanted = json_body(allow_empty=False)
    return respond(processes.scale(app, g.user, wanted), lambda op: no_content())
