"""Key statistics of one symbol, computed from its bars, fundamentals, corporate actions and quote.

Pure: no I/O and no clock; the caller passes everything in. Missing inputs give missing statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, Fundamentals, Quote

TRADING_DAYS_3M = 63


@dataclass(frozen=True, slots=True)
class KeyStats:
    """What the symbol page shows next to the chart."""

    last: float | None
    prev_close: float | None
    change_pct: float | None
    day_low: float | None  # of the last stored session
    day_high: float | None
    week52_high: float | None
    week52_low: float | None
    below_52w_high_pct: float | None
    avg_volume_3m: float | None
    market_cap: float | None
    pe: float | None
    eps_ttm: float | None
    dividend_yield_pct: float | None
    return_1y_pct: float | None
    volatility_1y_pct: float | None
    bars: int
    first_date: date | None
    last_date: date | None


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    return float(value) if math.isfinite(value) else None


def eps_ttm(fundamentals: list[Fundamentals], known_on: date) -> float | None:
    """Trailing-twelve-month EPS: the last four quarters known by `known_on`, else the last annual figure."""
    known = [f for f in fundamentals if (f.reported or f.period_end) <= known_on and f.eps is not None]
    quarters = sorted((f for f in known if f.period == "Q"), key=lambda f: f.period_end)[-4:]
    if len(quarters) == 4 and quarters[-1].period_end - quarters[0].period_end <= timedelta(days=300):
        return float(sum(q.eps for q in quarters if q.eps is not None))
    annual = sorted((f for f in known if f.period in {"FY", "TTM"}), key=lambda f: f.period_end)
    if annual and annual[-1].eps is not None:
        return float(annual[-1].eps)
    snapshots = sorted((f for f in known if f.period == "snapshot"), key=lambda f: f.period_end)
    return float(snapshots[-1].eps) if snapshots and snapshots[-1].eps is not None else None


def shares_outstanding(fundamentals: list[Fundamentals], known_on: date) -> float | None:
    """The latest share count known by `known_on`."""
    known = [f for f in fundamentals if (f.reported or f.period_end) <= known_on and f.shares_outstanding is not None]
    if not known:
        return None
    return max(known, key=lambda f: f.period_end).shares_outstanding


def key_statistics(
    bars: pd.DataFrame,
    fundamentals: list[Fundamentals],
    actions: list[CorporateAction],
    quote: Quote | None,
) -> KeyStats:
    """Compute the key statistics. `bars` is a bar frame (see port.BAR_COLUMNS), oldest first."""
    closes = bars["close"].to_numpy(dtype=float) if len(bars) else np.array([])
    adjusted = bars["adj_close"].to_numpy(dtype=float) if len(bars) else np.array([])
    last_date = bars.index[-1].date() if len(bars) else None
    last = float(quote.last) if quote is not None else (float(closes[-1]) if len(closes) else None)
    prev_close: float | None = None
    if quote is not None and quote.prev_close is not None:
        prev_close = float(quote.prev_close)
    elif quote is not None and len(closes):
        prev_close = float(closes[-1])  # the live quote trades on from the last stored close
    elif len(closes) >= 2:
        prev_close = float(closes[-2])
    change_pct = (last / prev_close - 1) * 100 if last is not None and prev_close else None

    year = bars.iloc[-252:] if len(bars) else bars
    week52_high = float(year["high"].max()) if len(year) else None
    week52_low = float(year["low"].min()) if len(year) else None
    if last is not None and week52_high is not None:
        week52_high = max(week52_high, last)
        week52_low = min(week52_low, last) if week52_low is not None else last
    below = (1 - last / week52_high) * 100 if last is not None and week52_high else None

    volume = bars["volume"].to_numpy(dtype=float)[-TRADING_DAYS_3M:] if len(bars) else np.array([])
    avg_volume = float(np.nanmean(volume)) if len(volume) and np.isfinite(volume).any() else None

    as_of = last_date or date.min
    shares = shares_outstanding(fundamentals, as_of)
    snapshot_caps = [f for f in fundamentals if f.market_cap is not None and (f.reported or f.period_end) <= as_of]
    if shares is not None and last is not None:
        market_cap: float | None = shares * last
    elif snapshot_caps:
        market_cap = max(snapshot_caps, key=lambda f: f.period_end).market_cap
    else:
        market_cap = None
    eps = eps_ttm(fundamentals, as_of)
    pe = last / eps if last is not None and eps is not None and eps > 0 else None

    dividend_total = sum(
        (a.value for a in actions if a.kind is CorporateActionKind.DIVIDEND and last_date is not None
         and a.ex_date > last_date - timedelta(days=365)),
        Decimal(0),
    )  # fmt: skip
    dividend_yield = float(dividend_total) / last * 100 if last and dividend_total > 0 else None
    if dividend_yield is None and last:
        ttm_dps = [
            f for f in fundamentals if f.dividends_per_share is not None and (f.reported or f.period_end) <= as_of
        ]
        quarters = sorted((f for f in ttm_dps if f.period == "Q"), key=lambda f: f.period_end)[-4:]
        if len(quarters) == 4:
            dividend_yield = sum(q.dividends_per_share or 0.0 for q in quarters) / last * 100 or None

    return_1y = None
    volatility = None
    if len(adjusted) >= 2:
        window = adjusted[-253:]
        return_1y = (window[-1] / window[0] - 1) * 100
        daily = np.diff(np.log(window))
        volatility = float(np.std(daily, ddof=1) * math.sqrt(252) * 100) if len(daily) > 1 else None

    day_low = float(bars["low"].iloc[-1]) if len(bars) else None
    day_high = float(bars["high"].iloc[-1]) if len(bars) else None

    return KeyStats(
        last=_finite(last),
        prev_close=_finite(prev_close),
        change_pct=_finite(change_pct),
        day_low=_finite(day_low),
        day_high=_finite(day_high),
        week52_high=_finite(week52_high),
        week52_low=_finite(week52_low),
        below_52w_high_pct=_finite(below),
        avg_volume_3m=_finite(avg_volume),
        market_cap=_finite(market_cap),
        pe=_finite(pe),
        eps_ttm=_finite(eps),
        dividend_yield_pct=_finite(dividend_yield),
        return_1y_pct=_finite(return_1y),
        volatility_1y_pct=_finite(volatility),
        bars=len(bars),
        first_date=bars.index[0].date() if len(bars) else None,
        last_date=last_date,
    )
