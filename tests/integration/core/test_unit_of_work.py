"""`Database.unit()` (`marketdesk.unit`): a unit of work without the ORM. It commits on success and rolls back
on error, runs its hooks inside the transaction and its callbacks only after the commit, joins an open unit
of the same task (one commit), never one of another task, and carries audit entries that chain with the
session's. On SQLite it runs on the desk's own `sqlite3` connections; on PostgreSQL on the engine's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from marketdesk.audit.service import AuditService
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import Temporary
from marketdesk.prepared import Prepared
from marketdesk.unit import Unit


@pytest.fixture
async def notes(database: Database) -> AsyncIterator[tuple[Database, Table]]:
    table = Table(
        f"unit_probe_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("text", String(32)),
    )
    async with database.engine.begin() as connection:
        await connection.run_sync(table.create)
    yield database, table
    async with database.engine.begin() as connection:
        await connection.run_sync(table.drop)


async def stored(db: Database, table: Table) -> list[tuple[int, str]]:
    async with db.session() as session:
        return [(r.id, r.text) for r in await session.execute(select(table).order_by(table.c.id))]


async def test_a_unit_commits_its_writes_and_then_calls_back(notes: tuple[Database, Table]) -> None:
    db, table = notes
    write = Prepared(insert(table))
    order: list[str] = []

    async def hook(unit: Unit) -> None:
        order.append("hook")
        await write.run(unit.direct, {"id": 2, "text": "from the hook"})

    async with db.unit() as unit:
        await write.run(unit.direct, {"id": 1, "text": "body"})
        unit.before_commit("probe", hook)
        unit.before_commit("probe", hook)  # once per key
        unit.after_commit(lambda: order.append("after"))
        assert order == []
    assert order == ["hook", "after"]
    assert await stored(db, table) == [(1, "body"), (2, "from the hook")]


async def test_an_error_rolls_the_unit_back_and_skips_its_callbacks(notes: tuple[Database, Table]) -> None:
    db, table = notes
    called: list[str] = []
    with pytest.raises(RuntimeError, match="after writing"):
        async with db.unit() as unit:
            await Prepared(insert(table)).run(unit.direct, {"id": 1, "text": "lost"})
            unit.after_commit(lambda: called.append("after"))
            raise RuntimeError("the caller failed after writing")
    assert called == []
    assert await stored(db, table) == []
    async with db.unit() as unit:  # the connection went back clean: the next unit works
        await Prepared(insert(table)).run(unit.direct, {"id": 1, "text": "kept"})
    assert await stored(db, table) == [(1, "kept")]


async def test_a_failing_hook_rolls_everything_back_and_says_why(notes: tuple[Database, Table]) -> None:
    db, table = notes
    write = Prepared(insert(table))
    called: list[str] = []

    async def hook(unit: Unit) -> None:
        await write.run(unit.direct, {"id": 2, "text": "from the hook"})
        raise RuntimeError("the hook failed")

    with pytest.raises(RuntimeError, match="hook failed"):
        async with db.unit() as unit:
            await write.run(unit.direct, {"id": 1, "text": "body"})
            unit.before_commit("probe", hook)
            unit.after_commit(lambda: called.append("after"))
            unit.on_rollback(lambda: called.append("undone"))
    assert called == ["undone"]  # rolled back: the undo ran, the after-commit callback never did
    assert await stored(db, table) == []
    async with db.unit() as unit:  # the connection went back clean, and the failed unit is no longer open
        await write.run(unit.direct, {"id": 1, "text": "kept"})
        async with db.unit() as inner:
            assert inner is unit
    assert await stored(db, table) == [(1, "kept")]


async def test_a_unit_inside_a_unit_of_the_same_task_joins_it(notes: tuple[Database, Table]) -> None:
    db, table = notes
    write = Prepared(insert(table))
    order: list[str] = []
    async with db.unit() as outer:
        async with db.unit() as inner:
            assert inner is outer
            await write.run(inner.direct, {"id": 1, "text": "inner"})
            inner.after_commit(lambda: order.append("inner after"))
        assert order == []  # the inner block ended; nothing has committed yet
        await write.run(outer.direct, {"id": 2, "text": "outer"})
    assert order == ["inner after"]
    assert await stored(db, table) == [(1, "inner"), (2, "outer")]


async def test_a_joined_unit_that_fails_takes_the_outer_one_down(notes: tuple[Database, Table]) -> None:
    db, table = notes
    with pytest.raises(ValueError, match="inner"):
        async with db.unit() as outer:
            await Prepared(insert(table)).run(outer.direct, {"id": 1, "text": "outer"})
            async with db.unit():
                raise ValueError("inner failed")
    assert await stored(db, table) == []


async def test_a_task_started_inside_a_unit_opens_its_own(notes: tuple[Database, Table]) -> None:
    db, table = notes

    async def separately() -> Unit:
        async with db.unit() as unit:
            await Prepared(insert(table)).run(unit.direct, {"id": 2, "text": "task"})
            return unit

    async with db.unit() as outer:
        await Prepared(insert(table)).run(outer.direct, {"id": 1, "text": "outer"})
        if db.dialect == "postgresql":  # SQLite would wait for the outer unit's write lock: run it after
            assert await asyncio.create_task(separately()) is not outer
            assert (2, "task") in await stored(db, table)  # committed on its own, before the outer unit
        else:
            task = asyncio.create_task(separately())
    if db.dialect != "postgresql":
        assert await task is not outer
    assert await stored(db, table) == [(1, "outer"), (2, "task")]


async def test_audit_entries_of_units_and_sessions_form_one_chain(database: Database, clock: SimClock) -> None:
    audit = AuditService(clock)
    async with database.unit() as unit:
        first = await audit.record(unit, "order.submitted", actor_id="usr_1", detail={"n": 1})
        second = await audit.record(unit, "order.fill", actor_id="usr_1", detail={"n": 2})
        assert first.seq is None  # chained as the unit commits
    async with database.session() as session:
        third = await audit.record(session, "login.failed", target="a@example.com")
    with pytest.raises(RuntimeError):
        async with database.unit() as unit:
            await audit.record(unit, "order.denied", actor_id="usr_1")
            raise RuntimeError("rolled back: the entry is dropped")
    async with database.unit() as unit:
        fourth = await audit.record(unit, "order.canceled", actor_id="usr_1")
    assert (first.seq, second.seq, third.seq, fourth.seq) == (1, 2, 3, 4)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash and fourth.prev_hash == third.hash
    async with database.session() as session:
        result = await audit.verify(session)
    assert (result.ok, result.checked) == (True, 4)


async def test_units_of_concurrent_tasks_never_fork_the_audit_chain(database: Database, clock: SimClock) -> None:
    audit = AuditService(clock)

    async def append(number: int) -> int | None:
        async with database.unit() as unit:
            entry = await audit.record(unit, "order.denied", actor_id=f"usr_{number}")
            await asyncio.sleep(0.005)
        return entry.seq

    assert sorted(await asyncio.gather(*(append(n) for n in range(10)))) == list(range(1, 11))
    async with database.session() as session:
        assert (await audit.verify(session)).ok


async def test_a_unit_on_a_database_without_tables_says_what_to_do(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(Exception, match="no marketdesk tables") as raised:
            async with db.unit() as unit:
                await audit_free_write(unit)
        assert not isinstance(raised.value, Temporary)
    finally:
        await db.dispose()


async def audit_free_write(unit: Unit) -> None:
    table = Table("orders", MetaData(), Column("id", String(40), primary_key=True))
    await Prepared(insert(table)).run(unit.direct, {"id": "ord_1"})


async def test_a_disposed_database_closes_its_own_sqlite_connections(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    async with db.engine.begin() as connection:
        await connection.run_sync(table.create)
    async with db.unit() as unit:
        await Prepared(insert(table)).run(unit.direct, {"id": 1})
        assert unit.direct.driver is not None  # the desk's own connection, not the engine's
        raw = unit.direct.driver.raw
    await db.dispose()
    with pytest.raises(Exception, match="closed"):
        raw.execute("SELECT 1")
    async with db.unit() as unit:  # a unit after dispose opens a fresh connection
        await Prepared(insert(table)).run(unit.direct, {"id": 2})
    async with db.session() as session:
        assert [r.id for r in await session.execute(select(table))] == [1, 2]
    await db.dispose()
