"""Daily prices of the simulated market: the window, determinism, sound bars and plausible statistics."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from marketdesk.clock import SimClock
from marketdesk.errors import Rejected, UnknownSymbol
from marketdesk.marketdata.barstore import LONG_COLUMNS
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.marketdata.port import BAR_COLUMNS, TREASURY_TENORS, AssetClass, validate_bars
from marketdesk.marketdata.sim import SIM_BENCHMARK, SimMarketData
from marketdesk.marketdata.sim.factors import build_market_series, build_timeline

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday, 10:00 in New York


@pytest.fixture(scope="module")
def sim() -> SimMarketData:
    return SimMarketData(SimClock(NOW), seed=7, n_symbols=60, history_years=3)


@pytest.fixture(scope="module")
def history(sim: SimMarketData) -> pd.DataFrame:
    return sim.history_frame()


@pytest.fixture(scope="module")
def long_sim() -> SimMarketData:
    """Ten years of a small universe, for statistics that need many days."""
    return SimMarketData(SimClock(NOW), seed=7, n_symbols=60, history_years=10)


def _returns(sim: SimMarketData) -> tuple[pd.DataFrame, dict[str, str | None], list[str]]:
    frame = sim.history_frame()
    adjusted = frame.pivot(index="date", columns="symbol", values="adj_close")
    infos = {i.symbol: i for i in sim.symbols()}
    equities = [s for s, i in infos.items() if i.asset_class is AssetClass.EQUITY]
    returns = pd.DataFrame(np.log(adjusted)).diff().iloc[1:]
    return returns, {s: i.sector for s, i in infos.items()}, equities


def test_history_ends_at_the_last_session_before_the_clock_date(sim: SimMarketData) -> None:
    bars = sim.bars(SIM_BENCHMARK, date(2000, 1, 1), date(2030, 1, 1))
    assert bars.index[-1] == pd.Timestamp("2026-11-19")
    assert sim.history_end() == date(2026, 11, 19)
    assert bars.index[0] >= pd.Timestamp("2023-11-20")
    assert bars.index[0] <= pd.Timestamp("2023-11-24")


def test_sessions_follow_the_xnys_calendar(sim: SimMarketData) -> None:
    bars = sim.bars("UST10Y", date(2024, 1, 1), date(2024, 12, 31))
    expected = ExchangeCalendar().sessions(date(2024, 1, 1), date(2024, 12, 31))
    assert [d.date() for d in bars.index] == expected
    assert pd.Timestamp("2024-07-04") not in bars.index and pd.Timestamp("2024-12-25") not in bars.index


def test_bar_frames_have_the_port_format(sim: SimMarketData) -> None:
    sessions = len(ExchangeCalendar().sessions(date(2025, 1, 1), date(2025, 6, 30)))
    for info in sim.symbols():
        bars = sim.bars(info.symbol, date(2025, 1, 1), date(2025, 6, 30))
        assert tuple(bars.columns) == BAR_COLUMNS
        assert validate_bars(bars) == [], info.symbol
        assert isinstance(bars.index, pd.DatetimeIndex)
        assert bars.index.name == "date" and bars.index.tz is None
        assert len(bars) == sessions


def test_every_bar_is_ohlc_consistent_positive_and_traded(history: pd.DataFrame) -> None:
    assert tuple(history.columns) == LONG_COLUMNS
    low, high = history["low"], history["high"]
    assert (low <= history[["open", "close"]].min(axis=1)).all()
    assert (high >= history[["open", "close"]].max(axis=1)).all()
    assert (history[["open", "high", "low", "close", "adj_close"]] > 0).all().all()
    assert (history["volume"] > 0).all()
    assert (history["volume"] == history["volume"].round()).all()


def test_history_frame_is_sorted_and_matches_bars(sim: SimMarketData, history: pd.DataFrame) -> None:
    symbols = history["symbol"].astype(str)
    assert symbols.is_monotonic_increasing
    assert set(symbols) == {i.symbol for i in sim.symbols()}
    one = history[symbols == SIM_BENCHMARK].set_index("date")[list(BAR_COLUMNS)]
    bars = sim.bars(SIM_BENCHMARK, date(2000, 1, 1), date(2030, 1, 1))
    np.testing.assert_allclose(one.to_numpy(), bars.to_numpy(), rtol=1e-12)


def test_same_seed_gives_identical_history_and_another_seed_differs(history: pd.DataFrame) -> None:
    again = SimMarketData(SimClock(NOW), seed=7, n_symbols=60, history_years=3).history_frame()
    pd.testing.assert_frame_equal(history, again)
    other = SimMarketData(SimClock(NOW), seed=8, n_symbols=60, history_years=3)
    theirs = other.bars(SIM_BENCHMARK, date(2025, 1, 1), date(2025, 12, 31))["close"].to_numpy()
    mine = history[history["symbol"] == SIM_BENCHMARK]
    ours = mine.loc[mine["date"].dt.year == 2025, "close"].to_numpy()
    assert not np.allclose(ours, theirs)


def test_past_prices_do_not_change_when_the_clock_or_the_window_moves(sim: SimMarketData) -> None:
    later = SimMarketData(SimClock(datetime(2027, 3, 2, 15, tzinfo=UTC)), seed=7, n_symbols=60, history_years=2)
    raw = ["open", "high", "low", "close", "volume"]
    for info in sim.symbols()[:20]:
        ours = sim.bars(info.symbol, date(2025, 6, 1), date(2026, 11, 19))[raw]
        theirs = later.bars(info.symbol, date(2025, 6, 1), date(2026, 11, 19))[raw]
        pd.testing.assert_frame_equal(ours, theirs)


def test_history_grows_as_the_clock_moves_on() -> None:
    clock = SimClock(NOW)
    sim = SimMarketData(clock, seed=7, n_symbols=11, history_years=1)
    before = sim.bars(SIM_BENCHMARK, date(2026, 1, 1), date(2027, 12, 31))
    clock.set(datetime(2027, 1, 6, 15, tzinfo=UTC))  # across a year boundary
    after = sim.bars(SIM_BENCHMARK, date(2026, 1, 1), date(2027, 12, 31))
    assert after.index[-1] == pd.Timestamp("2027-01-05")
    pd.testing.assert_frame_equal(
        after.loc[: before.index[-1], ["open", "high", "low", "close"]], before[["open", "high", "low", "close"]]
    )


def test_unknown_symbols_and_inverted_ranges_are_refused(sim: SimMarketData) -> None:
    with pytest.raises(UnknownSymbol):
        sim.bars("NOPE", date(2025, 1, 1), date(2025, 2, 1))
    with pytest.raises(UnknownSymbol):
        sim.quote("NOPE")
    with pytest.raises(Rejected):
        sim.bars(SIM_BENCHMARK, date(2025, 2, 1), date(2025, 1, 1))
    with pytest.raises(Rejected):
        sim.yields(date(2025, 2, 1), date(2025, 1, 1))


def test_a_range_outside_the_history_is_empty_not_an_error(sim: SimMarketData) -> None:
    assert sim.bars(SIM_BENCHMARK, date(2010, 1, 1), date(2010, 12, 31)).empty
    assert sim.bars(SIM_BENCHMARK, date(2026, 11, 20), date(2026, 12, 31)).empty, "no bar for today or later"


def test_annualized_volatility_is_plausible(long_sim: SimMarketData) -> None:
    returns, _, equities = _returns(long_sim)
    vol = returns[equities].std() * np.sqrt(252)
    assert 0.18 < vol.median() < 0.45, vol.describe()
    assert vol.min() > 0.08 and vol.max() < 1.0
    benchmark_vol = returns[SIM_BENCHMARK].std() * np.sqrt(252)
    assert 0.1 < benchmark_vol < 0.25
    assert returns["UST10Y"].std() * np.sqrt(252) < 0.15, "a 10-year treasury is calmer than stocks"


def test_stocks_correlate_more_within_a_sector_than_across(long_sim: SimMarketData) -> None:
    returns, sector_of, equities = _returns(long_sim)
    corr = np.corrcoef(returns[equities].to_numpy().T)
    sectors = np.array([sector_of[s] for s in equities])
    same = sectors[:, None] == sectors[None, :]
    off_diagonal = ~np.eye(len(equities), dtype=bool)
    within, across = corr[same & off_diagonal].mean(), corr[~same].mean()
    assert within > across + 0.08, (within, across)
    assert 0.05 < across < 0.5


def test_both_volatility_regimes_occur_and_differ(long_sim: SimMarketData) -> None:
    regimes = long_sim.regimes()
    counts = regimes.value_counts()
    assert {"calm", "turbulent"} <= set(counts.index)
    assert counts["calm"] > counts["turbulent"] >= 20
    returns, _, _ = _returns(long_sim)
    market = returns[SIM_BENCHMARK]
    labels = regimes.reindex(market.index)
    assert market[labels == "turbulent"].std() > 1.8 * market[labels == "calm"].std()


def test_betas_to_the_benchmark_are_plausible(long_sim: SimMarketData) -> None:
    returns, sector_of, equities = _returns(long_sim)
    market = returns[SIM_BENCHMARK]
    betas = returns[equities].apply(lambda r: np.cov(r, market)[0, 1] / market.var())
    assert 0.8 < betas.median() < 1.25
    assert betas.min() > 0.0 and betas.max() < 2.6
    utilities = betas[[s for s in equities if sector_of[s] == "Utilities"]]
    technology = betas[[s for s in equities if sector_of[s] == "Information Technology"]]
    assert utilities.mean() < technology.mean()


def test_overnight_gaps_happen_but_rarely(history: pd.DataFrame) -> None:
    equities = history[history["symbol"].astype(str).str.len() <= 4].copy()
    previous = equities.groupby("symbol", observed=True)["close"].shift(1)
    gap = (equities["open"] / previous - 1).abs().dropna()
    assert (gap > 0.05).mean() > 0.001, "some gaps"
    assert (gap > 0.05).mean() < 0.03, "but rare"
    assert gap.median() < 0.01


def test_yields_are_a_plausible_moving_curve(long_sim: SimMarketData) -> None:
    curve = long_sim.yields(date(2000, 1, 1), date(2030, 1, 1))
    assert list(curve.columns) == list(TREASURY_TENORS)
    assert curve.index.name == "date" and len(curve) > 2400
    assert curve.index[-1] == pd.Timestamp("2026-11-19")
    values = curve.to_numpy()
    assert (values > 0).all() and (values < 15).all()
    spread = curve["10y"] - curve["2y"]
    assert spread.mean() > 0, "upward sloping on average"
    assert curve["10y"].max() - curve["10y"].min() > 0.75, "the curve moves"


@pytest.mark.parametrize("seed", range(6))
def test_the_curve_spends_some_but_not_most_of_the_time_inverted(seed: int) -> None:
    timeline = build_timeline(2026)
    yields = build_market_series(seed, timeline).yields
    ten_two = yields[:, TREASURY_TENORS.index("10y")] - yields[:, TREASURY_TENORS.index("2y")]
    assert 0.02 < (ten_two < 0).mean() < 0.45


def test_treasury_prices_move_against_their_yields(long_sim: SimMarketData) -> None:
    curve = long_sim.yields(date(2020, 1, 1), date(2026, 12, 31))
    price = long_sim.bars("UST10Y", date(2020, 1, 1), date(2026, 12, 31))["close"]
    changes = pd.concat([curve["10y"].diff(), price.pct_change()], axis=1).dropna().to_numpy()
    assert np.corrcoef(changes.T)[0, 1] < -0.9
    assert float(price.min()) > 60 and float(price.max()) < 140
