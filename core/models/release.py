import uuid as uuidlib
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import Timestamped, UuidKeyed, app_fk, owner_fk

CONFIG_FIELDS = ("values", "memory", "cpu", "tags", "registry", "healthcheck")


class Config(UuidKeyed, Timestamped, db.Model):
    __tablename__ = "configs"

    app_uuid: Mapped[uuidlib.UUID] = app_fk()
    owner_id: Mapped[int | None] = owner_fk()
    values: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    memory: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    cpu: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    tags: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    registry: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    healthcheck: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)

    app = relationship("App")
    owner = relationship("User")

    def fields(self):
        return {name: dict(getattr(self, name) or {}) for name in CONFIG_FIELDS}


class Build(UuidKeyed, Timestamped, db.Model):
    __tablename__ = "builds"

    app_uuid: Mapped[uuidlib.UUID] = app_fk()
    owner_id: Mapped[int | None] = owner_fk()
    image: Mapped[str] = mapped_column(Text, nullable=False)
    sha: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    procfile: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    dockerfile: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # when garbage collection deleted its image (and stored source and slug): its releases cannot run again
    collected: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    app = relationship("App")
    owner = relationship("User")


RELEASE_STATES = ("pending", "deployed", "failed", "superseded")


class Release(UuidKeyed, Timestamped, db.Model):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("app_uuid", "version"),)

    app_uuid: Mapped[uuidlib.UUID] = app_fk()
    owner_id: Mapped[int | None] = owner_fk()
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    build_uuid: Mapped[uuidlib.UUID | None] = mapped_column(Uuid, ForeignKey("builds.uuid", ondelete="SET NULL"))
    config_uuid: Mapped[uuidlib.UUID] = mapped_column(Uuid, ForeignKey("configs.uuid", ondelete="CASCADE"),
                                                      nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    failed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    exception: Mapped[str | None] = mapped_column(Text)

    app = relationship("App")
    owner = relationship("User")
    build = relationship("Build", lazy="joined")
    config = relationship("Config", lazy="joined")
