"""`verify` on a tampered log: an edited, deleted or reordered entry is found, and the first bad one is named."""

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.audit.models import AuditEntry
from marketdesk.audit.service import AuditService, entry_hash
from marketdesk.clock import SimClock
from marketdesk.db import Database

Tamper = Callable[[AsyncSession], Coroutine[Any, Any, None]]
ENTRIES = 6


@pytest.fixture
async def audit(database: Database, clock: SimClock) -> AuditService:
    """A log of six entries."""
    service = AuditService(clock)
    async with database.session() as session:
        for number in range(1, ENTRIES + 1):
            clock.advance(timedelta(seconds=1))
            await service.record(
                session, "role.changed", actor_id="usr_admin", target=f"usr_{number}", detail={"role": "trader"}
            )
    return service


async def tamper_and_verify(database: Database, audit: AuditService, tamper: Tamper) -> Any:
    async with database.session() as session:
        await tamper(session)
    async with database.session() as session:
        return await audit.verify(session)


def set_values(seq: int, **values: Any) -> Tamper:
    async def run(session: AsyncSession) -> None:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(**values))

    return run


def delete_seqs(*seqs: int) -> Tamper:
    async def run(session: AsyncSession) -> None:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq.in_(seqs)))

    return run


def swap(first: int, second: int) -> Tamper:
    async def run(session: AsyncSession) -> None:
        for old, new in ((first, -1), (second, first), (-1, second)):
            await session.execute(update(AuditEntry).where(AuditEntry.seq == old).values(seq=new))

    return run


async def test_an_intact_log_verifies(database: Database, audit: AuditService) -> None:
    async with database.session() as session:
        result = await audit.verify(session)
    assert (result.ok, result.checked, result.first_bad_seq, result.problem, result.last_seq) == (
        True, ENTRIES, None, None, ENTRIES,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("tamper", "first_bad", "problem"),
    [
        (set_values(3, detail='{"role":"admin"}'), 3, "entry 3 was altered"),
        (set_values(4, actor_id="usr_someone_else"), 4, "entry 4 was altered"),
        (set_values(2, action="role.restored"), 2, "entry 2 was altered"),
        (set_values(5, target="usr_999"), 5, "entry 5 was altered"),
        (set_values(6, ip="203.0.113.9"), 6, "entry 6 was altered"),
        (set_values(1, hash="0" * 63 + "1"), 1, "entry 1 was altered"),
        (delete_seqs(3), 3, "entry 3 is missing: the log jumps from entry 2 to 4"),
        (delete_seqs(1), 1, "entry 1 is missing: the log starts at entry 2"),
        (delete_seqs(2, 3, 4), 2, "entry 2 is missing: the log jumps from entry 1 to 5"),
        (swap(2, 4), 2, "entry 2 does not follow entry 1"),
        (swap(5, 6), 5, "entry 5 does not follow entry 4"),
    ],
    ids=[
        "edited-detail", "edited-actor", "edited-action", "edited-target", "edited-ip", "edited-hash",
        "deleted-middle", "deleted-first", "deleted-run", "reordered", "reordered-adjacent",
    ],
)  # fmt: skip
async def test_tampering_names_the_first_bad_entry(
    database: Database, audit: AuditService, tamper: Tamper, first_bad: int, problem: str
) -> None:
    result = await tamper_and_verify(database, audit, tamper)
    assert result.ok is False
    assert result.first_bad_seq == first_bad
    assert result.problem is not None and result.problem.startswith(problem)
    assert result.checked == first_bad - 1


async def test_an_edited_timestamp_is_found(database: Database, audit: AuditService) -> None:
    async with database.session() as session:
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.seq == 4))).one()
        moved = entry.ts - timedelta(days=1)
    result = await tamper_and_verify(database, audit, set_values(4, ts=moved))
    assert (result.ok, result.first_bad_seq) == (False, 4)


async def test_an_entry_edited_and_rehashed_breaks_the_next_link(database: Database, audit: AuditService) -> None:
    async def forge(session: AsyncSession) -> None:
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.seq == 3))).one()
        forged = '{"role":"admin"}'
        new_hash = entry_hash(
            entry.prev_hash, seq=3, ts=entry.ts, actor_id=entry.actor_id, action=entry.action, target=entry.target,
            detail=forged, ip=entry.ip,
        )  # fmt: skip
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(detail=forged, hash=new_hash))

    result = await tamper_and_verify(database, audit, forge)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.problem is not None and result.problem.startswith("entry 4 does not follow entry 3")


async def test_entries_dropped_from_the_end_are_found_with_an_anchor(database: Database, audit: AuditService) -> None:
    async with database.session() as session:
        anchor = await audit.verify(session)
    assert anchor.last_seq == ENTRIES and anchor.head_hash is not None
    truncated = await tamper_and_verify(database, audit, delete_seqs(5, 6))
    assert truncated.ok  # a shorter chain is still a valid chain ...
    async with database.session() as session:
        result = await audit.verify(session, anchor=(anchor.last_seq, anchor.head_hash))
    assert (result.ok, result.first_bad_seq) == (False, 5)  # ... but not the one recorded earlier
    assert result.problem == "entry 6 is missing: the log ends at entry 4 (entries deleted from the end)"


async def test_an_anchor_whose_entry_was_rewritten_is_found(database: Database, audit: AuditService) -> None:
    async with database.session() as session:
        result = await audit.verify(session, anchor=(3, "f" * 64))
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem is not None and "hash recorded earlier" in result.problem
