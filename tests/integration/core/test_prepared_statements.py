"""Prepared statements (`marketdesk.prepared`) store and read exactly what SQLAlchemy stores and reads, inside the
session's transaction: on the desk's SQLite straight on the `sqlite3` connection, and on PostgreSQL (asyncpg) and
aiosqlite through SQLAlchemy; and a database error reaches the caller as SQLAlchemy's own exception."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, bindparam, insert, select, update
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.exc import IntegrityError

from marketdesk.db import Database, ExactDecimal, UTCDateTime
from marketdesk.prepared import Direct, Prepared

AT = datetime(2026, 11, 20, 15, 30, 1, 250_000, tzinfo=UTC)
SQLITE = SQLiteDialect_aiosqlite()  # the dialect the desk's SQLite driver builds on
ZONES = [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=14))]


def probe_table() -> Table:
    """A scratch table with the column types the order path stores, named per test (PostgreSQL is shared)."""
    return Table(
        f"prepared_probe_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("kind", String(16)),
        Column("amount", ExactDecimal, nullable=True),
        Column("at", UTCDateTime),
        Column("flag", Boolean),
        Column("note", String(32), default="none"),
    )


@pytest.fixture
async def probe(database: Database) -> AsyncIterator[tuple[Database, Table]]:
    table = probe_table()
    async with database.engine.begin() as connection:
        await connection.run_sync(table.create)
    yield database, table
    async with database.engine.begin() as connection:
        await connection.run_sync(table.drop)


def row(number: int, **values: object) -> dict[str, object]:
    return {"id": number, "kind": "buy", "amount": Decimal("0.000000000123"), "at": AT, "flag": True} | values


async def test_what_a_prepared_insert_stores_sqlalchemy_reads_back_identically(probe: tuple[Database, Table]) -> None:
    db, table = probe
    async with db.session() as session:
        direct = await Direct.of(session)
        assert (direct.driver is not None) == (db.dialect == "sqlite")  # SQLite takes the driver's own road
        await Prepared(insert(table)).run_many(direct, [row(1), row(2, amount=None, flag=False)])
    async with db.session() as session:
        stored = (await session.execute(select(table).order_by(table.c.id))).all()
    assert [tuple(r) for r in stored] == [
        (1, "buy", Decimal("0.000000000123"), AT, True, "none"),  # `note` took its column default
        (2, "buy", None, AT, False, "none"),
    ]


async def test_what_sqlalchemy_stores_a_prepared_query_reads_back_identically(probe: tuple[Database, Table]) -> None:
    db, table = probe
    async with db.session() as session:
        await session.execute(
            insert(table), [row(1, note="kept"), row(2, kind="sell", amount=Decimal("-12.5"), note="none")]
        )
    query = Prepared(select(table).where(table.c.kind == bindparam("kind")).order_by(table.c.id))
    async with db.session() as session:
        direct = await Direct.of(session)
        sells = await query.rows(direct, {"kind": "sell"})
        buys = await query.rows(direct, {"kind": "buy"})
        none = await query.rows(direct, {"kind": "hold"})
    assert sells == [(2, "sell", Decimal("-12.5"), AT, True, "none")]
    assert buys == [(1, "buy", Decimal("0.000000000123"), AT, True, "kept")]
    assert none == []
    assert isinstance(sells[0][2], Decimal) and sells[0][3].tzinfo is not None


async def test_an_update_sets_the_columns_its_parameters_name_and_counts_the_rows(
    probe: tuple[Database, Table],
) -> None:
    db, table = probe
    async with db.session() as session:
        await session.execute(insert(table), [row(1), row(2), row(3, kind="sell")])
    change = Prepared(update(table).where(table.c.kind == bindparam("b_kind")))
    async with db.session() as session:
        direct = await Direct.of(session)
        first = await change.run(direct, {"b_kind": "buy", "amount": Decimal("7.10")})
        second = await change.run(direct, {"b_kind": "sell", "flag": False, "note": "two columns"})
    async with db.session() as session:
        stored = (await session.execute(select(table.c.amount, table.c.flag, table.c.note).order_by(table.c.id))).all()
    assert (first, second) == (2, 1)
    assert [tuple(r) for r in stored] == [
        (Decimal("7.10"), True, "none"),
        (Decimal("7.10"), True, "none"),
        (Decimal("0.000000000123"), False, "two columns"),
    ]


async def test_fixed_values_in_a_statement_are_sent_with_it(probe: tuple[Database, Table]) -> None:
    db, table = probe
    async with db.session() as session:
        await session.execute(insert(table), [row(1), row(2, kind="sell"), row(3, kind="short")])
    long_or_short = [bindparam("k_buy", "buy"), bindparam("k_short", "short")]
    query = Prepared(select(table.c.id).where(table.c.kind.in_(long_or_short)).order_by(table.c.id))
    async with db.session() as session:
        assert await query.rows(await Direct.of(session), {}) == [(1,), (3,)]


def test_an_in_list_to_expand_is_refused_with_the_way_to_write_it() -> None:
    table = probe_table()
    query = Prepared(select(table.c.id).where(table.c.kind.in_(["buy", "sell"])))
    with pytest.raises(ValueError, match="takes no IN list"):
        query.form(Database("sqlite:///:memory:").engine.dialect, {})


async def test_prepared_writes_belong_to_the_session_transaction(probe: tuple[Database, Table]) -> None:
    db, table = probe
    with pytest.raises(RuntimeError, match="boom"):
        async with db.session() as session:
            await Prepared(insert(table)).run(await Direct.of(session), row(1))
            raise RuntimeError("boom")
    async with db.session() as session:
        assert (await session.execute(select(table.c.id))).all() == []


async def test_a_database_error_is_sqlalchemys_and_leaves_nothing_half_written(probe: tuple[Database, Table]) -> None:
    db, table = probe
    async with db.session() as session:
        await session.execute(insert(table), [row(1)])
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await Prepared(insert(table)).run_many(await Direct.of(session), [row(2), row(1)])  # 1 is taken
    async with db.session() as session:
        assert [r.id for r in (await session.execute(select(table.c.id)))] == [1]


async def test_a_driver_it_does_not_know_runs_through_sqlalchemy(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/plain.db")
    table = probe_table()
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(table.create)
        async with db.session() as session:
            direct = await Direct.of(session)
            assert direct.driver is None
            await Prepared(insert(table)).run(direct, row(1))
            found = await Prepared(select(table).where(table.c.id == bindparam("id"))).rows(direct, {"id": 1})
        assert found == [(1, "buy", Decimal("0.000000000123"), AT, True, "none")]
    finally:
        await db.dispose()


# hypothesis bounds datetimes with naive values and makes them aware with `timezones`
AWARE = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001 (a day inside the range, so every zone's instant has a UTC date)
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.sampled_from(ZONES),
)
DECIMALS = st.decimals(allow_nan=False, allow_infinity=False, places=None)


@settings(max_examples=300, deadline=None)
@given(value=st.none() | AWARE)
def test_a_utc_datetime_is_stored_and_read_as_sqlalchemys_own_processors_do(value: datetime | None) -> None:
    fast_bind, fast_result = UTCDateTime().sqlite_converters()
    stored = fast_bind(value)
    assert stored == sqlalchemy_bind(UTCDateTime(), value)
    assert fast_result(stored) == sqlalchemy_result(UTCDateTime(), stored)
    if value is not None:
        assert fast_result(stored) == value and fast_result(stored).tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(value=st.none() | DECIMALS)
def test_an_exact_decimal_is_stored_and_read_as_sqlalchemys_own_processors_do(value: Decimal | None) -> None:
    fast_bind, fast_result = ExactDecimal().sqlite_converters()
    stored = fast_bind(value)
    assert stored == sqlalchemy_bind(ExactDecimal(), value)
    assert fast_result(stored) == sqlalchemy_result(ExactDecimal(), stored) == value


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        (UTCDateTime, datetime(2026, 11, 20, 15, 30), ValueError),  # noqa: DTZ001 (naive: refused, not guessed)
        (ExactDecimal, 1.5, TypeError),  # a float is no exact amount
        (ExactDecimal, Decimal("NaN"), ValueError),
        (ExactDecimal, Decimal("-Infinity"), ValueError),
    ],
)
def test_a_value_sqlalchemys_processors_refuse_the_sqlite_converters_refuse_alike(
    kind: type[UTCDateTime] | type[ExactDecimal], value: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        sqlalchemy_bind(kind(), value)
    with pytest.raises(error):
        kind().sqlite_converters()[0](value)


def sqlalchemy_bind(column_type: UTCDateTime | ExactDecimal, value: object) -> object:
    """What a compiled statement's processor for the column stores (as `Prepared` used it before)."""
    processor = column_type._cached_bind_processor(SQLITE)
    return value if processor is None else processor(value)


def sqlalchemy_result(column_type: UTCDateTime | ExactDecimal, value: object) -> object:
    processor = column_type._cached_result_processor(SQLITE, None)
    return value if processor is None else processor(value)
