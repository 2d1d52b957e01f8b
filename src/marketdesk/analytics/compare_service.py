"""Comparing a user's portfolios with one another and with the benchmark, over any date range: the service the
analytics page, `GET /api/v1/analytics/compare` and the notebook call.

Each portfolio's daily returns come from its end-of-day snapshots (`PortfolioService.snapshots`): time-weighted,
flows at the start of the day (`marketdesk.portfolio.returns.daily_returns`). The benchmark is SPY when the bar
store has its adjusted closes over the range, else the desk's own benchmark symbol (the simulated market's fund,
or the screener's); a day the benchmark did not trade counts as 0% for it on a portfolio's chart. The figures
are `marketdesk.analytics.compare_measures.compare_returns`.

Every portfolio is read as the caller (`PortfolioService` scopes it): another user's portfolio answers 404
exactly like one that does not exist. Reading needs only a sign-in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.roles import CurrentUser
from marketdesk.analytics.compare_measures import Candidate, Comparison, compare_returns, in_range
from marketdesk.analytics.conventions import Conventions
from marketdesk.errors import MarketdeskError, Rejected
from marketdesk.marketdata.barstore import UniverseArrays
from marketdesk.portfolio.models import PortfolioSnapshot
from marketdesk.portfolio.returns import daily_returns
from marketdesk.portfolio.service import PortfolioService

if TYPE_CHECKING:
    from marketdesk.desk import Desk

AdjustedCloses = Callable[[Sequence[str], date, date], Awaitable[UniverseArrays]]
BenchmarkSymbol = Callable[[AsyncSession], Awaitable[str]]
BENCHMARK_CANDIDATES = ("SPY",)  # tried first; then the desk's own benchmark symbol
MAX_PORTFOLIOS = 10
LOOKBACK = timedelta(days=10)  # closes before the first day, so the first day has a return


@dataclass(frozen=True)
class Benchmark:
    """The benchmark's daily returns over a span, which symbol it is, and a note saying so (or why none)."""

    symbol: str | None
    returns: pd.Series | None
    note: str


def snapshot_returns(snapshots: Sequence[PortfolioSnapshot]) -> pd.Series:
    """Daily time-weighted returns from a portfolio's end-of-day snapshots (flows at the start of the day).

    >>> from decimal import Decimal as D
    >>> rows = [PortfolioSnapshot(day=date(2024, 1, d), value=D(v), net_flow=D(f))
    ...         for d, v, f in ((2, "100", "100"), (3, "110", "0"), (4, "99", "0"))]
    >>> snapshot_returns(rows).round(6).tolist()
    [0.0, 0.1, -0.1]
    """
    index = pd.DatetimeIndex(pd.to_datetime([s.day for s in snapshots]), name="date")
    values = np.array([float(s.value) for s in snapshots], dtype=float)
    flows = np.array([float(s.net_flow) for s in snapshots], dtype=float)
    return pd.Series(daily_returns(values, flows), index=index, name="return")


def returns_from_closes(days: np.ndarray, closes: np.ndarray) -> pd.Series:
    """Daily simple returns of a close series (the first day, and days without a close, are dropped)."""
    index = pd.DatetimeIndex(pd.to_datetime(days), name="date")
    prices = pd.Series(np.asarray(closes, dtype=float), index=index).dropna()
    return prices.pct_change().iloc[1:].rename("benchmark")


