"""Compute every catalogue metric for the whole universe at once: `compute_metrics(data) -> DataFrame`.

Pure and vectorized: one pass of numpy over the universe's matrices (TA-Lib's RSI is one call per symbol).
The catalogue (`catalog.py`) defines each metric; the choices it leaves open are made here:

- Prices: a missing bar is carried forward over at most 5 sessions; a window statistic needs 90 % of its
  sessions (see `momentum.py`). `price` is the last as-traded close; returns, averages, the 52-week high, RSI
  and risk use adjusted prices.
- Volatility uses simple daily returns (sample std × √252); beta is cov/var against the benchmark's simple
  daily returns over the same 252 sessions, pairwise-complete (see `risk.py`).
- A ratio is missing when its denominator is unknown or not positive (revenue, assets, equity, EBITDA,
  current liabilities, shares, market cap), so no metric is ever ±inf. Interest coverage divides by the
  magnitude of interest expense (vendors differ on its sign) and is missing when there is none.
- EV = market cap + total debt − cash, missing when any of the three is unknown.
- `earnings_stability` needs at least 4 of the last 8 quarters' EPS: 0 when any known quarter is a loss
  (EPS ≤ 0), else 1 − min(1, sample std / mean) (1 − the coefficient of variation, floored at 0).
- `net_assets` falls back to the fund's market-cap snapshot (where importers keep an ETF's net assets).
- Bonds: the yield is the treasury curve interpolated linearly in maturity (flat beyond its ends); duration is
  the closed-form modified duration of a bullet bond paying its coupon semi-annually at that yield (a par bond,
  coupon = yield, when the coupon is unknown); the curve spread is the yield minus the mean of the curve.
- Metrics that do not apply to an asset class are NaN: fundamentals are for equities only, momentum and risk
  for anything with a price series but bonds, the fund metrics for ETFs and the bond metrics for bonds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from marketdesk.screener.catalog import METRIC_NAMES, METRICS, Group
from marketdesk.screener.model import FundamentalArrays, UniverseData
from marketdesk.screener.momentum import (
    HIGH_WINDOW,
    RETURN_SESSIONS,
    STALE_SESSIONS,
    above_average_pct,
    dip_below_high_pct,
    fill_forward,
    last_row,
    needed,
    positive_or_nan,
    rsi_latest,
    trailing_return_pct,
)
from marketdesk.screener.risk import RISK_WINDOW, risk_metrics

EQUITY, ETF, BOND, INDEX = "equity", "etf", "bond", "index"
DOLLAR_VOLUME_SESSIONS = 63
COUPONS_PER_YEAR = 2  # US treasuries and most US corporate bonds pay semi-annually
MIN_EPS_QUARTERS = 4

_BY_GROUP: dict[Group, frozenset[str]] = {
    Group.VALUATION: frozenset({EQUITY}),
    Group.QUALITY: frozenset({EQUITY}),
    Group.GROWTH: frozenset({EQUITY}),
    Group.MOMENTUM: frozenset({EQUITY, ETF, INDEX}),
    Group.RISK: frozenset({EQUITY, ETF, INDEX}),
    Group.SIZE: frozenset({EQUITY, ETF, INDEX, BOND}),
    Group.FUND: frozenset({ETF}),
    Group.BOND: frozenset({BOND}),
}
_OVERRIDES: dict[str, frozenset[str]] = {"market_cap": frozenset({EQUITY})}
APPLIES_TO: dict[str, frozenset[str]] = {
    name: _OVERRIDES.get(name, _BY_GROUP[metric.group]) for name, metric in METRICS.items()
}
"""The asset classes each metric is computed for; it is NaN for the others."""

_RATING_SCORE: dict[str, float] = {
    "AAA": 10, "AA": 9, "A": 8, "BBB": 7, "BB": 6, "B": 5, "CCC": 4, "CC": 3, "C": 2, "SD": 0, "RD": 0, "D": 0,
    # Moody's letters, upper-cased (Aaa and Aa upper-case to AAA and AA)
    "BAA": 7, "BA": 6, "CAA": 4, "CA": 3,
}  # fmt: skip
_TENOR = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([dwmy])\s*", re.IGNORECASE)
_TENOR_UNIT_YEARS = {"d": 1 / 365, "w": 7 / 365, "m": 1 / 12, "y": 1.0}


def compute_metrics(data: UniverseData) -> pd.DataFrame:
    """Compute every metric of `catalog.METRIC_NAMES` for every symbol of `data`.

    Returns a DataFrame indexed by symbol (index name "symbol") with one float64 column per metric, in
    catalogue order; NaN where a metric cannot be computed or does not apply to the symbol's asset class.
    It never contains ±inf. Raises `ValueError` when the matrices' shapes disagree with the symbols and dates.

    Example, on the simulated market: ``compute_metrics(universe_from_sim(sim)).loc["SIMX", "beta"]`` is 1.0,
    the benchmark against itself.
    """
    _check_shapes(data)
    n = data.size
    asset_class = np.array([str(a) for a in data.asset_class], dtype=object) if n else np.array([], dtype=object)
    columns: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):
        columns.update(_price_metrics(data))
        columns.update(_fundamental_metrics(data.fundamentals, columns["price"]))
        columns.update(_fund_metrics(data))
        columns.update(_bond_metrics(data))
    out: dict[str, np.ndarray] = {}
    masks: dict[frozenset[str], np.ndarray] = {}
    for name in METRIC_NAMES:
        values = np.asarray(columns.get(name, np.full(n, np.nan)), dtype=np.float64)
        classes = APPLIES_TO[name]
        if classes not in masks:
            masks[classes] = np.isin(asset_class, list(classes))
        out[name] = np.where(masks[classes] & np.isfinite(values), values, np.nan)
    return pd.DataFrame(
        out, index=pd.Index(list(data.symbols), name="symbol", dtype=object), columns=list(METRIC_NAMES)
    )


def _check_shapes(data: UniverseData) -> None:
    n, t = data.size, len(data.dates)
    for name in ("close", "adj_close", "adj_high", "adj_low", "volume"):
        shape = np.shape(getattr(data, name))
        if shape != (t, n):
            raise ValueError(f"UniverseData.{name} has shape {shape}; expected (sessions, symbols) = {(t, n)}")
    if np.shape(data.benchmark) != (t,):
        raise ValueError(f"UniverseData.benchmark has shape {np.shape(data.benchmark)}; expected ({t},)")
    if len(data.asset_class) != n:
        raise ValueError(f"UniverseData.asset_class has {len(data.asset_class)} entries; expected {n}")


# ---- prices: momentum, risk, size ------------------------------------------------------------------------------


def _price_metrics(data: UniverseData) -> dict[str, np.ndarray]:
    n = data.size
    adj = fill_forward(positive_or_nan(data.adj_close))
    bench = fill_forward(positive_or_nan(data.benchmark))
    high_rows = adj.shape[0] - min(adj.shape[0], HIGH_WINDOW)
    adj_high = positive_or_nan(data.adj_high[high_rows:])
    recent_close = fill_forward(positive_or_nan(data.close[-(STALE_SESSIONS + 1) :]))
    out: dict[str, np.ndarray] = {
        name: trailing_return_pct(adj, sessions) for name, sessions in RETURN_SESSIONS.items()
    }
    out["dip_pct"] = dip_below_high_pct(adj[high_rows:], adj_high, HIGH_WINDOW)
    out["above_ma50_pct"] = above_average_pct(adj, 50)
    out["above_ma200_pct"] = above_average_pct(adj, 200)
    out["rsi14"] = rsi_latest(adj) if n else np.zeros(0)
    out.update(risk_metrics(adj, bench, RISK_WINDOW))
    out["price"] = last_row(recent_close) if len(recent_close) else np.full(n, np.nan)
    out["avg_dollar_volume"] = _average_dollar_volume(data)
    return out


def _average_dollar_volume(data: UniverseData) -> np.ndarray:
    """Mean of close × volume (as traded) over the last 63 sessions with a bar; volume may be 0."""
    window = DOLLAR_VOLUME_SESSIONS
    close = positive_or_nan(data.close[-window:])
    volume = np.asarray(data.volume[-window:], dtype=np.float64)
    traded = close * np.where(np.isfinite(volume) & (volume >= 0), volume, np.nan)
    valid = ~np.isnan(traded)
    count = valid.sum(axis=0)
    total = np.where(valid, traded, 0.0).sum(axis=0)
    return np.where(count >= needed(window), total / np.maximum(count, 1), np.nan)


# ---- fundamentals ----------------------------------------------------------------------------------------------


def _clean(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(out), out, np.nan)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator where the denominator is positive, else NaN."""
    positive = denominator > 0
    return np.where(positive, numerator / np.where(positive, denominator, 1.0), np.nan)


