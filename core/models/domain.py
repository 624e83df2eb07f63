import uuid as uuidlib
from datetime import datetime

from sqlalchemy import ARRAY, DateTime, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import Timestamped, UuidKeyed, app_fk, owner_fk


class Domain(UuidKeyed, Timestamped, db.Model):
    __tablename__ = "domains"

    app_uuid: Mapped[uuidlib.UUID] = app_fk()
    owner_id: Mapped[int | None] = owner_fk()
    domain: Mapped[str] = mapped_column(String(253), unique=True, nullable=False)
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL"), index=True)

    app = relationship("App")
    owner = relationship("User")
    certificate = relationship("Certificate", back_populates="domains")


class Certificate(Timestamped, db.Model):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuidlib.UUID] = mapped_column(Uuid, unique=True, default=uuidlib.uuid4, nullable=False)
    name: Mapped[str] = mapped_column(String(253), unique=True, nullable=False)
    owner_id: Mapped[int] = owner_fk(nullable=False)
    certificate: Mapped[str] = mapped_column(Text, nullable=False)
    key: Mapped[str] = mapped_column(Text, nullable=False)
    common_name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    san: Mapped[list] = mapped_column(ARRAY(Text), nullable=False, default=list)
    fingerprint: Mapped[str] = mapped_column(Text, nullable=False)
    issuer: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    starts: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # why the router leaves this certificate's hosts out (nginx refused it), written by the router; None: served
    problem: Mapped[str | None] = mapped_column(Text)

    owner = relationship("User")
    domains = relationship("Domain", back_populates="certificate", lazy="selectin")
