"""Quarterly fundamentals consistent with price, point-in-time; earnings whose surprises move the price."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from marketdesk.clock import SimClock
from marketdesk.errors import Rejected, UnknownSymbol
from marketdesk.marketdata.port import AssetClass, CorporateActionKind, EarningsEvent, Fundamentals
from marketdesk.marketdata.sim import SIM_BENCHMARK, SimMarketData

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def sim() -> SimMarketData:
    """A mid-sized market: big enough for the rare balance sheets screens look for."""
    return SimMarketData(SimClock(NOW), seed=42, n_symbols=200, history_years=5)


@pytest.fixture(scope="module")
def records(sim: SimMarketData) -> list[Fundamentals]:
    return sim.all_fundamentals()


@pytest.fixture(scope="module")
def frame(records: list[Fundamentals]) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in records])


@pytest.fixture(scope="module")
def trailing(frame: pd.DataFrame) -> pd.DataFrame:
    """Trailing twelve months of each company as of the clock's date."""
    last_four = frame.sort_values("period_end").groupby("symbol").tail(4)
    return last_four.groupby("symbol").agg(
        net_income=("net_income", "sum"),
        free_cash_flow=("free_cash_flow", "sum"),
        revenue=("revenue", "sum"),
        market_cap=("market_cap", "last"),
        equity=("total_equity", "last"),
        debt=("total_debt", "last"),
    )


def test_every_equity_reports_each_quarter_and_nothing_else_does(sim: SimMarketData, frame: pd.DataFrame) -> None:
    equities = {i.symbol for i in sim.symbols() if i.asset_class is AssetClass.EQUITY}
    assert set(frame["symbol"]) == equities
    per_company = frame.groupby("symbol").size()
    assert per_company.min() >= 23 and per_company.max() <= 25, "five years of quarters, and the year before"
    assert sim.fundamentals(SIM_BENCHMARK) == [] and sim.fundamentals("UST10Y") == []
    with pytest.raises(UnknownSymbol):
        sim.fundamentals("NOPE")


def test_records_are_point_in_time(frame: pd.DataFrame) -> None:
    assert (frame["period"] == "Q").all() and (frame["source"] == "sim").all()
    lag = (pd.to_datetime(frame["reported"]) - pd.to_datetime(frame["period_end"])).dt.days
    assert lag.min() >= 14 and lag.max() <= 50, "reported a few weeks after the period end"
    assert (frame["reported"] <= TODAY).all(), "nothing reported after the clock's date"
    assert pd.to_datetime(frame["period_end"]).dt.is_month_end.all()


def test_the_clock_reveals_quarters_as_they_are_reported() -> None:
    clock = SimClock(NOW)
    sim = SimMarketData(clock, seed=42, n_symbols=20, history_years=2)
    symbol = sim.symbols()[0].symbol
    before = sim.fundamentals(symbol)
    clock.set(datetime(2027, 3, 15, 15, tzinfo=UTC))
    after = sim.fundamentals(symbol)
    assert len(after) == len(before) + 1
    assert after[: len(before)] == before
    assert after[-1].period_end == date(2026, 12, 31)


def test_market_cap_is_price_times_shares_at_the_period_end(sim: SimMarketData, records: list[Fundamentals]) -> None:
    by_symbol: dict[str, list[Fundamentals]] = defaultdict(list)
    for record in records:
        by_symbol[record.symbol].append(record)
    for symbol in list(by_symbol)[::50]:
        bars = sim.bars(symbol, date(2000, 1, 1), TODAY)
        for record in by_symbol[symbol]:
            assert record.price is not None and record.shares_outstanding is not None
            assert record.market_cap == pytest.approx(record.price * record.shares_outstanding, rel=1e-9)
            if record.period_end < bars.index[0].date():
                continue
            close = bars["close"].loc[: pd.Timestamp(record.period_end)].iloc[-1]
            assert record.price == pytest.approx(close, abs=0.011), (symbol, record.period_end)


def test_statements_add_up(frame: pd.DataFrame) -> None:
    assert np.allclose(frame["total_assets"], frame["total_liabilities"] + frame["total_equity"], atol=2)
    assert np.allclose(frame["free_cash_flow"], frame["operating_cash_flow"] - frame["capex"], atol=2)
    assert np.allclose(frame["eps"], frame["net_income"] / frame["shares_outstanding"], atol=0.006)
    assert (frame["gross_profit"] <= frame["revenue"]).all() and (frame["revenue"] > 0).all()
    assert (frame["ebitda"] >= frame["operating_income"]).all()
    assert (frame["cash"] < frame["total_assets"]).all() and (frame["current_assets"] <= frame["total_assets"]).all()
    assert (frame["total_debt"] >= 0).all() and (frame["interest_expense"] >= 0).all()


def test_valuations_fall_in_plausible_ranges(trailing: pd.DataFrame) -> None:
    earners = trailing[trailing["net_income"] > 0]
    pe = earners["market_cap"] / earners["net_income"]
    assert 12 < pe.median() < 35, pe.describe()
    book = trailing[trailing["equity"] > 0]
    pb = book["market_cap"] / book["equity"]
    assert 1.5 < pb.median() < 6
    fcf_yield = trailing["free_cash_flow"] / trailing["market_cap"]
    assert 0.0 < fcf_yield.median() < 0.08
    ps = trailing["market_cap"] / trailing["revenue"]
    assert 1 < ps.median() < 6
    assert trailing["market_cap"].median() > 5e9


