"""The candlestick chart's options and the range buttons."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from marketdesk.web.charts import RANGES, adjusted_ohlc, candlestick_options, range_named


def bars(closes: list[float], adjusted: list[float] | None = None) -> pd.DataFrame:
    days = pd.bdate_range("2026-01-05", periods=len(closes), name="date")
    close = np.array(closes)
    frame = pd.DataFrame(
        {
            "open": close - 1,
            "high": close + 2,
            "low": close - 2,
            "close": close,
            "adj_close": np.array(adjusted if adjusted is not None else closes),
            "volume": np.arange(1, len(closes) + 1) * 1000.0,
        },
        index=days,
    )
    return frame


def test_candles_are_open_close_low_high_with_volume_coloured_by_direction() -> None:
    options = candlestick_options(bars([10.0, 9.0, 12.0]), "ABC", simulated=False)
    candle, volume = options["series"]
    assert candle["type"] == "candlestick"
    assert candle["data"][0] == [9.0, 10.0, 8.0, 12.0]
    assert options["xAxis"][0]["data"] == ["2026-01-05", "2026-01-06", "2026-01-07"]
    assert volume["data"] == [[0, 1000.0, 1], [1, 2000.0, 1], [2, 3000.0, 1]]
    assert "SIMULATED" not in options["title"]["text"]


def test_down_day_volume_is_marked_down_and_simulated_title_says_so() -> None:
    frame = bars([10.0, 11.0])
    frame.loc[frame.index[1], "open"] = 12.0  # opened above its close: a down candle
    options = candlestick_options(frame, "ABC", simulated=True)
    assert options["series"][1]["data"][1][2] == -1
    assert options["title"]["text"].endswith("SIMULATED")


def test_adjustment_scales_old_candles_and_keeps_the_latest_as_traded() -> None:
    # a 2-for-1 split between the two days: raw closes 200 then 100, adjusted 100 then 100
    adjusted = adjusted_ohlc(bars([200.0, 100.0], adjusted=[100.0, 100.0]))
    assert adjusted["close"].tolist() == [100.0, 100.0]
    assert adjusted["high"].iloc[0] == pytest.approx(101.0)
    assert adjusted["open"].iloc[1] == 99.0
    assert adjusted["volume"].tolist() == [1000.0, 2000.0]


def test_missing_volume_becomes_null_not_nan() -> None:
    frame = bars([10.0, 11.0])
    frame.loc[frame.index[0], "volume"] = np.nan
    assert candlestick_options(frame, "ABC", simulated=False)["series"][1]["data"][0][1] is None


def test_bar_frame_without_adjusted_close_is_refused() -> None:
    with pytest.raises(ValueError, match="adj_close"):
        adjusted_ohlc(bars([1.0]).drop(columns=["adj_close"]))


def test_ranges_reach_back_from_the_end_and_max_starts_at_the_first_bar() -> None:
    end = date(2026, 11, 20)
    assert [r.label for r in RANGES] == ["3M", "6M", "1Y", "5Y", "Max"]
    assert range_named("3M").start(end, None) == date(2026, 8, 20)
    assert range_named("1Y").start(end, None) == date(2025, 11, 19)
    assert range_named("Max").start(end, date(2001, 1, 2)) == date(2001, 1, 2)
    with pytest.raises(ValueError, match="3M, 6M, 1Y, 5Y, Max"):
        range_named("2W")
