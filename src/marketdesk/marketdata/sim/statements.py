"""Quarterly statements of the simulated companies, consistent with their prices, and their earnings events.

Revenue follows a smoothed market value through a price-to-sales multiple that wanders, so P/S, P/E, P/B
and FCF yield stay in the ranges real screens expect while fundamentals move with the business. Margins,
leverage and capital intensity are per company (some lose money, some burn cash, a few carry more debt than
assets), and each wanders quarter to quarter. Market cap is exactly price × shares at the period end.

Every figure is computed from the quarter-level plan, so a quarter's numbers never depend on the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from marketdesk.marketdata.port import TREASURY_TENORS, EarningsEvent, Fundamentals
from marketdesk.marketdata.sim.factors import MarketSeries, Timeline, quarter_end
from marketdesk.marketdata.sim.plan import QuarterPlan
from marketdesk.marketdata.sim.prices import shares_outstanding
from marketdesk.marketdata.sim.streams import EPOCH_YEAR, Stream, rng
from marketdesk.marketdata.sim.universe import Universe

SOURCE = "sim"
TAX_RATE = 0.21
VALUE_SMOOTHING = 0.25  # weight of the newest quarter in the smoothed market value revenue follows
_TEN_YEAR = TREASURY_TENORS.index("10y")

# (persistence, volatility) of the quarterly wander of each company ratio
_WANDER: dict[str, tuple[float, float]] = {
    "price_to_sales": (0.85, 0.07),
    "gross_margin": (0.8, 0.015),
    "operating_margin": (0.75, 0.02),
    "price_to_book": (0.85, 0.06),
    "working_capital": (0.3, 0.03),
    "capex": (0.6, 0.1),
}

STATEMENT_FIELDS: tuple[str, ...] = (
    "price",
    "shares_outstanding",
    "market_cap",
    "revenue",
    "gross_profit",
    "operating_income",
    "net_income",
    "ebitda",
    "eps",
    "operating_cash_flow",
    "capex",
    "free_cash_flow",
    "total_assets",
    "total_liabilities",
    "total_equity",
    "total_debt",
    "cash",
    "current_assets",
    "current_liabilities",
    "interest_expense",
    "dividends_per_share",
)


@dataclass(frozen=True)
class Statements:
    """Every statement field as a (quarters × instruments) array; meaningful for equities only.

    Flows (revenue, income, cash flows) are for the quarter; stocks (assets, debt, cash) at its end. `capex`
    is a positive outflow and `free_cash_flow = operating_cash_flow - capex`.
    """

    values: dict[str, np.ndarray]

    def field(self, name: str) -> np.ndarray:
        return self.values[name]


def build_statements(
    seed: int, universe: Universe, timeline: Timeline, series: MarketSeries, plan: QuarterPlan
) -> Statements:
    """Compute every company's statements for every quarter from the epoch."""
    n_quarters, n = plan.n_quarters, universe.size
    eq = universe.equities
    wander = {name: path[:, eq] for name, path in _wander(seed, n, timeline.last_year).items()}
    last_rows = timeline.quarter_bounds[1:] - 1

    def company(name: str) -> np.ndarray:
        return np.asarray(getattr(universe.company, name))[eq]

    split_factor = plan.split_factor_end[:, eq]
    price = np.round(np.exp(plan.level_end[:, eq] - np.log(split_factor)), 2)
    shares = np.rint(shares_outstanding(universe, plan.split_factor_end, last_rows)[:, eq])
    market_cap = price * shares
    smoothed = np.empty_like(market_cap)
    value = market_cap[0]
    for q in range(n_quarters):
        value = (1.0 - VALUE_SMOOTHING) * value + VALUE_SMOOTHING * market_cap[q]
        smoothed[q] = value

    revenue = smoothed / (company("price_to_sales") * np.exp(wander["price_to_sales"])) / 4.0
    annual_revenue = 4.0 * revenue
    gross_margin = np.clip(company("gross_margin") + wander["gross_margin"], 0.05, 0.95)
    operating_margin = np.minimum(company("operating_margin") + wander["operating_margin"], gross_margin - 0.02)
    gross_profit = revenue * gross_margin
    operating_income = revenue * operating_margin
    depreciation = revenue * company("depreciation")
    negative_equity = company("negative_equity")
    negative = (negative_equity > 0)[None, :]
    equity = np.where(
        negative,
        -negative_equity * annual_revenue,
        smoothed / (company("price_to_book") * np.exp(wander["price_to_book"])),
    )
    debt = np.where(negative, (negative_equity + 0.6) * annual_revenue, company("debt_to_equity") * equity)
    rate = (series.yields[last_rows, _TEN_YEAR][:, None] + company("credit_spread_pct")[None, :]) / 100.0
    interest = debt * rate / 4.0
    pretax = operating_income - interest
    net_income = pretax - TAX_RATE * np.maximum(pretax, 0.0)
    capex = revenue * company("capex") * np.exp(wander["capex"])
    operating_cash_flow = net_income + depreciation + revenue * wander["working_capital"]
    liabilities = debt + annual_revenue * company("other_liabilities")
    assets = liabilities + equity
    cash = np.minimum(annual_revenue * company("cash_to_revenue"), 0.5 * assets)
    current_assets = np.minimum(cash + annual_revenue * company("receivables"), 0.9 * assets)
    current_liabilities = np.minimum(annual_revenue * company("current_liabilities"), liabilities)

    exdiv_row, split_row = plan.exdiv_row[:, eq], plan.split_row[:, eq]
    split_before_exdiv = (split_row >= 0) & (split_row < exdiv_row)
    factor_at_exdiv = plan.split_factor_start[:, eq] * np.where(split_before_exdiv, plan.split_ratio[:, eq], 1.0)
    dividends = np.where(exdiv_row >= 0, np.round(plan.dividend_units[:, eq] / factor_at_exdiv, 2), 0.0)

    values = {
        "price": price,
        "shares_outstanding": shares,
        "market_cap": np.round(market_cap),
        "revenue": np.round(revenue),
        "gross_profit": np.round(gross_profit),
        "operating_income": np.round(operating_income),
        "net_income": np.round(net_income),
        "ebitda": np.round(operating_income + depreciation),
        "eps": np.round(net_income / shares, 2),
        "operating_cash_flow": np.round(operating_cash_flow),
        "capex": np.round(capex),
        "free_cash_flow": np.round(operating_cash_flow - capex),
        "total_assets": np.round(assets),
        "total_liabilities": np.round(liabilities),
        "total_equity": np.round(equity),
        "total_debt": np.round(debt),
        "cash": np.round(cash),
        "current_assets": np.round(current_assets),
        "current_liabilities": np.round(current_liabilities),
        "interest_expense": np.round(interest),
        "dividends_per_share": dividends,
    }
    full = {}
    for name, array in values.items():
        out = np.full((n_quarters, n), np.nan)
        out[:, eq] = array
        full[name] = out
    return Statements(full)


