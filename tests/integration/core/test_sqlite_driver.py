"""The inline SQLite driver (`sqlite+marketdesk`): statements on the loop's thread, lock waits off it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text

import marketdesk.sqlite_driver as driver
from marketdesk.db import Database
from marketdesk.errors import Temporary
from marketdesk.prepared import Prepared


@pytest.fixture
async def scratch(tmp_path: Path) -> Any:
    db = Database(f"sqlite:///{tmp_path / 'scratch.db'}")
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY, label TEXT)"))
    yield db, tmp_path / "scratch.db"
    await db.dispose()


class Ticker:
    """Counts the event loop's turns every 5 ms while a write waits for a lock: it keeps counting only if the
    wait happens off the loop."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.005)
            self.ticks += 1

    def stop(self) -> None:
        self._task.cancel()


async def test_sqlite_urls_get_the_inline_driver_and_run_on_the_loops_thread(scratch: Any) -> None:
    db, _ = scratch
    threads: list[int] = []

    async with db.session() as session:
        connection = await session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        raw._conn.create_function("whose_thread", 0, lambda: threads.append(threading.get_ident()) or 1)
        await session.execute(text("SELECT whose_thread()"))
    assert db.engine.dialect.driver == "marketdesk"
    assert threads == [threading.get_ident()]


async def test_waiting_for_another_writer_does_not_block_the_event_loop(scratch: Any) -> None:
    db, path = scratch
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    other.execute("INSERT INTO t (label) VALUES ('theirs')")

    async def write() -> float:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (label) VALUES ('ours')"))
        return time.monotonic()

    ticker = Ticker()
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    assert not writing.done()  # still waiting for the lock
    released = time.monotonic()
    other.execute("COMMIT")
    finished = await writing
    ticker.stop()
    other.close()
    assert finished >= released
    assert ticker.ticks >= 10  # the loop kept running while the write waited (0.2 s at 5 ms a tick)
    async with db.session() as session:
        labels = (await session.execute(text("SELECT label FROM t ORDER BY n"))).scalars().all()
    assert labels == ["theirs", "ours"]


