"""The analytics page's series and charts, pure: a portfolio's daily snapshots in, daily returns, the equity curve
against a benchmark, the underwater curve, a monthly-returns table and ECharts options out.

Daily returns are time-weighted: each day's flows count at the start of the day (`value / (previous + flow) − 1`,
see `marketdesk.portfolio.returns.daily_returns`), so deposits and withdrawals do not show as gains or losses.

>>> days = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
>>> daily_portfolio_returns(days, [100.0, 110.0, 99.0], [100.0, 0.0, 0.0]).round(4).tolist()
[0.0, 0.1, -0.1]
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from marketdesk.analytics import underwater
from marketdesk.portfolio.returns import daily_returns
from marketdesk.web.charts import AXIS_COLOR, DOWN_COLOR, GRID_LINE, UP_COLOR

PORTFOLIO_COLOR = "#2563eb"
BENCHMARK_COLOR = "#8a8f98"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def daily_portfolio_returns(days: Sequence[date], values: Sequence[float], flows: Sequence[float]) -> pd.Series:
    """Each day's time-weighted return from end-of-day values and start-of-day external flows."""
    index = pd.DatetimeIndex(pd.to_datetime(list(days)), name="date")
    returns = daily_returns(np.asarray(values, dtype=float), np.asarray(flows, dtype=float))
    return pd.Series(returns, index=index, name="return")


def in_range(series: pd.Series, start: date | None, end: date | None) -> pd.Series:
    """The part of a dated series from `start` to `end` (both included; None: open)."""
    mask = np.ones(len(series), dtype=bool)
    if start is not None:
        mask &= series.index >= pd.Timestamp(start)
    if end is not None:
        mask &= series.index <= pd.Timestamp(end)
    return series[mask]


def returns_from_closes(days: np.ndarray, closes: np.ndarray) -> pd.Series:
    """Daily simple returns of a close series (the first day, and days after a missing close, are dropped)."""
    index = pd.DatetimeIndex(pd.to_datetime(days), name="date")
    prices = pd.Series(np.asarray(closes, dtype=float), index=index).dropna()
    return prices.pct_change().iloc[1:].rename("benchmark")


def aligned_benchmark(benchmark: pd.Series, returns: pd.Series) -> tuple[pd.Series, str]:
    """The benchmark's returns on the portfolio's dates: a day it did not trade (a deposit on a Saturday) counts
    as 0% for it; with a note saying how many days were filled so.

    >>> days = pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-08"])
    >>> aligned_benchmark(pd.Series([0.01, 0.02], index=days[[0, 2]]), pd.Series(0.0, index=days))[0].tolist()
    [0.01, 0.0, 0.02]
    """
    aligned = benchmark.reindex(returns.index)
    filled = int(aligned.isna().sum())
    aligned = aligned.fillna(0.0)
    note = f"{filled} day(s) without a benchmark close count as 0% for it." if filled else ""
    aligned.name = benchmark.name
    return aligned, note