def _fundamental_metrics(f: FundamentalArrays, price: np.ndarray) -> dict[str, np.ndarray]:
    get = {name: _clean(getattr(f, name)) for name in FundamentalArrays.__dataclass_fields__}
    revenue, equity, eps = get["revenue_ttm"], get["total_equity"], get["eps_ttm"]
    free_cash_flow, operating_income = get["free_cash_flow_ttm"], get["operating_income_ttm"]
    shares, snapshot = get["shares_outstanding"], get["market_cap_snapshot"]
    cap = np.where((shares > 0) & (price > 0), price * shares, np.where(snapshot > 0, snapshot, np.nan))
    enterprise_value = cap + get["total_debt"] - get["cash"]
    interest = np.abs(get["interest_expense_ttm"])
    return {
        "pe": _ratio(price, eps),
        "pb": _ratio(cap, equity),
        "ps": _ratio(cap, revenue),
        "ev_ebitda": _ratio(enterprise_value, get["ebitda_ttm"]),
        "earnings_yield": _ratio(eps, price),
        "fcf_yield": _ratio(free_cash_flow, cap),
        "dividend_yield": _ratio(get["dividends_per_share_ttm"], price),
        "roe": _ratio(get["net_income_ttm"], equity),
        "roa": _ratio(get["net_income_ttm"], get["total_assets"]),
        "gross_margin": _ratio(get["gross_profit_ttm"], revenue),
        "operating_margin": _ratio(operating_income, revenue),
        "fcf_margin": _ratio(free_cash_flow, revenue),
        "debt_to_equity": _ratio(get["total_debt"], equity),
        "current_ratio": _ratio(get["current_assets"], get["current_liabilities"]),
        "interest_coverage": _ratio(operating_income, interest),
        "earnings_stability": earnings_stability(get["eps_quarters"]),
        "fcf_negative_years": negative_years(get["fcf_years"]),
        "total_equity": equity,
        "revenue_growth": _ratio(revenue, get["revenue_ttm_prev"]) - 1.0,
        "eps_growth": _ratio(eps, get["eps_ttm_prev"]) - 1.0,
        "market_cap": cap,
    }


