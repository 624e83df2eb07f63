"""Pods (process containers): list and restart, answered by the configured scheduler."""
from flask import current_app, g, jsonify

from api.auth import app_for_request
from api.errors import NotFound, ServiceUnavailable
from api.extensions import db
from api.services import operations
from api.validators import process_type
from api.views import v2
from workers.scheduler import SchedulerError, get_scheduler


def _pods(app, kind=None):
    try:
        return get_scheduler(current_app.config["PIER"]).pods(app.id, kind)
    except SchedulerError as exc:
        raise ServiceUnavailable(str(exc)) from None


def _check_type(kind):
    try:
        process_type(kind)
    except ValueError as exc:
        raise NotFound(str(exc)) from None


@v2.route("/apps/<app_id>/pods", methods=["GET"])
@v2.route("/apps/<app_id>/pods/<kind>", methods=["GET"])
def list_pods(app_id, kind=None):
    app = app_for_request(app_id)
    if kind is not None:
        _check_type(kind)
    pods = _pods(app, kind)
    return jsonify({"count": len(pods), "results": pods})


@v2.route("/apps/<app_id>/pods/<kind>/<name>", methods=["GET"])
def pod_info(app_id, kind, name):
    app = app_for_request(app_id)
    _check_type(kind)
    pods = [p for p in _pods(app, kind) if p["name"] == name]
    if not pods:
        raise NotFound("No Pod matches the given query.")
    return jsonify({"count": 1, "results": pods})


@v2.route("/apps/<app_id>/pods/restart", methods=["POST"])
@v2.route("/apps/<app_id>/pods/<kind>/restart", methods=["POST"])
@v2.route("/apps/<app_id>/pods/<kind>/<name>/restart", methods=["POST"])
def restart_pods(app_id, kind=None, name=None):
    app = app_for_request(app_id)
    if kind is not None:
        _check_type(kind)
    operation = operations.add(app, g.user, "restart", type=kind, name=name)
    db.session.commit()
    return operations.start(operation, lambda op: jsonify(op.result["pods"]))
