"""Small cases computed by hand from the definitions in docs/analytics.md, one convention at a time."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.integrate
import scipy.stats

from marketdesk.analytics import (
    REQUIRED_KEYS,
    Conventions,
    alpha,
    beta,
    cagr,
    calmar,
    conditional_value_at_risk,
    drawdown_spell,
    log_returns,
    max_drawdown,
    metric_keys,
    metrics,
    sharpe,
    simple_returns,
    sortino,
    value_at_risk,
)
from marketdesk.analytics.benchmark import benchmark_for
from marketdesk.analytics.panel import panel_of
from marketdesk.analytics.tail import cornish_fisher_of, parametric_of
from marketdesk.kit.jsonutil import dumps

# four quarters: mean 0.01, deviations 0.09, −0.06, 0.01, −0.04
QUARTERS = [0.10, -0.05, 0.02, -0.03]
QUARTERLY = Conventions(periods_per_year=4)


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-12, abs=1e-15)


def test_four_quarters_give_the_hand_computed_return_and_risk_measures() -> None:
    m = metrics(QUARTERS, conventions=QUARTERLY)
    std = math.sqrt((0.09**2 + 0.06**2 + 0.01**2 + 0.04**2) / 3)
    wealth = 1.10 * 0.95 * 1.02 * 0.97
    assert m["annual_return"] == approx(0.01 * 4)
    assert m["total_return"] == approx(wealth - 1)
    assert m["cagr"] == approx(wealth - 1)  # four quarters are one year
    assert m["annual_volatility"] == approx(std * 2)
    assert m["sharpe"] == approx(0.01 / std * 2)
    assert m["max_drawdown"] == approx(wealth / 1.10 - 1)
    assert m["calmar"] == approx((wealth - 1) / (1 - wealth / 1.10))
    assert m["omega"] == approx((0.10 + 0.02) / (0.05 + 0.03))
    assert m["observations"] == 4


def test_downside_deviation_over_all_periods_or_only_those_below_the_target() -> None:
    full = metrics(QUARTERS, conventions=QUARTERLY)
    below_only = metrics(QUARTERS, conventions=Conventions(periods_per_year=4, downside="below_target_only"))
    squares = 0.05**2 + 0.03**2
    assert full["downside_deviation"] == approx(math.sqrt(squares / 4) * 2)
    assert full["sortino"] == approx(0.01 / math.sqrt(squares / 4) * 2)
    assert below_only["downside_deviation"] == approx(math.sqrt(squares / 2) * 2)
    assert below_only["sortino"] == approx(0.01 / math.sqrt(squares / 2) * 2)


def test_historical_var_interpolates_and_cvar_averages_the_returns_at_or_below_it() -> None:
    m = metrics(QUARTERS, conventions=QUARTERLY)
    # sorted: −0.05, −0.03, 0.02, 0.10; the 5% point sits at position 3 × 0.05 = 0.15
    assert m["var_95"] == approx(-0.05 + 0.15 * (-0.03 - -0.05))
    assert m["cvar_95"] == approx(-0.05)
    twenty = [float(x) for x in range(-10, 10)]  # 20 returns as hundredths below
    hundredths = [x / 100 for x in twenty]
    # position 19 × 0.05 = 0.95: between −0.10 and −0.09; the tail is floor(0.95) + 1 = 1 return
    assert value_at_risk(hundredths) == approx(-0.10 + 0.95 * 0.01)
    assert conditional_value_at_risk(hundredths) == approx(-0.10)
    at_90 = Conventions(confidence=0.90)
    # position 1.9: between −0.09 and −0.08; the tail holds the 2 lowest
    assert value_at_risk(hundredths, at_90) == approx(-0.09 + 0.9 * 0.01)
    assert conditional_value_at_risk(hundredths, at_90) == approx((-0.10 - 0.09) / 2)


def test_parametric_var_and_cvar_are_those_of_the_fitted_normal() -> None:
    m = metrics(QUARTERS, conventions=Conventions(periods_per_year=4, var_method="parametric"))
    mu, sigma = np.mean(QUARTERS), np.std(QUARTERS, ddof=1)
    var = scipy.stats.norm.ppf(0.05, loc=mu, scale=sigma)
    tail, _ = scipy.integrate.quad(lambda x: x * scipy.stats.norm.pdf(x, mu, sigma), -np.inf, var)
    assert m["var_95"] == pytest.approx(var, rel=1e-12)
    assert m["cvar_95"] == pytest.approx(tail / 0.05, rel=1e-9)


def test_cornish_fisher_var_uses_the_expansion_and_its_cvar_averages_the_expanded_quantiles() -> None:
    returns = np.array([0.012, -0.031, 0.004, 0.022, -0.008, 0.051, -0.017, 0.003, 0.009, -0.062, 0.015, 0.006])
    m = metrics(returns.tolist(), conventions=Conventions(var_method="cornish_fisher"))
    mu, sigma = returns.mean(), returns.std(ddof=1)
    s = scipy.stats.skew(returns, bias=True)
    k = scipy.stats.kurtosis(returns, fisher=True, bias=True)

    def quantile(p: float) -> float:
        z = scipy.stats.norm.ppf(p)
        z_cf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
        return float(mu + z_cf * sigma)

    assert m["var_95"] == pytest.approx(quantile(0.05), rel=1e-12)
    tail, _ = scipy.integrate.quad(quantile, 0, 0.05, epsabs=1e-14, epsrel=1e-12, limit=200)
    assert m["cvar_95"] == pytest.approx(tail / 0.05, rel=1e-9)
    assert m["skewness"] == pytest.approx(s, rel=1e-12)
    assert m["excess_kurtosis"] == pytest.approx(k, rel=1e-12)


def test_cornish_fisher_without_skew_or_excess_kurtosis_is_the_gaussian() -> None:
    mean, std = np.array([0.001, -0.002]), np.array([0.01, 0.03])
    zero = np.zeros(2)
    expanded = cornish_fisher_of(mean, std, zero, zero, 0.05)
    gaussian = parametric_of(mean, std, 0.05)
    np.testing.assert_allclose(expanded, gaussian, rtol=1e-13)


def test_an_annual_risk_free_rate_is_made_per_period_geometrically_and_a_per_period_one_is_used_as_given() -> None:
    returns = [0.02, -0.01, 0.015, 0.005, -0.002, 0.011]
    mu, sigma = np.mean(returns), np.std(returns, ddof=1)
    annual = Conventions(periods_per_year=12, risk_free=0.05)
    per_month = (1.05) ** (1 / 12) - 1
    assert annual.risk_free_per_period == pytest.approx(per_month, rel=1e-15)
    assert sharpe(returns, annual) == approx((mu - per_month) / sigma * math.sqrt(12))
    given = Conventions(periods_per_year=12, risk_free=0.004, risk_free_is_annual=False)
    assert sharpe(returns, given) == approx((mu - 0.004) / sigma * math.sqrt(12))
    # the Sortino target is the same per-period rate
    shortfall = np.minimum(np.array(returns) - 0.004, 0)
    assert sortino(returns, given) == approx((mu - 0.004) / math.sqrt((shortfall**2).mean()) * math.sqrt(12))


def test_cagr_compounds_over_count_over_periods_years() -> None:
    monthly = [0.01] * 18  # 1.5 years
    assert cagr(monthly, Conventions(periods_per_year=12)) == approx(1.01**12 - 1)
    assert cagr([0.21, 0.0], Conventions(periods_per_year=1)) == approx(math.sqrt(1.21) - 1)


def test_a_total_loss_gives_a_cagr_of_minus_one_and_a_full_drawdown() -> None:
    m = metrics([0.05, -1.0, 0.0])
    assert m["cagr"] == -1.0
    assert m["max_drawdown"] == -1.0


# ---- drawdown duration ---------------------------------------------------------------------------------------


def test_drawdown_runs_from_the_peak_to_the_recovery_in_calendar_days_and_periods() -> None:
    days = pd.to_datetime(["2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11"])  # Fri … Thu
    returns = pd.Series([0.10, -0.20, 0.10, 0.20, -0.01], index=days)
    m = metrics(returns)
    assert m["max_drawdown"] == approx(0.88 / 1.1 - 1)
    assert m["max_drawdown_days"] == 5  # Friday 5th (peak) to Wednesday 10th (back above 1.10)
    assert m["max_drawdown_periods"] == 3
    assert m["longest_drawdown_days"] == 5  # the last day's dip lasts 1 day
    spell = drawdown_spell(returns)
    assert (spell.peak, spell.trough, spell.recovery) == (days[0].date(), days[1].date(), days[3].date())


def test_a_drawdown_from_the_start_is_dated_from_the_first_return_and_runs_to_the_end_when_unrecovered() -> None:
    days = pd.to_datetime(["2024-03-01", "2024-03-04", "2024-03-05"])
    m = metrics(pd.Series([-0.10, 0.05, 0.01], index=days))
    assert m["max_drawdown"] == approx(-0.10)
    assert m["max_drawdown_days"] == 4  # 1st to the 5th, still under water
    assert m["max_drawdown_periods"] == 2
    spell = drawdown_spell(pd.Series([-0.10, 0.05, 0.01], index=days))
    assert spell.recovery is None


def test_the_longest_drawdown_can_be_shallower_than_the_deepest() -> None:
    days = pd.bdate_range("2024-01-01", periods=8)
    # a 1% dip lasting 5 periods, then a 20% crash recovered within 2
    returns = pd.Series([0.0, -0.01, 0.0, 0.0, 0.0, 0.02, -0.20, 0.30], index=days)
    m = metrics(returns)
    assert m["max_drawdown"] == approx(-0.20)
    assert m["max_drawdown_periods"] == 2
    assert m["longest_drawdown_days"] == (days[5] - days[0]).days


def test_without_a_date_index_durations_are_in_periods_only_and_days_are_missing_with_the_reason() -> None:
    m = metrics([0.1, -0.2, 0.05, 0.3])
    assert m["max_drawdown_periods"] == 3
    assert m["max_drawdown_days"] is None
    assert "needs dates" in m["missing"]["max_drawdown_days"]


def test_without_a_drawdown_calmar_is_missing_and_durations_are_zero() -> None:
    days = pd.bdate_range("2024-01-01", periods=3)
    m = metrics(pd.Series([0.01, 0.02, 0.0], index=days))
    assert m["max_drawdown"] == 0.0
    assert m["max_drawdown_days"] == 0
    assert m["calmar"] is None
    assert m["missing"]["calmar"] == "undefined: there was no drawdown"
    assert math.isnan(calmar([0.01, 0.02]))
    assert max_drawdown([0.01, 0.02]) == 0.0


# ---- undefined ratios ----------------------------------------------------------------------------------------


def test_returns_that_never_vary_give_no_sharpe_with_the_reason_and_json_null_not_inf() -> None:
    m = metrics([0.01] * 6)
    assert m["annual_volatility"] == 0.0
    assert m["sharpe"] is None
    assert m["missing"]["sharpe"] == "undefined: the returns do not vary (volatility is zero)"
    assert m["sortino"] is None  # nothing fell below the 0 target either
    assert m["omega"] is None
    text = dumps(m)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["sharpe"] is None
    assert math.isnan(sharpe([0.01] * 6))


def test_constant_losses_have_no_sharpe_but_a_sortino_of_minus_root_p() -> None:
    m = metrics([-0.01] * 4)
    assert m["sharpe"] is None
    assert m["sortino"] == approx(-math.sqrt(252))


def test_metric_keys_include_the_required_ones_and_follow_the_confidence() -> None:
    assert set(REQUIRED_KEYS) <= set(metrics(QUARTERS))
    assert {"beta", "alpha"} <= set(metrics(QUARTERS, QUARTERS))
    assert "var_99" in metric_keys(Conventions(confidence=0.99))
    assert "cvar_97_5" in metrics(QUARTERS, conventions=Conventions(confidence=0.975))


# ---- benchmark -------------------------------------------------------------------------------------------------


def test_twice_the_benchmark_plus_a_constant_has_beta_2_and_that_constant_as_alpha() -> None:
    b = np.array([0.01, -0.02, 0.03, -0.01, 0.004])
    r = 2 * b + 0.001
    m = metrics(r.tolist(), b.tolist())
    assert m["beta"] == approx(2.0)
    assert m["alpha"] == pytest.approx(0.001 * 252, rel=1e-10)
    assert m["correlation"] == approx(1.0)
    assert m["tracking_error"] == pytest.approx(np.std(b, ddof=1) * math.sqrt(252), rel=1e-12)
    compound = Conventions(alpha_annualization="compound")
    assert alpha(r.tolist(), b.tolist(), compound) == pytest.approx(1.001**252 - 1, rel=1e-10)
    up, down = b > 0, b < 0
    expected_up = (np.prod(1 + r[up]) ** (252 / up.sum()) - 1) / (np.prod(1 + b[up]) ** (252 / up.sum()) - 1)
    expected_down = (np.prod(1 + r[down]) ** (252 / down.sum()) - 1) / (np.prod(1 + b[down]) ** (252 / down.sum()) - 1)
    assert m["up_capture"] == pytest.approx(expected_up, rel=1e-12)
    assert m["down_capture"] == pytest.approx(expected_down, rel=1e-12)


def test_alpha_uses_excess_returns_over_the_risk_free_rate() -> None:
    b = [0.01, -0.02, 0.03, -0.01]
    r = [0.02, -0.01, 0.01, 0.0]
    conventions = Conventions(periods_per_year=12, risk_free=0.002, risk_free_is_annual=False)
    slope = np.cov(r, b, ddof=0)[0, 1] / np.var(b)
    per_period = (np.mean(r) - 0.002) - slope * (np.mean(b) - 0.002)
    assert beta(r, b, conventions) == pytest.approx(slope, rel=1e-12)
    assert alpha(r, b, conventions) == pytest.approx(per_period * 12, rel=1e-12)


def test_a_flat_benchmark_gives_no_beta_with_the_reason() -> None:
    m = metrics([0.01, -0.02, 0.03], [0.001, 0.001, 0.001])
    assert m["beta"] is None and m["alpha"] is None
    assert m["missing"]["beta"] == "undefined: the benchmark does not vary"
    assert m["up_capture"] is not None
    assert m["down_capture"] is None
    assert m["missing"]["down_capture"] == "undefined: the benchmark never fell"


def test_benchmark_returns_on_dates_the_series_skips_are_compounded_into_the_next_date() -> None:
    days = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    benchmark = pd.Series([0.01, 0.02, -0.01, 0.03], index=days)
    returns = pd.Series([0.0, 0.01, 0.02], index=days[[0, 2, 3]])
    aligned = benchmark_for(panel_of(returns), benchmark)
    np.testing.assert_allclose(aligned, [0.01, 1.02 * 0.99 - 1, 0.03], rtol=1e-15)


# ---- prices --------------------------------------------------------------------------------------------------


def test_simple_and_log_returns_from_prices_drop_the_first_date() -> None:
    days = pd.bdate_range("2024-01-01", periods=3)
    prices = pd.Series([100.0, 110.0, 99.0], index=days)
    np.testing.assert_allclose(simple_returns(prices).to_numpy(), [0.1, -0.1])
    np.testing.assert_allclose(log_returns(prices).to_numpy(), [math.log(1.1), math.log(0.9)])
    assert simple_returns(prices).index.equals(days[1:])
    frame = pd.DataFrame({"A": [100.0, 110.0, 99.0], "B": [np.nan, 50.0, 55.0]}, index=days)
    out = simple_returns(frame)
    assert math.isnan(out.loc[days[1], "B"]) and out.loc[days[2], "B"] == pytest.approx(0.1)


def test_a_returns_series_from_prices_gives_the_same_metrics_as_the_prices_imply() -> None:
    prices = pd.Series([100.0, 104.0, 98.0, 103.0, 101.0], index=pd.bdate_range("2024-01-01", periods=5))
    m = metrics(simple_returns(prices))
    assert m["total_return"] == pytest.approx(101 / 100 - 1, rel=1e-12)
    assert m["max_drawdown"] == pytest.approx(98 / 104 - 1, rel=1e-12)
