"""`md.portfolio(...)` over a real data dir (SQLite, the bar store, no simulated market): holdings, totals, TWR,
XIRR and the daily series of a hand-kept portfolio, every figure worked out here by hand from the transactions and
the stored closes; who and which portfolio it reads, and the refusals that say what to add."""

from __future__ import annotations

import asyncio
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import marketdesk as md
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.clock import LiveClock
from marketdesk.config import load_settings
from marketdesk.desk import build_desk
from marketdesk.errors import NotFound, Rejected
from marketdesk.marketdata.barstore import BarStore
from marketdesk.portfolio.ledger import Kind, Transaction
from support.fakes import bar_frame

D = Decimal
FILES = {"market_data": ["files"]}  # no simulated market to build
ANN = "ann@example.com"
PASSWORD = "violet trombone harbour 42"  # noqa: S105 (a test password)
DAYS = [d.date() for d in pd.bdate_range("2024-01-02", "2024-03-28")]
CLOSES = 100.0 + 0.5 * np.arange(len(DAYS))  # 100, 100.5, 101, … a close a business day


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A data dir with AAPL's closes stored and Ann (the admin) holding "Long term": 10,000 deposited on
    2024-01-02, 10 AAPL bought at 100 with a 1 fee that day, a 5 dividend on 2024-02-01 and 4 AAPL sold at 150 on
    2024-03-01. Bob (a viewer) has no portfolio."""
    folder = tmp_path_factory.mktemp("md-portfolio")
    shutil.copy(sqlite_template, folder / "marketdesk.db")
    settings = load_settings(data_dir=folder, **FILES)
    BarStore(settings.bar_store_dir).write(bar_frame(DAYS, CLOSES).reset_index().assign(symbol="AAPL"))
    desk = build_desk(settings, LiveClock())

    async def fill() -> None:
        async with desk.db.session() as session:
            ann = await desk.accounts.create_user(session, ANN, PASSWORD, Role.ADMIN)  # the first user
            await desk.accounts.create_user(session, "bob@example.com", PASSWORD, Role.VIEWER)
        who = CurrentUser(ann.id, ann.email, ann.role, session_id="test")
        async with desk.db.session() as session:
            book = await desk.portfolios.create(session, who, "Long term")
            for transaction in (
                Transaction(date(2024, 1, 2), Kind.DEPOSIT, amount=D(10000)),
                Transaction(date(2024, 1, 2), Kind.BUY, "AAPL", qty=D(10), price=D(100), fee=D(1)),
                Transaction(date(2024, 2, 1), Kind.DIVIDEND, "AAPL", amount=D(5)),
                Transaction(date(2024, 3, 1), Kind.SELL, "AAPL", qty=D(4), price=D(150)),
            ):
                await desk.portfolios.add(session, who, book.id, transaction)
        await desk.db.dispose()

    asyncio.run(fill())
    return folder


def test_the_holdings_totals_and_returns_match_the_hand_computed_figures(data_dir: Path) -> None:
    book = md.portfolio("Long term", user=ANN, data_dir=data_dir, **FILES)
    last_close = D(repr(float(CLOSES[-1])))  # 142.5 on 2024-03-28
    assert (book.name, book.kind, book.as_of >= date(2024, 3, 28)) == ("Long term", "manual", True)

    # FIFO: 10 bought for 1,001 (fee included); 4 sold carry 400.40 of it, 6 held carry 600.60
    assert list(book.holdings.index) == ["AAPL"]
    aapl = book.holdings.loc["AAPL"]
    assert (aapl["qty"], aapl["cost_basis"], aapl["average_cost"]) == (D(6), D("600.6"), D("100.1"))
    assert (aapl["price"], aapl["price_date"]) == (last_close, date(2024, 3, 28))
    assert aapl["market_value"] == 6 * last_close  # 855
    assert aapl["unrealized_pnl"] == 6 * last_close - D("600.6")
    assert aapl["realized_pnl"] == D(600) - D("400.4")  # 199.60
    assert aapl["dividends"] == D(5)

    cash = D(10000) - D(1001) + D(5) + D(600)  # 9,604
    value = cash + 6 * last_close
    assert book.totals["cash"] == cash
    assert book.totals["total_value"] == value
    assert book.totals["dividend_income"] == D(5)
    assert book.totals["total_return"] == value - D(10000)
    assert aapl["weight"] == pytest.approx(float(6 * last_close / value))

    # one external flow, the first deposit: TWR is the value over it; XIRR its rate a year over the days held
    assert book.twr == pytest.approx(float(value) / 10000 - 1, rel=1e-9)
    held = (date(2024, 3, 29) - date(2024, 1, 2)).days  # to the close of the last day (the next day's start)
    assert book.xirr == pytest.approx((float(value) / 10000) ** (365 / held) - 1, rel=1e-9)
    assert book.twr_annualized is None
    assert any("not annualized" in note for note in book.notes)
    assert "Long term: 1 holdings" in repr(book)


def test_the_daily_series_has_a_row_per_valued_day_with_its_return(data_dir: Path) -> None:
    daily = md.portfolio(user=ANN, data_dir=data_dir, **FILES).daily  # Ann's only portfolio
    assert list(daily.columns) == ["value", "positions_value", "cash", "net_flow", "return", "growth_100"]
    assert len(daily) == len(DAYS)
    first = daily.iloc[0]
    # 2024-01-02: 10,000 in at the start of the day; 8,999 cash and 10 AAPL at 100 at its close
    assert (first["value"], first["net_flow"], first["cash"]) == (D(9999), D(10000), D(8999))
    assert first["return"] == pytest.approx(9999 / 10000 - 1, abs=1e-15)
    second = daily.iloc[1]
    assert second["value"] == D("8999") + 10 * D("100.5")
    assert second["return"] == pytest.approx(float(second["value"]) / 9999 - 1, rel=1e-12)
    assert daily["growth_100"].iloc[-1] == pytest.approx(100 * float(daily["value"].iloc[-1]) / 10000, rel=1e-9)


def test_a_range_bounds_the_returns_and_the_daily_series(data_dir: Path) -> None:
    book = md.portfolio("Long term", user=ANN, start="2024-02-01", end="2024-02-29", data_dir=data_dir, **FILES)
    assert (book.start, book.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert book.daily.index[0] == pd.Timestamp("2024-02-01")
    assert book.daily.index[-1] == pd.Timestamp("2024-02-29")
    # no flow inside February: the TWR is the value at its end over the value the day before it starts
    everything = md.portfolio("Long term", user=ANN, data_dir=data_dir, **FILES).daily["value"]
    before, after = everything.loc["2024-01-31"], everything.loc["2024-02-29"]
    assert book.twr == pytest.approx(float(after / before) - 1, rel=1e-9)
    assert book.daily["growth_100"].iloc[-1] == pytest.approx(100 * float(after / before), rel=1e-9)


def test_a_viewer_reads_but_has_no_portfolio_of_their_own(data_dir: Path) -> None:
    with pytest.raises(Rejected, match=r"bob@example\.com has 0 portfolios") as caught:
        md.portfolio(user="bob@example.com", data_dir=data_dir, **FILES)
    assert "Theirs: none yet" in caught.value.one_line()


def test_who_and_which_portfolio_must_be_clear(data_dir: Path) -> None:
    with pytest.raises(Rejected, match="the desk has 2 users: say whose portfolio") as many:
        md.portfolio("Long term", data_dir=data_dir, **FILES)
    assert 'user="you@example.com"' in many.value.one_line()
    with pytest.raises(NotFound, match=r"no user 'eve@example\.com'"):
        md.portfolio("Long term", user="eve@example.com", data_dir=data_dir, **FILES)
    with pytest.raises(NotFound, match="no portfolio 'Short term'") as missing:
        md.portfolio("Short term", user=ANN, data_dir=data_dir, **FILES)
    assert "Theirs: Long term" in missing.value.one_line()
    with pytest.raises(Rejected, match="start '1st of May' is not a date"):
        md.portfolio("Long term", user=ANN, start="1st of May", data_dir=data_dir, **FILES)
