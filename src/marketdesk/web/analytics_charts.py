"""The analytics page's allocation and comparison, as data and ECharts options. Pure: a valuation's holdings (and
each symbol's sector and asset class) or a comparison in; slices, table rows and chart options out.

Allocation is each position's market value (and cash) over the portfolio's total value, grouped by symbol, by
sector or by asset class. A position worth less than nothing (a short) cannot be a slice of a pie: it is listed
in the table, left out of the chart, and the page says so.

>>> from decimal import Decimal
>>> [(s.label, round(s.share, 4)) for s in allocation_slices({"AAA": Decimal(600), "BBB": Decimal(300)},
...                                                          Decimal(100), Decimal(1000))]
[('AAA', 0.6), ('BBB', 0.3), ('Cash', 0.1)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marketdesk.analytics.compare_measures import ComparedSeries, Comparison, curve_points
from marketdesk.portfolio.valuation import Holding
from marketdesk.web import format as fmt
from marketdesk.web.charts import AXIS_COLOR, GRID_LINE

CASH = "Cash"
UNKNOWN_SECTOR = "Sector unknown"
GROUPINGS = {"symbol": "By symbol", "sector": "By sector", "asset_class": "By asset class"}
ASSET_CLASS_LABELS = {"equity": "Stocks", "etf": "ETFs", "bond": "Bonds", "index": "Indexes"}
PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c",
           "#4b5563", "#0f766e", "#9333ea")  # fmt: skip
BENCHMARK_COLOR = "#8a8f98"
CASH_COLOR = "#cbd5e1"


@dataclass(frozen=True, slots=True)
class Slice:
    """One group's value and its share of the portfolio's total value."""

    label: str
    value: Decimal
    share: float | None


def grouped_values(holdings: Sequence[Holding], group_of: Mapping[str, str] | None = None) -> dict[str, Decimal]:
    """Market value by group (`group_of[symbol]`; by symbol when None or when a symbol has no group)."""
    out: dict[str, Decimal] = {}
    for holding in holdings:
        label = holding.symbol if group_of is None else group_of.get(holding.symbol, holding.symbol)
        out[label] = out.get(label, Decimal(0)) + holding.market_value
    return out


def allocation_slices(values: Mapping[str, Decimal], cash: Decimal, total: Decimal) -> list[Slice]:
    """The groups largest first, then cash (when there is any), each with its share of `total`."""

    def share(value: Decimal) -> float | None:
        return float(value / total) if total > 0 else None

    slices = [
        Slice(label, value, share(value)) for label, value in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    if cash != 0:
        slices.append(Slice(CASH, cash, share(cash)))
    return slices


def sector_of(sector: str | None) -> str:
    return sector or UNKNOWN_SECTOR


def asset_class_of(asset_class: str | None) -> str:
    return ASSET_CLASS_LABELS.get(asset_class or "", (asset_class or "Unknown").capitalize())


def allocation_options(slices: Sequence[Slice], title: str) -> dict[str, Any]:
    """A donut of the slices worth more than nothing (labels with their shares)."""
    shown = [s for s in slices if s.value > 0]
    data = []
    for index, s in enumerate(shown):
        colour = CASH_COLOR if s.label == CASH else PALETTE[index % len(PALETTE)]
        data.append({"name": s.label, "value": round(float(s.value), 2), "itemStyle": {"color": colour}})
    return {
        "animation": False,
        "title": {"text": title, "left": 8, "top": 4, "textStyle": {"fontSize": 13, "color": AXIS_COLOR}},
        "tooltip": {"trigger": "item", "formatter": "{b}: {d}%"},
        "legend": {"type": "scroll", "orient": "vertical", "right": 8, "top": 32, "bottom": 8},
        "series": [{
            "name": title, "type": "pie", "radius": ["45%", "72%"], "center": ["38%", "55%"], "data": data,
            "label": {"formatter": "{b}: {d}%", "fontSize": 11}, "avoidLabelOverlap": True,
        }],
    }  # fmt: skip


# ---- comparison ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """A compared series as the table shows it."""

    key: str
    name: str
    kind: str
    span: str
    cells: tuple[tuple[str, str, str], ...]  # (measure, text, why missing)


COMPARISON_COLUMNS = (
    ("twr", "TWR"),
    ("twr_annualized", "TWR a year"),
    ("annual_volatility", "Volatility"),
    ("sharpe", "Sharpe"),
    ("max_drawdown", "Max drawdown"),
)


def figure_text(measure: str, value: float | None) -> str:
    """A figure as people read it: percentages for returns, volatility and drawdowns; two decimals for Sharpe."""
    if value is None or not math.isfinite(value):
        return fmt.MISSING
    if measure == "sharpe":
        return f"{value:.2f}".replace("-", fmt.MINUS)
    return fmt.fraction(value, 2, signed=measure in {"twr", "twr_annualized"})


def comparison_rows(comparison: Comparison) -> list[ComparisonRow]:
    rows = []
    for s in comparison.series:
        cells = tuple((m, figure_text(m, s.figure(m)), s.missing.get(m, "")) for m, _ in COMPARISON_COLUMNS)
        rows.append(ComparisonRow(s.key, s.name, s.kind, _span(s), cells))
    return rows


def _span(s: ComparedSeries) -> str:
    if s.start is None or s.end is None:
        return "no days in the range"
    return f"{s.start:%Y-%m-%d} → {s.end:%Y-%m-%d} ({s.observations} days)"


def comparison_options(comparison: Comparison) -> dict[str, Any]:
    """Each series' growth of 100 on one time axis (the benchmark grey and dashed)."""
    series = []
    colours = iter(PALETTE)
    for s in comparison.series:
        if s.growth.empty:
            continue
        colour = BENCHMARK_COLOR if s.kind == "benchmark" else next(colours, PALETTE[0])
        line: dict[str, Any] = {"color": colour, "width": 1.5 if s.kind == "benchmark" else 2}
        if s.kind == "benchmark":
            line["type"] = "dashed"
        series.append({
            "name": s.name, "type": "line", "showSymbol": False, "lineStyle": line, "itemStyle": {"color": colour},
            "data": [[f"{day:%Y-%m-%d}", round(value, 2)] for day, value in curve_points(s.growth)],
        })  # fmt: skip
    return {
        "animation": False,
        "title": {"text": "Growth of 100 (time-weighted)", "left": 8, "top": 4,
                  "textStyle": {"fontSize": 13, "color": AXIS_COLOR}},
        "tooltip": {"trigger": "axis"},
        "legend": {"right": 8, "top": 4},
        "grid": {"left": 56, "right": 16, "top": 40, "bottom": 32},
        "xAxis": {"type": "time", "axisLine": {"lineStyle": {"color": AXIS_COLOR}}},
        "yAxis": {"type": "value", "scale": True, "axisLine": {"lineStyle": {"color": AXIS_COLOR}},
                  "splitLine": {"lineStyle": {"color": GRID_LINE}}},
        "series": series,
    }  # fmt: skip
