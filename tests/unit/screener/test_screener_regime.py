"""assess_regime: each signal against a hand computation, the vote cut-offs, the one-sentence reason, and
what happens when inputs are missing."""

from __future__ import annotations

import math
from dataclasses import fields
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.clock import SimClock
from marketdesk.marketdata.sim import SimMarketData
from marketdesk.screener.metrics import compute_metrics
from marketdesk.screener.model import FundamentalArrays, RegimeState, UniverseData
from marketdesk.screener.regime import assess_regime
from marketdesk.screener.universe import universe_from_sim


def _data(benchmark: np.ndarray, classes: list[str], yields: dict[str, float] | None = None) -> UniverseData:
    t, n = len(benchmark), len(classes)
    prices = np.tile(np.asarray(benchmark, dtype=float)[:, None], (1, n))
    shapes = {"eps_quarters": (n, 8), "fcf_years": (n, 3)}
    fundamentals = FundamentalArrays(
        **{f.name: np.full(shapes.get(f.name, (n,)), np.nan) for f in fields(FundamentalArrays)}
    )
    return UniverseData(
        as_of=date(2024, 6, 28),
        symbols=tuple(f"S{i}" for i in range(n)),
        asset_class=np.array(classes, dtype=object),
        sector=np.array([None] * n, dtype=object),
        industry=np.array([None] * n, dtype=object),
        dates=np.arange(t).astype("datetime64[D]"),
        close=prices,
        adj_close=prices,
        adj_high=prices,
        adj_low=prices,
        volume=np.ones((t, n)),
        benchmark_symbol="BENCH",
        benchmark=np.asarray(benchmark, dtype=float),
        fundamentals=fundamentals,
        yields=dict(yields or {}),
    )


def _metrics(data: UniverseData, above_ma200: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"above_ma200_pct": above_ma200}, index=pd.Index(data.symbols, name="symbol"))


def _path(t: int, drift: float, daily_vol: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(drift + daily_vol * rng.standard_normal(t)))


def _hand_signals(benchmark: np.ndarray) -> tuple[float, float]:
    """Trend (% vs the 200-day average) and 20-day annualised volatility (%), by pandas."""
    series = pd.Series(benchmark)
    trend = (series.iloc[-1] / series.tail(200).mean() - 1) * 100
    volatility = series.pct_change().tail(20).std() * math.sqrt(252) * 100
    return trend, volatility


def test_a_rising_calm_broad_market_is_risk_on() -> None:
    bench = _path(300, 0.001, 0.003)
    classes = ["equity"] * 20
    data = _data(bench, classes, {"2y": 4.0, "10y": 4.5})
    regime = assess_regime(data, _metrics(data, [5.0] * 15 + [-5.0] * 5))
    trend, volatility = _hand_signals(bench)
    by_name = {s.name: s for s in regime.signals}
    assert by_name["trend"].value == pytest.approx(trend, rel=1e-12) and by_name["trend"].vote == 1
    assert by_name["volatility"].value == pytest.approx(volatility, rel=1e-9) and by_name["volatility"].vote == 1
    assert by_name["breadth"].value == 75.0 and by_name["breadth"].vote == 1
    assert by_name["yield_curve"].value == pytest.approx(0.5) and by_name["yield_curve"].vote == 0
    assert regime.state is RegimeState.RISK_ON
    assert regime.as_of == data.as_of
    assert regime.reason == (
        f"Risk-on: the benchmark is {trend:.0f}% above its 200-day average, 75% of stocks are above theirs "
        f"and volatility is calm ({volatility:.0f}% annualised)."
    )


def test_a_falling_stressed_market_with_an_inverted_curve_is_risk_off() -> None:
    bench = np.concatenate([_path(240, 0.0005, 0.01), _path(60, -0.004, 0.03, seed=2)[:] * 1.0])
    bench[240:] *= bench[239] / bench[240]  # join the two legs
    data = _data(bench, ["equity"] * 10 + ["etf"] * 5, {"2y": 4.9, "10y": 4.4, "3m": 5.3})
    breadth = [5.0] * 3 + [-2.0] * 7 + [10.0] * 5  # the ETFs do not count
    regime = assess_regime(data, _metrics(data, breadth))
    trend, volatility = _hand_signals(bench)
    assert trend < -1 and volatility > 25
    assert regime.state is RegimeState.RISK_OFF
    assert [s.vote for s in regime.signals] == [-1, -1, -1, -1]
    assert regime.reason == (
        f"Risk-off: the benchmark is {-trend:.0f}% below its 200-day average, only 30% of stocks are above theirs, "
        f"volatility is stressed ({volatility:.0f}% annualised) and the yield curve is inverted "
        "(10y − 2y = -0.50 points)."
    )


def test_missing_inputs_vote_zero_and_the_reason_says_so() -> None:
    bench = _path(150, 0.0, 0.012)  # too short for a 200-day average
    data = _data(bench, ["equity"] * 5)  # too few stocks for breadth; no curve
    regime = assess_regime(data, _metrics(data, [1.0] * 5))
    by_name = {s.name: s for s in regime.signals}
    for name in ("trend", "breadth", "yield_curve"):
        assert by_name[name].value is None and by_name[name].vote == 0
        assert "unknown" in by_name[name].text
    assert by_name["volatility"].value is not None
    assert regime.state is RegimeState.NEUTRAL
    assert regime.reason.startswith("Neutral: ")
    assert regime.reason.endswith("(trend, breadth and yield curve unknown).")


