"""The audit log: an append-only, hash-chained record of security and trading events.

Each entry's hash is `sha256(prev_hash + canonical JSON of [seq, ts, actor_id, action, target, detail, ip])`,
and the first entry's `prev_hash` is 64 zeros. Editing an entry breaks its hash; deleting one leaves a gap in
`seq` (or a broken link when the later entries are renumbered); reordering breaks the links. `verify` walks
the chain and names the first bad entry.

`record` stages an entry in the caller's unit of work; the entries of a transaction are chained and written
together as it commits (one lock, one read of the tail, one insert), so an entry's `seq`, `prev_hash` and
`hash` are known once the unit of work has committed. Appends are serialised so the chain never forks: on
PostgreSQL a transaction-level advisory lock, on SQLite the database's single write lock, both taken at the
commit and held until it ends. Sequence numbers are assigned under that lock, not by a database sequence, so
a rolled-back transaction leaves no gap that would look like a deleted entry (and writes nothing at all).

Dropping entries from the end of the log leaves a valid shorter chain; to detect it, keep the last `seq` and
`hash` that `verify` reports somewhere else and pass them back as `anchor`.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from marketdesk.audit.models import AuditEntry
from marketdesk.audit.repository import AuditRepository, insert_entries, lock_and_tail
from marketdesk.clock import Clock
from marketdesk.errors import Operational
from marketdesk.kit.jsonutil import sorted_json, to_jsonable
from marketdesk.prepared import Direct
from marketdesk.unit import Unit

GENESIS_HASH = "0" * 64
PENDING = "marketdesk.audit.pending"  # session.info key: entries recorded in the open transaction
CSV_COLUMNS = ("seq", "ts", "actor_id", "action", "target", "detail", "ip", "prev_hash", "hash")
MAX_TARGET_CHARS = 128
MAX_IP_CHARS = 64
MAX_ID_CHARS = 40
VERIFY_BATCH = 2000
_ACTION = re.compile(r"[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*")
# detail keys that name a secret: recording one is a programming mistake, refused before anything is stored
SECRET_KEY_NAMES = re.compile(
    r"pass(?:word|wd|phrase)|secret|token|api[_-]?key|apikey|private[_-]?key|master[_-]?key|credential"
    r"|authori[sz]ation|cookie",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found: `ok`, how many entries it checked, and the first bad entry with the problem."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    last_seq: int | None = None  # with head_hash: the anchor to keep elsewhere to detect a truncated log
    head_hash: str | None = None


def canonical_detail(detail: Mapping[str, Any] | None) -> str:
    """The detail as canonical JSON (sorted keys, no spaces), refusing keys that name a secret."""
    data = dict(detail or {})
    try:
        _check_keys(data)
        return sorted_json(data, default=_checked)
    except _SecretKey:
        _refuse_secret_keys(to_jsonable(data), "detail")  # raises, naming where the key is
        raise


class _SecretKey(Exception):
    """A detail key names a secret (`_check_keys`, `_checked`); `canonical_detail` says where."""


def _check_keys(value: Any) -> None:
    """Raise `_SecretKey` at a key that names a secret in the dicts and lists the JSON encoder writes as they
    are; what it cannot write itself (a dataclass, a model…) goes to `_checked` as it is met. A walk that only
    looks: each order records several entries."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if names_secret(key if type(key) is str else str(key)):
                raise _SecretKey
            held = type(inner)
            if held is not str and held is not int and inner is not None and held is not bool:
                _check_keys(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            _check_keys(inner)


def _checked(value: Any) -> Any:
    """`to_jsonable(value)`, raising `_SecretKey` at a key that names a secret."""
    converted = to_jsonable(value)
    _check_keys(converted)
    return converted


def entry_hash(
    prev_hash: str,
    *,
    seq: int,
    ts: datetime,
    actor_id: str | None,
    action: str,
    target: str,
    detail: str,
    ip: str,
) -> str:
    """The hash of one entry, chained to the previous entry's hash. `detail` is the stored JSON text."""
    payload = sorted_json([seq, _iso(ts), actor_id, action, target, detail, ip])  # as `json` writes it: see there
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


@dataclass(slots=True)
class StagedEntry:
    """An entry recorded in an open unit of work: `seq`, `prev_hash` and `hash` are set as it commits."""

    ts: datetime
    actor_id: str | None
    action: str
    target: str
    detail: str
    ip: str
    seq: int | None = None
    prev_hash: str | None = None
    hash: str | None = None


async def append(direct: Direct, pending: Sequence[StagedEntry]) -> None:
    """Chain and write `pending` under the append lock, on `direct` (the committing transaction's connection)."""
    tail = await lock_and_tail(direct)
    seq, prev_hash = (0, GENESIS_HASH) if tail is None else tail
    for entry in pending:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev_hash
        entry.hash = prev_hash = entry_hash(
            prev_hash, seq=seq, ts=entry.ts, actor_id=entry.actor_id, action=entry.action, target=entry.target,
            detail=entry.detail, ip=entry.ip,
        )  # fmt: skip
    await insert_entries(direct, pending)


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    """Chain and write the entries recorded in the committing session's transaction."""
    pending: list[StagedEntry] | None = session.info.pop(PENDING, None)
    if pending:
        await_only(append(Direct(session.connection()), pending))


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, _previous: object) -> None:
    session.info.pop(PENDING, None)


