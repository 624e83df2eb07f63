from flask import g, jsonify

from api.auth import app_for_request
from api.blueprint import v2
from api.http import created, json_body
from api.operations import respond
from api.schemas.resources import dump_config
from core.config_changes import parse_changes
from core.services import releases


@v2.route("/apps/<app_id>/config", methods=["GET"])
def get_config(app_id):
    release = releases.latest_good(app_for_request(app_id))
    return jsonify(dump_config(release.config, release))


@v2.route("/apps/<app_id>/config", methods=["POST"])
def set_config(app_id):
    app = app_for_request(app_id)
    changes = parse_changes(json_body(allow_empty=False))
    release, config, operation = releases.change_config(app, g.user, changes)
    if operation is None:
        return created(dump_config(config, release))
    return respond(operation, lambda op: created(dump_config(config, release)))