def _wander(seed: int, n: int, last_year: int) -> dict[str, np.ndarray]:
    """Quarterly AR(1) deviations of each company ratio, drawn year by year from the epoch."""
    shocks = np.concatenate(
        [
            rng(seed, Stream.STATEMENTS, year).standard_normal((4, len(_WANDER), n))
            for year in range(EPOCH_YEAR, last_year + 1)
        ]
    )
    out: dict[str, np.ndarray] = {}
    for k, (name, (persistence, vol)) in enumerate(_WANDER.items()):
        path = np.empty((shocks.shape[0], n))
        state = np.zeros(n)
        stationary = vol / np.sqrt(1.0 - persistence**2)
        for q in range(shocks.shape[0]):
            state = persistence * state + vol * shocks[q, k] if q else stationary * shocks[q, k]
            path[q] = state
        out[name] = path
    return out


def fundamentals_records(
    statements: Statements, symbol: str, column: int, quarters: range, reported: list[date]
) -> list[Fundamentals]:
    """Consecutive quarters of one company as `Fundamentals` records (price and market cap at the period end)."""
    part = slice(quarters.start, quarters.stop)
    columns = {name: statements.values[name][part, column].tolist() for name in STATEMENT_FIELDS}
    return [
        Fundamentals(
            symbol=symbol,
            period_end=quarter_end(quarter),
            period="Q",
            reported=reported[k],
            source=SOURCE,
            **{name: values[k] for name, values in columns.items()},
        )
        for k, quarter in enumerate(quarters)
    ]


def earnings_event(
    statements: Statements,
    plan: QuarterPlan,
    symbol: str,
    column: int,
    quarter: int,
    report_date: date,
    *,
    reported: bool,
    previous_eps: float | None = None,
) -> EarningsEvent:
    """The earnings event of one fiscal quarter: with the actual figures once reported, else the estimate only.

    A scheduled report's estimate is the last reported EPS (what a naive consensus knows); a past report's
    estimate is the actual EPS less the quarter's surprise.
    """
    actual = float(statements.values["eps"][quarter, column])
    revenue = float(statements.values["revenue"][quarter, column])
    surprise = float(plan.surprise[quarter, column])
    if not reported:
        estimate = previous_eps if previous_eps is not None else actual
        return EarningsEvent(
            symbol=symbol,
            report_date=report_date,
            eps_estimate=round(estimate, 2),
            revenue_estimate=float(statements.values["revenue"][max(quarter - 1, 0), column]),
            time_of_day="bmo",
            source=SOURCE,
        )
    estimate = round(actual / (1.0 + surprise) if actual >= 0 else actual / (1.0 - surprise), 2)
    surprise_pct = None if estimate == 0 else round((actual - estimate) / abs(estimate) * 100.0, 2)
    return EarningsEvent(
        symbol=symbol,
        report_date=report_date,
        eps_estimate=estimate,
        eps_actual=actual,
        surprise_pct=surprise_pct,
        revenue_estimate=float(round(revenue / (1.0 + 0.3 * surprise))),
        revenue_actual=revenue,
        time_of_day="bmo",
        source=SOURCE,
    )
