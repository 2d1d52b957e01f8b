"""Queries of the audit log: the only place with SQL for `audit_log`. Takes a session; never commits.

The log is append-only: this module changes no entry and deletes none (taking SQLite's write lock sets one
column of the last entry to its own value, which changes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
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


def lock_and_tail(session: Session) -> tuple[int, str] | None:
    """Take the log's append lock until the transaction ends and read the last entry's (seq, hash), or None
    when the log is empty; so two appends never fork the chain. Runs inside the commit (a sync session).

    PostgreSQL: a transaction-level advisory lock, then the tail (a later statement, so its snapshot sees
    every entry committed before the lock was granted). SQLite: one statement that both takes the database's
    single write lock and returns the tail: the last entry's `ip` set to itself (nothing changes; an
    UPDATE is how SQLite is asked for its write lock, which it holds until the commit).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
        row = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    else:
        last = select(func.max(AuditEntry.seq)).scalar_subquery()
        statement = (
            update(AuditEntry)
            .where(AuditEntry.seq == last)
            .values(ip=AuditEntry.ip)
            .returning(AuditEntry.seq, AuditEntry.hash)
            .execution_options(synchronize_session=False)
        )
        row = session.execute(statement).first()
    return None if row is None else (int(row.seq), str(row.hash))


def insert_entries(session: Session, entries: Sequence[AuditEntry]) -> None:
    """Write chained entries in one statement (inside the commit, under the append lock)."""
    session.execute(
        insert(AuditEntry),
        [
            {
                "seq": e.seq, "ts": e.ts, "actor_id": e.actor_id, "action": e.action, "target": e.target,
                "detail": e.detail, "ip": e.ip, "prev_hash": e.prev_hash, "hash": e.hash,
            }
            for e in entries
        ],
    )  # fmt: skip


class AuditRepository:
    """SQL for the audit log, scoped to one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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
