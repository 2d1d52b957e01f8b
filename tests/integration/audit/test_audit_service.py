"""The audit log on SQLite and PostgreSQL: a hash chain that appends in order, never forks, reads and exports."""

import asyncio
import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketdesk.accounts.models import DeskSetting
from marketdesk.audit.models import AuditEntry
from marketdesk.audit.service import CSV_COLUMNS, GENESIS_HASH, AuditService, entry_hash
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import Operational
from marketdesk.prepared import Prepared


async def record_many(database: Database, audit: AuditService, clock: SimClock, count: int) -> None:
    async with database.session() as session:
        for number in range(count):
            clock.advance(timedelta(seconds=1))
            action = "login.succeeded" if number % 2 == 0 else "login.failed"
            await audit.record(session, action, actor_id=f"usr_{number % 3}", target="desk", detail={"n": number})


async def test_entries_chain_from_the_genesis_hash_in_sequence(database: Database, clock: SimClock) -> None:
    audit = AuditService(clock)
    async with database.session() as session:
        first = await audit.record(
            session, "user.created", actor_id="usr_admin", target="usr_1", detail={"role": "admin"}
        )
        clock.advance(timedelta(seconds=1))
        second = await audit.record(session, "login.failed", target="a@example.com", ip="198.51.100.4")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.ts == clock.now() - timedelta(seconds=1)
    async with database.session() as session:
        stored = (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()
        result = await audit.verify(session)
    assert [(e.seq, e.hash) for e in stored] == [(1, first.hash), (2, second.hash)]
    assert stored[1].hash == entry_hash(
        first.hash, seq=2, ts=stored[1].ts, actor_id=None, action="login.failed", target="a@example.com",
        detail="{}", ip="198.51.100.4",
    )  # fmt: skip
    assert (result.ok, result.checked, result.last_seq, result.head_hash) == (True, 2, 2, second.hash)


async def test_an_empty_log_verifies(database: Database, clock: SimClock) -> None:
    async with database.session() as session:
        result = await AuditService(clock).verify(session)
    assert (result.ok, result.checked, result.first_bad_seq, result.head_hash) == (True, 0, None, None)


async def test_concurrent_appends_never_fork_the_chain(database: Database, clock: SimClock) -> None:
    audit = AuditService(clock)

    async def append(number: int) -> int:
        async with database.session() as session:
            entry = await audit.record(session, "order.denied", actor_id=f"usr_{number}", detail={"n": number})
            await asyncio.sleep(0.01)  # hold the transaction open while others try to append
            assert entry.seq is None  # chained when the unit of work commits, under the append lock
        return entry.seq

    seqs = await asyncio.gather(*(append(n) for n in range(12)))
    assert sorted(seqs) == list(range(1, 13))
    async with database.session() as session:
        result = await audit.verify(session)
    assert (result.ok, result.checked) == (True, 12)


async def test_units_of_work_that_wrote_before_appending_never_fork_the_chain(
    database: Database, clock: SimClock
) -> None:
    """The order path's case: a unit of work writes its rows, then appends as it commits (on the desk's SQLite,
    reading the tail with a plain query, since the unit's first write took the write lock)."""
    audit = AuditService(clock)
    insert = Prepared(DeskSetting.__table__.insert())

    async def unit(number: int) -> int:
        async with database.unit() as work:
            await insert.run(work.direct, {"key": f"setting-{number}", "value": "on"})
            entry = await audit.record(work, "order.submitted", actor_id=f"usr_{number}", detail={"n": number})
            await asyncio.sleep(0.01)  # hold the transaction open while others try to write and append
        assert entry.seq is not None
        return entry.seq

    seqs = await asyncio.gather(*(unit(n) for n in range(12)))
    assert sorted(seqs) == list(range(1, 13))
    async with database.session() as session:
        result = await audit.verify(session)
        settings = (await session.execute(select(func.count()).select_from(DeskSetting))).scalar_one()
    assert (result.ok, result.checked, settings) == (True, 12, 12)


async def test_a_rolled_back_append_leaves_no_gap(database: Database, clock: SimClock) -> None:
    audit = AuditService(clock)
    await record_many(database, audit, clock, 2)
    with pytest.raises(RuntimeError, match="the request failed"):
        async with database.session() as session:
            await audit.record(session, "order.submitted", actor_id="usr_1")
            raise RuntimeError("the request failed after auditing")
    async with database.session() as session:
        entry = await audit.record(session, "order.submitted", actor_id="usr_1")
    assert entry.seq == 3
    async with database.session() as session:
        assert (await audit.verify(session)).ok


async def test_a_detail_naming_a_secret_is_refused_and_nothing_is_stored(database: Database, clock: SimClock) -> None:
    audit = AuditService(clock)
    with pytest.raises(Operational, match="'api_key' names a secret"):
        async with database.session() as session:
            await audit.record(session, "vault.write", actor_id="usr_1", detail={"api_key": "sk-live-123"})
    async with database.session() as session:
        assert (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one() == 0


@pytest.mark.parametrize("action", ["", "Login", "login failed", "a" * 65, "vault..write"])
async def test_a_malformed_action_is_a_programming_error(database: Database, clock: SimClock, action: str) -> None:
    with pytest.raises(Operational, match="dotted lower case"):
        async with database.session() as session:
            await AuditService(clock).record(session, action)


async def test_long_targets_and_ips_are_cut_to_their_columns(database: Database, clock: SimClock) -> None:
    audit = AuditService(clock)
    async with database.session() as session:
        entry = await audit.record(session, "login.failed", target="x" * 300 + "@example.com", ip="f" * 100)
    assert len(entry.target) == 128 and entry.target.endswith("…")
    assert len(entry.ip) == 64
    async with database.session() as session:
        assert (await audit.verify(session)).ok


async def test_entries_filter_by_actor_and_action_newest_first(database: Database, clock: SimClock) -> None:
    audit = AuditService(clock)
    await record_many(database, audit, clock, 9)
    async with database.session() as session:
        await audit.record(session, "vault.read", actor_id="usr_0", detail={"name": "fred_api_key"})
        await audit.record(session, "vault.write", actor_id="usr_0", detail={"name": "fred_api_key"})
    async with database.session() as session:
        newest = await audit.entries(session, limit=3)
        of_actor = await audit.entries(session, actor_id="usr_1")
        failed = await audit.entries(session, action="login.failed", limit=2, offset=1)
        vault_family = await audit.entries(session, action="vault.*")
        counts = (await audit.count(session), await audit.count(session, action="login.failed"))
    assert [e.seq for e in newest] == [11, 10, 9]
    assert [e.seq for e in of_actor] == [8, 5, 2]
    assert [e.seq for e in failed] == [6, 4]
    assert [e.action for e in vault_family] == ["vault.write", "vault.read"]
    assert counts == (11, 4)


async def test_export_csv_writes_the_chain_oldest_first_within_the_range(
    database: Database, clock: SimClock, tmp_path: Path
) -> None:
    audit = AuditService(clock)
    start = clock.now()
    await record_many(database, audit, clock, 5)  # entry n is at start + n seconds
    path = tmp_path / "audit.csv"
    async with database.session() as session:
        written = await audit.export_csv(session, path)
        buffer = io.StringIO()
        ranged = await audit.export_csv(
            session, buffer, start=start + timedelta(seconds=2), end=start + timedelta(seconds=4)
        )
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert written == 5 and [int(r["seq"]) for r in rows] == [1, 2, 3, 4, 5]
    assert tuple(rows[0]) == CSV_COLUMNS
    # the file alone is enough to re-check the chain
    previous = GENESIS_HASH
    for row in rows:
        assert row["prev_hash"] == previous
        recomputed = entry_hash(
            previous, seq=int(row["seq"]), ts=datetime.fromisoformat(row["ts"]), actor_id=row["actor_id"] or None,
            action=row["action"], target=row["target"], detail=row["detail"], ip=row["ip"],
        )  # fmt: skip
        assert recomputed == row["hash"]
        previous = row["hash"]
    ranged_rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert ranged == 2 and [int(r["seq"]) for r in ranged_rows] == [2, 3]
