"""Apps: list, create, info, transfer, destroy; logs, run and scale."""
from flask import g, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import Text, func

from api.auth import app_for_request, user_by_name
from api.errors import BadRequest, Conflict, Forbidden, ValidationError
from api.extensions import db
from api.http import created, json_body, load, no_content, paginate_json, sql_when
from api.models import App, Collaborator, User
from api.schemas.resources import dump_app
from api.services import apps as app_service
from api.services import operations, releases
from api.validators import process_type
from api.views import v2


class CreateSchema(Schema):
    id = fields.String(validate=validate.Length(min=1, max=63))


class TransferSchema(Schema):
    owner = fields.String(required=True, validate=validate.Length(min=1, max=150))


class RunSchema(Schema):
    command = fields.String(required=True, validate=validate.Length(min=1, max=64 * 1024),
                            error_messages={"required": "command is a required field"})


@v2.route("/apps", methods=["GET"])
def list_apps():
    # The hottest list in the API: PostgreSQL picks the page by id, then builds only those apps' JSON.
    visible = db.true()
    if not g.user.is_superuser:
        shared = db.select(Collaborator.app_uuid).where(Collaborator.user_id == g.user.id)
        visible = (App.owner_id == g.user.id) | App.uuid.in_(shared)

    def page(limit, offset):
        ids = db.select(App.uuid).where(visible).order_by(App.id).limit(limit).offset(offset).subquery()
        app_json = func.json_build_object(
            "uuid", App.uuid, "id", App.id, "owner", User.username, "structure", App.structure,
            "created", sql_when(App.created), "updated", sql_when(App.updated))
        return (db.select(func.cast(app_json, Text)).join(ids, ids.c.uuid == App.uuid)
                .join(User, App.owner_id == User.id).order_by(App.id))

    return paginate_json(page, db.select(func.count(App.uuid)).where(visible))


@v2.route("/apps", methods=["POST"])
def create_app():
    data = load(CreateSchema())
    return created(dump_app(app_service.create(g.user, data.get("id"))))


@v2.route("/apps/<app_id>", methods=["GET"])
def app_info(app_id):
    return jsonify(dump_app(app_for_request(app_id)))


@v2.route("/apps/<app_id>", methods=["POST"])
def transfer_app(app_id):
    app = app_for_request(app_id)
    if not (g.user.is_superuser or app.owner_id == g.user.id):
        raise Forbidden("Only the owner or an administrator can transfer an app.")
    data = load(TransferSchema())
    app_service.transfer(app, user_by_name(data["owner"]))
    return "", 200


@v2.route("/apps/<app_id>", methods=["DELETE"])
def destroy_app(app_id):
    app = app_for_request(app_id, lock=True)
    if operations.active(app, ("deploy", "scale", "destroy")):
        raise Conflict(f"A deploy, scale or destroy of {app.id} is in progress; try again when it ends.")
    operation = operations.add(app, g.user, "destroy")
    db.session.commit()
    return operations.start(operation, lambda op: no_content())


@v2.route("/apps/<app_id>/run", methods=["POST"])
def run_command(app_id):
    app = app_for_request(app_id)
    data = load(RunSchema())
    release = releases.latest_good(app)
    if release.build is None:
        raise BadRequest("No build associated with this release to run this command")
    operation = operations.add(app, g.user, "run", release=str(release.uuid), command=data["command"])
    db.session.commit()
    return operations.start(operation, lambda op: jsonify(op.result))


def _scale_request():
    body = json_body(allow_empty=False)
    errors = {}
    for name, count in body.items():
        try:
            process_type(name)
        except ValueError as exc:
            errors[name] = [str(exc)]
            continue
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1000:
            errors[name] = ["Invalid scaling format: use a whole number from 0 to 1000."]
    if errors:
        raise ValidationError(errors)
    return body


@v2.route("/apps/<app_id>/scale", methods=["POST"])
def scale(app_id):
    app = app_for_request(app_id, lock=True)
    wanted = _scale_request()
    release = releases.latest_good(app)
    if release.build is None:
        raise BadRequest("No build associated with this release")
    known = set(release.build.procfile) - {releases.RELEASE_PHASE} or {"cmd"}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise BadRequest(f"Container type {', '.join(unknown)} does not exist in application; "
                         f"the types are {', '.join(sorted(known))}")
    if operations.active(app, ("deploy", "scale", "destroy")):
        raise Conflict(f"A deploy or scale of {app.id} is already in progress; try again when it ends.")
    operation = operations.add(app, g.user, "scale", release=str(release.uuid), structure=wanted)
    db.session.commit()
    return operations.start(operation, lambda op: no_content())
