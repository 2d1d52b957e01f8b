"""Queries of the audit log: the only place with SQL for `audit_log`. Takes a session; never commits.

The log is append-only: this module has no UPDATE or DELETE of an entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from marketdesk.audit.models import AuditEntry

# the key of the PostgreSQL advisory lock that serialises appends ("mdaudit" in ASCII)
APPEND_LOCK_KEY = 0x6D_64_61_75_64_69_74
_CHAIN_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.ts,
    AuditEntry.actor_id,
    AuditEntry.action,
    AuditEntry.target,
    AuditEntry.detail,
    AuditEntry.ip,
    AuditEntry.prev_hash,
    AuditEntry.hash,
)


class AuditRepository:
    """SQL for the audit log, scoped to one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_for_append(self) -> None:
        """Hold the log's append lock until the transaction ends, so two appends never fork the chain.

        PostgreSQL: a transaction-level advisory lock. SQLite: a no-op UPDATE, which takes the database's
        single write lock now (waiting up to the busy timeout) instead of at the INSERT, after the tail
        was read; SQLite allows one writer at a time, so the tail cannot change until we commit.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
        else:
            await self.session.execute(update(AuditEntry).where(false()).values(seq=AuditEntry.seq))

    async def tail(self) -> tuple[int, str] | None:
        """The sequence number and hash of the last entry, or None when the log is empty."""
        row = (
            await self.session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1))
        ).first()
        return None if row is None else (int(row.seq), str(row.hash))

    async def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)
        await self.session.flush()

    async def chain_rows(
        self,
        *,
        after_seq: int,
        limit: int,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Sequence[Any]:
        """Up to `limit` raw entries with `seq > after_seq`, oldest first (plain rows: no ORM identity map)."""
        query = select(*_CHAIN_COLUMNS).where(AuditEntry.seq > after_seq)
        if start is not None:
            query = query.where(AuditEntry.ts >= start)
        if end is not None:
            query = query.where(AuditEntry.ts < end)
        return (await self.session.execute(query.order_by(AuditEntry.seq).limit(limit))).all()

    async def entry(self, seq: int) -> AuditEntry | None:
        return await self.session.get(AuditEntry, seq)

    async def page(self, *, actor_id: str | None, action: str | None, limit: int, offset: int) -> Sequence[AuditEntry]:
        """Entries matching the filters, newest first."""
        query = _filtered(select(AuditEntry), actor_id, action).order_by(AuditEntry.seq.desc())
        return (await self.session.scalars(query.limit(limit).offset(offset))).all()

    async def count(self, *, actor_id: str | None, action: str | None) -> int:
        query = _filtered(select(func.count()).select_from(AuditEntry), actor_id, action)
        return int((await self.session.execute(query)).scalar_one())


def _filtered(query: Select[Any], actor_id: str | None, action: str | None) -> Select[Any]:
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action is not None:
        if action.endswith(".*"):  # a family of actions: "vault.*"
            prefix = action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(AuditEntry.action.like(f"{prefix}%", escape="\\"))
        else:
            query = query.where(AuditEntry.action == action)
    return query
