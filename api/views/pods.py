"""Pods (process containers): listed from what the workers last observed, restarted by a job."""
from flask import current_app, g, jsonify

from api.auth import app_for_request
from api.blueprint import v2
from api.operations import respond
from core.errors import NotFound
from core.pods import PodStates
from core.services import processes
from core.validators import process_type


def _pods(app, kind=None):
    pods = PodStates(current_app.config["PIER"].redis_url).read(app.id) or []
    return [p for p in pods if kind in (None, p["type"])]


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
    return respond(processes.restart(app, g.user, kind, name), lambda op: jsonify(op.result["pods"]))