async def _append_staged(unit: Unit) -> None:
    pending: list[StagedEntry] | None = unit.info.pop(PENDING, None)
    if pending:
        await append(unit.direct, pending)


class AuditService:
    """Append to, read, verify and export the audit log. Takes a session; never commits."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def record(
        self,
        unit: AsyncSession | Unit,
        action: str,
        *,
        actor_id: str | None = None,
        target: str = "",
        detail: Mapping[str, Any] | None = None,
        ip: str = "",
    ) -> StagedEntry:
        """Append one entry, e.g. `record(session, "login.failed", target=email, ip=ip)`, in a session or a unit
        of work (`Database.unit()`). It is written, and its `seq` and `hash` set, when the transaction commits;
        a rollback drops it.

        `action` is dotted lower case (`vault.write`, `order.denied`). `target` and `ip` longer than their
        columns are cut (marked with "…"). A `detail` key that names a secret (password, token, api_key…)
        is refused with an `Operational` error: the log must never hold one.
        """
        if not _valid_action(action):
            raise Operational(f"audit action {action[:80]!r} is not dotted lower case of at most 64 characters")
        if actor_id is not None and len(actor_id) > MAX_ID_CHARS:
            raise Operational(f"audit actor_id is longer than {MAX_ID_CHARS} characters")
        detail_json = canonical_detail(detail)
        target, ip = _cut(target, MAX_TARGET_CHARS), _cut(ip, MAX_IP_CHARS)
        entry = StagedEntry(self.clock.now().astimezone(UTC), actor_id, action, target, detail_json, ip)
        if isinstance(unit, Unit):
            unit.info.setdefault(PENDING, []).append(entry)
            unit.before_commit(PENDING, _append_staged)
        else:
            unit.sync_session.info.setdefault(PENDING, []).append(entry)
        return entry

    async def verify(self, session: AsyncSession, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
        """Walk the whole chain; name the first edited, missing or out-of-place entry.

        `anchor` is a `(seq, hash)` pair recorded earlier (from a previous `verify`): it must still be there,
        which detects entries dropped from the end of the log.
        """
        expected, prev_hash, checked = 1, GENESIS_HASH, 0
        async for row in _chain(AuditRepository(session)):
            seq = int(row.seq)
            problem = _problem(row, expected, prev_hash)
            if problem is not None:
                bad = expected if seq != expected else seq
                return VerifyResult(False, checked, bad, problem, last_seq=expected - 1, head_hash=prev_hash)
            if anchor is not None and seq == anchor[0] and row.hash != anchor[1]:
                problem = f"entry {seq} does not have the hash recorded earlier: the log was rewritten from there on"
                return VerifyResult(False, checked, seq, problem, last_seq=expected - 1, head_hash=prev_hash)
            checked += 1
            expected, prev_hash = seq + 1, str(row.hash)
        last = expected - 1
        if anchor is not None and anchor[0] > last:
            problem = f"entry {anchor[0]} is missing: the log ends at entry {last} (entries deleted from the end)"
            return VerifyResult(False, checked, last + 1, problem, last_seq=last, head_hash=prev_hash)
        return VerifyResult(True, checked, last_seq=last or None, head_hash=prev_hash if last else None)

    async def entries(
        self,
        session: AsyncSession,
        *,
        actor_id: str | None = None,
        action: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[AuditEntry]:
        """Entries, newest first, optionally of one actor and one action (or a family: `"vault.*"`)."""
        return await AuditRepository(session).page(actor_id=actor_id, action=action, limit=limit, offset=offset)

    async def count(self, session: AsyncSession, *, actor_id: str | None = None, action: str | None = None) -> int:
        """How many entries match the same filters as `entries`."""
        return await AuditRepository(session).count(actor_id=actor_id, action=action)

    async def export_csv(
        self,
        session: AsyncSession,
        target: Path | TextIO,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> int:
        """Write entries with `start <= ts < end` (all by default), oldest first, as CSV; return the row count.

        Values are written as stored (no spreadsheet-formula escaping), so the hashes can be re-checked
        from the file.
        """
        if isinstance(target, Path):
            with target.open("w", encoding="utf-8", newline="") as handle:
                return await self._write_csv(session, handle, start, end)
        return await self._write_csv(session, target, start, end)

    async def _write_csv(
        self, session: AsyncSession, handle: TextIO, start: datetime | None, end: datetime | None
    ) -> int:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        rows = 0
        async for row in _chain(AuditRepository(session), start=start, end=end):
            writer.writerow(
                [row.seq, _iso(row.ts), row.actor_id or "", row.action, row.target, row.detail, row.ip,
                 row.prev_hash, row.hash]
            )  # fmt: skip
            rows += 1
        return rows


async def _chain(
    repository: AuditRepository, *, start: datetime | None = None, end: datetime | None = None
) -> AsyncIterator[Any]:
    after = 0
    while True:
        rows = await repository.chain_rows(after_seq=after, limit=VERIFY_BATCH, start=start, end=end)
        for row in rows:
            yield row
        if len(rows) < VERIFY_BATCH:
            return
        after = int(rows[-1].seq)


def _problem(row: Any, expected: int, prev_hash: str) -> str | None:
    seq = int(row.seq)
    if seq != expected:
        if expected == 1:
            return f"entry 1 is missing: the log starts at entry {seq} (entries deleted)"
        return f"entry {expected} is missing: the log jumps from entry {expected - 1} to {seq} (entries deleted)"
    if row.prev_hash != prev_hash:
        before = "the start of the log" if seq == 1 else f"entry {seq - 1}"
        return f"entry {seq} does not follow {before}: its prev_hash does not match (entries reordered or replaced)"
    recomputed = entry_hash(
        prev_hash,
        seq=seq,
        ts=row.ts,
        actor_id=row.actor_id,
        action=row.action,
        target=row.target,
        detail=row.detail,
        ip=row.ip,
    )
    if recomputed != row.hash:
        return f"entry {seq} was altered: its content does not match its hash"
    return None


@functools.lru_cache(maxsize=1024)
def _valid_action(action: str) -> bool:
    """Whether `action` is dotted lower case of at most 64 characters (a few dozen actions recur)."""
    return len(action) <= 64 and _ACTION.fullmatch(action) is not None


@functools.lru_cache(maxsize=4096)
def names_secret(key: str) -> bool:
    """Whether a detail key names a secret (keys repeat from entry to entry: each is checked once)."""
    return SECRET_KEY_NAMES.search(key) is not None


class SecretInDetail(Operational):
    """An audit detail holds a key that names a secret: refused, nothing staged (a caller that records what
    others sent, such as a broker's answer, catches it and records the detail without the key)."""


def _refuse_secret_keys(value: Any, path: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if names_secret(str(key)):
                raise SecretInDetail(
                    f"audit {path} key {key!r} names a secret; the audit log must never hold one",
                    hint="Record what happened (e.g. the secret's name), never the value; rename the key.",
                )
            _refuse_secret_keys(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for inner in value:
            _refuse_secret_keys(inner, path)


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