async def locked_past_a_short_timeout(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Database, sqlite3.Connection]:
    """A database with a table `t (n)`, whose write lock another connection holds (it is returned: roll it back
    to free the lock), and a busy timeout of 0.1 s for the desk's connections."""
    monkeypatch.setattr(driver.InlineDBAPI, "busy_timeout_s", 0.1)
    db = Database(f"sqlite:///{folder / 'locked.db'}")
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    other = sqlite3.connect(folder / "locked.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return db, other


async def test_a_lock_held_past_the_busy_timeout_is_a_temporary_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, other = await locked_past_a_short_timeout(tmp_path, monkeypatch)
    started = time.monotonic()
    try:
        with pytest.raises(Temporary, match="locked by another process"):
            async with db.session() as session:
                await session.execute(text("INSERT INTO t DEFAULT VALUES"))
    finally:
        other.execute("ROLLBACK")
        other.close()
        await db.dispose()
    assert 0.1 <= time.monotonic() - started < 2


async def test_a_units_prepared_write_waits_for_another_writer_off_the_loop(scratch: Any) -> None:
    db, path = scratch
    table = Table("t", MetaData(), Column("n", Integer, primary_key=True), Column("label", String))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (label) VALUES ('theirs')")

    async def write() -> int:
        async with db.unit() as unit:
            changed = await Prepared(insert(table)).run(unit.direct, {"label": "ours"})
            (count,) = (await Prepared(select(func.count()).select_from(table)).rows(unit.direct, {}))[0]
            return changed + count

    ticker = Ticker()
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    assert not writing.done()  # still waiting for the lock, in `retrying`
    other.execute("COMMIT")
    assert await writing == 1 + 2  # one row written; two in the table as the unit saw it
    ticker.stop()
    other.close()
    assert ticker.ticks >= 10


async def test_a_units_write_past_the_busy_timeout_is_a_temporary_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, other = await locked_past_a_short_timeout(tmp_path, monkeypatch)
    table = Table("t", MetaData(), Column("n", Integer, primary_key=True))
    try:
        with pytest.raises(Temporary, match="locked by another process"):
            async with db.unit() as unit:
                await Prepared(insert(table)).run_many(unit.direct, [{"n": 1}, {"n": 2}])
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with db.unit() as unit:  # the lock is free again: the same write goes through
        assert await Prepared(insert(table)).run_many(unit.direct, [{"n": 1}, {"n": 2}]) == 2
    await db.dispose()


async def test_large_batches_run_on_a_worker_thread_and_small_ones_inline(
    scratch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = scratch
    offloaded: list[int] = []
    real_to_thread = asyncio.to_thread

    async def counting_to_thread(call: Any, *args: Any) -> Any:
        offloaded.append(len(args[1]))
        return await real_to_thread(call, *args)

    monkeypatch.setattr(driver.asyncio, "to_thread", counting_to_thread)
    small = [{"label": f"s{i}"} for i in range(10)]
    large = [{"label": f"l{i}"} for i in range(driver.INLINE_BATCH_ROWS + 1)]
    async with db.session() as session:
        await session.execute(text("INSERT INTO t (label) VALUES (:label)"), small)
        await session.execute(text("INSERT INTO t (label) VALUES (:label)"), large)
    assert offloaded == [driver.INLINE_BATCH_ROWS + 1]
    async with db.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == len(small) + len(large)


async def test_a_failed_unit_of_work_rolls_back_on_the_inline_driver(scratch: Any) -> None:
    db, _ = scratch
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (label) VALUES ('lost')"))
            raise RuntimeError("the request failed")
    async with db.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_wal_checkpoints_run_on_a_worker_thread_not_inside_a_commit(
    scratch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, path = scratch
    checkpoints = driver.checkpointer(str(path.resolve()))
    monkeypatch.setattr(checkpoints, "every", 5)
    checkpoint_threads: list[int] = []
    run = checkpoints._checkpoint
    monkeypatch.setattr(checkpoints, "_checkpoint", lambda: (checkpoint_threads.append(threading.get_ident()), run()))
    async with db.session() as session:
        setting = (await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()
    assert setting == 0  # no commit copies the log into the file itself
    before_done = checkpoints.done
    size_before = path.stat().st_size
    monkeypatch.setattr(checkpoints, "since", 0)
    previous = checkpoints.last
    for n in range(5):  # a checkpoint is due
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (n, label) VALUES (:n, :l)"), {"n": n, "l": "x" * 4000})
    assert checkpoints.done == before_done  # not inside a commit: after a pause
    await asyncio.sleep(checkpoints.idle_s + 0.25)  # the pause
    assert checkpoints.last is not None and checkpoints.last is not previous
    await checkpoints.last
    assert checkpoints.done == before_done + 1
    assert checkpoint_threads and threading.get_ident() not in checkpoint_threads
    assert path.stat().st_size > size_before  # the rows reached the database file: the log was copied in


class _CommitsBeside:
    """The checkpoint's connection, with the order path going on beside its passive pass (as during a burst):
    a unit of work reading on a snapshot taken before another unit's commit. The passive pass cannot copy the
    frames past that snapshot, and the unit ends just after it."""

    def __init__(self, connection: sqlite3.Connection, path: Path, connect: Any) -> None:
        self.connection, self.path, self.connect = connection, path, connect

    def execute(self, sql: str) -> sqlite3.Cursor:
        if "PASSIVE" not in sql:
            return self.connection.execute(sql)
        reader = self.connect(self.path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchall()
        writer = self.connect(self.path)
        writer.execute("INSERT INTO t (label) VALUES (?)", ("meanwhile" * 500,))
        writer.commit()
        writer.close()
        cursor = self.connection.execute(sql)
        reader.execute("COMMIT")
        reader.close()
        return cursor

    def close(self) -> None:
        self.connection.close()


def _log_frames(path: Path) -> int:
    """How many frames the write-ahead log holds, read from the file (a checkpoint to ask would change it): the
    frames from its start that carry the header's salt (after a restart, new frames overwrite the old ones
    from the beginning with a new salt)."""
    log = path.with_name(path.name + "-wal").read_bytes()
    page_size = int.from_bytes(log[8:12], "big")
    salt, frames, offset = log[16:24], 0, 32
    while offset + 24 + page_size <= len(log) and log[offset + 8 : offset + 16] == salt:
        frames, offset = frames + 1, offset + 24 + page_size
    return frames


async def test_a_checkpoint_during_a_burst_still_lets_the_log_start_over(
    scratch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, path = scratch
    checkpoints = driver.checkpointer(str(path.resolve()))

    async def commit(n: int) -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (n, label) VALUES (:n, :l)"), {"n": n, "l": "x" * 4000})

    for n in range(20):
        await commit(n)
    grown = _log_frames(path)
    assert grown >= 40  # each commit wrote at least a row page and the tree's root
    restarts = checkpoints.restarts
    real_connect = sqlite3.connect
    with monkeypatch.context() as patch:
        patch.setattr(
            driver.sqlite3, "connect", lambda *a, **k: _CommitsBeside(real_connect(*a, **k), path, real_connect)
        )
        await asyncio.to_thread(checkpoints._checkpoint)
    await commit(100)
    # the next commit wrote from the log's beginning; after a passive pass alone the log grows on (20 commits'
    # frames, the one beside the checkpoint, then the next), for the frames past the reader were not copied
    assert _log_frames(path) <= 4
    assert checkpoints.restarts == restarts + 1
    async with db.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 22


async def test_a_due_checkpoint_waits_for_a_pause_in_commits_unless_the_burst_goes_on_too_long(
    scratch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, path = scratch
    checkpoints = driver.checkpointer(str(path.resolve()))
    for name, value in (("every", 3), ("idle_s", 0.2), ("latest", 12), ("since", 0)):
        monkeypatch.setattr(checkpoints, name, value)
    before = checkpoints.last

    async def commit(n: int) -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (n, label) VALUES (:n, 'x')"), {"n": n})

    for n in range(8):  # due after 3, but the commits never pause for 0.2 s
        await commit(n)
        await asyncio.sleep(0.02)
    assert checkpoints.last is before and checkpoints.since == 8
    for n in range(8, 12):  # the 12th commit: too long a burst, it runs now
        await commit(n)
    assert checkpoints.last is not before and checkpoints.since == 0
    await checkpoints.last
    started = checkpoints.last
    for n in range(12, 15):  # due again; the pause comes
        await commit(n)
    assert checkpoints.last is started
    await asyncio.sleep(0.3)
    assert checkpoints.last is not started  # started in the pause
    await checkpoints.last
