"""The screener's vocabulary: what goes into the engine and what comes out.

`UniverseData` is everything the engine needs, already point-in-time: the service builds it from the
bar store and the database so that nothing after `as_of` is in it (fundamentals count only once reported,
with a reporting lag where the report date is unknown). The engine never does I/O and never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np


class Verdict(StrEnum):
    STRONG_BUY = "Strong Buy"
    BUY = "Buy"
    HOLD = "Hold"
    AVOID = "Avoid"


VERDICT_RANK: dict[Verdict, int] = {Verdict.AVOID: 0, Verdict.HOLD: 1, Verdict.BUY: 2, Verdict.STRONG_BUY: 3}


class RegimeState(StrEnum):
    RISK_ON = "risk-on"
    NEUTRAL = "neutral"
    RISK_OFF = "risk-off"


@dataclass(frozen=True, slots=True)
class RegimeSignal:
    """One input to the regime: its value, its vote (+1 risk-on, 0, −1 risk-off) and a phrase for people."""

    name: str
    value: float | None
    vote: int
    text: str


@dataclass(frozen=True, slots=True)
class Regime:
    """The market's mood as a traffic light with a one-sentence reason."""

    state: RegimeState
    reason: str
    signals: tuple[RegimeSignal, ...]
    as_of: date


@dataclass(frozen=True)
class FundamentalArrays:
    """Per-symbol fundamentals known at `as_of`, each an array aligned with `UniverseData.symbols` (NaN = unknown).

    Flows (`*_ttm`) are trailing-twelve-month sums of the last four reported quarters (or the last annual
    report); `*_ttm_prev` are the same a year earlier. Stocks (balance-sheet items) are the latest reported.
    `eps_quarters` holds the last 8 quarterly EPS, oldest first (NaN where missing); `fcf_years` the
    trailing-year free cash flow for the last 3 years, oldest first.
    """

    revenue_ttm: np.ndarray
    revenue_ttm_prev: np.ndarray
    gross_profit_ttm: np.ndarray
    operating_income_ttm: np.ndarray
    net_income_ttm: np.ndarray
    ebitda_ttm: np.ndarray
    eps_ttm: np.ndarray
    eps_ttm_prev: np.ndarray
    free_cash_flow_ttm: np.ndarray
    interest_expense_ttm: np.ndarray
    dividends_per_share_ttm: np.ndarray
    total_assets: np.ndarray
    total_liabilities: np.ndarray
    total_equity: np.ndarray
    total_debt: np.ndarray
    cash: np.ndarray
    current_assets: np.ndarray
    current_liabilities: np.ndarray
    shares_outstanding: np.ndarray
    market_cap_snapshot: np.ndarray  # from vendor snapshots, used when shares are unknown
    eps_quarters: np.ndarray  # (n, 8)
    fcf_years: np.ndarray  # (n, 3)


@dataclass(frozen=True)
class UniverseData:
    """Everything the engine sees, for `n` symbols over `t` sessions ending at or before `as_of`.

    Price matrices are (t × n), NaN where a symbol has no bar. `close` is the as-traded close (for price,
    P/E and market cap); `adj_close`, `adj_high` and `adj_low` are adjusted for splits and dividends (for
    returns, averages, 52-week range and risk). `benchmark` is the benchmark's adjusted close (length t).
    """

    as_of: date
    symbols: tuple[str, ...]
    asset_class: np.ndarray  # str per symbol: "equity", "etf", "bond", "index"
    sector: np.ndarray  # object: str or None
    industry: np.ndarray  # object: str or None
    dates: np.ndarray  # datetime64[D], length t
    close: np.ndarray
    adj_close: np.ndarray
    adj_high: np.ndarray
    adj_low: np.ndarray
    volume: np.ndarray
    benchmark_symbol: str
    benchmark: np.ndarray
    fundamentals: FundamentalArrays
    # treasury curve, latest known (percent), e.g. {"2y": 4.1, "10y": 4.3}
    yields: dict[str, float] = field(default_factory=dict)
    # ETFs and bonds: per symbol, NaN where not applicable or unknown
    expense_ratio_pct: np.ndarray | None = None
    net_assets: np.ndarray | None = None
    top10_weight_pct: np.ndarray | None = None
    maturity_years: np.ndarray | None = None
    coupon_pct: np.ndarray | None = None
    credit_rating: np.ndarray | None = None  # object: "AAA", "BBB" … or None

    @property
    def size(self) -> int:
        return len(self.symbols)
