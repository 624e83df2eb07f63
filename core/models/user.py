import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import utcnow


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True, nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    first_name: Mapped[str] = mapped_column(String(150), nullable=False, default="")
    last_name: Mapped[str] = mapped_column(String(150), nullable=False, default="")
    is_superuser: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_staff: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    date_joined: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    tokens = relationship("Token", back_populates="user", cascade="all, delete-orphan", passive_deletes=True)


def token_expiry(created, ttl):
    """When a token issued at `created` expires under a lifetime of `ttl` seconds (0: never)."""
    return created + timedelta(seconds=ttl) if ttl else None


def hash_token(key):
    return hashlib.sha256(key.encode()).hexdigest()


class Token(db.Model):
    """An API token. Only its SHA-256 is stored; the key itself is shown once, when issued.

    A token lives PIER_TOKEN_TTL seconds from `created` (0: for ever). The lifetime is the setting's, not a
    stored date, so an operator who shortens it shortens every token's at once."""
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    last_used: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user = relationship("User", back_populates="tokens", lazy="joined")

    def expires(self, ttl):
        return token_expiry(self.created, ttl)

    @classmethod
    def issue(cls, user):
        """Adds a new token for user to the session and returns its clear-text key."""
        key = secrets.token_hex(20)
        db.session.add(cls(user=user, key_hash=hash_token(key)))
        return key
