"""Our metrics against empyrical-reloaded and quantstats on real S&P 500 return series, to 1e-9.

Where a library uses another convention, the test says which, checks our value under our stated convention
against an independent computation, and checks the exact relation to the library's value (docs/analytics.md
has the same list).
"""

from __future__ import annotations

import math

import empyrical
import empyrical.stats
import numpy as np
import pandas as pd
import pytest
import quantstats as qs
import scipy.stats

from marketdesk.analytics import (
    Conventions,
    metrics,
    metrics_frame,
    rolling,
    simple_returns,
    underwater,
)

pytestmark = pytest.mark.shared_data

# AAPL: the 2000 crash and a 223x rise; AIG: −97% in 2008; XOM: a steady large cap; TSLA: listed 2010;
# VAR: ends 2021-04-16; KIM: a gap carried forward (0 returns)
TICKERS = ("AAPL", "AIG", "XOM", "TSLA", "VAR", "KIM")
RF = 0.03  # annual; per period (1.03)^(1/252) − 1 under our default convention
P = 252


def close(ours: float | None, reference: float) -> bool:
    assert ours is not None
    return ours == pytest.approx(float(reference), rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module")
def series(sp500_returns: pd.DataFrame) -> dict[str, pd.Series]:
    return {ticker: sp500_returns[ticker].dropna() for ticker in TICKERS}


@pytest.fixture(scope="module")
def paired(sp500_returns: pd.DataFrame, gspc_returns: pd.Series) -> dict[str, tuple[pd.Series, pd.Series]]:
    """Each ticker with the index on the same dates (the index ends 2020-06-05)."""
    out = {}
    for ticker in TICKERS:
        r = sp500_returns[ticker].dropna().loc[:"2020-06-05"]
        out[ticker] = (r, gspc_returns.reindex(r.index))
    return out


# ---- empyrical-reloaded -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ticker", TICKERS)
def test_return_risk_and_ratios_match_empyrical(series: dict[str, pd.Series], ticker: str) -> None:
    r = series[ticker]
    rf = (1 + RF) ** (1 / P) - 1
    m = metrics(r, conventions=Conventions(risk_free=RF))
    assert close(m["cagr"], empyrical.annual_return(r))  # empyrical's annual_return is a CAGR over n/252 years
    assert close(m["annual_volatility"], empyrical.annual_volatility(r))
    assert close(m["sharpe"], empyrical.sharpe_ratio(r, risk_free=rf))
    assert close(m["sortino"], empyrical.sortino_ratio(r, required_return=rf))
    assert close(m["downside_deviation"], empyrical.downside_risk(r, required_return=rf))
    assert close(m["calmar"], empyrical.calmar_ratio(r))
    assert close(m["omega"], empyrical.omega_ratio(r, risk_free=rf))
    assert close(m["max_drawdown"], empyrical.max_drawdown(r))
    assert close(m["var_95"], empyrical.value_at_risk(r, cutoff=0.05))
    assert close(m["cvar_95"], empyrical.conditional_value_at_risk(r, cutoff=0.05))
    assert close(m["total_return"], empyrical.cum_returns_final(r))


@pytest.mark.parametrize("ticker", TICKERS)
def test_benchmark_measures_match_empyrical(paired: dict[str, tuple[pd.Series, pd.Series]], ticker: str) -> None:
    r, b = paired[ticker]
    rf = (1 + RF) ** (1 / P) - 1
    m = metrics(r, b, Conventions(risk_free=RF, alpha_annualization="compound"))
    assert close(m["beta"], empyrical.beta(r, b, risk_free=rf))
    assert close(m["alpha"], empyrical.alpha(r, b, risk_free=rf))  # (1 + mean Jensen alpha)^252 − 1
    assert close(m["up_capture"], empyrical.up_capture(r, b))
    assert close(m["down_capture"], empyrical.down_capture(r, b))
    # empyrical's excess_sharpe is the information ratio per period; ours is annualized (× sqrt(252))
    assert close(m["information_ratio"], empyrical.excess_sharpe(r, b) * math.sqrt(P))
    # independent: tracking error and correlation by pandas
    assert close(m["tracking_error"], (r - b).std(ddof=1) * math.sqrt(P))
    assert close(m["correlation"], r.corr(b))


def test_underwater_series_matches_empyrical_drawdown_series(series: dict[str, pd.Series]) -> None:
    r = series["AIG"]
    ours = underwater(r)
    reference = empyrical.stats.drawdown_series(r)
    np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy(), rtol=1e-9, atol=1e-12)


