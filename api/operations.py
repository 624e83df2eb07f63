"""Answering for a long job: wait for its operation as v2.3 did, or answer 202 when asked to."""
from flask import current_app, jsonify, request

from api.gate import stepped_aside
from api.http import when
from core.errors import ApiError
from core.services import operations


def dump(operation):
    return {"uuid": str(operation.uuid), "app": operation.app_id, "kind": operation.kind,
            "state": operation.state, "error": operation.error, "created": when(operation.created),
            "updated": when(operation.updated)}


def wants_async():
    return "respond-async" in request.headers.get("Prefer", "").lower()


def accepted(operation):
    response = jsonify(dump(operation))
    response.status_code = 202
    response.headers["Location"] = f"/v2/operations/{operation.uuid}"
    return response


def respond(operation, on_success, error_status=400):
    """The answer for an enqueued operation: `on_success(operation)` once it succeeded, its error as a
    400 once it failed, or 202 when it is still running after PIER_SYNC_TIMEOUT (or when asked)."""
    if wants_async():
        return accepted(operation)
    with stepped_aside(current_app):  # another request takes this one's turn while it waits (api/gate.py)
        operation = operations.wait(operation, current_app.config["PIER"].sync_timeout)
    if not operation.finished:
        return accepted(operation)
    if operation.state == "failed":
        raise ApiError(operation.error or f"{operation.kind} failed", status=error_status)
    return on_success(operation)
