"""Portfolios side by side over one date range: each one's time-weighted return (TWR), its annualized TWR,
volatility, Sharpe ratio and maximum drawdown, with its equity curve (the growth of 100). Pure: daily returns in,
frozen dataclasses and CSV text out.

Each series is measured over its own days within the range: a portfolio opened after the range starts is
measured from its first day (its row says so), and none is filled in. The TWR is the daily returns chained,
`prod(1 + r) − 1`, so deposits and withdrawals (which the daily returns already leave out) do not move it; it is
annualized only over a year or more, as `marketdesk.portfolio.returns.annualized` does. Volatility, Sharpe and
the drawdown are `marketdesk.analytics.metrics` of the same returns, with the same conventions; a measure the
series cannot give (fewer than two returns, returns that never vary) is None with the reason.

>>> days = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])
>>> found = compare_returns([Candidate("a", "Growth", "portfolio", pd.Series([0.0, 0.1, -0.1], index=days))])
>>> round(found.series[0].twr, 6), round(found.series[0].max_drawdown, 6)
(-0.01, -0.1)
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from marketdesk.analytics.conventions import Conventions
from marketdesk.analytics.metrics import metrics
from marketdesk.errors import Rejected
from marketdesk.portfolio.returns import annualized

MEASURES = ("twr", "twr_annualized", "annual_volatility", "sharpe", "max_drawdown")
"""The figures of a compared series, in the order tables and the CSV show them."""
CSV_COLUMNS = ("series", "kind", "key", "start", "end", "observations", *MEASURES, "notes")
GROWTH_BASE = 100.0


@dataclass(frozen=True)
class Candidate:
    """One series to compare: a portfolio's (key: its id) or the benchmark's (key: its symbol) daily returns."""

    key: str
    name: str
    kind: str  # portfolio or benchmark
    returns: pd.Series  # simple daily returns indexed by date


@dataclass(frozen=True)
class ComparedSeries:
    """One row of the comparison. A figure that does not exist is None and `missing` says why."""

    key: str
    name: str
    kind: str
    start: date | None  # its first and last day within the range
    end: date | None
    observations: int
    twr: float | None
    twr_annualized: float | None
    annual_volatility: float | None
    sharpe: float | None
    max_drawdown: float | None
    missing: Mapping[str, str]
    growth: pd.Series  # the growth of 100, day by day (empty with no day in the range)

    def figure(self, measure: str) -> float | None:
        value: float | None = getattr(self, measure)
        return value


@dataclass(frozen=True)
class Comparison:
    """Several series over one requested range (None: open-ended), with the conventions they were measured by."""

    start: date | None
    end: date | None
    series: tuple[ComparedSeries, ...]
    conventions: Conventions
    notes: tuple[str, ...] = field(default_factory=tuple)

    def curves(self) -> pd.DataFrame:
        """The equity curves as one table: a column per series (by name), a row per day any of them has (NaN on
        a day a series has no value)."""
        if not self.series:
            return pd.DataFrame()
        frame = pd.concat({s.name: s.growth for s in self.series}, axis=1, sort=True)
        frame.index.name = "date"
        return frame


def in_range(series: pd.Series, start: date | None, end: date | None) -> pd.Series:
    """The part of a dated series from `start` to `end` (both included; None: open)."""
    mask = np.ones(len(series), dtype=bool)
    if start is not None:
        mask &= series.index >= pd.Timestamp(start)
    if end is not None:
        mask &= series.index <= pd.Timestamp(end)
    return series[mask]


def compare_returns(
    candidates: Sequence[Candidate],
    start: date | None = None,
    end: date | None = None,
    conventions: Conventions | None = None,
) -> Comparison:
    """Measure each candidate over its days from `start` to `end` (inclusive) and line them up."""
    if start is not None and end is not None and start > end:
        raise Rejected(f"the range starts ({start}) after it ends ({end})", hint="Pick a start before the end.")
    chosen = conventions or Conventions()
    rows = tuple(_measure(c, start, end, chosen) for c in candidates)
    notes = []
    portfolios = [r for r in rows if r.kind == "portfolio" and r.start is not None]
    if start is not None:
        late = [r.name for r in portfolios if r.start is not None and r.start > start]
        if late:
            notes.append(f"{', '.join(late)} start(s) after {start}: each is measured from its own first day")
    return Comparison(start, end, rows, chosen, tuple(notes))


def _measure(candidate: Candidate, start: date | None, end: date | None, conventions: Conventions) -> ComparedSeries:
    returns = in_range(candidate.returns.astype(float), start, end)
    empty = pd.Series(dtype=float, index=pd.DatetimeIndex([], name="date"))
    if returns.empty:
        span = f"from {start or 'the start'} to {end or 'the end'}"
        why = f"no daily values {span}"
        return ComparedSeries(
            candidate.key, candidate.name, candidate.kind, None, None, 0, None, None, None, None, None,
            dict.fromkeys(MEASURES, why), empty,
        )  # fmt: skip
    first, last = returns.index[0].date(), returns.index[-1].date()
    missing: dict[str, str] = {}
    twr = float(np.prod(1.0 + returns.to_numpy()) - 1.0)
    days = (last - first).days + 1
    twr_annual = annualized(twr, days)
    if twr_annual is None:
        missing["twr_annualized"] = f"not annualized over {days} days (less than a year)"
    figures: dict[str, float | None] = {"annual_volatility": None, "sharpe": None, "max_drawdown": None}
    try:
        measured = metrics(returns, None, conventions)
    except Rejected as exc:
        for key in figures:
            missing[key] = exc.one_line()
    else:
        for key in figures:
            figures[key] = measured[key]
            if measured[key] is None:
                missing[key] = measured["missing"].get(key, "undefined for this series")
    growth = (GROWTH_BASE * (1.0 + returns).cumprod()).rename(candidate.name)
    return ComparedSeries(
        candidate.key, candidate.name, candidate.kind, first, last, len(returns), twr, twr_annual,
        figures["annual_volatility"], figures["sharpe"], figures["max_drawdown"], missing, growth,
    )  # fmt: skip


def comparison_csv(comparison: Comparison) -> str:
    """The comparison as CSV: one row per series, numbers in full precision (`repr`), an empty cell where a figure
    does not exist (its reason in `notes`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in comparison.series:
        notes = "; ".join(f"{k}: {v}" for k, v in s.missing.items())
        writer.writerow([
            s.name, s.kind, s.key, _day(s.start), _day(s.end), s.observations,
            *(_number(s.figure(m)) for m in MEASURES), notes,
        ])  # fmt: skip
    return buffer.getvalue()


def curves_csv(comparison: Comparison) -> str:
    """The equity curves as CSV: `date` and the growth of 100 of each series (empty where it has no value)."""
    frame = comparison.curves()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", *frame.columns])
    for stamp, row in frame.iterrows():
        writer.writerow([f"{stamp:%Y-%m-%d}", *(_number(v) for v in row)])
    return buffer.getvalue()


def series_dict(s: ComparedSeries) -> dict[str, Any]:
    """A compared series as plain data (the curve as [date, value] pairs)."""
    return {
        "key": s.key, "name": s.name, "kind": s.kind, "start": s.start, "end": s.end, "observations": s.observations,
        **{m: s.figure(m) for m in MEASURES}, "missing": dict(s.missing),
        "growth": curve_points(s.growth),
    }  # fmt: skip


def curve_points(growth: pd.Series) -> list[tuple[date, float]]:
    """An equity curve as (day, value) pairs."""
    days = pd.DatetimeIndex(growth.index)
    return [(stamp.date(), float(value)) for stamp, value in zip(days, growth.to_numpy(), strict=True)]


def _day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _number(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return repr(number) if math.isfinite(number) else ""
