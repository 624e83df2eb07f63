import uuid as uuidlib
from datetime import datetime, timezone

from sqlalchemy import DateTime, ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column


def utcnow():
    return datetime.now(timezone.utc)


class Timestamped:
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow,
                                              nullable=False)


class UuidKeyed:
    uuid: Mapped[uuidlib.UUID] = mapped_column(Uuid, primary_key=True, default=uuidlib.uuid4)


def app_fk():
    return mapped_column(Uuid, ForeignKey("apps.uuid", ondelete="CASCADE"), index=True, nullable=False)


def owner_fk(nullable=True):
    """Audit records keep their row when their author's account is cancelled."""
    return mapped_column(ForeignKey("users.id", ondelete="SET NULL" if nullable else "CASCADE"),
                         index=True, nullable=nullable)
