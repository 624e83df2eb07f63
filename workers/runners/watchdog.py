"""No operation stays stuck: a job whose worker died is run again (once) or failed, and a job the broker lost
is sent again, then failed with the queue named, so no app is ever locked by a dead job."""
import logging
from datetime import timedelta

from sqlalchemy import func

from core import jobs
from core.extensions import db
from core.models import Operation
from core.services import operations
from core.services.operations import GIVE_UP_PENDING_SECONDS, KINDS, MAX_ATTEMPTS, RESEND_AFTER_SECONDS
from workers.runners.operations import fail

log = logging.getLogger("pier.watchdog")


def _older_than(column, seconds):
    return column < func.now() - timedelta(seconds=seconds)


def check_operations():
    """One round; returns {operation uuid: what was done} for the operations it acted on."""
    acted = {}
    lost = db.session.execute(db.select(Operation).where(
        Operation.state == "running", Operation.lease_until < func.now())).scalars().all()
    for operation in lost:
        kind = KINDS.get(operation.kind)
        if kind is not None and kind.rerun_when_lost and operation.attempts < MAX_ATTEMPTS:
            acted[str(operation.uuid)] = _send_again(operation, "its worker stopped")
        else:
            what = "this command" if operation.kind == "run" else f"this {operation.kind}"
            fail(operation, f"The worker running {what} stopped before it finished "
                            f"({operation.attempts} attempt{'s' if operation.attempts > 1 else ''}); "
                            "it may have been done in part. See the worker logs, then try again.")
            acted[str(operation.uuid)] = "failed: its worker stopped"
    waiting = db.session.execute(db.select(Operation).where(
        Operation.state == "pending", _older_than(Operation.sent, RESEND_AFTER_SECONDS))).scalars().all()
    for operation in waiting:
        if operation.sends < 2:
            acted[str(operation.uuid)] = _send_again(operation, "no worker took it yet")
        elif db.session.execute(db.select(_older_than(Operation.sent, GIVE_UP_PENDING_SECONDS))
                                .where(Operation.uuid == operation.uuid)).scalar():
            queue = jobs.TASK_QUEUES.get(KINDS[operation.kind].task, "?") if operation.kind in KINDS else "?"
            fail(operation, f"No worker took this {operation.kind} within {GIVE_UP_PENDING_SECONDS // 60} "
                            f"minutes: is a worker of the '{queue}' queue running?")
            acted[str(operation.uuid)] = "failed: never taken"
    db.session.rollback()
    return acted


def _send_again(operation, why):
    operation.state, operation.sends, operation.sent = "pending", operation.sends + 1, func.now()
    operation.lease_until = None
    db.session.commit()
    operations.send(operation)
    log.warning("operation %s (%s of %s) sent again: %s", operation.uuid, operation.kind, operation.app_id, why)
    return f"sent again: {why}"
