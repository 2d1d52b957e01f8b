"""Assemble `UniverseData` from what the desk stores, point-in-time.

Pure: callers pass instruments, price matrices and fundamentals in; `assemble_universe` keeps only what was
known on `as_of`. A fundamentals record counts from its `reported` date, or, when that is unknown, from its
period end plus a reporting lag (45 days for a quarter, 90 for a year: the SEC's 10-Q and 10-K deadlines
for large filers). `universe_from_sim` does the same from the simulated market in memory (tests, benchmarks).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from marketdesk.marketdata.barstore import UniverseArrays
from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, Fundamentals, SymbolInfo
from marketdesk.screener.model import FundamentalArrays, UniverseData

if TYPE_CHECKING:
    from marketdesk.marketdata.sim import SimMarketData

QUARTER_LAG = timedelta(days=45)
ANNUAL_LAG = timedelta(days=90)
HISTORY_SESSIONS = 300  # a year of sessions plus room for the 200-day average
PRICE_FIELDS = ("close", "adj_close", "high", "low", "volume")

_FLOWS = ("revenue", "gross_profit", "operating_income", "net_income", "ebitda", "eps", "free_cash_flow",
          "interest_expense", "dividends_per_share")  # fmt: skip
_STOCKS = ("total_assets", "total_liabilities", "total_equity", "total_debt", "cash", "current_assets",
           "current_liabilities", "shares_outstanding")  # fmt: skip


def known_from(record: Fundamentals) -> date:
    """The first day a record may be used."""
    if record.reported is not None:
        return record.reported
    if record.period == "Q":
        return record.period_end + QUARTER_LAG
    if record.period in {"FY", "TTM"}:
        return record.period_end + ANNUAL_LAG
    return record.period_end  # a dated snapshot is known on its date


@dataclass(frozen=True)
class _Trailing:
    now: dict[str, float]
    prev: dict[str, float]
    eps_quarters: list[float]
    fcf_years: list[float]


def _value(record: Fundamentals, name: str) -> float:
    value = getattr(record, name)
    return float("nan") if value is None else float(value)


def _trailing(records: Sequence[Fundamentals]) -> _Trailing:
    """TTM flows now and a year earlier, from quarters when four recent ones exist, else from annual reports."""
    quarters = sorted((r for r in records if r.period == "Q"), key=lambda r: r.period_end)
    annual = sorted((r for r in records if r.period in {"FY", "TTM"}), key=lambda r: r.period_end)
    now: dict[str, float] = {}
    prev: dict[str, float] = {}
    use_quarters = len(quarters) >= 4 and (quarters[-1].period_end - quarters[-4].period_end).days <= 300
    for name in _FLOWS:
        if use_quarters:
            now[name] = float(np.sum([_value(q, name) for q in quarters[-4:]]))
            older = quarters[-8:-4]
            prev[name] = float(np.sum([_value(q, name) for q in older])) if len(older) == 4 else float("nan")
        elif annual:
            now[name] = _value(annual[-1], name)
            prev[name] = _value(annual[-2], name) if len(annual) >= 2 else float("nan")
        else:
            now[name] = prev[name] = float("nan")
    eps_q = [_value(q, "eps") for q in quarters[-8:]]
    eps_quarters = [float("nan")] * (8 - len(eps_q)) + eps_q
    if use_quarters and len(quarters) >= 4:
        years = [quarters[max(0, end - 4) : end] for end in (len(quarters) - 8, len(quarters) - 4, len(quarters))]
        fcf = [float(np.sum([_value(q, "free_cash_flow") for q in y])) if len(y) == 4 else float("nan") for y in years]
    else:
        fcf = [_value(a, "free_cash_flow") for a in annual[-3:]]
        fcf = [float("nan")] * (3 - len(fcf)) + fcf
    return _Trailing(now, prev, eps_quarters, fcf)


def _latest(records: Sequence[Fundamentals], name: str) -> float:
    for record in sorted(records, key=lambda r: r.period_end, reverse=True):
        value = getattr(record, name)
        if value is not None:
            return float(value)
    return float("nan")


def split_adjusted(record: Fundamentals, splits: Sequence[tuple[date, float]], as_of: date) -> Fundamentals:
    """Restate a record's per-share figures on the share basis of `as_of`.

    A report reflects the splits made before it was published; a split after that (up to `as_of`)
    multiplies the share count and divides EPS and dividends per share by its ratio.
    """
    published = known_from(record)
    factor = 1.0
    for ex_date, ratio in splits:
        if published < ex_date <= as_of and ratio > 0:
            factor *= ratio
    if factor == 1.0:
        return record
    return replace(
        record,
        eps=None if record.eps is None else record.eps / factor,
        dividends_per_share=None if record.dividends_per_share is None else record.dividends_per_share / factor,
        shares_outstanding=None if record.shares_outstanding is None else record.shares_outstanding * factor,
    )


def fundamental_arrays(
    symbols: Sequence[str],
    records: Iterable[Fundamentals],
    as_of: date,
    splits: Mapping[str, Sequence[tuple[date, float]]] | None = None,
) -> FundamentalArrays:
    """Per-symbol trailing and latest figures known on `as_of`, aligned with `symbols`, per-share figures
    restated for splits made since each report (`splits[symbol]` = (ex_date, new shares per old))."""
    by_symbol: dict[str, list[Fundamentals]] = defaultdict(list)
    splits = splits or {}
    for record in records:
        if known_from(record) <= as_of:
            symbol_splits = splits.get(record.symbol)
            by_symbol[record.symbol].append(split_adjusted(record, symbol_splits, as_of) if symbol_splits else record)
    n = len(symbols)
    flows = {f"{name}_ttm": np.full(n, np.nan) for name in _FLOWS}
    prev = {f"{name}_ttm_prev": np.full(n, np.nan) for name in ("revenue", "eps")}
    stocks = {name: np.full(n, np.nan) for name in _STOCKS}
    snapshot_cap = np.full(n, np.nan)
    eps_quarters = np.full((n, 8), np.nan)
    fcf_years = np.full((n, 3), np.nan)
    for i, symbol in enumerate(symbols):
        records_i = by_symbol.get(symbol)
        if not records_i:
            continue
        trailing = _trailing(records_i)
        for name in _FLOWS:
            flows[f"{name}_ttm"][i] = trailing.now[name]
        prev["revenue_ttm_prev"][i] = trailing.prev["revenue"]
        prev["eps_ttm_prev"][i] = trailing.prev["eps"]
        for name in _STOCKS:
            stocks[name][i] = _latest(records_i, name)
        snapshots = [r for r in records_i if r.period == "snapshot"]
        snapshot_cap[i] = _latest(snapshots, "market_cap")
        if np.isnan(flows["eps_ttm"][i]):
            flows["eps_ttm"][i] = _latest(snapshots, "eps")
        if np.isnan(flows["ebitda_ttm"][i]):
            flows["ebitda_ttm"][i] = _latest(snapshots, "ebitda")
        eps_quarters[i] = trailing.eps_quarters
        fcf_years[i] = trailing.fcf_years
    return FundamentalArrays(
        **flows,
        **prev,
        **stocks,
        market_cap_snapshot=snapshot_cap,
        eps_quarters=eps_quarters,
        fcf_years=fcf_years,
    )


def _align(matrix: UniverseArrays, dates: np.ndarray, symbols: Sequence[str]) -> np.ndarray:
    """Reindex a store matrix onto `dates` × `symbols` (NaN where absent)."""
    out = np.full((len(dates), len(symbols)), np.nan)
    if matrix.values.size == 0:
        return out
    column_of = {s: j for j, s in enumerate(matrix.symbols)}
    take = [(k, column_of[s]) for k, s in enumerate(symbols) if s in column_of]
    rows = np.searchsorted(matrix.dates, dates)
    found = (rows < len(matrix.dates)) & (matrix.dates[np.minimum(rows, len(matrix.dates) - 1)] == dates)
    for k, j in take:
        out[found, k] = matrix.values[rows[found], j]
    return out


def assemble_universe(
    as_of: date,
    instruments: Sequence[SymbolInfo],
    prices: Mapping[str, UniverseArrays],
    fundamentals: Iterable[Fundamentals],
    *,
    benchmark_symbol: str,
    yields: Mapping[str, float] | None = None,
    actions: Iterable[CorporateAction] = (),
    sessions: int = HISTORY_SESSIONS,
) -> UniverseData:
    """Build `UniverseData` for `instruments` from store matrices (`prices[field]` for each of
    close, adj_close, high, low, volume) and fundamentals, keeping only what was known on `as_of`;
    `actions` supplies the splits that restate per-share figures."""
    missing = [f for f in PRICE_FIELDS if f not in prices]
    if missing:
        raise ValueError(f"price matrices missing: {missing}")
    all_dates = prices["adj_close"].dates
    all_dates = all_dates[all_dates <= np.datetime64(as_of, "D")][-sessions:]
    symbols = tuple(i.symbol for i in instruments)
    close = _align(prices["close"], all_dates, symbols)
    adj_close = _align(prices["adj_close"], all_dates, symbols)
    factor = np.divide(adj_close, close, out=np.full_like(close, np.nan), where=close > 0)
    bench = _align(prices["adj_close"], all_dates, [benchmark_symbol])[:, 0]
    return UniverseData(
        as_of=as_of,
        symbols=symbols,
        asset_class=np.array([i.asset_class.value for i in instruments], dtype=object),
        sector=np.array([i.sector for i in instruments], dtype=object),
        industry=np.array([i.industry for i in instruments], dtype=object),
        dates=all_dates,
        close=close,
        adj_close=adj_close,
        adj_high=_align(prices["high"], all_dates, symbols) * factor,
        adj_low=_align(prices["low"], all_dates, symbols) * factor,
        volume=_align(prices["volume"], all_dates, symbols),
        benchmark_symbol=benchmark_symbol,
        benchmark=bench,
        fundamentals=fundamental_arrays(symbols, fundamentals, as_of, splits_by_symbol(actions)),
        yields=dict(yields or {}),
        expense_ratio_pct=_per_symbol(instruments, "expense_ratio_pct"),
        net_assets=np.full(len(symbols), np.nan),
        top10_weight_pct=np.full(len(symbols), np.nan),
        maturity_years=_per_symbol(instruments, "maturity_years"),
        coupon_pct=_per_symbol(instruments, "coupon_pct"),
        credit_rating=np.array([i.credit_rating for i in instruments], dtype=object),
    )


def splits_by_symbol(actions: Iterable[CorporateAction]) -> dict[str, list[tuple[date, float]]]:
    """Split ratios per symbol, from corporate actions."""
    out: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for action in actions:
        if action.kind is CorporateActionKind.SPLIT:
            out[action.symbol].append((action.ex_date, float(action.value)))
    return dict(out)


def _per_symbol(instruments: Sequence[SymbolInfo], name: str) -> np.ndarray:
    return np.array([np.nan if getattr(i, name) is None else float(getattr(i, name)) for i in instruments])


def matrices_from_long(frame: pd.DataFrame) -> dict[str, UniverseArrays]:
    """Store-style matrices from a long bar frame (symbol, date, open, high, low, close, adj_close, volume)."""
    out: dict[str, UniverseArrays] = {}
    for name in PRICE_FIELDS:
        wide = frame.pivot(index="date", columns="symbol", values=name).sort_index()
        out[name] = UniverseArrays(
            dates=wide.index.to_numpy().astype("datetime64[D]"),
            symbols=tuple(wide.columns),
            values=wide.to_numpy(dtype=float),
            field=name,
        )
    return out


def universe_from_sim(sim: SimMarketData, as_of: date | None = None) -> UniverseData:
    """The simulated market as `UniverseData` (latest session by default), straight from memory."""
    history = sim.history_frame()
    day = as_of or sim.history_end()
    curve = sim.yields(day - timedelta(days=10), day)
    yields = {} if curve.empty else {str(k): float(v) for k, v in curve.iloc[-1].dropna().items()}
    return assemble_universe(
        day,
        sim.symbols(),
        matrices_from_long(history),
        sim.all_fundamentals(),
        benchmark_symbol=sim.benchmark,
        yields=yields,
        actions=sim.all_corporate_actions(),
    )
