"""Database backups as platform operations: taken on schedule or by an administrator, one at a time."""
from core.backups import KINDS
from core.errors import Conflict, ValidationError
from core.extensions import db
from core.models import Operation
from core.services import operations


def request(user, kind):
    """Enqueues a backup of `kind` (full, diff or incr); `user` is None for the scheduled ones."""
    if kind not in KINDS:
        raise ValidationError({"type": [f"A backup is one of {', '.join(KINDS)}."]})
    if taking():
        raise Conflict("A backup is being taken already; try again when it ends (pier backups:list).")
    return operations.commit_and_enqueue(operations.add(None, user, "backup", type=kind))


def taking():
    return db.session.execute(db.select(Operation.uuid).where(
        Operation.kind == "backup", Operation.state.in_(operations.ACTIVE)).limit(1)).first() is not None


def last_outcome():
    """The newest finished backup operation, or None."""
    return db.session.execute(
        db.select(Operation).where(Operation.kind == "backup", Operation.state.in_(("succeeded", "failed")))
        .order_by(Operation.updated.desc()).limit(1)).scalar_one_or_none()
