"""The portfolio service on SQLite and the real PostgreSQL: exact decimals, idempotent imports, nothing half
written, snapshots recomputed to the same rows, refusals with reasons, and owners kept apart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from marketdesk.accounts.errors import Forbidden
from marketdesk.accounts.models import User
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import NotFound, Rejected
from marketdesk.portfolio.ledger import Kind, Transaction, replay
from marketdesk.portfolio.models import PortfolioSnapshot, PortfolioTransaction
from marketdesk.portfolio.service import PortfolioService
from marketdesk.portfolio.valuation import PriceHistory, daily_series

D = Decimal
SAMPLE = Path(__file__).parents[2] / "unit" / "portfolio" / "data" / "alpaca_account_activities.csv"


class StoredCloses:
    """A small real price source: AAPL and MSFT business-day closes of 2024 (a steady walk), in memory."""

    def __init__(self) -> None:
        days = np.arange(np.datetime64("2024-01-02"), np.datetime64("2024-12-31"))
        self.days = days[np.is_busday(days)]
        steps = np.arange(len(self.days))
        self.close = np.column_stack([185.0 + 0.1 * steps, 375.0 - 0.05 * steps])
        self.symbols = ("AAPL", "MSFT")

    async def __call__(self, symbols: Sequence[str], start: date, end: date) -> PriceHistory:
        keep = (self.days >= np.datetime64(start)) & (self.days <= np.datetime64(end))
        columns = [self.symbols.index(s) for s in symbols if s in self.symbols]
        return PriceHistory(self.days[keep], tuple(self.symbols[j] for j in columns), self.close[keep][:, columns])


def person(user_id: str, role: Role = Role.TRADER) -> CurrentUser:
    return CurrentUser(id=user_id, email=f"{user_id}@example.com", role=role, session_id="s")


@pytest.fixture
async def service(database: Database, clock: SimClock) -> PortfolioService:
    async with database.session() as session:
        for user_id in ("alice", "bob"):
            now = clock.now()
            session.add(User(id=user_id, email=f"{user_id}@example.com", password_hash="!",  # noqa: S106 - never signs in
                             role="trader", created_at=now, password_changed_at=now))  # fmt: skip
    return PortfolioService(clock, StoredCloses())


async def count(database: Database, model: type, portfolio_id: str) -> int:
    async with database.session() as session:
        query = select(func.count()).select_from(model).where(model.portfolio_id == portfolio_id)  # type: ignore[attr-defined]
        return int(await session.scalar(query) or 0)


async def test_transactions_keep_their_exact_decimals(database: Database, service: PortfolioService) -> None:
    alice = person("alice")
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Long term")
        await service.add(session, alice, portfolio.id,
                          Transaction(date(2024, 1, 2), Kind.BUY, "aapl", qty=D("0.123456789"),
                                      price=D("185.6401"), fee=D("0.000000001")))  # fmt: skip
        await service.add(session, alice, portfolio.id, Transaction(date(2024, 1, 3), Kind.DEPOSIT, amount=D("0.1")))
    async with database.session() as session:
        (bought, deposited) = await service.transactions(session, alice, portfolio.id)
        valuation = await service.valuation(session, alice, portfolio.id, date(2024, 1, 3))
    assert (bought.symbol, bought.qty, bought.price, bought.fee) == ("AAPL", D("0.123456789"), D("185.6401"),
                                                                     D("0.000000001"))  # fmt: skip
    assert deposited.amount == D("0.1")
    assert valuation.implicit_deposits == D("0.123456789") * D("185.6401") + D("0.000000001")


async def test_reimporting_the_same_statement_adds_nothing(database: Database, service: PortfolioService) -> None:
    alice = person("alice")
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Alpaca")
        first = await service.import_statement(session, alice, portfolio.id, SAMPLE.read_bytes())
    assert (first.layout, first.accepted, first.duplicates, first.rejected) == ("alpaca", 11, 0, 4)
    async with database.session() as session:
        again = await service.import_statement(session, alice, portfolio.id, SAMPLE.read_bytes())
    assert (again.accepted, again.duplicates, again.rejected) == (0, 11, 4)
    assert {r.line: r.status for r in again.rows}[15] == "duplicate"
    assert await count(database, PortfolioTransaction, portfolio.id) == 11
    async with database.session() as session:
        valuation = await service.valuation(session, alice, portfolio.id, date(2024, 3, 15))
    assert valuation.cash == D("2669.83")  # worked out by hand in tests/unit/portfolio/test_statements.py
    assert [(h.symbol, h.qty) for h in valuation.holdings] == [("AAPL", D(5)), ("MSFT", D(3))]


async def test_a_dry_run_reports_every_row_and_writes_nothing(database: Database, service: PortfolioService) -> None:
    alice = person("alice")
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Trial")
        report = await service.import_statement(session, alice, portfolio.id, SAMPLE.read_bytes(), dry_run=True)
    assert (report.dry_run, report.accepted, report.rejected) == (True, 11, 4)
    assert all(r.transaction is None or r.transaction.id is None for r in report.rows)
    assert await count(database, PortfolioTransaction, portfolio.id) == 0
    assert await count(database, PortfolioSnapshot, portfolio.id) == 0


async def test_a_malformed_file_leaves_nothing_half_written(database: Database, service: PortfolioService) -> None:
    alice = person("alice")
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Careful")
    good_rows = "".join(f"2024-01-{d:02d},AAPL,buy,1,185\n" for d in range(2, 30))
    broken = f'date,symbol,side,qty,price\n{good_rows}"2024-01-30,AAPL,buy,1,185\n'  # an unterminated quote
    with pytest.raises(Rejected, match="the file is not CSV"):
        async with database.session() as session:
            await service.import_statement(session, alice, portfolio.id, broken.encode())
    assert await count(database, PortfolioTransaction, portfolio.id) == 0


async def test_rows_the_history_cannot_take_are_rejected_with_the_reason(
    database: Database, service: PortfolioService, clock: SimClock
) -> None:
    alice = person("alice")
    text = (
        "date,symbol,side,qty,price\n2024-01-02,AAPL,buy,10,185\n2024-01-03,AAPL,sell,12,186\n"
        "2024-01-04,AAPL,sell,4,187\n2030-01-02,AAPL,buy,1,1\n"
    )
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Checked")
        report = await service.import_statement(session, alice, portfolio.id, text.encode())
        with pytest.raises(Rejected, match="sells 7 AAPL on 2024-01-05 but holds only 6 then"):
            await service.add(session, alice, portfolio.id,
                              Transaction(date(2024, 1, 5), Kind.SELL, "AAPL", qty=D(7), price=D(1)))  # fmt: skip
    assert {r.line: (r.status, r.reason) for r in report.rows} == {
        2: ("accepted", None),
        3: ("rejected", "sells 12 AAPL on 2024-01-03 but holds only 10 then"),
        4: ("accepted", None),
        5: ("rejected", "it is dated 2030-01-02, after today (2026-11-20)"),
    }


async def test_removing_a_buy_that_a_later_sell_needs_is_refused(database: Database, service: PortfolioService) -> None:
    alice = person("alice")
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Linked lots")
        bought = await service.add(session, alice, portfolio.id,
                                   Transaction(date(2024, 1, 2), Kind.BUY, "AAPL", qty=D(10), price=D(185)))  # fmt: skip
        await service.add(session, alice, portfolio.id,
                          Transaction(date(2024, 2, 1), Kind.SELL, "AAPL", qty=D(10), price=D(190)))  # fmt: skip
        assert bought.id is not None
        with pytest.raises(Rejected, match="removing it would leave the history short: sells 10 AAPL"):
            await service.remove_transaction(session, alice, portfolio.id, bought.id)
    assert await count(database, PortfolioTransaction, portfolio.id) == 2


async def test_snapshots_are_backfilled_and_recomputed_to_the_same_rows(
    database: Database, service: PortfolioService
) -> None:
    alice = person("alice")
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Daily")
        await service.import_statement(session, alice, portfolio.id, SAMPLE.read_bytes())
        stored = await service.snapshots(session, alice, portfolio.id)
    columns = ("day", "value", "positions_value", "cash", "net_flow", "cost_basis", "realized_pnl",
               "dividend_income", "fees")  # fmt: skip
    before = [tuple(getattr(s, c) for c in columns) for s in stored]
    async with database.session() as session:
        rebuilt = await service.rebuild_snapshots(session, alice, portfolio.id)
        await service.rebuild_snapshots(session, alice, portfolio.id)
    async with database.session() as session:
        after = [tuple(getattr(s, c) for c in columns) for s in await service.snapshots(session, alice, portfolio.id)]
    assert after == before
    assert (rebuilt.days, rebuilt.first, rebuilt.last) == (len(before), date(2024, 1, 2), date(2024, 12, 30))
    first, *_ = before
    assert first[1:5] == (D(5000), D(0), D(5000), D(5000))  # the deposit, all cash
    by_day = {row[0]: row for row in before}
    # 2024-01-03: AAPL 10 bought at 185.64; its close that day is 185.0 + 0.1 × 1 = 185.1
    assert by_day[date(2024, 1, 3)][2] == D("1851.00")
    assert by_day[date(2024, 1, 3)][3] == D("3143.60")  # 5000 − 1856.40
    async with database.session() as session:
        # the stored values agree with the engine run afresh
        returns = await service.returns(session, alice, portfolio.id, end=date(2024, 12, 30))
    assert returns.end_value == before[-1][1]


async def test_deleting_needs_the_name_repeated_and_removes_everything(
    database: Database, service: PortfolioService
) -> None:
    alice = person("alice")
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Old")
        await service.import_statement(session, alice, portfolio.id, SAMPLE.read_bytes())
    for wrong in (None, "old", "Other"):
        with pytest.raises(Rejected, match="also deletes its 11 transactions") as refused:
            async with database.session() as session:
                await service.delete(session, alice, portfolio.id, confirm=wrong)
        assert refused.value.hint == "To go ahead, repeat its name: confirm=Old."
    async with database.session() as session:
        await service.delete(session, alice, portfolio.id, confirm="Old")
    assert await count(database, PortfolioTransaction, portfolio.id) == 0
    assert await count(database, PortfolioSnapshot, portfolio.id) == 0
    async with database.session() as session:
        assert await service.list_portfolios(session, alice) == []


async def test_another_users_portfolio_is_not_found_and_a_viewer_changes_nothing(
    database: Database, service: PortfolioService
) -> None:
    alice, bob = person("alice"), person("bob")
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Mine")
        assert await service.list_portfolios(session, bob) == []
        for read in (service.get(session, bob, portfolio.id), service.valuation(session, bob, portfolio.id),
                     service.returns(session, bob, portfolio.id), service.snapshots(session, bob, portfolio.id)):  # fmt: skip
            with pytest.raises(NotFound, match=f"no portfolio '{portfolio.id}'"):
                await read
        with pytest.raises(NotFound):
            await service.add(session, bob, portfolio.id, Transaction(date(2024, 1, 2), Kind.DEPOSIT, amount=D(1)))
        with pytest.raises(Forbidden):
            await service.add(session, person("alice", Role.VIEWER), portfolio.id,
                              Transaction(date(2024, 1, 2), Kind.DEPOSIT, amount=D(1)))  # fmt: skip
        with pytest.raises(Rejected, match="already have a portfolio named 'Mine'"):
            await service.create(session, alice, "Mine")
        assert (await service.create(session, bob, "Mine")).name == "Mine"  # names are per owner


async def test_the_service_and_the_engine_agree_on_the_daily_values(
    database: Database, service: PortfolioService
) -> None:
    alice = person("alice")
    async with database.session() as session:
        portfolio = await service.create(session, alice, "Engine")
        await service.import_statement(session, alice, portfolio.id, SAMPLE.read_bytes())
        stored = await service.snapshots(session, alice, portfolio.id, date(2024, 3, 1), date(2024, 3, 31))
        listed = await service.transactions(session, alice, portfolio.id)
    history = [
        Transaction(t.date, Kind(t.kind), t.symbol, qty=t.qty, price=t.price, amount=t.amount, fee=t.fee, ratio=t.ratio)
        for t in listed
    ]
    prices = await StoredCloses()(["AAPL", "MSFT"], date(2024, 1, 2), date(2026, 11, 20))
    series = daily_series(history, replay(history), prices, date(2024, 12, 31))
    engine = dict(zip((str(d) for d in series.dates), series.value.tolist(), strict=True))
    assert [float(s.value) for s in stored] == pytest.approx([engine[str(s.day)] for s in stored], abs=0.005)
    assert all(s.computed_at.tzinfo is not None for s in stored)
    assert stored[0].computed_at == datetime(2026, 11, 20, 15, tzinfo=UTC)


async def test_the_daily_refresh_extends_every_users_snapshots_to_today(database: Database) -> None:
    clock = SimClock(datetime(2024, 6, 3, 21, 0, tzinfo=UTC))  # Monday 17:00 New York, after the close
    async with database.session() as session:
        for user_id in ("alice", "bob"):
            session.add(User(id=user_id, email=f"{user_id}@example.com", password_hash="!",  # noqa: S106 - never signs in
                             role="trader", created_at=clock.now(), password_changed_at=clock.now()))  # fmt: skip
    service = PortfolioService(clock, StoredCloses())
    monday = date(2024, 6, 3)
    ids = {}
    async with database.session() as session:
        for user_id in ("alice", "bob"):
            portfolio = await service.create(session, person(user_id), "Daily")
            ids[user_id] = portfolio.id
            await service.add(
                session, person(user_id), portfolio.id, Transaction(monday, Kind.DEPOSIT, amount=D(10_000))
            )
            await service.add(
                session, person(user_id), portfolio.id,
                Transaction(monday, Kind.BUY, symbol="AAPL", qty=D(10), price=D("195.90")),
            )  # fmt: skip
    async with database.session() as session:
        assert await service.refresh_snapshots(session) == 0  # written when the trades were: nothing is stale

    clock.advance(timedelta(days=3))  # Thursday after the close: three new closes
    async with database.session() as session:
        assert await service.refresh_snapshots(session) == 2
    async with database.session() as session:
        assert await service.refresh_snapshots(session) == 0  # once a day is enough
        for user_id in ("alice", "bob"):
            rows = await service.snapshots(session, person(user_id), ids[user_id])
            last = rows[-1]
            # 2024-06-06 is business day 112 of the walk: AAPL closes at 185.0 + 0.1 × 112 = 196.20;
            # cash 10,000 − 10 × 195.90 = 8,041.00; value 8,041.00 + 10 × 196.20 = 10,003.00
            assert [r.day for r in rows] == [monday, date(2024, 6, 4), date(2024, 6, 5), date(2024, 6, 6)]
            assert (last.cash, last.positions_value, last.value) == (D("8041.00"), D("1962.00"), D("10003.00"))