def test_simple_returns_match_empyrical(sp500_prices: pd.DataFrame) -> None:
    prices = sp500_prices["MSFT"].dropna()
    np.testing.assert_allclose(
        simple_returns(prices).to_numpy(), empyrical.simple_returns(prices).to_numpy(), rtol=1e-12, atol=0
    )


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("sharpe", lambda r, b: empyrical.roll_sharpe_ratio(r, window=252)),
        ("annual_volatility", lambda r, b: empyrical.roll_annual_volatility(r, window=252)),
        ("sortino", lambda r, b: empyrical.roll_sortino_ratio(r, window=252)),
        ("max_drawdown", lambda r, b: empyrical.roll_max_drawdown(r, window=252)),
        ("beta", lambda r, b: empyrical.roll_beta(r, b, window=252)),
    ],
)
def test_rolling_measures_match_empyrical_roll_functions(
    paired: dict[str, tuple[pd.Series, pd.Series]], name: str, reference: object
) -> None:
    r, b = paired["AAPL"]
    r, b = r.loc["2006":"2011"], b.loc["2006":"2011"]  # 1,511 days: 1,260 windows of a year
    ours = rolling(r, 252, name, benchmark=b if name == "beta" else None)
    theirs = reference(r, b)  # type: ignore[operator]
    assert len(ours) == len(theirs) == len(r) - 251
    assert ours.index.equals(theirs.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=1e-12)


# ---- quantstats --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ticker", TICKERS)
def test_return_risk_and_ratios_match_quantstats(series: dict[str, pd.Series], ticker: str) -> None:
    r = series[ticker]
    m = metrics(r, conventions=Conventions(risk_free=RF))
    plain = metrics(r)
    assert close(plain["cagr"], qs.stats.cagr(r, periods=P))
    assert close(m["annual_volatility"], qs.stats.volatility(r, periods=P))
    assert close(m["sharpe"], qs.stats.sharpe(r, rf=RF, periods=P))  # rf annual, de-annualized geometrically
    assert close(m["sortino"], qs.stats.sortino(r, rf=RF, periods=P))
    assert close(m["omega"], qs.stats.omega(r, rf=RF, periods=P))
    assert close(plain["calmar"], qs.stats.calmar(r, periods=P))
    assert close(plain["max_drawdown"], qs.stats.max_drawdown(r))


@pytest.mark.parametrize("ticker", TICKERS)
def test_tail_risk_matches_quantstats(series: dict[str, pd.Series], ticker: str) -> None:
    r = series[ticker]
    gaussian = metrics(r, conventions=Conventions(var_method="parametric"))
    assert close(gaussian["var_95"], qs.stats.value_at_risk(r, confidence=0.95))
    assert close(gaussian["cvar_95"], qs.stats.cvar(r, confidence=0.95, method="parametric"))
    historical = metrics(r)
    assert close(historical["cvar_95"], qs.stats.cvar(r, confidence=0.95, method="historical"))
    strict = metrics(r, conventions=Conventions(var_method="parametric", confidence=0.99))
    assert close(strict["var_99"], qs.stats.value_at_risk(r, confidence=0.99))


