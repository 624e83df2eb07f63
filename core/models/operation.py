import uuid as uuidlib
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import Timestamped, UuidKeyed, owner_fk, utcnow

OPERATION_STATES = ("pending", "running", "succeeded", "failed")
FINISHED = ("succeeded", "failed")


class Operation(UuidKeyed, Timestamped, db.Model):
    """A long job done by a worker. It names its app by id and uuid, so it outlives a destroyed app; a
    platform operation names no app."""
    __tablename__ = "operations"

    # both empty for an operation on the platform itself (backups, garbage collection)
    app_id: Mapped[str | None] = mapped_column(String(63), index=True)
    app_uuid: Mapped[uuidlib.UUID | None] = mapped_column(Uuid, index=True)
    owner_id: Mapped[int | None] = owner_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), index=True, nullable=False, default="pending")
    params: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    result: Mapped[dict | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    # a worker holds a lease while it runs the job and renews it; an expired lease means the worker is gone
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # when and how often the job was sent to its queue (the watchdog sends a lost one again)
    sends: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    sent: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow,
                                           server_default=func.now())

    @property
    def finished(self):
        return self.state in FINISHED