def test_no_inputs_at_all_is_neutral_and_says_nothing_could_be_measured() -> None:
    data = _data(np.full(0, np.nan), [])
    regime = assess_regime(data, pd.DataFrame({"above_ma200_pct": []}))
    assert regime.state is RegimeState.NEUTRAL
    assert regime.reason == (
        "Neutral: no signal could be measured (trend, breadth, volatility and yield curve unknown)."
    )


def test_breadth_without_the_metric_column_is_unknown() -> None:
    data = _data(_path(300, 0.001, 0.003), ["equity"] * 12)
    regime = assess_regime(data, pd.DataFrame(index=pd.Index(data.symbols, name="symbol")))
    assert regime.signals[1].value is None and "unknown" in regime.signals[1].text


def test_mixed_signals_are_neutral_and_name_both_sides() -> None:
    bench = 100.0 * np.exp(0.002 * np.arange(300))  # far above its 200-day average …
    bench[-21:] *= np.cumprod(np.tile([1.03, 0.975], 11)[:21])  # … but swinging 3 % a day
    data = _data(bench, ["equity"] * 10, {"2y": 4.0, "10y": 4.2})
    regime = assess_regime(data, _metrics(data, [1.0] * 5 + [-1.0] * 5))
    assert [s.vote for s in regime.signals] == [1, 0, -1, 0]
    assert regime.state is RegimeState.NEUTRAL
    assert regime.reason.startswith("Neutral: signals are mixed: the benchmark is ")
    assert ", but volatility is stressed" in regime.reason


def test_a_single_leaning_signal_is_not_enough() -> None:
    bench = 100.0 * np.ones(300)
    bench[-20:] *= np.cumprod(np.tile([1.012, 1 / 1.012], 10))  # ±1.2 % a day (normal volatility), ending flat
    data = _data(bench, ["equity"] * 10, {"2y": 4.0, "10y": 3.0})
    regime = assess_regime(data, _metrics(data, [1.0] * 5 + [-1.0] * 5))
    assert [s.vote for s in regime.signals] == [0, 0, 0, -1]
    assert regime.state is RegimeState.NEUTRAL
    assert regime.reason == (
        "Neutral: the yield curve is inverted (10y − 2y = -1.00 points), but that alone is not enough to call it "
        "risk-off."
    )


@pytest.mark.parametrize(("share_above", "vote"), [(60.0, 1), (59.0, 0), (41.0, 0), (40.0, -1)])
def test_breadth_cut_offs(share_above: float, vote: int) -> None:
    data = _data(_path(300, 0.0, 0.01), ["equity"] * 100)
    above = int(share_above)
    regime = assess_regime(data, _metrics(data, [1.0] * above + [-1.0] * (100 - above)))
    assert regime.signals[1].value == share_above and regime.signals[1].vote == vote


def test_the_simulated_market_gets_a_regime_with_every_signal(clock: SimClock) -> None:
    data = universe_from_sim(SimMarketData(clock, seed=5, n_symbols=40, history_years=2))
    regime = assess_regime(data, compute_metrics(data))
    assert all(s.value is not None for s in regime.signals)
    assert regime.reason.split(":")[0] in {"Risk-on", "Neutral", "Risk-off"}


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    t=st.sampled_from([0, 5, 25, 199, 200, 300]),
    drift=st.floats(-0.005, 0.005),
    daily_vol=st.floats(0.0, 0.04),
    breadth=st.lists(st.floats(-50, 50) | st.just(float("nan")), min_size=0, max_size=30),
    curve=st.sampled_from([{}, {"2y": 4.0, "10y": 3.0}, {"2y": 3.0, "10y": 4.0}, {"10y": 4.0}]),
)
def test_the_state_always_follows_the_votes(
    seed: int, t: int, drift: float, daily_vol: float, breadth: list[float], curve: dict[str, float]
) -> None:
    data = _data(_path(t, drift, daily_vol, seed), ["equity"] * len(breadth), curve)
    regime = assess_regime(data, _metrics(data, breadth))
    total = sum(s.vote for s in regime.signals)
    expected = RegimeState.RISK_ON if total >= 2 else RegimeState.RISK_OFF if total <= -2 else RegimeState.NEUTRAL
    assert regime.state is expected
    assert all(s.vote in (-1, 0, 1) for s in regime.signals)
    assert all(s.vote == 0 for s in regime.signals if s.value is None)
    assert regime.reason.endswith(".") and ". " not in regime.reason  # one sentence
    deciding = [s for s in regime.signals if s.vote != 0 and (s.vote > 0) == (total > 0)]
    if regime.state is not RegimeState.NEUTRAL:
        for signal in deciding:
            assert signal.text.replace("their 200-day average", "") in regime.reason.replace("theirs", "")