def test_underwater_series_matches_quantstats(series: dict[str, pd.Series]) -> None:
    r = series["AAPL"]
    np.testing.assert_allclose(
        underwater(r).to_numpy(), qs.stats.to_drawdown_series(r).to_numpy(), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("ticker", TICKERS)
def test_beta_and_arithmetic_alpha_match_quantstats_greeks(
    paired: dict[str, tuple[pd.Series, pd.Series]], ticker: str
) -> None:
    r, b = paired[ticker]
    m = metrics(r, b)  # default: alpha annualized arithmetically, as quantstats (which has no rf here)
    greeks = qs.stats.greeks(r, b, periods=P)
    assert close(m["beta"], greeks["beta"])
    assert close(m["alpha"], greeks["alpha"])


@pytest.mark.parametrize("ticker", TICKERS)
def test_information_ratio_is_quantstats_per_period_value_annualized(
    paired: dict[str, tuple[pd.Series, pd.Series]], ticker: str
) -> None:
    # convention difference: quantstats' information_ratio is per period; ours is × sqrt(periods per year)
    r, b = paired[ticker]
    m = metrics(r, b)
    active = (r - b).to_numpy()
    assert close(m["information_ratio"], active.mean() / active.std(ddof=1) * math.sqrt(P))
    assert close(m["information_ratio"], qs.stats.information_ratio(r, b) * math.sqrt(P))


@pytest.mark.parametrize("ticker", TICKERS)
def test_skew_and_kurtosis_are_population_moments_not_pandas_adjusted_ones(
    series: dict[str, pd.Series], ticker: str
) -> None:
    # convention difference: quantstats uses pandas' bias-adjusted G1 and G2; ours are the population g1, g2
    # (scipy's defaults). The adjustment is exact: G1 = g1·sqrt(n(n−1))/(n−2), G2 = ((n+1)g2 + 6)(n−1)/((n−2)(n−3)).
    r = series[ticker]
    n = len(r)
    m = metrics(r)
    assert close(m["skewness"], scipy.stats.skew(r.to_numpy(), bias=True))
    assert close(m["excess_kurtosis"], scipy.stats.kurtosis(r.to_numpy(), fisher=True, bias=True))
    assert close(m["skewness"] * math.sqrt(n * (n - 1)) / (n - 2), qs.stats.skew(r))
    g2 = m["excess_kurtosis"]
    assert close(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)), qs.stats.kurtosis(r))


@pytest.mark.parametrize("ticker", ["AAPL", "AIG", "XOM", "TSLA"])
def test_drawdown_duration_runs_peak_to_recovery_where_quantstats_counts_days_under_water(
    series: dict[str, pd.Series], ticker: str
) -> None:
    # convention difference: quantstats' drawdown_details counts the calendar days from the first to the last
    # day under water, inclusive; ours runs from the peak (the last day at the high) to the recovery (the first
    # day back at it), or to the end. So our peak is the trading day before quantstats' start and our recovery
    # the trading day after its end.
    r = series[ticker]
    m = metrics(r)
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(r))
    deepest = details.loc[details["max drawdown"].idxmin()]
    assert close(m["max_drawdown"], deepest["max drawdown"] / 100)
    days = r.index
    start = days.get_loc(pd.Timestamp(deepest["start"]))
    end = days.get_loc(pd.Timestamp(deepest["end"]))
    peak = days[max(start - 1, 0)]
    recovery = days[end + 1] if end + 1 < len(days) else days[end]
    assert m["max_drawdown_days"] == (recovery - peak).days
    assert m["max_drawdown_periods"] == days.get_loc(recovery) - days.get_loc(peak)


# ---- the vectorized path -----------------------------------------------------------------------------------


def test_metrics_frame_of_all_504_series_equals_metrics_of_each(
    sp500_returns: pd.DataFrame, gspc_returns: pd.Series
) -> None:
    frame = sp500_returns.loc[:"2020-06-05"].dropna(how="all", axis=1)  # one ticker listed after the index ends
    table = metrics_frame(frame, gspc_returns, Conventions(risk_free=RF))
    assert table.shape[0] == frame.shape[1] == 503
    assert table.index.equals(frame.columns)
    for ticker in ("AAPL", "TSLA", "VAR", "KIM", "AMZN", "CARR"):
        alone = metrics(frame[ticker].dropna(), gspc_returns, Conventions(risk_free=RF))
        row = table.loc[ticker]
        for key, value in alone.items():
            if key in row.index and value is not None:
                assert close(float(row[key]), value), (ticker, key)


def test_metrics_frame_matches_empyrical_on_every_ragged_column(sp500_returns: pd.DataFrame) -> None:
    table = metrics_frame(sp500_returns)
    for ticker in sp500_returns.columns[::25]:
        r = sp500_returns[ticker].dropna()
        assert close(table.at[ticker, "cagr"], empyrical.annual_return(r)), ticker
        assert close(table.at[ticker, "sharpe"], empyrical.sharpe_ratio(r)), ticker
        assert close(table.at[ticker, "max_drawdown"], empyrical.max_drawdown(r)), ticker
        assert close(table.at[ticker, "var_95"], empyrical.value_at_risk(r)), ticker
