from flask import g, jsonify

from api.auth import app_for_request
from api.extensions import db
from api.http import created, json_body
from api.schemas.config import parse_changes
from api.schemas.resources import dump_config
from api.services import operations, releases
from api.views import v2


@v2.route("/apps/<app_id>/config", methods=["GET"])
def get_config(app_id):
    release = releases.latest_good(app_for_request(app_id))
    return jsonify(dump_config(release.config, release))


@v2.route("/apps/<app_id>/config", methods=["POST"])
def set_config(app_id):
    app = app_for_request(app_id, lock=True)
    changes = parse_changes(json_body(allow_empty=False))
    release, config = releases.new_config(app, g.user, changes)
    operation = releases.deploy_if_built(app, g.user, release, "config")
    db.session.commit()
    if operation is None:
        return created(dump_config(config, release))
    return operations.start(operation, lambda op: created(dump_config(config, release)))
