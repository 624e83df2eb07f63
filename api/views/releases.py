from flask import g, jsonify
from marshmallow import Schema, fields, validate

from api.auth import app_for_request
from api.blueprint import v2
from api.http import created, load, paginate
from api.operations import respond
from api.schemas.resources import dump_release
from core.errors import not_found
from core.extensions import db
from core.models import Release
from core.services import releases

MAX_VERSION = 2 ** 31 - 1  # the versions column is a PostgreSQL integer


class RollbackSchema(Schema):
    version = fields.Integer(strict=True, validate=validate.Range(min=-MAX_VERSION, max=MAX_VERSION))


@v2.route("/apps/<app_id>/releases", methods=["GET"])
def list_releases(app_id):
    app = app_for_request(app_id)
    select = db.select(Release).where(Release.app_uuid == app.uuid).order_by(Release.version.desc())
    return paginate(select, dump_release)


@v2.route("/apps/<app_id>/releases/v<int:version>", methods=["GET"])
def release_info(app_id, version):
    app = app_for_request(app_id)
    release = releases.by_version(app, version) if version <= MAX_VERSION else None
    if release is None:
        raise not_found("Release")
    return jsonify(dump_release(release))


@v2.route("/apps/<app_id>/releases/rollback", methods=["POST"])
def rollback(app_id):
    app = app_for_request(app_id)
    data = load(RollbackSchema())
    release, operation = releases.roll_back(app, g.user, data.get("version"))
    body = {"version": release.version}
    if operation is None:
        return created(body)
    return respond(operation, lambda op: created(body))
