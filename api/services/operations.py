"""Long jobs: a row first, committed, then a Celery message carrying its id; then wait or answer 202."""
import json
import time

import redis
from flask import current_app, jsonify, request

from api.errors import ApiError
from api.extensions import db
from api.http import when
from api.models import Operation

TASKS = {"deploy": "deploy.release", "scale": "app.scale", "restart": "app.restart", "run": "app.run",
         "destroy": "app.destroy"}
ACTIVE = ("pending", "running")


def channel(operation_uuid):
    return f"pier:operations:{operation_uuid}"


def add(app, user, kind, **params):
    """Adds an operation row; the caller commits, then calls `enqueue`."""
    operation = Operation(app_id=app.id, app_uuid=app.uuid, owner_id=user.id if user else None, kind=kind,
                          params=params)
    db.session.add(operation)
    db.session.flush()
    return operation


def active(app, kinds):
    return db.session.execute(
        db.select(Operation.uuid).where(Operation.app_uuid == app.uuid, Operation.kind.in_(kinds),
                                        Operation.state.in_(ACTIVE)).limit(1)).first() is not None


def enqueue(operation):
    celery = current_app.extensions["celery"]
    celery.send_task(TASKS[operation.kind], args=[str(operation.uuid)])


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


def _redis():
    return redis.Redis.from_url(current_app.config["PIER"].redis_url)


def wait(operation, timeout):
    """Blocks until the operation finishes or `timeout` passes; returns it refreshed."""
    pubsub = _redis().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel(operation.uuid))
    try:
        deadline = time.monotonic() + timeout
        while True:
            db.session.refresh(operation)
            db.session.commit()  # end the read transaction so the next refresh sees the worker's commit
            if operation.finished:
                return operation
            left = deadline - time.monotonic()
            if left <= 0:
                return operation
            pubsub.get_message(timeout=min(left, 1.0))
    finally:
        pubsub.close()


def start(operation, on_success, error_status=400):
    """Enqueues a committed operation and answers as v2.3 would, or 202 when asked to."""
    enqueue(operation)
    if wants_async():
        return accepted(operation)
    operation = wait(operation, current_app.config["PIER"].sync_timeout)
    if not operation.finished:
        return accepted(operation)
    if operation.state == "failed":
        raise ApiError(operation.error or f"{operation.kind} failed", status=error_status)
    return on_success(operation)


def publish_finished(redis_url, operation_uuid, state):
    redis.Redis.from_url(redis_url).publish(channel(operation_uuid), json.dumps({"state": state}))
