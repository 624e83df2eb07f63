from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import Timestamped, UuidKeyed, owner_fk


class Key(UuidKeyed, Timestamped, db.Model):
    """An SSH public key; its SHA256 fingerprint maps a `git push` to its user."""
    __tablename__ = "keys"
    __table_args__ = (UniqueConstraint("owner_id", "id"),)

    id: Mapped[str] = mapped_column(String(128), nullable=False)
    owner_id: Mapped[int] = owner_fk(nullable=False)
    public: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    fingerprint_md5: Mapped[str] = mapped_column(String(64), index=True, nullable=False)

    owner = relationship("User")
