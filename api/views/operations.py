import uuid

from flask import g, jsonify

from api.blueprint import v2
from api.operations import dump
from core.access import can_use_app
from core.errors import not_found
from core.extensions import db
from core.models import App, Operation


@v2.route("/operations/<operation_id>", methods=["GET"])
def operation_info(operation_id):
    try:
        operation = db.session.get(Operation, uuid.UUID(operation_id))
    except ValueError:
        operation = None
    if operation is None:
        raise not_found("Operation")
    app = db.session.get(App, operation.app_uuid) if operation.app_uuid else None
    if operation.app_uuid is None:  # a platform operation (backups, garbage collection): admins only
        allowed = g.caller.is_superuser
    elif app is not None:
        allowed = can_use_app(app, g.caller)
    else:  # its app was destroyed
        allowed = g.caller.is_superuser or operation.owner_id == g.caller.id
    if not allowed:
        raise not_found("Operation")
    return jsonify(dump(operation))
