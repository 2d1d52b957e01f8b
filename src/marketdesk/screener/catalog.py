"""The metric catalogue: every metric the screener computes, with its unit and meaning.

Naming rule: a name ending in `_pct` is in percent (`dip_pct` 7.5 means 7.5 % below the 52-week high);
every other ratio is a plain fraction or multiple (`roe` 0.15 is 15 %, `pe` 18 is 18×). Filters, presets,
the API and the web desk all use these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Group(StrEnum):
    VALUATION = "valuation"
    QUALITY = "quality"
    GROWTH = "growth"
    MOMENTUM = "momentum"
    RISK = "risk"
    SIZE = "size"
    FUND = "fund"  # ETFs
    BOND = "bond"


class Unit(StrEnum):
    MULTIPLE = "multiple"  # 18.2×
    FRACTION = "fraction"  # 0.15 → 15 %
    PERCENT = "percent"  # 7.5 → 7.5 %
    USD = "usd"
    NUMBER = "number"
    YEARS = "years"


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    label: str
    group: Group
    unit: Unit
    higher_is_better: bool | None  # None: neither (context decides)
    description: str


_METRICS: tuple[Metric, ...] = (
    # valuation
    Metric(
        "pe", "P/E", Group.VALUATION, Unit.MULTIPLE, False, "price over trailing-twelve-month EPS; missing when EPS ≤ 0"
    ),
    Metric(
        "pb",
        "P/B",
        Group.VALUATION,
        Unit.MULTIPLE,
        False,
        "market cap over shareholders' equity; missing when equity ≤ 0",
    ),
    Metric("ps", "P/S", Group.VALUATION, Unit.MULTIPLE, False, "market cap over trailing revenue"),
    Metric(
        "ev_ebitda",
        "EV/EBITDA",
        Group.VALUATION,
        Unit.MULTIPLE,
        False,
        "(market cap + debt − cash) over trailing EBITDA; missing when EBITDA ≤ 0",
    ),
    Metric(
        "earnings_yield",
        "Earnings yield",
        Group.VALUATION,
        Unit.FRACTION,
        True,
        "trailing EPS over price (negative for losses)",
    ),
    Metric("fcf_yield", "FCF yield", Group.VALUATION, Unit.FRACTION, True, "trailing free cash flow over market cap"),
    Metric(
        "dividend_yield",
        "Dividend yield",
        Group.VALUATION,
        Unit.FRACTION,
        True,
        "trailing dividends per share over price",
    ),
    # quality
    Metric(
        "roe",
        "ROE",
        Group.QUALITY,
        Unit.FRACTION,
        True,
        "trailing net income over shareholders' equity; missing when equity ≤ 0",
    ),
    Metric("roa", "ROA", Group.QUALITY, Unit.FRACTION, True, "trailing net income over total assets"),
    Metric("gross_margin", "Gross margin", Group.QUALITY, Unit.FRACTION, True, "trailing gross profit over revenue"),
    Metric(
        "operating_margin",
        "Operating margin",
        Group.QUALITY,
        Unit.FRACTION,
        True,
        "trailing operating income over revenue",
    ),
    Metric("fcf_margin", "FCF margin", Group.QUALITY, Unit.FRACTION, True, "trailing free cash flow over revenue"),
    Metric(
        "debt_to_equity",
        "Debt/Equity",
        Group.QUALITY,
        Unit.MULTIPLE,
        False,
        "total debt over shareholders' equity; missing when equity ≤ 0",
    ),
    Metric(
        "current_ratio", "Current ratio", Group.QUALITY, Unit.MULTIPLE, True, "current assets over current liabilities"
    ),
    Metric(
        "interest_coverage",
        "Interest coverage",
        Group.QUALITY,
        Unit.MULTIPLE,
        True,
        "trailing operating income over interest expense",
    ),
    Metric(
        "earnings_stability",
        "Earnings stability",
        Group.QUALITY,
        Unit.FRACTION,
        True,
        "0–1: steadiness of the last 8 quarters' EPS (1 = perfectly steady)",
    ),
    Metric(
        "fcf_negative_years",
        "Years of negative FCF",
        Group.QUALITY,
        Unit.NUMBER,
        False,
        "how many of the last 3 trailing years had negative free cash flow",
    ),
    Metric(
        "total_equity", "Shareholders' equity", Group.QUALITY, Unit.USD, True, "latest reported shareholders' equity"
    ),
    # growth
    Metric(
        "revenue_growth",
        "Revenue growth",
        Group.GROWTH,
        Unit.FRACTION,
        True,
        "trailing revenue over the trailing revenue a year earlier, minus 1",
    ),
    Metric(
        "eps_growth",
        "EPS growth",
        Group.GROWTH,
        Unit.FRACTION,
        True,
        "trailing EPS over a year earlier, minus 1; missing when the earlier EPS ≤ 0",
    ),
    # momentum
    Metric("return_1m_pct", "1M return", Group.MOMENTUM, Unit.PERCENT, True, "total return over 21 sessions"),
    Metric("return_3m_pct", "3M return", Group.MOMENTUM, Unit.PERCENT, True, "total return over 63 sessions"),
    Metric("return_6m_pct", "6M return", Group.MOMENTUM, Unit.PERCENT, True, "total return over 126 sessions"),
    Metric("return_12m_pct", "12M return", Group.MOMENTUM, Unit.PERCENT, True, "total return over 252 sessions"),
    Metric(
        "dip_pct",
        "Below 52W high",
        Group.MOMENTUM,
        Unit.PERCENT,
        None,
        "how far the price is below its 52-week high (0 = at the high)",
    ),
    Metric(
        "above_ma50_pct",
        "vs 50-day avg",
        Group.MOMENTUM,
        Unit.PERCENT,
        True,
        "price above (+) or below (−) its 50-day average",
    ),
    Metric(
        "above_ma200_pct",
        "vs 200-day avg",
        Group.MOMENTUM,
        Unit.PERCENT,
        True,
        "price above (+) or below (−) its 200-day average",
    ),
    Metric(
        "rsi14", "RSI(14)", Group.MOMENTUM, Unit.NUMBER, None, "Wilder's 14-day relative strength index, 0–100 (TA-Lib)"
    ),
    # risk
    Metric(
        "volatility_pct",
        "Volatility",
        Group.RISK,
        Unit.PERCENT,
        False,
        "annualised standard deviation of daily returns over a year",
    ),
    Metric("beta", "Beta", Group.RISK, Unit.MULTIPLE, None, "slope of daily returns on the benchmark's over a year"),
    Metric(
        "max_drawdown_pct",
        "Max drawdown 1Y",
        Group.RISK,
        Unit.PERCENT,
        False,
        "largest peak-to-trough fall over a year, as a positive percent",
    ),
    # size and liquidity
    Metric("price", "Price", Group.SIZE, Unit.USD, None, "last close as traded"),
    Metric(
        "market_cap", "Market cap", Group.SIZE, Unit.USD, None, "price × shares outstanding (or the latest snapshot)"
    ),
    Metric("avg_dollar_volume", "Avg $ volume", Group.SIZE, Unit.USD, True, "average daily traded value over 3 months"),
    # ETFs
    Metric(
        "expense_ratio_pct", "Expense ratio", Group.FUND, Unit.PERCENT, False, "annual fund expenses, percent of assets"
    ),
    Metric("net_assets", "Assets", Group.FUND, Unit.USD, True, "assets under management"),
    Metric(
        "top10_weight_pct",
        "Top-10 weight",
        Group.FUND,
        Unit.PERCENT,
        False,
        "share of assets in the ten largest holdings, where known",
    ),
    # bonds and treasuries
    Metric(
        "yield_pct", "Yield", Group.BOND, Unit.PERCENT, True, "yield to maturity (the curve's yield at its maturity)"
    ),
    Metric(
        "duration_years",
        "Duration",
        Group.BOND,
        Unit.YEARS,
        False,
        "modified duration: price change per 1 % yield move",
    ),
    Metric(
        "credit_score",
        "Credit quality",
        Group.BOND,
        Unit.NUMBER,
        True,
        "rating as a number: AAA 10, AA 9, A 8, BBB 7 … D 0",
    ),
    Metric("maturity_years", "Maturity", Group.BOND, Unit.YEARS, None, "years to maturity"),
    Metric(
        "curve_spread_pct",
        "Yield vs curve",
        Group.BOND,
        Unit.PERCENT,
        True,
        "yield minus the curve's average yield (pickup for the position on the curve)",
    ),
)

METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)


def metric(name: str) -> Metric:
    """Look a metric up by name; the error lists the valid names."""
    try:
        return METRICS[name]
    except KeyError:
        from marketdesk.errors import Rejected

        raise Rejected(f"unknown metric {name!r}", hint=f"Valid metrics: {', '.join(METRIC_NAMES)}.") from None
