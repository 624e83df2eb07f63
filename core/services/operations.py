"""Long jobs as operations: a row first, committed, then a job carrying its id; the outcome lands on the row.

Every use case that starts a job ends in `commit_and_enqueue`, the one place that commits before it
enqueues: a worker never receives the id of a row it cannot read yet.
"""
import json
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import redis
from flask import current_app
from sqlalchemy import func
from sqlalchemy.orm import aliased

from core import jobs, redis_client
from core.errors import ServiceUnavailable
from core.extensions import db
from core.models import Operation

log = logging.getLogger("pier.operations")
ACTIVE = ("pending", "running")


LEASE_SECONDS = 20  # a running job renews its lease every LEASE_SECONDS / 4; an expired one means its worker died
RESEND_AFTER_SECONDS = 30  # a job still pending this long may have been lost by the broker: send it again
GIVE_UP_PENDING_SECONDS = 600  # ... and after this long, nothing takes it: fail it, naming the queue
SETTLING_POLL_SECONDS = 0.25  # a job waiting for an earlier one's after-work asks again this often
MAX_ATTEMPTS = 2  # a job whose worker died is run again once, then failed


@dataclass(frozen=True)
class Kind:
    task: str
    exclusive: bool  # refused while another exclusive job of the same app is pending or running
    platform: bool = False  # targets the platform (backups, garbage collection), not one app
    rerun_when_lost: bool = True  # run again when its worker died mid-way (it converges); not user commands


KINDS = {
    "deploy": Kind("deploy.release", exclusive=True),
    "scale": Kind("app.scale", exclusive=True),
    "restart": Kind("app.restart", exclusive=False),
    "run": Kind("app.run", exclusive=False, rerun_when_lost=False),
    "destroy": Kind("app.destroy", exclusive=True),
    "repair": Kind("app.repair", exclusive=True),  # reconcile's redeploy in place of a drifted app
    "backup": Kind("backups.take", exclusive=True, platform=True),
    "gc": Kind("gc.collect", exclusive=True, platform=True),
}
EXCLUSIVE = tuple(name for name, kind in KINDS.items() if kind.exclusive)
# jobs that change an app's processes start only once an earlier one's after-work is over (see `settling`)
AFTER_SETTLING = tuple(name for name, kind in KINDS.items() if not kind.platform and name != "run")
RERUNNABLE = tuple(name for name, kind in KINDS.items() if kind.rerun_when_lost)


def add(app, user, kind, **params):
    """Adds an operation row for `app` (None for a platform operation); the caller's use case then
    calls `commit_and_enqueue`."""
    if KINDS[kind].platform != (app is None):
        raise ValueError(f"{kind} operations target {'the platform' if KINDS[kind].platform else 'an app'}")
    operation = Operation(app_id=app.id if app else None, app_uuid=app.uuid if app else None,
                          owner_id=user.id if user else None, kind=kind, params=params)
    db.session.add(operation)
    db.session.flush()
    return operation


def settled(operation):
    """The after-work is over: the lease goes."""
    db.session.execute(db.update(Operation).where(Operation.uuid == operation.uuid).values(lease_until=None))
    db.session.commit()


def active(app, kinds=EXCLUSIVE):
    return db.session.execute(
        db.select(Operation.uuid).where(Operation.app_uuid == app.uuid, Operation.kind.in_(kinds),
                                        Operation.state.in_(ACTIVE)).limit(1)).first() is not None


def settling(app):
    """Whether a finished operation of the app still does its after-work (a deploy's old processes draining
    and stopping): it keeps its lease for that long, so a worker that died then is forgotten in time."""
    return db.session.execute(
        db.select(Operation.uuid).where(Operation.app_uuid == app.uuid, Operation.state == "succeeded",
                                        Operation.lease_until > func.now()).limit(1)).first() is not None


def commit_and_enqueue(operation=None):
    """Commits the use case's rows, then sends the operation's job. A broker that cannot take the job
    fails the operation (so it never holds its app) and answers 503."""
    db.session.commit()
    if operation is None:
        return None
    try:
        send(operation)
    except Exception as exc:  # kombu/redis raise many types; the reason is logged, the user gets a 503
        log.error("could not enqueue operation %s (%s): %s", operation.uuid, operation.kind, exc)
        operation.state, operation.error = "failed", "The job queue could not be reached; nothing was changed."
        db.session.commit()
        raise ServiceUnavailable("The job queue (Redis) cannot be reached; try again shortly.") from None
    return operation


def send(operation):
    jobs.send(current_app.config["PIER"].redis_url, KINDS[operation.kind].task, args=[str(operation.uuid)])


