"""ORM table of the audit log: append-only, each entry carrying the hash of the one before."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketdesk.db import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(40), index=True)  # None: the system or an anonymous caller
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. login.succeeded, vault.read, order.denied
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON, never a secret
    ip: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))  # not unique by constraint: `seq` orders the chain (see 0011)
