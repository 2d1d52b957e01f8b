"""The two-stage FCF DCF: a hand computation, the growth and beta rules, every refusal, the sensitivity grid,
the vectorized table against the one-company function, and monotonicity by property tests."""

from __future__ import annotations

import math
from dataclasses import fields
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from marketdesk.clock import SimClock
from marketdesk.errors import Rejected
from marketdesk.marketdata.sim import SimMarketData
from marketdesk.screener.dcf import (
    DcfRefusal,
    DcfRefused,
    DcfResult,
    DcfSettings,
    dcf,
    dcf_for_symbol,
    dcf_margin_of_safety,
    dcf_table,
)
from marketdesk.screener.metrics import compute_metrics
from marketdesk.screener.model import FundamentalArrays, UniverseData
from marketdesk.screener.universe import universe_from_sim

NAN = float("nan")


def _hand_value(
    fcf: float, growth: float, rate: float, terminal: float, years: int, debt: float, cash: float, shares: float
) -> float:
    """Intrinsic value per share, step by step in plain Python."""
    present = 0.0
    flow = fcf
    for year in range(1, years + 1):
        flow *= 1 + growth
        present += flow / (1 + rate) ** year
    terminal_value = flow * (1 + terminal) / (rate - terminal)
    present += terminal_value / (1 + rate) ** years
    return (present - debt + cash) / shares


def _valued(**kwargs: Any) -> DcfResult:
    result = dcf(**kwargs)
    assert isinstance(result, DcfResult), result
    return result


def _refused(**kwargs: Any) -> DcfRefused:
    result = dcf(**kwargs)
    assert isinstance(result, DcfRefused), result
    return result


def test_value_matches_a_hand_computation() -> None:
    result = _valued(
        free_cash_flow=100.0,
        shares_outstanding=10.0,
        price=60.0,
        total_debt=300.0,
        cash=50.0,
        beta=1.2,
        revenue_growth=0.08,
    )
    rate = 0.04 + 1.2 * 0.055  # 0.106
    value = _hand_value(100.0, 0.08, rate, 0.025, 5, 300.0, 50.0, 10.0)
    assert result.discount_rate == pytest.approx(0.106, rel=1e-12)
    assert result.stage1_growth == 0.08
    assert result.intrinsic_value == pytest.approx(value, rel=1e-12)
    assert 100 < value < 200  # the hand figure itself: about 130 a share
    assert result.margin_of_safety == pytest.approx((value - 60.0) / value, rel=1e-12)
    assert result.projected_free_cash_flows == pytest.approx([100 * 1.08**k for k in range(1, 6)], rel=1e-12)
    assert result.terminal_value == pytest.approx(100 * 1.08**5 * 1.025 / (rate - 0.025), rel=1e-12)
    assert result.equity_value == pytest.approx(result.enterprise_value - 250.0, rel=1e-12)
    assert result.assumptions == ()


def test_settings_change_the_rate_terminal_growth_and_horizon() -> None:
    s = DcfSettings(risk_free_rate=0.03, equity_risk_premium=0.05, terminal_growth=0.02, stage1_years=10)
    result = _valued(free_cash_flow=50.0, shares_outstanding=5.0, beta=0.8, revenue_growth=0.05, settings=s)
    rate = 0.03 + 0.8 * 0.05
    assert result.intrinsic_value == pytest.approx(_hand_value(50.0, 0.05, rate, 0.02, 10, 0, 0, 5.0), rel=1e-12)
    assert len(result.projected_free_cash_flows) == 10


@pytest.mark.parametrize(
    ("revenue_growth", "stage1_growth", "expected"),
    [
        (0.40, None, 0.15),
        (-0.20, None, 0.0),
        (0.07, None, 0.07),
        (None, None, 0.025),
        (NAN, None, 0.025),
        (0.40, 0.03, 0.03),
    ],
)
def test_stage1_growth_is_revenue_growth_clipped_unless_set(
    revenue_growth: float | None, stage1_growth: float | None, expected: float
) -> None:
    result = _valued(
        free_cash_flow=10.0,
        shares_outstanding=1.0,
        beta=1.0,
        revenue_growth=revenue_growth,
        settings=DcfSettings(stage1_growth=stage1_growth),
    )
    assert result.stage1_growth == pytest.approx(expected)
    unknown = revenue_growth is None or (stage1_growth is None and math.isnan(revenue_growth))
    assert any("revenue growth unknown" in a for a in result.assumptions) == unknown