def growth(returns: pd.Series, start: float = 100.0) -> pd.Series:
    """What `start` grows to, day by day, at these returns."""
    return start * (1.0 + returns.fillna(0.0)).cumprod()


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Compounded returns by month: one row per year, one column per month (NaN: no day of that month)."""
    if returns.empty:
        return pd.DataFrame(columns=list(MONTHS), dtype=float)
    index = pd.DatetimeIndex(returns.index)
    grouped = (1.0 + returns).groupby([index.year, index.month]).prod() - 1.0
    table = grouped.unstack()
    table = table.reindex(columns=range(1, 13))
    table.columns = list(MONTHS)
    table.index.name = "year"
    return table


def _underwater(returns: pd.Series) -> pd.Series:
    if len(returns) < 2:  # the analytics need two returns; one day has no drawdown to speak of
        return pd.Series(0.0, index=returns.index) if len(returns) else pd.Series(dtype=float)
    depth = underwater(returns)
    return depth if isinstance(depth, pd.Series) else depth.iloc[:, 0]


def _points(series: pd.Series, decimals: int = 4) -> list[list[Any]]:
    return [
        [f"{stamp:%Y-%m-%d}", round(float(value), decimals) if math.isfinite(float(value)) else None]
        for stamp, value in series.items()
    ]


def _base(title: str) -> dict[str, Any]:
    return {
        "animation": False,
        "title": {"text": title, "left": 8, "top": 4, "textStyle": {"fontSize": 13, "color": AXIS_COLOR}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 56, "right": 16, "top": 40, "bottom": 32},
        "xAxis": {"type": "time", "axisLine": {"lineStyle": {"color": AXIS_COLOR}}},
        "yAxis": {
            "type": "value",
            "scale": True,
            "axisLine": {"lineStyle": {"color": AXIS_COLOR}},
            "splitLine": {"lineStyle": {"color": GRID_LINE}},
        },
    }


def equity_options(portfolio: pd.Series, benchmark: pd.Series | None, benchmark_name: str | None) -> dict[str, Any]:
    """The growth of 100 in the portfolio (time-weighted) and, when given, in the benchmark."""
    options = _base("Growth of 100 (time-weighted)")
    series: list[dict[str, Any]] = [
        {"name": "Portfolio", "type": "line", "showSymbol": False, "data": _points(growth(portfolio), 2),
         "lineStyle": {"color": PORTFOLIO_COLOR, "width": 2}, "itemStyle": {"color": PORTFOLIO_COLOR}},
    ]  # fmt: skip
    if benchmark is not None and benchmark_name:
        series.append(
            {"name": benchmark_name, "type": "line", "showSymbol": False, "data": _points(growth(benchmark), 2),
             "lineStyle": {"color": BENCHMARK_COLOR, "width": 1.5}, "itemStyle": {"color": BENCHMARK_COLOR}}
        )  # fmt: skip
    options["legend"] = {"right": 8, "top": 4}
    options["series"] = series
    return options


def underwater_options(returns: pd.Series) -> dict[str, Any]:
    """The drawdown from the running peak at each day, in percent."""
    options = _base("Drawdown from the peak (%)")
    depth = _underwater(returns) * 100.0
    options["series"] = [
        {"name": "Drawdown", "type": "line", "showSymbol": False, "data": _points(depth, 2),
         "lineStyle": {"color": DOWN_COLOR, "width": 1}, "areaStyle": {"color": DOWN_COLOR, "opacity": 0.25},
         "itemStyle": {"color": DOWN_COLOR}},
    ]  # fmt: skip
    options["yAxis"]["max"] = 0
    return options


def heatmap_options(table: pd.DataFrame) -> dict[str, Any]:
    """Monthly returns in percent as a year × month heatmap (red losses, green gains)."""
    years = [str(year) for year in table.index]
    cells = []
    for row, (_, values) in enumerate(table.iterrows()):
        for column, value in enumerate(values):
            if value is not None and math.isfinite(float(value)):
                cells.append([column, row, round(float(value) * 100.0, 2)])
    limit = max((abs(c[2]) for c in cells), default=1.0) or 1.0
    return {
        "animation": False,
        "title": {"text": "Monthly returns (%)", "left": 8, "top": 4, "textStyle": {"fontSize": 13, "color": AXIS_COLOR}},
        "tooltip": {"position": "top"},
        "grid": {"left": 56, "right": 16, "top": 40, "bottom": 56},
        "xAxis": {"type": "category", "data": list(MONTHS), "splitArea": {"show": True}},
        "yAxis": {"type": "category", "data": years, "splitArea": {"show": True}},
        "visualMap": {
            "min": -limit, "max": limit, "calculable": False, "orient": "horizontal", "left": "center", "bottom": 0,
            "inRange": {"color": [DOWN_COLOR, "#f8fafc", UP_COLOR]}, "itemHeight": 120,
        },
        "series": [{"name": "Monthly return", "type": "heatmap", "data": cells, "label": {"show": True, "fontSize": 10}}],
    }  # fmt: skip


def series_csv(portfolio: pd.Series, benchmark: pd.Series | None, benchmark_name: str | None) -> str:
    """The daily series as CSV: date, the portfolio's return, growth of 100 and drawdown, and the benchmark's
    return when there is one (an empty cell where a day has no value)."""
    frame = pd.DataFrame({"return": portfolio, "growth_100": growth(portfolio)})
    frame["drawdown"] = _underwater(portfolio)
    if benchmark is not None and benchmark_name:
        frame[f"{benchmark_name.lower()}_return"] = benchmark.reindex(frame.index)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", *frame.columns])
    for stamp, row in frame.iterrows():
        writer.writerow([f"{stamp:%Y-%m-%d}", *("" if not math.isfinite(float(v)) else repr(float(v)) for v in row)])
    return buffer.getvalue()
