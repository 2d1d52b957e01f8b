"""ORM table of the key vault: per-user secrets, encrypted at rest (AES-256-GCM)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketdesk.db import Base, UTCDateTime


class Secret(Base):
    __tablename__ = "vault_secrets"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))  # e.g. alpaca_key_id, anthropic_api_key, discord_url
    provider: Mapped[str] = mapped_column(String(32))
    key_version: Mapped[int] = mapped_column(Integer)  # which master key sealed it
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    hint: Mapped[str] = mapped_column(String(16))  # the masked form shown back, e.g. "••••••42"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