def test_unknown_beta_debt_and_cash_are_assumed_and_said() -> None:
    result = _valued(free_cash_flow=10.0, shares_outstanding=1.0, revenue_growth=0.05)
    assert result.discount_rate == pytest.approx(0.04 + 0.055)
    assert result.assumptions == (
        "beta unknown: taken as 1.0 (the market's)",
        "total debt unknown: taken as 0",
        "cash unknown: taken as 0",
    )
    assert result.margin_of_safety is None and result.price is None


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"free_cash_flow": None}, DcfRefusal.FCF_MISSING, "free cash flow is unknown"),
        ({"free_cash_flow": NAN}, DcfRefusal.FCF_MISSING, "free cash flow is unknown"),
        ({"free_cash_flow": -2.5e9}, DcfRefusal.FCF_NOT_POSITIVE, "free cash flow is negative (−$2.5B)"),
        ({"free_cash_flow": 0.0}, DcfRefusal.FCF_NOT_POSITIVE, "free cash flow is zero"),
        ({"shares_outstanding": None}, DcfRefusal.SHARES_MISSING, "shares outstanding are unknown"),
        ({"shares_outstanding": 0.0}, DcfRefusal.SHARES_MISSING, "shares outstanding are unknown"),
        ({"beta": -0.5}, DcfRefusal.RATE_NOT_ABOVE_GROWTH, "does not exceed terminal growth 2.5%"),
        ({"total_debt": 1e6}, DcfRefusal.EQUITY_NOT_POSITIVE, "net debt ($1.0M) exceeds the value"),
    ],
)
def test_refusals_carry_a_code_and_a_reason(kwargs: dict[str, Any], code: DcfRefusal, words: str) -> None:
    inputs: dict[str, Any] = {"free_cash_flow": 100.0, "shares_outstanding": 10.0, "beta": 1.0, **kwargs}
    refused = _refused(**inputs)
    assert refused.code is code
    assert words in refused.reason, refused.reason


def test_sensitivity_grid_is_centred_on_the_value_and_monotone() -> None:
    result = _valued(free_cash_flow=100.0, shares_outstanding=10.0, beta=1.0, revenue_growth=0.06)
    grid = result.sensitivity
    assert grid.discount_rates == pytest.approx([0.085, 0.09, 0.095, 0.10, 0.105])
    assert grid.terminal_growths == pytest.approx([0.015, 0.02, 0.025, 0.03, 0.035])
    values = np.array(grid.values)
    assert values.shape == (5, 5)
    assert values[2, 2] == pytest.approx(result.intrinsic_value, rel=1e-12)
    assert values[0, 4] == pytest.approx(_hand_value(100, 0.06, 0.085, 0.035, 5, 0, 0, 10), rel=1e-12)
    assert (np.diff(values, axis=0) < 0).all()  # a higher discount rate lowers the value
    assert (np.diff(values, axis=1) > 0).all()  # higher terminal growth raises it
    frame = grid.to_frame()
    assert frame.index.name == "discount_rate" and frame.columns.name == "terminal_growth"
    assert frame.shape == (5, 5)


