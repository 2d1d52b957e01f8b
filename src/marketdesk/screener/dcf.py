"""Two-stage free-cash-flow DCF: intrinsic value per share, margin of safety and a sensitivity grid.

The model, for a company with trailing free cash flow F₀ (> 0):

- discount rate r = risk-free rate + beta × equity risk premium (beta unknown → 1.0, the market's);
- stage 1: F_t = F₀ (1 + g)^t for t = 1 … N, where g is `stage1_growth` when set, else the company's revenue
  growth clipped to [0, 15 %] (the terminal growth when revenue growth is unknown);
- terminal value at N: TV = F_N (1 + g_T) / (r − g_T) (Gordon growth), so r must exceed g_T;
- enterprise value EV = Σ F_t / (1 + r)^t + TV / (1 + r)^N;
- equity value = EV − total debt + cash (unknown debt or cash counts as 0, and the result says so);
- intrinsic value per share = equity value / shares outstanding;
- margin of safety = (intrinsic value − price) / intrinsic value (a fraction: 0.25 means the price is 25 %
  below the value; negative means the price is above it).

Where the model cannot be applied it refuses with a reason a person can read (`DcfRefused`), rather than
raising, so a screen can show the reason on the row. Everything is pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from marketdesk.errors import Rejected
from marketdesk.screener.metrics import EQUITY
from marketdesk.screener.model import UniverseData

DEFAULT_BETA = 1.0
_SENSITIVITY_STEPS = (-0.01, -0.005, 0.0, 0.005, 0.01)


class DcfRefusal(StrEnum):
    """Why a DCF was not computed."""

    NOT_A_STOCK = "not-a-stock"
    FCF_MISSING = "fcf-missing"
    FCF_NOT_POSITIVE = "fcf-not-positive"
    SHARES_MISSING = "shares-missing"
    RATE_NOT_ABOVE_GROWTH = "rate-not-above-growth"
    EQUITY_NOT_POSITIVE = "equity-not-positive"


@dataclass(frozen=True, slots=True)
class DcfSettings:
    """The DCF's assumptions; every rate is a fraction (0.04 = 4 %).

    `stage1_growth` None derives stage-1 growth from each company's revenue growth, clipped to
    [`min_growth`, `max_growth`]. The sensitivity grid moves the discount rate and the terminal growth by
    each of the `*_steps`.
    """

    risk_free_rate: float = 0.04
    equity_risk_premium: float = 0.055
    terminal_growth: float = 0.025
    stage1_years: int = 5
    stage1_growth: float | None = None
    min_growth: float = 0.0
    max_growth: float = 0.15
    rate_steps: tuple[float, ...] = _SENSITIVITY_STEPS
    growth_steps: tuple[float, ...] = _SENSITIVITY_STEPS

    def __post_init__(self) -> None:
        _check_range("risk_free_rate", self.risk_free_rate, -0.05, 0.25)
        _check_range("equity_risk_premium", self.equity_risk_premium, 0.0, 0.25)
        _check_range("terminal_growth", self.terminal_growth, -0.05, 0.10)
        _check_range("stage1_years", self.stage1_years, 1, 30)
        if int(self.stage1_years) != self.stage1_years:
            raise Rejected(f"stage1_years must be a whole number of years, got {self.stage1_years}")
        if self.stage1_growth is not None:
            _check_range("stage1_growth", self.stage1_growth, -0.5, 1.0)
        _check_range("min_growth", self.min_growth, -0.5, 1.0)
        _check_range("max_growth", self.max_growth, self.min_growth, 1.0)
        for name in ("rate_steps", "growth_steps"):
            steps = getattr(self, name)
            if not steps or not all(np.isfinite(s) and abs(s) <= 0.1 for s in steps):
                raise Rejected(f"{name} must be a non-empty list of steps between −0.1 and 0.1, got {steps!r}")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, int | float) and np.isfinite(value) and low <= value <= high):
        raise Rejected(f"{name} must be between {low:g} and {high:g}, got {value!r}")


@dataclass(frozen=True, slots=True)
class DcfGrid:
    """Intrinsic value per share for each discount rate (rows) × terminal growth (columns); NaN where r ≤ g."""

    discount_rates: tuple[float, ...]
    terminal_growths: tuple[float, ...]
    values: tuple[tuple[float, ...], ...]

    def to_frame(self) -> pd.DataFrame:
        """The grid as a DataFrame: index `discount_rate`, columns `terminal_growth`."""
        return pd.DataFrame(
            list(self.values),
            index=pd.Index(self.discount_rates, name="discount_rate"),
            columns=pd.Index(self.terminal_growths, name="terminal_growth"),
        )


@dataclass(frozen=True, slots=True)
class DcfResult:
    """A computed DCF. Money is USD (totals) or USD per share; rates are fractions."""

    intrinsic_value: float  # per share
    margin_of_safety: float | None  # (value − price) / value; None when the price is unknown
    price: float | None
    discount_rate: float
    stage1_growth: float
    terminal_growth: float
    base_free_cash_flow: float
    projected_free_cash_flows: tuple[float, ...]  # years 1 … N
    terminal_value: float  # at year N, undiscounted
    enterprise_value: float
    equity_value: float
    sensitivity: DcfGrid
    assumptions: tuple[str, ...] = field(default=())  # what was assumed for missing inputs, in words


@dataclass(frozen=True, slots=True)
class DcfRefused:
    """A DCF the model will not compute, with the reason in words and as a code."""

    code: DcfRefusal
    reason: str


def _growth(revenue_growth: float | None, settings: DcfSettings) -> tuple[float, str | None]:
    if settings.stage1_growth is not None:
        return settings.stage1_growth, None
    if revenue_growth is None or not np.isfinite(revenue_growth):
        fallback = float(np.clip(settings.terminal_growth, settings.min_growth, settings.max_growth))
        return fallback, f"revenue growth unknown: stage-1 growth taken as {fallback:.1%}"
    return float(np.clip(revenue_growth, settings.min_growth, settings.max_growth)), None


def _per_share(
    fcf: np.ndarray, rate: np.ndarray, growth: np.ndarray, terminal: np.ndarray, net_debt: np.ndarray,
    shares: np.ndarray, years: int,
) -> np.ndarray:  # fmt: skip
    """Vectorized two-stage value per share (broadcasting); NaN where r ≤ g_T."""
    t = np.arange(1, years + 1, dtype=np.float64)
    shape = np.broadcast_shapes(fcf.shape, rate.shape, growth.shape, terminal.shape)
    expand = (..., None)
    with np.errstate(all="ignore"):
        flows = fcf[expand] * (1.0 + growth[expand]) ** t
        discount = (1.0 + rate[expand]) ** t
        stage1 = (flows / discount).sum(axis=-1)
        last_flow = fcf * (1.0 + growth) ** years
        terminal_value = last_flow * (1.0 + terminal) / (rate - terminal)
        value = (stage1 + terminal_value / (1.0 + rate) ** years - net_debt) / shares
    return np.where(np.broadcast_to(rate > terminal, shape), value, np.nan)


def dcf(
    *,
    free_cash_flow: float | None,
    shares_outstanding: float | None,
    price: float | None = None,
    total_debt: float | None = None,
    cash: float | None = None,
    beta: float | None = None,
    revenue_growth: float | None = None,
    settings: DcfSettings | None = None,
) -> DcfResult | DcfRefused:
    """Value one company with the two-stage free-cash-flow model (see the module docstring).

    Returns a `DcfResult`, or a `DcfRefused` when the free cash flow or shares are missing, the free cash
    flow is not positive, the discount rate does not exceed the terminal growth, or net debt exceeds the
    value of the cash flows.

    >>> result = dcf(free_cash_flow=100.0, shares_outstanding=10.0, beta=1.0)
    >>> round(result.discount_rate, 3)
    0.095
    """
    s = settings or DcfSettings()
    fcf = _number(free_cash_flow)
    shares = _number(shares_outstanding)
    if fcf is None:
        return DcfRefused(DcfRefusal.FCF_MISSING, "free cash flow is unknown, so there is nothing to project")
    if fcf <= 0:
        return DcfRefused(
            DcfRefusal.FCF_NOT_POSITIVE,
            f"free cash flow is {'negative' if fcf < 0 else 'zero'} ({_money(fcf)}); a DCF needs positive cash flow",
        )
    if shares is None or shares <= 0:
        return DcfRefused(DcfRefusal.SHARES_MISSING, "shares outstanding are unknown, so there is no per-share value")
    assumptions: list[str] = []
    beta_value = _number(beta)
    if beta_value is None:
        beta_value = DEFAULT_BETA
        assumptions.append("beta unknown: taken as 1.0 (the market's)")
    rate = s.risk_free_rate + beta_value * s.equity_risk_premium
    if rate <= s.terminal_growth:
        return DcfRefused(
            DcfRefusal.RATE_NOT_ABOVE_GROWTH,
            f"the discount rate {rate:.1%} (beta {beta_value:.2f}) does not exceed terminal growth "
            f"{s.terminal_growth:.1%}, so the terminal value is unbounded",
        )
    growth, note = _growth(revenue_growth, s)
    if note:
        assumptions.append(note)
    debt, cash_value = _number(total_debt), _number(cash)
    if debt is None:
        assumptions.append("total debt unknown: taken as 0")
    if cash_value is None:
        assumptions.append("cash unknown: taken as 0")
    net_debt = (debt or 0.0) - (cash_value or 0.0)
    years = int(s.stage1_years)
    flows = tuple(fcf * (1.0 + growth) ** k for k in range(1, years + 1))
    terminal_value = flows[-1] * (1.0 + s.terminal_growth) / (rate - s.terminal_growth)
    enterprise = (
        sum(f / (1.0 + rate) ** k for k, f in enumerate(flows, start=1)) + terminal_value / (1.0 + rate) ** years
    )
    equity = enterprise - net_debt
    if equity <= 0:
        return DcfRefused(
            DcfRefusal.EQUITY_NOT_POSITIVE,
            f"net debt ({_money(net_debt)}) exceeds the value of the cash flows ({_money(enterprise)})",
        )
    value = equity / shares
    price_value = _number(price)
    margin = None if price_value is None or price_value <= 0 else (value - price_value) / value
    rates = tuple(rate + step for step in s.rate_steps)
    growths = tuple(s.terminal_growth + step for step in s.growth_steps)
    grid = _per_share(
        np.array(fcf), np.array(rates)[:, None], np.array(growth), np.array(growths)[None, :],
        np.array(net_debt), np.array(shares), years,
    )  # fmt: skip
    return DcfResult(
        intrinsic_value=value,
        margin_of_safety=margin,
        price=price_value if price_value is not None and price_value > 0 else None,
        discount_rate=rate,
        stage1_growth=growth,
        terminal_growth=s.terminal_growth,
        base_free_cash_flow=fcf,
        projected_free_cash_flows=flows,
        terminal_value=terminal_value,
        enterprise_value=enterprise,
        equity_value=equity,
        sensitivity=DcfGrid(rates, growths, tuple(tuple(float(v) for v in row) for row in grid)),
        assumptions=tuple(assumptions),
    )


def dcf_for_symbol(
    data: UniverseData, metrics: pd.DataFrame, symbol: str, settings: DcfSettings | None = None
) -> DcfResult | DcfRefused:
    """Run `dcf` for one symbol of the universe, taking its inputs from `data` and `compute_metrics(data)`."""
    try:
        i = data.symbols.index(symbol)
    except ValueError:
        raise Rejected(f"{symbol!r} is not in this universe") from None
    if str(data.asset_class[i]) != EQUITY:
        return DcfRefused(DcfRefusal.NOT_A_STOCK, f"{symbol} is {_article(str(data.asset_class[i]))}, not a stock")
    f = data.fundamentals
    price, beta, revenue_growth = metrics.reindex([symbol])[["price", "beta", "revenue_growth"]].to_numpy(float)[0]
    return dcf(
        free_cash_flow=float(f.free_cash_flow_ttm[i]),
        shares_outstanding=float(f.shares_outstanding[i]),
        price=float(price),
        total_debt=float(f.total_debt[i]),
        cash=float(f.cash[i]),
        beta=float(beta),
        revenue_growth=float(revenue_growth),
        settings=settings,
    )


def dcf_table(data: UniverseData, metrics: pd.DataFrame, settings: DcfSettings | None = None) -> pd.DataFrame:
    """The DCF for every symbol at once: columns `intrinsic_value`, `margin_of_safety`, `discount_rate`
    (floats, NaN where refused) and `refusal` (a `DcfRefusal` value, or None where computed), indexed by symbol.

    Same model and results as `dcf`, vectorized over the universe.
    """
    s = settings or DcfSettings()
    f = data.fundamentals
    frame = metrics.reindex(list(data.symbols))
    fcf = _floats(f.free_cash_flow_ttm)
    shares = _floats(f.shares_outstanding)
    price = _floats(frame["price"].to_numpy())
    beta_values = _floats(frame["beta"].to_numpy())
    rate = s.risk_free_rate + np.where(np.isnan(beta_values), DEFAULT_BETA, beta_values) * s.equity_risk_premium
    if s.stage1_growth is not None:
        growth = np.full(data.size, s.stage1_growth)
    else:
        revenue = _floats(frame["revenue_growth"].to_numpy())
        fallback = float(np.clip(s.terminal_growth, s.min_growth, s.max_growth))
        growth = np.where(np.isnan(revenue), fallback, np.clip(revenue, s.min_growth, s.max_growth))
    net_debt = np.nan_to_num(_floats(f.total_debt)) - np.nan_to_num(_floats(f.cash))
    terminal = np.full(data.size, s.terminal_growth)
    value = _per_share(fcf, rate, growth, terminal, net_debt, shares, int(s.stage1_years))
    stock = np.array([str(a) == EQUITY for a in data.asset_class], dtype=bool)
    checks = [  # in the order `dcf` checks them, so both give the same reason
        (~stock, DcfRefusal.NOT_A_STOCK),
        (np.isnan(fcf), DcfRefusal.FCF_MISSING),
        (~(fcf > 0), DcfRefusal.FCF_NOT_POSITIVE),
        (~(shares > 0), DcfRefusal.SHARES_MISSING),
        (~(rate > s.terminal_growth), DcfRefusal.RATE_NOT_ABOVE_GROWTH),
        (~(value > 0), DcfRefusal.EQUITY_NOT_POSITIVE),
    ]
    refusal = np.full(data.size, None, dtype=object)
    for failed, code in reversed(checks):  # the first failing check wins
        refusal[failed] = code.value
    computed = np.array([r is None for r in refusal.tolist()], dtype=bool)
    value = np.where(computed, value, np.nan)
    with np.errstate(all="ignore"):
        margin = np.where(computed & (price > 0), (value - price) / value, np.nan)
    index = pd.Index(list(data.symbols), name="symbol", dtype=object)
    return pd.DataFrame(
        {
            "intrinsic_value": value,
            "margin_of_safety": margin,
            "discount_rate": np.where(stock, rate, np.nan),
            "refusal": pd.Series(refusal, index=index, dtype=object),
        },
        index=index,
    )


def dcf_margin_of_safety(data: UniverseData, metrics: pd.DataFrame, settings: DcfSettings | None = None) -> np.ndarray:
    """The DCF margin of safety (a fraction) for every symbol, aligned with `data.symbols`; NaN where the DCF
    is refused (see `dcf_table` for the reasons)."""
    return dcf_table(data, metrics, settings)["margin_of_safety"].to_numpy(dtype=np.float64)


def _floats(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(out), out, np.nan)


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def _money(amount: float) -> str:
    sign = "−" if amount < 0 else ""
    size = abs(amount)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= limit:
            return f"{sign}${size / limit:.1f}{suffix}"
    return f"{sign}${size:,.0f}"


def _article(asset_class: str) -> str:
    return {"etf": "an ETF", "index": "an index", "bond": "a bond"}.get(asset_class, f"a {asset_class}")