def earnings_stability(eps_quarters: np.ndarray) -> np.ndarray:
    """Steadiness of quarterly EPS in [0, 1], one value per row of an (n × quarters) matrix.

    NaN with fewer than 4 known quarters; 0 when any known quarter is a loss (EPS ≤ 0); otherwise
    1 − min(1, s / m) where s is the sample standard deviation (ddof 1) and m the mean of the known quarters.

    >>> earnings_stability(np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, -0.1]])).tolist()
    [1.0, 0.0]
    """
    quarters = _clean(eps_quarters)
    if quarters.ndim != 2:
        raise ValueError(f"eps_quarters must be (symbols × quarters), got shape {quarters.shape}")
    known = ~np.isnan(quarters)
    count = known.sum(axis=1)
    any_loss = (known & ~(quarters > 0)).any(axis=1)
    safe = np.maximum(count, 1)
    mean = np.where(known, quarters, 0.0).sum(axis=1) / safe
    centred = np.where(known, quarters - mean[:, None], 0.0)
    std = np.sqrt((centred * centred).sum(axis=1) / np.maximum(count - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        steady = 1.0 - np.minimum(1.0, std / mean)
    return np.where(count < MIN_EPS_QUARTERS, np.nan, np.where(any_loss, 0.0, steady))


def negative_years(fcf_years: np.ndarray) -> np.ndarray:
    """How many known entries of each row are negative; NaN when a row has none known."""
    years = _clean(fcf_years)
    known = ~np.isnan(years)
    return np.where(known.any(axis=1), (known & (years < 0)).sum(axis=1).astype(np.float64), np.nan)


# ---- ETFs ------------------------------------------------------------------------------------------------------


def _optional(values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return _clean(values)


def _fund_metrics(data: UniverseData) -> dict[str, np.ndarray]:
    n = data.size
    net_assets = _optional(data.net_assets, n)
    snapshot = _clean(data.fundamentals.market_cap_snapshot)
    return {
        "expense_ratio_pct": _optional(data.expense_ratio_pct, n),
        "net_assets": np.where(np.isnan(net_assets) & (snapshot > 0), snapshot, net_assets),
        "top10_weight_pct": _optional(data.top10_weight_pct, n),
    }


# ---- bonds -----------------------------------------------------------------------------------------------------


def tenor_years(label: str) -> float | None:
    """The length of a curve tenor label in years ("3m" → 0.25, "10y" → 10.0); None when not a tenor."""
    match = _TENOR.fullmatch(str(label))
    if match is None:
        return None
    return float(match.group(1)) * _TENOR_UNIT_YEARS[match.group(2).lower()]


def curve_points(yields: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The curve as (maturities in years, yields in percent), sorted by maturity, skipping unknown points."""
    points = sorted(
        (years, float(value))
        for label, value in yields.items()
        if (years := tenor_years(label)) is not None and value is not None and np.isfinite(value)
    )
    return np.array([p[0] for p in points], dtype=np.float64), np.array([p[1] for p in points], dtype=np.float64)


def curve_yield_pct(yields: Mapping[str, float], maturity_years: np.ndarray) -> np.ndarray:
    """The curve's yield (percent) at each maturity: linear between tenors, flat beyond the curve's ends."""
    maturities, rates = curve_points(yields)
    years = _clean(maturity_years)
    if maturities.size == 0:
        return np.full(years.shape, np.nan)
    return np.where(years > 0, np.interp(years, maturities, rates), np.nan)


def modified_duration(
    maturity_years: np.ndarray, coupon_pct: np.ndarray, yield_pct: np.ndarray, frequency: int = COUPONS_PER_YEAR
) -> np.ndarray:
    """Modified duration (years) of a bullet bond paying `coupon_pct` (annual, percent of face) `frequency`
    times a year, at a yield to maturity of `yield_pct` (annual, compounded `frequency` times), in closed form:

        Macaulay = (1 + i) / y − (1 + i + T(c − y)) / (c((1 + i)^(mT) − 1) + y),  i = y / m
        modified = Macaulay / (1 + i)

    with the zero-yield limit taken where y = 0. A zero-coupon bond's Macaulay duration is its maturity.
    """
    years, c, y = _clean(maturity_years), _clean(coupon_pct) / 100.0, _clean(yield_pct) / 100.0
    m = float(frequency)
    i = y / m
    periods = years * m
    zero_yield = np.abs(y) < 1e-12
    safe_y = np.where(zero_yield, 1.0, y)
    with np.errstate(all="ignore"):
        growth = (1.0 + i) ** periods
        macaulay = (1.0 + i) / safe_y - (1.0 + i + years * (c - y)) / (c * (growth - 1.0) + safe_y)
        # y → 0: cash flows c/m at k/m years and 1 at T, undiscounted
        at_zero = (c * years * (periods + 1.0) / (2.0 * m) + years) / (c * years + 1.0)
        modified = np.where(zero_yield, at_zero, macaulay / (1.0 + i))
    valid = (years > 0) & (c >= 0) & (i > -1.0) & np.isfinite(modified) & (modified >= 0)
    return np.where(valid, modified, np.nan)


def credit_scores(ratings: np.ndarray | None, n: int) -> np.ndarray:
    """Ratings as numbers: AAA 10, AA 9, A 8, BBB 7, BB 6, B 5, CCC 4, CC 3, C 2, D 0 (NaN when unknown).

    Notches (+/−, Moody's 1/2/3) are ignored; Moody's letters (Aaa, Baa …) map to the same grades.

    >>> credit_scores(np.array(["AA-", "Baa2", None, "junk"], dtype=object), 4).tolist()
    [9.0, 7.0, nan, nan]
    """
    if ratings is None:
        return np.full(n, np.nan)
    lookup: dict[object, float] = {}
    for rating in set(np.asarray(ratings, dtype=object).tolist()):
        lookup[rating] = _rating_score(rating)
    return np.array([lookup[r] for r in np.asarray(ratings, dtype=object).tolist()], dtype=np.float64)


def _rating_score(rating: object) -> float:
    if not isinstance(rating, str):
        return np.nan
    grade = re.sub(r"[\s+\-−123]", "", rating).upper()
    return float(_RATING_SCORE.get(grade, np.nan))


def _bond_metrics(data: UniverseData) -> dict[str, np.ndarray]:
    n = data.size
    maturity = _optional(data.maturity_years, n)
    maturity = np.where(maturity > 0, maturity, np.nan)
    yield_pct = curve_yield_pct(data.yields, maturity)
    coupon = _optional(data.coupon_pct, n)
    coupon = np.where(np.isnan(coupon), yield_pct, coupon)  # unknown coupon: price it as a par bond
    _, rates = curve_points(data.yields)
    curve_mean = float(rates.mean()) if rates.size else np.nan
    return {
        "maturity_years": maturity,
        "yield_pct": yield_pct,
        "duration_years": modified_duration(maturity, coupon, yield_pct),
        "credit_score": credit_scores(data.credit_rating, n),
        "curve_spread_pct": yield_pct - curve_mean,
    }
