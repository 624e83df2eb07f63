import uuid as uuidlib
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import app_fk, utcnow


class AppEvent(db.Model):
    """A platform event line ("config changed", "release v3 deployed") shown in the app's logs."""
    __tablename__ = "app_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    app_uuid: Mapped[uuidlib.UUID] = app_fk()
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
