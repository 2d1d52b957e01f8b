"""Pure parts of the research tearsheet: peers, valuation context (vs the sector and the symbol's own
history) and a ranked, quantified risk breakdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from marketdesk.marketdata.port import Fundamentals
from marketdesk.screener.catalog import METRICS
from marketdesk.screener.universe import known_from

CONTEXT_METRICS = ("pe", "pb", "ps", "ev_ebitda", "fcf_yield", "dividend_yield")
MIN_INDUSTRY_PEERS = 3


@dataclass(frozen=True, slots=True)
class Peer:
    symbol: str
    market_cap: float | None
    same: str  # "industry" or "sector"


@dataclass(frozen=True, slots=True)
class ContextRow:
    metric: str
    label: str
    value: float | None
    sector_median: float | None
    vs_sector_pct: float | None  # value vs the sector median, percent
    own_median_5y: float | None
    vs_own_pct: float | None


@dataclass(frozen=True, slots=True)
class RiskItem:
    name: str
    value: float | None
    severity: float  # 0 (no concern) … 1 (severe)
    text: str


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def peers(table: pd.DataFrame, symbol: str, count: int = 5) -> list[Peer]:
    """Nearest-size peers: the same industry when it has enough members, else the same sector.

    `table` is indexed by symbol with `sector`, `industry` and `market_cap` columns.
    """
    if symbol not in table.index:
        return []
    row = table.loc[symbol]
    others = table.drop(index=symbol)
    group, same = others.iloc[0:0], "sector"
    if row.get("industry") is not None and isinstance(row.get("industry"), str):
        group, same = others[others["industry"] == row["industry"]], "industry"
    if len(group) < MIN_INDUSTRY_PEERS and isinstance(row.get("sector"), str):
        group, same = others[others["sector"] == row["sector"]], "sector"
    if group.empty:
        return []
    own_cap = _num(row.get("market_cap"))
    caps = group["market_cap"].astype(float)
    if own_cap and own_cap > 0:
        with np.errstate(invalid="ignore", divide="ignore"):
            logs = pd.Series(np.log(caps.where(caps > 0).to_numpy()), index=caps.index)
            distance = (logs - math.log(own_cap)).abs().fillna(np.inf)
    else:
        distance = -caps.fillna(0)  # unknown size: the largest names
    nearest = distance.sort_values(kind="stable").index[:count]
    return [Peer(str(s), _num(table.at[s, "market_cap"]), same) for s in nearest]


def multiples_history(closes: pd.Series, records: Sequence[Fundamentals], years: int = 5) -> pd.DataFrame:
    """P/E, P/B and P/S at each quarter end of the last `years` years, using only what was known then.

    `closes` is the as-traded close indexed by date. Returns a frame indexed by quarter-end date.
    """
    if closes.empty:
        return pd.DataFrame(columns=["pe", "pb", "ps"])
    end = closes.index[-1]
    quarter_ends = pd.date_range(end - pd.DateOffset(years=years), end, freq="QE")
    rows = []
    for day in quarter_ends:
        known = [r for r in records if known_from(r) <= day.date()]
        price_at = closes[:day]
        if price_at.empty or not known:
            continue
        price = float(price_at.iloc[-1])
        quarters = sorted((r for r in known if r.period == "Q"), key=lambda r: r.period_end)[-4:]
        eps = sum(q.eps for q in quarters if q.eps is not None) if len(quarters) == 4 else None
        latest = max(known, key=lambda r: r.period_end)
        revenue = sum(q.revenue for q in quarters if q.revenue is not None) if len(quarters) == 4 else None
        shares = latest.shares_outstanding
        equity = latest.total_equity
        rows.append(
            {
                "date": day,
                "pe": price / eps if eps and eps > 0 else np.nan,
                "pb": price * shares / equity if shares and equity and equity > 0 else np.nan,
                "ps": price * shares / revenue if shares and revenue and revenue > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("date") if rows else pd.DataFrame(columns=["pe", "pb", "ps"])


def valuation_context(table: pd.DataFrame, symbol: str, history: pd.DataFrame | None = None) -> list[ContextRow]:
    """Each valuation multiple against its sector median and the symbol's own 5-year median."""
    row = table.loc[symbol]
    sector = row.get("sector")
    same_sector = table[table["sector"] == sector] if isinstance(sector, str) else table.iloc[0:0]
    out = []
    for name in CONTEXT_METRICS:
        value = _num(row.get(name))
        median = _num(same_sector[name].median()) if name in same_sector and len(same_sector) > 1 else None
        own = None
        if history is not None and name in history and history[name].notna().any():
            own = _num(history[name].median())
        out.append(
            ContextRow(
                metric=name,
                label=METRICS[name].label,
                value=value,
                sector_median=median,
                vs_sector_pct=(value / median - 1) * 100 if value is not None and median else None,
                own_median_5y=own,
                vs_own_pct=(value / own - 1) * 100 if value is not None and own else None,
            )
        )
    return out


# (metric, value at which concern starts, value at which it is severe, sentence with {value})
_RISKS: tuple[tuple[str, float, float, str], ...] = (
    ("volatility_pct", 25.0, 60.0, "Prices swing {value:.0f}% a year (annualised volatility)."),
    ("max_drawdown_pct", 15.0, 50.0, "It fell {value:.0f}% from a peak within the last year."),
    ("beta", 1.1, 2.0, "It moves {value:.2f}× as much as the market."),
    ("debt_to_equity", 1.0, 3.0, "Debt is {value:.1f}× shareholders' equity."),
    ("dip_pct", 10.0, 40.0, "It trades {value:.0f}% below its 52-week high."),
)


def risk_breakdown(row: pd.Series) -> list[RiskItem]:
    """The symbol's risks, most severe first, each with its number and a sentence."""
    items: list[RiskItem] = []
    for name, start, severe, sentence in _RISKS:
        value = _num(row.get(name))
        if value is None:
            continue
        severity = float(np.clip((value - start) / (severe - start), 0.0, 1.0))
        items.append(RiskItem(name, value, severity, sentence.format(value=value)))
    coverage = _num(row.get("interest_coverage"))
    if coverage is not None:
        severity = float(np.clip((5.0 - coverage) / (5.0 - 1.0), 0.0, 1.0))
        items.append(
            RiskItem("interest_coverage", coverage, severity, f"Operating income covers interest {coverage:.1f}×.")
        )
    stability = _num(row.get("earnings_stability"))
    if stability is not None:
        items.append(
            RiskItem(
                "earnings_stability",
                stability,
                float(1 - stability),
                f"Earnings steadiness {stability:.2f} on a 0–1 scale.",
            )
        )
    liquidity = _num(row.get("avg_dollar_volume"))
    if liquidity is not None:
        severity = float(np.clip((7.0 - math.log10(max(liquidity, 1.0))) / 2.0, 0.0, 1.0))  # $10M/day is liquid
        items.append(
            RiskItem("avg_dollar_volume", liquidity, severity, f"About ${liquidity / 1e6:,.1f}M trades a day.")
        )
    return sorted(items, key=lambda i: -i.severity)
