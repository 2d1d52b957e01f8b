"""Invariants of the metrics that hold for any returns (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from marketdesk.analytics import (
    Conventions,
    annual_volatility,
    beta,
    contribution,
    metrics,
    metrics_frame,
    rolling,
    sharpe,
    underwater,
    up_capture,
)

# returns as whole basis points, as prices give them: no subnormal noise whose variance underflows to 0
RETURN = st.integers(-9_500, 15_000).map(lambda bp: bp / 10_000)
SMALL = st.integers(-1_900, 1_900).map(lambda bp: bp / 10_000)
RETURNS = hnp.arrays(np.float64, st.integers(2, 120), elements=RETURN)
ANY_FLOAT = st.floats(-1.0, 1e6, allow_nan=False, allow_infinity=False)
SMALL_RETURNS = hnp.arrays(np.float64, st.integers(3, 80), elements=SMALL)
METHODS = st.sampled_from(["historical", "parametric", "cornish_fisher"])
QUICK = settings(max_examples=100, deadline=None)  # timing is not under test; a loaded worker must not flake


def dated(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2020-01-01", periods=len(values)))


@QUICK
@given(RETURNS)
def test_max_drawdown_is_between_minus_one_and_zero_and_is_the_deepest_underwater_point(values: np.ndarray) -> None:
    m = metrics(dated(values))
    assert -1.0 <= m["max_drawdown"] <= 0.0
    water = underwater(dated(values))
    assert (water <= 0).all() and (water >= -1).all()
    assert water.min() == m["max_drawdown"]
    assert m["longest_drawdown_days"] >= m["max_drawdown_days"] >= 0


@QUICK
@given(hnp.arrays(np.float64, st.integers(2, 40), elements=ANY_FLOAT), METHODS, st.booleans())
def test_any_returns_give_finite_numbers_or_a_stated_reason_never_nan_or_inf(
    values: np.ndarray, method: str, with_benchmark: bool
) -> None:
    m = metrics(values, values[::-1].copy() if with_benchmark else None, Conventions(var_method=method))
    for key, value in m.items():
        if key in {"missing", "conventions", "start", "end"}:
            continue
        assert value is None or math.isfinite(value), key
        assert (value is None) == (key in m["missing"]), key


@QUICK
@given(SMALL_RETURNS, st.floats(0.1, 5.0).flatmap(lambda k: st.sampled_from([k, -k])))
def test_scaling_returns_by_k_scales_volatility_by_abs_k_and_flips_sharpe_with_its_sign(
    values: np.ndarray, k: float
) -> None:
    assume(values.max() > values.min())
    assert annual_volatility(values * k) == np_approx(abs(k) * annual_volatility(values))
    assert sharpe(values * k) == np_approx(math.copysign(1.0, k) * sharpe(values))


@QUICK
@given(RETURNS, METHODS, st.sampled_from([0.9, 0.95, 0.99]))
def test_cvar_is_never_better_than_var(values: np.ndarray, method: str, confidence: float) -> None:
    conventions = Conventions(var_method=method, confidence=confidence)
    m = metrics(values, conventions=conventions)
    label = conventions.tail_label
    if method == "cornish_fisher":
        # the expansion's quantile is monotone only inside Maillard's (2012) domain (docs/analytics.md)
        # (the derivative of the expansion in z, a·z² + (S/3)·z + c, must not change sign)
        s, k = m["skewness"] or 0.0, m["excess_kurtosis"] or 0.0
        a, c = k / 8 - s * s / 6, 1 - k / 8 + 5 * s * s / 36
        assume(a >= 0 and s * s / 9 - 4 * a * c <= 0)
    assert m[f"cvar_{label}"] <= m[f"var_{label}"] + 1e-12
    if method == "historical":
        assert values.min() <= m[f"cvar_{label}"] and m[f"var_{label}"] <= values.max()


@QUICK
@given(RETURNS, st.integers(0, 30), st.integers(0, 30))
def test_a_series_inside_a_ragged_frame_has_the_same_metrics_as_alone(
    values: np.ndarray, before: int, after: int
) -> None:
    days = pd.bdate_range("2020-01-01", periods=before + len(values) + after)
    padded = np.concatenate([np.full(before, np.nan), values, np.full(after, np.nan)])
    other = np.resize(np.array([0.01, -0.02, 0.005]), len(days))
    frame = pd.DataFrame({"padded": padded, "other": other}, index=days)
    table = metrics_frame(frame)
    alone = metrics(pd.Series(values, index=days[before : before + len(values)]))
    for key, value in alone.items():
        if key in table.columns and value is not None:
            assert table.loc["padded", key] == np_approx(value), key


@QUICK
@given(SMALL_RETURNS)
def test_a_series_against_itself_has_beta_one_and_full_capture(values: np.ndarray) -> None:
    assume(values.max() > values.min())
    assert beta(values, values) == np_approx(1.0)
    if (values > 0).any():
        assert up_capture(values, values) == np_approx(1.0)


@QUICK
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 6)), elements=st.floats(0, 1)),
    st.data(),
)
def test_group_contributions_add_up_to_the_compounded_portfolio_return(
    weights: np.ndarray, data: st.DataObject
) -> None:
    rows, columns = weights.shape
    weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1.0)  # at most fully invested
    returns = data.draw(hnp.arrays(np.float64, (rows, columns), elements=SMALL))
    names = [f"P{i}" for i in range(columns)]
    groups = {name: data.draw(st.sampled_from(["tech", "energy", "cash"])) for name in names}
    found = contribution(pd.DataFrame(weights, columns=names), pd.DataFrame(returns, columns=names), groups)
    portfolio = (weights * returns).sum(axis=1)
    assert found.total.sum() == np_approx(np.prod(1 + portfolio) - 1)
    assert found.portfolio_return == np_approx(np.prod(1 + portfolio) - 1)
    summed = contribution(
        pd.DataFrame(weights, columns=names), pd.DataFrame(returns, columns=names), groups, linking="sum"
    )
    assert summed.total.sum() == np_approx(portfolio.sum())


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, st.integers(6, 60), elements=SMALL), st.integers(2, 6))
def test_each_rolling_value_is_the_metric_of_its_window(values: np.ndarray, window: int) -> None:
    series = dated(values)
    rolled = rolling(series, window, "sortino")
    for end in range(window - 1, len(values), max(1, len(values) // 5)):
        alone = metrics(series.iloc[end - window + 1 : end + 1])["sortino"]
        got = rolled.iloc[end - window + 1]
        if alone is None:
            assert math.isnan(got)
        else:
            assert got == np_approx(alone)


def np_approx(value: float) -> object:
    import pytest

    return pytest.approx(value, rel=1e-9, abs=1e-12)
