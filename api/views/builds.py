import uuid

from flask import g, jsonify
from marshmallow import Schema, fields, validate

from api.auth import app_for_request
from api.blueprint import v2
from api.http import created, load, paginate
from api.operations import respond
from api.schemas.resources import dump_build
from core.errors import ValidationError, not_found
from core.extensions import db
from core.models import Build
from core.services import releases
from core.validators import process_type

IMAGE = validate.Regexp(r"^\S+\Z", error="image must be a Docker image reference without spaces.")


class BuildSchema(Schema):
    image = fields.String(required=True, validate=[validate.Length(min=1, max=1024), IMAGE])
    procfile = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    sha = fields.String(load_default="", validate=validate.Length(max=40))
    dockerfile = fields.String(load_default="", validate=validate.Length(max=1024 * 1024))


def check_procfile(procfile):
    errors = []
    for name, command in procfile.items():
        try:
            process_type(name)
        except ValueError as exc:
            errors.append(str(exc))
        if not command.strip():
            errors.append(f"Process type {name} has an empty command.")
    if errors:
        raise ValidationError({"procfile": errors})
    return procfile


def _find_build(app, build_uuid):
    try:
        wanted = uuid.UUID(build_uuid)
    except ValueError:
        raise not_found("Build") from None
    build = db.session.execute(
        db.select(Build).where(Build.app_uuid == app.uuid, Build.uuid == wanted)).scalar_one_or_none()
    if build is None:
        raise not_found("Build")
    return build


@v2.route("/apps/<app_id>/builds", methods=["GET"])
def list_builds(app_id):
    app = app_for_request(app_id)
    return paginate(db.select(Build).where(Build.app_uuid == app.uuid).order_by(Build.created.desc()), dump_build)


@v2.route("/apps/<app_id>/builds/<build_uuid>", methods=["GET"])
def build_info(app_id, build_uuid):
    return jsonify(dump_build(_find_build(app_for_request(app_id), build_uuid)))


@v2.route("/apps/<app_id>/builds", methods=["POST"])
def create_build(app_id):
    app = app_for_request(app_id)
    data = load(BuildSchema())
    build, _, operation = releases.add_build(app, g.user, data["image"], check_procfile(data["procfile"]),
                                             data["sha"], data["dockerfile"])
    return respond(operation, lambda op: created(dump_build(build)))
