import uuid

from flask import g, jsonify

from api.auth import can_use_app
from api.errors import not_found
from api.extensions import db
from api.models import App, Operation
from api.services.operations import dump
from api.views import v2


@v2.route("/operations/<operation_id>", methods=["GET"])
def operation_info(operation_id):
    try:
        operation = db.session.get(Operation, uuid.UUID(operation_id))
    except ValueError:
        operation = None
    if operation is None:
        raise not_found("Operation")
    app = db.session.get(App, operation.app_uuid)
    allowed = can_use_app(app, g.user) if app is not None else (g.user.is_superuser or
                                                                 operation.owner_id == g.user.id)
    if not allowed:
        raise not_found("Operation")
    return jsonify(dump(operation))
