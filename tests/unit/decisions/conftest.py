"""A small synthetic history for the point-in-time and backtest tests: eight companies and a benchmark over
three years of business days, annual reports with and without filing dates, a split, and vendor-style adjusted
closes (back-adjusted with dividends that come later)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from marketdesk.decisions.pointintime import History
from marketdesk.marketdata.barstore import UniverseArrays
from marketdesk.marketdata.port import AssetClass, CorporateAction, CorporateActionKind, Fundamentals, SymbolInfo
from marketdesk.screener.universe import PRICE_FIELDS, known_from

SECTORS = ("Energy", "Utilities", "Financials", "Health Care")
BENCHMARK = "BENCH"
POISON = 1e9


def _report(symbol: str, year: int, size: float, quality: float, filed: bool) -> Fundamentals:
    revenue = size * (1 + 0.05 * (year - 2013))
    net = revenue * quality
    period_end = date(year, 12, 31)
    return Fundamentals(
        symbol, period_end, "FY", reported=period_end + timedelta(days=60) if filed else None, source="test",
        revenue=revenue, gross_profit=revenue * 0.4, operating_income=net * 1.3, net_income=net, ebitda=net * 1.6,
        eps=net / 1e8, free_cash_flow=net * 0.9, total_assets=revenue * 2, total_liabilities=revenue,
        total_equity=revenue, total_debt=revenue * 0.5, cash=revenue * 0.2, current_assets=revenue * 0.6,
        current_liabilities=revenue * 0.4, interest_expense=net * 0.05, shares_outstanding=1e8,
        dividends_per_share=0.5,
    )  # fmt: skip


def synthetic_history(seed: int = 7, sessions: int = 780) -> History:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2013-01-01", periods=sessions).to_numpy().astype("datetime64[D]")
    symbols = [f"S{i}" for i in range(8)]
    columns = (*symbols, BENCHMARK)
    drift = np.linspace(-0.0006, 0.0012, len(columns))
    close = 40.0 * np.exp(np.cumsum(rng.normal(drift, 0.016, (sessions, len(columns))), axis=0))
    # a vendor back-adjusts from the day its file was made: early rows carry the later dividends
    adjusted = close * np.linspace(0.85, 1.0, sessions)[:, None]
    values = {
        "close": close,
        "adj_close": adjusted,
        "high": close * 1.01,
        "low": close * 0.99,
        "volume": np.full_like(close, 2e6),
    }
    prices = {name: UniverseArrays(days, columns, values[name], name) for name in PRICE_FIELDS}
    instruments = [
        SymbolInfo(s, f"{s} Inc", AssetClass.EQUITY, sector=SECTORS[i % len(SECTORS)]) for i, s in enumerate(symbols)
    ]
    fundamentals = [
        _report(s, year, 2e9 * (1 + i), 0.02 + 0.03 * i, filed=i % 2 == 0)
        for i, s in enumerate(symbols)
        for year in (2012, 2013, 2014, 2015)
    ]
    actions = [CorporateAction("S3", date(2014, 6, 2), CorporateActionKind.SPLIT, Decimal(2), "test")]
    return History.of(instruments, prices, fundamentals, actions, BENCHMARK)


def poisoned(history: History, as_of: date) -> History:
    """The same history with every price row after `as_of`, every fundamental that became known after it, and a
    split made after it replaced by absurd values."""
    after = history.dates > np.datetime64(as_of, "D")
    prices = {}
    for name, matrix in history.prices.items():
        values = matrix.values.copy()
        values[after] = POISON
        prices[name] = UniverseArrays(matrix.dates, matrix.symbols, values, name)
    fundamentals = [
        replace(r, eps=POISON, revenue=-POISON, net_income=-POISON, total_equity=-POISON, shares_outstanding=1.0)
        if known_from(r) > as_of
        else r
        for r in history.fundamentals
    ]
    actions = [
        *history.actions,
        CorporateAction("S1", as_of + timedelta(days=1), CorporateActionKind.SPLIT, Decimal(1000), "poison"),
    ]
    return History.of(history.instruments, prices, fundamentals, actions, history.benchmark_symbol)


@pytest.fixture(scope="module")
def history() -> History:
    return synthetic_history()


@pytest.fixture(scope="module")
def poison() -> Callable[[History, date], History]:
    return poisoned
