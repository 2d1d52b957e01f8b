"""Queries of the audit log: the only place with SQL for `audit_log`. Takes a session; never commits.

The log is append-only: this module changes no entry and deletes none (taking SQLite's write lock sets one
column of the last entry to its own value, which changes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from marketdesk.audit.models import AuditEntry
from marketdesk.prepared import Direct, Prepared

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


async def lock_and_tail(direct: Direct) -> tuple[int, str] | None:
    """Take the log's append lock until the transaction ends and read the last entry's (seq, hash), or None
    when the log is empty; so two appends never fork the chain. Runs just before the commit.

    PostgreSQL: a transaction-level advisory lock, then the tail (a later statement, so its snapshot sees
    every entry committed before the lock was granted). SQLite: one statement that both takes the database's
    single write lock and returns the tail: the last entry's `ip` set to itself (nothing changes; an
    UPDATE is how SQLite is asked for its write lock, which it holds until the commit). A transaction of
    the desk's own SQLite driver that has begun has written already (the `sqlite3` module begins one just
    before the first write, and nothing here begins one otherwise), so it holds the write lock: the tail is
    read with a plain query, which costs less than the update and leaves the last entry's page alone.
    The statements are prepared (`marketdesk.prepared`): this runs inside every commit that appends.
    """
    if direct.dialect.name == "postgresql":
        await _ADVISORY_LOCK.rows(direct, {"key": APPEND_LOCK_KEY})
        rows = await _TAIL.rows(direct, {})
    elif direct.driver is not None and direct.driver.raw.in_transaction:
        rows = await _TAIL.rows(direct, {})
    else:
        rows = await _LOCK_TAIL.rows(direct, {})
    return (int(rows[0][0]), str(rows[0][1])) if rows else None


async def insert_entries(direct: Direct, entries: Sequence[Any]) -> None:
    """Write chained entries in one statement (inside the commit, under the append lock)."""
    await _INSERT.run_many(
        direct,
        [
            {
                "seq": e.seq, "ts": e.ts, "actor_id": e.actor_id, "action": e.action, "target": e.target,
                "detail": e.detail, "ip": e.ip, "prev_hash": e.prev_hash, "hash": e.hash,
            }
            for e in entries
        ],
    )  # fmt: skip


_LOG = cast(Table, AuditEntry.__table__)
_ADVISORY_LOCK = Prepared(select(func.pg_advisory_xact_lock(bindparam("key"))))
_TAIL = Prepared(select(_LOG.c.seq, _LOG.c.hash).order_by(_LOG.c.seq.desc()).limit(bindparam("one", 1)))
_LOCK_TAIL = Prepared(
    update(_LOG)
    .where(_LOG.c.seq == select(func.max(_LOG.c.seq)).scalar_subquery())
    .values(ip=_LOG.c.ip)
    .returning(_LOG.c.seq, _LOG.c.hash)
)
_INSERT = Prepared(insert(_LOG))


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