def test_grid_cells_where_the_rate_does_not_exceed_growth_are_missing() -> None:
    s = DcfSettings(risk_free_rate=0.02, equity_risk_premium=0.01, terminal_growth=0.02, rate_steps=(0.0,))
    result = _valued(free_cash_flow=1.0, shares_outstanding=1.0, beta=1.0, settings=s)  # r = 3 %
    row = result.sensitivity.values[0]  # terminal growth 1 %, 1.5 %, 2 %, 2.5 %, 3 %
    assert all(np.isfinite(row[:4])) and math.isnan(row[4])


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"risk_free_rate": 0.5}, "risk_free_rate must be between -0.05 and 0.25"),
        ({"equity_risk_premium": -0.01}, "equity_risk_premium must be between 0 and 0.25"),
        ({"terminal_growth": 0.2}, "terminal_growth must be between -0.05 and 0.1"),
        ({"stage1_years": 0}, "stage1_years must be between 1 and 30"),
        ({"stage1_years": 2.5}, "whole number"),
        ({"stage1_growth": float("inf")}, "stage1_growth must be between"),
        ({"max_growth": -0.1}, "max_growth must be between 0 and 1"),
        ({"rate_steps": ()}, "rate_steps must be a non-empty list"),
    ],
)
def test_absurd_settings_are_rejected_with_the_allowed_range(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(Rejected, match=words.replace("(", r"\(").replace(")", r"\)")):
        DcfSettings(**changes)


# ---- the whole universe ----------------------------------------------------------------------------------------


def _universe(rows: list[dict[str, Any]]) -> tuple[UniverseData, pd.DataFrame]:
    """A universe whose metrics frame is given directly (price, beta, revenue_growth per symbol)."""
    n = len(rows)
    values: dict[str, np.ndarray] = {}
    for f in fields(FundamentalArrays):
        shape = (n, 8) if f.name == "eps_quarters" else (n, 3) if f.name == "fcf_years" else (n,)
        values[f.name] = np.full(shape, np.nan)
    for i, row in enumerate(rows):
        for key in ("free_cash_flow_ttm", "shares_outstanding", "total_debt", "cash"):
            values[key][i] = row.get(key, NAN)
    symbols = tuple(f"S{i}" for i in range(n))
    data = UniverseData(
        as_of=date(2024, 6, 28),
        symbols=symbols,
        asset_class=np.array([row.get("asset_class", "equity") for row in rows], dtype=object),
        sector=np.array([None] * n, dtype=object),
        industry=np.array([None] * n, dtype=object),
        dates=np.zeros(0, dtype="datetime64[D]"),
        close=np.zeros((0, n)),
        adj_close=np.zeros((0, n)),
        adj_high=np.zeros((0, n)),
        adj_low=np.zeros((0, n)),
        volume=np.zeros((0, n)),
        benchmark_symbol="BENCH",
        benchmark=np.zeros(0),
        fundamentals=FundamentalArrays(**values),
    )
    metrics = pd.DataFrame(
        {name: [row.get(name, NAN) for row in rows] for name in ("price", "beta", "revenue_growth")},
        index=pd.Index(symbols, name="symbol"),
    )
    return data, metrics


_ROWS: list[dict[str, Any]] = [
    {"free_cash_flow_ttm": 100.0, "shares_outstanding": 10.0, "total_debt": 300.0, "cash": 50.0, "price": 60.0,
     "beta": 1.2, "revenue_growth": 0.08},
    {"free_cash_flow_ttm": 100.0, "shares_outstanding": 10.0, "price": 60.0},  # beta, growth, debt, cash unknown
    {"free_cash_flow_ttm": -5.0, "shares_outstanding": 10.0, "price": 60.0, "beta": 1.0},
    {"shares_outstanding": 10.0, "price": 60.0},
    {"free_cash_flow_ttm": 100.0, "price": 60.0},
    {"free_cash_flow_ttm": 100.0, "shares_outstanding": 10.0, "price": 60.0, "beta": -1.0},
    {"free_cash_flow_ttm": 1.0, "shares_outstanding": 10.0, "total_debt": 1e6, "price": 60.0, "beta": 1.0},
    {"free_cash_flow_ttm": 100.0, "shares_outstanding": 10.0, "asset_class": "etf", "price": 60.0},
    {"free_cash_flow_ttm": 100.0, "shares_outstanding": 10.0, "revenue_growth": 0.3, "beta": 0.7},  # no price
]  # fmt: skip


def test_the_table_agrees_with_the_one_company_dcf_row_by_row() -> None:
    data, metrics = _universe(_ROWS)
    table = dcf_table(data, metrics)
    assert list(table.columns) == ["intrinsic_value", "margin_of_safety", "discount_rate", "refusal"]
    assert table.index.name == "symbol"
    expected_codes = [None, None, "fcf-not-positive", "fcf-missing", "shares-missing", "rate-not-above-growth",
                      "equity-not-positive", "not-a-stock", None]  # fmt: skip
    assert table["refusal"].tolist() == expected_codes
    for symbol in data.symbols:
        one = dcf_for_symbol(data, metrics, symbol)
        row = table.loc[symbol]
        if isinstance(one, DcfRefused):
            assert row["refusal"] == one.code.value
            assert math.isnan(row["intrinsic_value"]) and math.isnan(row["margin_of_safety"])
        else:
            assert row["refusal"] is None
            assert row["intrinsic_value"] == pytest.approx(one.intrinsic_value, rel=1e-12)
            assert row["discount_rate"] == pytest.approx(one.discount_rate, rel=1e-12)
            if one.margin_of_safety is None:
                assert math.isnan(row["margin_of_safety"])
            else:
                assert row["margin_of_safety"] == pytest.approx(one.margin_of_safety, rel=1e-12)
    margin = dcf_margin_of_safety(data, metrics)
    np.testing.assert_array_equal(margin, table["margin_of_safety"].to_numpy())
    assert margin[0] == pytest.approx(1 - 60.0 / _hand_value(100, 0.08, 0.106, 0.025, 5, 300, 50, 10), rel=1e-12)


def test_dcf_for_an_unknown_symbol_is_rejected() -> None:
    data, metrics = _universe(_ROWS[:1])
    with pytest.raises(Rejected, match="'NOPE' is not in this universe"):
        dcf_for_symbol(data, metrics, "NOPE")


def test_the_simulated_market_gets_values_and_reasons(clock: SimClock) -> None:
    data = universe_from_sim(SimMarketData(clock, seed=9, n_symbols=40, history_years=2))
    metrics = compute_metrics(data)
    table = dcf_table(data, metrics)
    stocks = table[data.asset_class == "equity"]
    valued = stocks[stocks["refusal"].isna()]
    assert len(valued) > 10
    assert (valued["intrinsic_value"] > 0).all() and np.isfinite(valued["margin_of_safety"]).all()
    assert (table.loc[data.asset_class != "equity", "refusal"] == "not-a-stock").all()
    fcf = data.fundamentals.free_cash_flow_ttm
    negative = [s for s, f, a in zip(data.symbols, fcf, data.asset_class, strict=True) if a == "equity" and f <= 0]
    assert all(table.at[s, "refusal"] == "fcf-not-positive" for s in negative)


# ---- invariants ------------------------------------------------------------------------------------------------

_inputs = {
    "free_cash_flow": st.floats(1e-3, 1e12),
    "shares_outstanding": st.floats(1.0, 1e11),
    "total_debt": st.floats(0.0, 1e12) | st.none(),
    "cash": st.floats(0.0, 1e12) | st.none(),
    "revenue_growth": st.floats(-0.5, 1.0) | st.none(),
}


@settings(max_examples=200, deadline=None)
@given(beta_low=st.floats(-1.0, 3.0), beta_step=st.floats(0.0, 2.0), **_inputs)
def test_a_higher_discount_rate_never_raises_the_value(beta_low: float, beta_step: float, **inputs: Any) -> None:
    low = dcf(beta=beta_low, **inputs)
    high = dcf(beta=beta_low + beta_step, **inputs)
    assume(isinstance(low, DcfResult))
    if isinstance(high, DcfResult):
        assert high.intrinsic_value <= low.intrinsic_value * (1 + 1e-12)
    else:  # a higher rate can only push a thin equity value below zero
        assert high.code is DcfRefusal.EQUITY_NOT_POSITIVE


@settings(max_examples=200, deadline=None)
@given(growth=st.floats(-0.3, 0.5), step=st.floats(0.0, 0.3), beta=st.floats(0.0, 3.0), **_inputs)
def test_more_stage1_growth_never_lowers_the_value(growth: float, step: float, beta: float, **inputs: Any) -> None:
    inputs.pop("revenue_growth")
    low = dcf(beta=beta, settings=DcfSettings(stage1_growth=growth), **inputs)
    high = dcf(beta=beta, settings=DcfSettings(stage1_growth=min(growth + step, 1.0)), **inputs)
    assume(isinstance(low, DcfResult))
    assert isinstance(high, DcfResult)
    assert high.intrinsic_value >= low.intrinsic_value * (1 - 1e-12)
    assert math.isfinite(high.intrinsic_value) and high.intrinsic_value > 0
