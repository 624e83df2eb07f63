import uuid as uuidlib

from sqlalchemy import Boolean, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import Timestamped, UuidKeyed, app_fk, owner_fk


class AppSettings(UuidKeyed, Timestamped, db.Model):
    """Router-facing settings; each change is a new row, the newest one is in force."""
    __tablename__ = "app_settings"

    app_uuid: Mapped[uuidlib.UUID] = app_fk()
    owner_id: Mapped[int | None] = owner_fk()
    maintenance: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    routable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    whitelist: Mapped[list] = mapped_column(ARRAY(String), nullable=False, default=list)
    autoscale: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    label: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)

    app = relationship("App")
    owner = relationship("User")


class TLS(UuidKeyed, Timestamped, db.Model):
    __tablename__ = "tls"

    app_uuid: Mapped[uuidlib.UUID] = app_fk()
    owner_id: Mapped[int | None] = owner_fk()
    https_enforced: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    app = relationship("App")
    owner = relationship("User")