def test_screens_have_something_to_catch(trailing: pd.DataFrame) -> None:
    names = len(trailing)
    assert 0.02 * names < (trailing["net_income"] < 0).sum() < 0.2 * names, "some lose money"
    assert 0.03 * names < (trailing["free_cash_flow"] < 0).sum() < 0.3 * names, "some burn cash"
    assert 1 <= (trailing["equity"] < 0).sum() < 0.06 * names, "a few have negative equity"
    levered = (trailing["equity"] > 0) & (trailing["debt"] > 2.5 * trailing["equity"])
    assert levered.sum() >= 5, "some carry heavy debt"


def test_dividends_per_share_match_the_dividends_paid(sim: SimMarketData, frame: pd.DataFrame) -> None:
    payer = frame.loc[frame["dividends_per_share"] > 0, "symbol"].iloc[0]
    paid = sim.corporate_actions(payer, date(2025, 1, 1), date(2025, 12, 31))
    cash = sum(float(a.value) for a in paid if a.kind is CorporateActionKind.DIVIDEND)
    mine = frame[(frame["symbol"] == payer) & (pd.to_datetime(frame["period_end"]).dt.year == 2025)]
    assert mine["dividends_per_share"].sum() == pytest.approx(cash, abs=0.005)


def test_fundamentals_are_deterministic() -> None:
    first = SimMarketData(SimClock(NOW), seed=9, n_symbols=30, history_years=2).all_fundamentals()
    again = SimMarketData(SimClock(NOW), seed=9, n_symbols=30, history_years=2).all_fundamentals()
    other = SimMarketData(SimClock(NOW), seed=10, n_symbols=30, history_years=2).all_fundamentals()
    assert first == again
    assert [r.revenue for r in first] != [r.revenue for r in other]


# ---- earnings ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def events(sim: SimMarketData) -> list[EarningsEvent]:
    return sim.all_earnings()


def test_reported_earnings_carry_estimate_actual_and_surprise(events: list[EarningsEvent], frame: pd.DataFrame) -> None:
    reported = [e for e in events if e.eps_actual is not None]
    assert len(reported) > 200 * 19
    assert all(e.eps_estimate is not None and e.time_of_day == "bmo" for e in reported)
    with_surprise = [e for e in reported if e.surprise_pct is not None]
    for event in with_surprise[::97]:
        assert event.eps_estimate is not None and event.eps_actual is not None
        expected = (event.eps_actual - event.eps_estimate) / abs(event.eps_estimate) * 100
        assert event.surprise_pct == pytest.approx(expected, abs=0.01)
    beats = sum(1 for e in with_surprise if e.surprise_pct is not None and e.surprise_pct > 0)
    misses = sum(1 for e in with_surprise if e.surprise_pct is not None and e.surprise_pct < 0)
    assert 0.55 < beats / (beats + misses) < 0.85, "companies beat more often than they miss"
    reports = set(zip(frame["symbol"], frame["reported"], frame["eps"], strict=True))
    sample = [(e.symbol, e.report_date, e.eps_actual) for e in reported[::53]]
    assert all(key in reports for key in sample), "the report date is the fundamentals' reported date"


def test_each_company_has_one_scheduled_report_after_the_clock(events: list[EarningsEvent]) -> None:
    scheduled = [e for e in events if e.eps_actual is None]
    assert len(scheduled) == 200
    assert len({e.symbol for e in scheduled}) == 200
    assert all(TODAY < e.report_date <= date(2027, 3, 1) for e in scheduled)
    assert all(e.eps_estimate is not None and e.surprise_pct is None for e in scheduled)
    assert all(e.report_date > TODAY for e in scheduled)


def test_surprises_move_the_price_on_the_report_day(sim: SimMarketData, events: list[EarningsEvent]) -> None:
    history = sim.history_frame()
    history["return"] = np.log(history["adj_close"]).groupby(history["symbol"], observed=True).diff()
    returns = history.set_index(["symbol", "date"])["return"]
    reported = pd.DataFrame(
        [(e.symbol, pd.Timestamp(e.report_date), e.surprise_pct) for e in events if e.surprise_pct is not None],
        columns=["symbol", "date", "surprise_pct"],
    )
    joined = reported.join(returns, on=["symbol", "date"], how="inner").dropna()
    assert len(joined) > 3_500
    correlation = np.corrcoef(joined["surprise_pct"].clip(-50, 50), joined["return"])[0, 1]
    assert correlation > 0.25, correlation
    assert joined["return"].abs().mean() > 1.5 * history["return"].abs().mean()


def test_earnings_are_filtered_by_date_and_checked(sim: SimMarketData) -> None:
    symbol = sim.symbols()[0].symbol
    year = sim.earnings(symbol, date(2025, 1, 1), date(2025, 12, 31))
    assert len(year) == 4 and all(date(2025, 1, 1) <= e.report_date <= date(2025, 12, 31) for e in year)
    assert sim.earnings(SIM_BENCHMARK, date(2025, 1, 1), date(2025, 12, 31)) == []
    with pytest.raises(Rejected):
        sim.earnings(symbol, date(2025, 12, 31), date(2025, 1, 1))
