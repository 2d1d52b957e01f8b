"""ECharts options for the desk's charts, built from bar frames. Pure: frames in, JSON-able dicts out.

ECharts ships inside NiceGUI (`ui.echart`), so nothing is loaded from a CDN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from marketdesk.marketdata.port import BAR_COLUMNS

UP_COLOR = "#16a34a"
DOWN_COLOR = "#dc2626"
AXIS_COLOR = "#8a8f98"
GRID_LINE = "rgba(138, 143, 152, 0.18)"


@dataclass(frozen=True, slots=True)
class ChartRange:
    """A range button: its label and how far back it reaches (None: all the history held)."""

    label: str
    days: int | None

    def start(self, end: date, first: date | None) -> date:
        """The first day to ask for, ending at `end`; `first` is the oldest bar held (for Max)."""
        if self.days is None:
            return first or end - timedelta(days=365 * 40)
        return end - timedelta(days=self.days)


RANGES: tuple[ChartRange, ...] = (
    ChartRange("3M", 92),
    ChartRange("6M", 183),
    ChartRange("1Y", 366),
    ChartRange("5Y", 365 * 5 + 2),
    ChartRange("Max", None),
)
DEFAULT_RANGE = "1Y"


def range_named(label: str) -> ChartRange:
    """The range with this label; `ValueError` naming the valid ones otherwise."""
    for candidate in RANGES:
        if candidate.label == label:
            return candidate
    raise ValueError(f"no chart range {label!r}; use one of {', '.join(r.label for r in RANGES)}")


def _rounded(values: np.ndarray, decimals: int = 4) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), decimals) for v in values]


def adjusted_ohlc(bars: pd.DataFrame) -> pd.DataFrame:
    """OHLC scaled by adj_close / close, so splits and dividends do not show as gaps in the candles.

    The latest bar keeps its traded prices (its factor is 1); volume is left as traded.
    """
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise ValueError(f"bar frame lacks columns {missing}")
    close = bars["close"].to_numpy(dtype=float)
    adjusted = bars["adj_close"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where((close > 0) & np.isfinite(adjusted), adjusted / close, 1.0)
    out = bars.copy()
    for column in ("open", "high", "low", "close"):
        out[column] = bars[column].to_numpy(dtype=float) * factor
    return out


def candlestick_options(bars: pd.DataFrame, symbol: str, *, simulated: bool) -> dict[str, Any]:
    """A candlestick chart over a volume histogram, sharing one zoomable date axis.

    Candles are [open, close, low, high] per day (ECharts' order); volume bars are coloured by the day's
    direction through a visual map on the third value of each volume point.
    """
    frame = adjusted_ohlc(bars)
    dates = [ts.strftime("%Y-%m-%d") for ts in frame.index]
    opens = _rounded(frame["open"].to_numpy(dtype=float))
    closes = _rounded(frame["close"].to_numpy(dtype=float))
    lows = _rounded(frame["low"].to_numpy(dtype=float))
    highs = _rounded(frame["high"].to_numpy(dtype=float))
    volumes = frame["volume"].to_numpy(dtype=float)
    candles = [[o, c, lo, hi] for o, c, lo, hi in zip(opens, closes, lows, highs, strict=True)]
    volume_points = [
        [index, None if not np.isfinite(v) else float(v), 1 if (c or 0) >= (o or 0) else -1]
        for index, (v, o, c) in enumerate(zip(volumes, opens, closes, strict=True))
    ]
    axis_label = {"color": AXIS_COLOR}
    split_line = {"show": True, "lineStyle": {"color": GRID_LINE}}
    title = f"{symbol} · daily, adjusted" + (" · SIMULATED" if simulated else "")
    return {
        "animation": False,
        "backgroundColor": "transparent",
        "title": {"text": title, "left": 8, "top": 4, "textStyle": {"fontSize": 12, "color": AXIS_COLOR}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "cross"}, "confine": True},
        "axisPointer": {"link": [{"xAxisIndex": "all"}]},
        "grid": [
            {"left": 64, "right": 24, "top": 32, "height": "58%"},
            {"left": 64, "right": 24, "top": "76%", "height": "14%"},
        ],
        "xAxis": [
            {
                "type": "category",
                "data": dates,
                "boundaryGap": True,
                "axisLine": {"lineStyle": {"color": AXIS_COLOR}},
                "axisLabel": axis_label,
                "min": "dataMin",
                "max": "dataMax",
            },
            {
                "type": "category",
                "gridIndex": 1,
                "data": dates,
                "boundaryGap": True,
                "axisLabel": {"show": False},
                "axisTick": {"show": False},
                "axisLine": {"lineStyle": {"color": AXIS_COLOR}},
                "min": "dataMin",
                "max": "dataMax",
            },
        ],
        "yAxis": [
            {"scale": True, "axisLabel": axis_label, "splitLine": split_line},
            {
                "scale": True,
                "gridIndex": 1,
                "splitNumber": 2,
                "axisLabel": {"show": False},
                "axisLine": {"show": False},
                "axisTick": {"show": False},
                "splitLine": {"show": False},
            },
        ],
        "dataZoom": [{"type": "inside", "xAxisIndex": [0, 1], "start": 0, "end": 100}],
        "visualMap": {
            "show": False,
            "seriesIndex": 1,
            "dimension": 2,
            "pieces": [{"value": 1, "color": UP_COLOR}, {"value": -1, "color": DOWN_COLOR}],
        },
        "series": [
            {
                "name": symbol,
                "type": "candlestick",
                "data": candles,
                "itemStyle": {
                    "color": UP_COLOR,
                    "color0": DOWN_COLOR,
                    "borderColor": UP_COLOR,
                    "borderColor0": DOWN_COLOR,
                },
            },
            {
                "name": "Volume",
                "type": "bar",
                "xAxisIndex": 1,
                "yAxisIndex": 1,
                "data": volume_points,
                "large": True,
            },
        ],
    }