class ComparisonService:
    """Portfolios' daily returns, the benchmark's, and the comparison of them."""

    def __init__(
        self, portfolios: PortfolioService, closes: AdjustedCloses, desk_benchmark: BenchmarkSymbol | None = None
    ) -> None:
        self.portfolios = portfolios
        self.closes = closes
        self.desk_benchmark = desk_benchmark

    async def portfolio_returns(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str
    ) -> tuple[str, pd.Series]:
        """A portfolio's name and its daily returns (404 for another user's, like a missing one)."""
        view = await self.portfolios.get(session, user, portfolio_id)
        snapshots = await self.portfolios.snapshots(session, user, view.id)
        return view.name, snapshot_returns(snapshots)

    async def benchmark(self, session: AsyncSession, first: date, last: date) -> Benchmark:
        """SPY's daily returns from `first` to `last`, else the desk's benchmark symbol's; with a note on which."""
        candidates = list(BENCHMARK_CANDIDATES)
        if self.desk_benchmark is not None:
            try:
                desk_symbol = await self.desk_benchmark(session)
            except MarketdeskError:
                desk_symbol = ""
            if desk_symbol and desk_symbol not in candidates:
                candidates.append(desk_symbol)
        for symbol in candidates:
            arrays = await self.closes([symbol], first - LOOKBACK, last)
            if symbol not in arrays.symbols or not len(arrays.dates):
                continue
            closes = arrays.values[:, arrays.symbols.index(symbol)]
            if not np.isfinite(closes).any():
                continue
            returns = in_range(returns_from_closes(arrays.dates, closes), first, last)
            if returns.empty:
                continue
            note = f"Benchmark: {symbol} (adjusted closes)."
            if symbol != candidates[0]:
                note = f"No {candidates[0]} prices in this range; benchmark: the desk's {symbol} (adjusted closes)."
            return Benchmark(symbol, returns.rename(symbol), note)
        tried = " or ".join(candidates)
        return Benchmark(None, None, f"No benchmark: {tried} has no prices in this range.")

    async def compare(
        self, session: AsyncSession, user: CurrentUser, portfolio_ids: Sequence[str], *, start: date | None = None,
        end: date | None = None, benchmark: bool = True, conventions: Conventions | None = None,
    ) -> tuple[Comparison, Benchmark | None]:  # fmt: skip
        """Your portfolios (and the benchmark) side by side from `start` to `end`: TWR, volatility, Sharpe, max
        drawdown and equity curves."""
        wanted = [p.strip() for p in portfolio_ids]
        if not 1 <= len(wanted) <= MAX_PORTFOLIOS:
            raise Rejected(
                f"compare 1 to {MAX_PORTFOLIOS} portfolios, not {len(wanted)}",
                hint="Name each with portfolio_id=…; the benchmark comes with them.",
            )
        if len(set(wanted)) != len(wanted):
            twice = sorted({p for p in wanted if wanted.count(p) > 1})
            raise Rejected(f"portfolio {twice[0]!r} is named twice", hint="Name each portfolio once.")
        if start is not None and end is not None and start > end:
            raise Rejected(f"the range starts ({start}) after it ends ({end})", hint="Pick a start before the end.")
        candidates = []
        for portfolio_id in wanted:
            name, returns = await self.portfolio_returns(session, user, portfolio_id)
            candidates.append(Candidate(portfolio_id, name, "portfolio", returns))
        found: Benchmark | None = None
        if benchmark:
            span = _span(candidates, start, end)
            found = Benchmark(None, None, "No benchmark: no portfolio has a daily value in this range.")
            if span is not None:
                found = await self.benchmark(session, *span)
            if found.returns is not None and found.symbol is not None:
                candidates.append(Candidate(found.symbol, found.symbol, "benchmark", found.returns))
        comparison = compare_returns(candidates, start, end, conventions)
        if found is not None:
            comparison = Comparison(comparison.start, comparison.end, comparison.series, comparison.conventions,
                                    (*comparison.notes, found.note))  # fmt: skip
        return comparison, found


def comparison_for(desk: Desk) -> ComparisonService:
    """The comparison service over a running desk's portfolios, bar store and screener."""

    async def desk_benchmark(session: AsyncSession) -> str:
        return (await desk.screener.snapshot(session)).data.benchmark_symbol

    return ComparisonService(desk.portfolios, desk.decisions.closes, desk_benchmark)


def _span(candidates: Sequence[Candidate], start: date | None, end: date | None) -> tuple[date, date] | None:
    """The days the benchmark is measured over: from the first to the last day any portfolio has in the range
    (so it is not measured over years before the portfolios existed)."""
    chosen = [r for r in (in_range(c.returns, start, end) for c in candidates) if not r.empty]
    if not chosen:
        return None
    return min(r.index[0].date() for r in chosen), max(r.index[-1].date() for r in chosen)
