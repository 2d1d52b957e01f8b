"""Invariants of the simulated market that hold for any seed, session or instant (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.clock import SimClock
from marketdesk.marketdata.port import validate_bars
from marketdesk.marketdata.sim import SimMarketData
from marketdesk.marketdata.sim.intraday import SESSION_SECONDS

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SMALL = SimMarketData(SimClock(NOW), seed=5, n_symbols=11, history_years=2)
SESSIONS = SMALL.bars("SIMX", date(2025, 1, 1), date(2026, 11, 19)).index


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_any_seed_gives_sound_bars(seed: int) -> None:
    sim = SimMarketData(SimClock(NOW), seed=seed, n_symbols=11, history_years=1)
    history = sim.history_frame()
    assert (history["low"] <= history[["open", "close"]].min(axis=1)).all()
    assert (history["high"] >= history[["open", "close"]].max(axis=1)).all()
    assert (history[["open", "high", "low", "close", "adj_close", "volume"]] > 0).all().all()
    assert np.isfinite(history[["open", "high", "low", "close", "adj_close"]].to_numpy()).all()
    last = history.groupby("symbol", observed=True).tail(1)
    assert (last["adj_close"] == last["close"]).all()
    for info in sim.symbols()[:3]:
        assert validate_bars(sim.bars(info.symbol, date(2025, 1, 1), date(2026, 12, 31))) == []


@settings(max_examples=60, deadline=None)
@given(
    session=st.sampled_from(list(SESSIONS)),
    second=st.floats(min_value=0.0, max_value=SESSION_SECONDS, allow_nan=False),
)
def test_intraday_prices_stay_inside_the_daily_bar_and_repeat(session: pd.Timestamp, second: float) -> None:
    market = SMALL.market
    bars = market.bars(2024, 2026)
    skeleton = market.skeleton(2026)
    row = skeleton.timeline.row_on_or_after(session.date())
    day = market.session_bars(bars, row, session.date().toordinal())
    columns = np.arange(market.universe.size)
    prices = market.intraday.log_prices(day, second, columns)
    assert (prices >= day.log_low - 1e-12).all() and (prices <= day.log_high + 1e-12).all()
    np.testing.assert_array_equal(prices, market.intraday.log_prices(day, second, columns))
    np.testing.assert_allclose(market.intraday.log_prices(day, 0.0, columns), day.log_open, atol=1e-12)
    np.testing.assert_allclose(market.intraday.log_prices(day, SESSION_SECONDS, columns), day.log_close, atol=1e-12)
