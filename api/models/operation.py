import uuid as uuidlib

from sqlalchemy import String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db
from api.models.base import Timestamped, UuidKeyed, owner_fk

OPERATION_KINDS = ("deploy", "scale", "restart", "run", "destroy")
OPERATION_STATES = ("pending", "running", "succeeded", "failed")
FINISHED = ("succeeded", "failed")


class Operation(UuidKeyed, Timestamped, db.Model):
    """A long job done by a worker. It names its app by id and uuid, so it outlives a destroyed app."""
    __tablename__ = "operations"

    app_id: Mapped[str] = mapped_column(String(63), index=True, nullable=False)
    app_uuid: Mapped[uuidlib.UUID] = mapped_column(Uuid, index=True, nullable=False)
    owner_id: Mapped[int | None] = owner_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    params: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    result: Mapped[dict | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def finished(self):
        return self.state in FINISHED
