import uuid as uuidlib

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import Timestamped, UuidKeyed


class App(UuidKeyed, Timestamped, db.Model):
    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True,
                                          nullable=False)
    structure: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)

    owner = relationship("User", lazy="joined")
    collaborators = relationship("User", secondary="collaborators", viewonly=True)


class Collaborator(db.Model):
    """A user holding `use_app` on an app: everything but DELETE."""
    __tablename__ = "collaborators"

    app_uuid: Mapped[uuidlib.UUID] = mapped_column(Uuid, ForeignKey("apps.uuid", ondelete="CASCADE"),
                                                   primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
