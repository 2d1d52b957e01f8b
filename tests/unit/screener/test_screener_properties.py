"""Invariants of the screen (hypothesis), presets on one universe, and the simulated market end to end."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from marketdesk.kit.jsonutil import dumps
from marketdesk.screener.catalog import METRIC_NAMES
from marketdesk.screener.config import PRESETS, ScoringConfig, resolve
from marketdesk.screener.engine import ScreenResult, screen
from marketdesk.screener.model import RegimeState

CLASSES = ("equity", "etf", "bond", "index")
_VALUES = st.one_of(
    st.just(math.nan),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.floats(-1e13, 1e14, allow_nan=False),
    st.sampled_from([math.inf, -math.inf]),
    st.sampled_from([0.0, 1.0, 2.0, 4.0, 0.15, 5.0, 3e8, 1e6, 30.0, 70.0]),
)


@st.composite
def universes(draw: st.DrawFn) -> tuple[pd.DataFrame, list[str], ScoringConfig]:
    n = draw(st.integers(1, 12))
    values = draw(hnp.arrays(np.float64, (n, len(METRIC_NAMES)), elements=_VALUES))
    classes = draw(st.lists(st.sampled_from(CLASSES), min_size=n, max_size=n))
    preset = draw(st.sampled_from(sorted(PRESETS)))
    regime = draw(st.sampled_from([None, *RegimeState]))
    frame = pd.DataFrame(values, columns=list(METRIC_NAMES), index=[f"S{i}" for i in range(n)])
    return frame, classes, resolve(preset, regime)


def _check_invariants(result: ScreenResult) -> None:
    table = result.table
    scored = table["score"].notna()
    assert table.loc[scored, "score"].between(0.0, 10.0).all()
    # every row gets a verdict or a stated reason
    assert (table["verdict"].notna() | table["no_score"].notna()).all()
    assert table.loc[~scored, "no_score"].map(lambda s: isinstance(s, str) and s.startswith("No score")).all()
    # a name that fails a gate is never above Hold; an avoid gate makes it Avoid
    assert (table.loc[table["failed_gates"] > 0, "verdict_rank"] <= 1).all()
    avoid = result.evaluation.gates.avoid_failed
    assert (table["verdict_rank"].to_numpy()[avoid] == 0).all()
    assert (table["scoring_version"] == result.version).all()
    assert (table["preset"] == result.preset).all()


@settings(max_examples=60, deadline=None)
@given(universes())
def test_scores_stay_in_range_and_gates_cap_verdicts(universe: tuple[pd.DataFrame, list[str], ScoringConfig]) -> None:
    frame, classes, config = universe
    _check_invariants(screen(frame, asset_class=classes, config=config))


@settings(max_examples=30, deadline=None)
@given(universes(), st.randoms(use_true_random=False))
def test_same_inputs_give_the_same_verdicts_in_any_row_order(
    universe: tuple[pd.DataFrame, list[str], ScoringConfig], random: object
) -> None:
    frame, classes, config = universe
    first = screen(frame, asset_class=classes, config=config).table
    again = screen(frame, asset_class=classes, config=config).table
    pd.testing.assert_frame_equal(first, again)
    order = list(range(len(frame)))
    random.shuffle(order)  # type: ignore[attr-defined]
    shuffled = screen(frame.iloc[order], asset_class=[classes[i] for i in order], config=config).table
    columns = ["verdict_rank", "score", "failed_gates", "flags"]
    pd.testing.assert_frame_equal(shuffled.loc[first.index, columns], first[columns], check_categorical=False)


@settings(max_examples=25, deadline=None)
@given(universes())
def test_every_row_serialises_and_explains(universe: tuple[pd.DataFrame, list[str], ScoringConfig]) -> None:
    frame, classes, config = universe
    result = screen(frame, asset_class=classes, config=config)
    rows = list(result.rows(selected_only=False))
    assert len(rows) == len(frame)
    json.loads(dumps(rows))  # never NaN or inf in JSON
    for row in rows:
        explanation = result.explain(row["symbol"])
        assert explanation.verdict == row["verdict"]
        assert explanation.plain_text()
        assert explanation.pro_text()
        json.loads(dumps(explanation.to_dict()))
        json.loads(dumps(result.sensitivity(row["symbol"]).to_dict()))


# ---------------------------------------------------------------------------------- presets on one universe


def synthetic_universe(n: int = 300, seed: int = 11) -> pd.DataFrame:
    """Equities with plausible, independent metrics (5% missing), reproducible from `seed`."""
    g = np.random.default_rng(seed)
    columns = {
        "pe": g.lognormal(np.log(18), 0.5, n), "pb": g.lognormal(np.log(3), 0.6, n),
        "ps": g.lognormal(np.log(3), 0.7, n), "ev_ebitda": g.lognormal(np.log(12), 0.5, n),
        "earnings_yield": g.normal(0.05, 0.04, n), "fcf_yield": g.normal(0.04, 0.04, n),
        "dividend_yield": np.abs(g.normal(0.015, 0.015, n)), "roe": g.normal(0.12, 0.1, n),
        "roa": g.normal(0.05, 0.05, n), "gross_margin": g.uniform(0.1, 0.8, n), "operating_margin": g.normal(0.12, 0.1, n),
        "fcf_margin": g.normal(0.08, 0.1, n), "debt_to_equity": g.lognormal(np.log(0.8), 0.8, n),
        "current_ratio": g.lognormal(np.log(1.5), 0.4, n), "interest_coverage": g.lognormal(np.log(8), 0.9, n),
        "earnings_stability": g.uniform(0, 1, n), "fcf_negative_years": g.choice([0, 0, 0, 1, 2, 3], n).astype(float),
        "total_equity": g.normal(5e9, 4e9, n), "revenue_growth": g.normal(0.06, 0.1, n), "eps_growth": g.normal(0.08, 0.2, n),
        "return_1m_pct": g.normal(1, 6, n), "return_3m_pct": g.normal(2, 10, n), "return_6m_pct": g.normal(4, 15, n),
        "return_12m_pct": g.normal(8, 25, n), "dip_pct": np.abs(g.normal(8, 8, n)), "above_ma50_pct": g.normal(1, 6, n),
        "above_ma200_pct": g.normal(3, 10, n), "rsi14": g.uniform(20, 80, n), "volatility_pct": g.uniform(12, 70, n),
        "beta": g.normal(1, 0.4, n), "max_drawdown_pct": g.uniform(5, 60, n), "price": g.uniform(5, 500, n),
        "market_cap": g.lognormal(np.log(2e10), 1.5, n), "avg_dollar_volume": g.lognormal(np.log(5e7), 1.5, n),
    }  # fmt: skip
    frame = pd.DataFrame(columns, index=[f"S{i:04d}" for i in range(n)])
    return frame.mask(g.random(frame.shape) < 0.05)


def _top(preset: str, n: int = 10) -> list[str]:
    return list(screen(synthetic_universe(), config=resolve(preset)).view(limit=n).index)


def test_presets_give_different_top_lists_on_the_same_universe() -> None:
    tops = {preset: _top(preset) for preset in PRESETS}
    assert all(len(top) == 10 for top in tops.values())
    names = list(tops)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert tops[a] != tops[b], (a, b)
    assert set(tops["momentum"]) != set(tops["value"])
    assert len(set(tops["momentum"]) & set(tops["value"])) < 8


def test_presets_pick_what_they_promise() -> None:
    frame = synthetic_universe()
    dips = screen(frame, config=resolve("dip-opportunity")).view()
    assert (dips["dip_pct"] >= 5).all()
    value = screen(frame, config=resolve("value")).view(limit=10)
    balanced = screen(frame, config=resolve("balanced")).view(limit=10)
    assert value["pe"].median() < balanced["pe"].median()
    momentum = screen(frame, config=resolve("momentum")).view(limit=10)
    assert momentum["return_12m_pct"].median() > balanced["return_12m_pct"].median()
    assert (momentum["above_ma200_pct"] > 0).all()
    traps = screen(frame, config=resolve("value-trap")).view()
    assert (traps["valuation_score"] >= 6).all()
    buys = traps[traps["verdict_rank"] >= 2]
    assert not (buys["eps_growth"] < -0.1).any()  # falling earnings are marked Avoid
    assert not (buys["fcf_yield"] < 0).any()
    garp = screen(frame, config=resolve("growth-at-fair-price")).view()
    assert ((garp["revenue_growth"] >= 0.05) & (garp["pe"] <= 30)).all()


def test_risk_off_gives_fewer_buys_than_risk_on() -> None:
    frame = synthetic_universe()
    off = screen(frame, config=resolve(None, RegimeState.RISK_OFF)).table
    on = screen(frame, config=resolve(None, RegimeState.RISK_ON)).table
    assert (off["verdict_rank"] >= 2).sum() < (on["verdict_rank"] >= 2).sum()


# --------------------------------------------------------------------------------------- the simulated market


@pytest.fixture(scope="module")
def sim_screen() -> ScreenResult:
    metrics_module = pytest.importorskip("marketdesk.screener.metrics")
    from marketdesk.clock import SimClock
    from marketdesk.marketdata.sim import SimMarketData
    from marketdesk.screener.universe import universe_from_sim

    sim = SimMarketData(SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC)), n_symbols=60, history_years=2)
    universe = universe_from_sim(sim)
    metrics = metrics_module.compute_metrics(universe)
    return screen(metrics, asset_class=universe.asset_class, sector=universe.sector)


def test_the_simulated_market_screens_with_every_row_judged(sim_screen: ScreenResult) -> None:
    table = sim_screen.table
    assert set(table["asset_class"]) >= {"equity", "etf", "bond"}
    _check_invariants(sim_screen)
    judged = table["verdict"].notna() | table["no_score"].notna()
    assert judged.all()
    json.loads(dumps(list(sim_screen.rows(selected_only=False))))


def test_the_sims_weak_balance_sheets_fail_their_gates(sim_screen: ScreenResult) -> None:
    table = sim_screen.table
    equities = table[table["asset_class"] == "equity"]
    negative_equity = equities[equities["total_equity"] < 0]
    leveraged = equities[equities["debt_to_equity"] > 4]
    burning = equities[equities["fcf_negative_years"] >= 2]
    assert len(negative_equity) + len(leveraged) + len(burning) > 0
    assert (negative_equity["verdict"] == "Avoid").all()
    assert (leveraged["verdict_rank"] <= 1).all()
    assert (burning["verdict_rank"] <= 1).all()
    for symbol in negative_equity.index:
        assert "negative equity" in sim_screen.flags(symbol)


def test_every_preset_runs_on_the_simulated_market(sim_screen: ScreenResult) -> None:
    metrics = sim_screen.table[list(METRIC_NAMES)]
    classes = sim_screen.table["asset_class"].astype(str).to_numpy()
    for preset in PRESETS:
        result = screen(metrics, asset_class=classes, config=resolve(preset, "risk-off"))
        _check_invariants(result)
        symbol = str(result.view(selected_only=False).index[0])
        assert result.explain(symbol).pro_text()
        assert result.sensitivity(symbol).items