def wait(operation, timeout):
    """Blocks until the operation finishes or `timeout` passes; returns it refreshed."""
    pubsub = redis_client.client(current_app.config["PIER"].redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(jobs.operation_channel(operation.uuid))
    try:
        deadline = time.monotonic() + timeout
        while True:
            db.session.refresh(operation)
            finished = operation.finished
            db.session.rollback()  # never sit idle in a transaction while the worker works
            if finished:
                return operation
            left = deadline - time.monotonic()
            if left <= 0:
                return operation
            pubsub.get_message(timeout=min(left, 1.0))
    finally:
        pubsub.close()


def _settling_seconds(operation_uuid):
    """How long to wait before asking again, when another operation of this one's app is settling; else 0."""
    waiting = aliased(Operation)
    left = db.session.execute(
        db.select(func.max(func.extract("epoch", Operation.lease_until - func.now())))
        .join(waiting, (waiting.app_uuid == Operation.app_uuid) & (waiting.uuid != Operation.uuid))
        .where(waiting.uuid == uuid.UUID(operation_uuid), waiting.state == "pending",
               waiting.kind.in_(AFTER_SETTLING), Operation.state == "succeeded",
               Operation.lease_until > func.now())).scalar()
    db.session.rollback()
    return min(max(float(left), 0.1), SETTLING_POLL_SECONDS) if left is not None else 0


def publish_finished(redis_url, operation_uuid, state):
    redis_client.client(redis_url).publish(jobs.operation_channel(operation_uuid), json.dumps({"state": state}))


def begin(operation_uuid):
    """Claims the operation for this worker: (the operation, marked running under a fresh lease, None); or
    (None, seconds to wait before asking again) while another worker's lease on it runs; or (None, None) when
    there is nothing to do (it finished, or is gone). Only one worker ever holds it: a job sent twice, or
    redelivered while the worker that runs it may be alive, waits. One whose worker died (lease expired) is
    run again: every job converges. A job changing an app's processes waits while an earlier one of the
    app settles (its old processes draining and stopping)."""
    settling_for = _settling_seconds(operation_uuid)
    if settling_for:
        return None, settling_for
    claimed = db.session.execute(
        db.update(Operation)
        .where(Operation.uuid == uuid.UUID(operation_uuid),
               (Operation.state == "pending") | ((Operation.state == "running") & (Operation.lease_until < func.now())
                                                 & Operation.kind.in_(RERUNNABLE)))
        .values(state="running", attempts=Operation.attempts + 1,
                lease_until=func.now() + timedelta(seconds=LEASE_SECONDS))
        .returning(Operation.uuid)).first()
    db.session.commit()
    if claimed is not None:
        return db.session.get(Operation, claimed[0]), None
    held = db.session.execute(
        db.select(func.extract("epoch", Operation.lease_until - func.now()))
        .where(Operation.uuid == uuid.UUID(operation_uuid), Operation.state == "running")).scalar()
    db.session.rollback()
    if held is None or held < 0:  # finished, gone, or a lost one-off run the watchdog will fail
        log.info("operation %s is finished or gone: nothing to do", operation_uuid)
        return None, None
    return None, max(1.0, float(held) + 1.0)


@contextmanager
def lease(operation):
    """Renews the operation's lease from a thread of its own while the block runs (the job may hold the
    session's connection for minutes); when the worker dies, renewals stop and the lease runs out."""
    stop, engine, key = threading.Event(), db.engine, operation.uuid

    def renew():
        while not stop.wait(LEASE_SECONDS / 4):
            try:
                with engine.begin() as connection:
                    connection.execute(db.update(Operation).where(Operation.uuid == key, Operation.state == "running")
                                       .values(lease_until=func.now() + timedelta(seconds=LEASE_SECONDS)))
            except Exception as exc:  # noqa: BLE001 - the database may be restarting; the next turn retries
                log.warning("could not renew the lease of operation %s: %s", key, exc)

    renewer = threading.Thread(target=renew, daemon=True, name=f"lease-{key}")
    renewer.start()
    try:
        yield
    finally:
        stop.set()


def finish(operation, result=None, error=None, settle_seconds=0.0):
    """Records the outcome (a result, or the error the user reads), commits, and tells whoever waits. With
    `settle_seconds`, the operation keeps its lease that long for its after-work (see `settling`)."""
    operation.state, operation.result, operation.error = ("failed" if error else "succeeded"), result, error
    operation.lease_until = func.now() + timedelta(seconds=settle_seconds) if settle_seconds and not error else None
    db.session.commit()
    try:
        publish_finished(current_app.config["PIER"].redis_url, operation.uuid, operation.state)
    except redis.RedisError as exc:  # whoever waits also reads the row every second
        log.warning("could not announce the end of operation %s: %s", operation.uuid, exc)
