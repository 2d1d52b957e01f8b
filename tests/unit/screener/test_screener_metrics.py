"""compute_metrics: every metric against a hand computation (plain Python or pandas) on small universes, the
RSI against Achelis' values (Tulip's atoz.txt), and invariants by property tests."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import fields, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.clock import SimClock
from marketdesk.marketdata.sim import SimMarketData
from marketdesk.screener.catalog import METRIC_NAMES
from marketdesk.screener.metrics import (
    APPLIES_TO,
    compute_metrics,
    credit_scores,
    curve_yield_pct,
    earnings_stability,
    modified_duration,
    tenor_years,
)
from marketdesk.screener.model import FundamentalArrays, UniverseData
from marketdesk.screener.momentum import fill_forward, rsi_latest
from marketdesk.screener.universe import universe_from_sim

NAN = float("nan")

# ---- builders --------------------------------------------------------------------------------------------------


def _fundamentals(n: int, **values: Any) -> FundamentalArrays:
    """All-unknown fundamentals for `n` symbols, with `values` (per-symbol lists) filled in."""
    out: dict[str, np.ndarray] = {}
    for f in fields(FundamentalArrays):
        shape = (n, 8) if f.name == "eps_quarters" else (n, 3) if f.name == "fcf_years" else (n,)
        out[f.name] = np.array(values[f.name], dtype=float) if f.name in values else np.full(shape, np.nan)
    return FundamentalArrays(**out)


def _universe(
    adj_close: np.ndarray,
    *,
    close: np.ndarray | None = None,
    adj_high: np.ndarray | None = None,
    volume: np.ndarray | None = None,
    benchmark: np.ndarray | None = None,
    asset_class: list[str] | None = None,
    fundamentals: FundamentalArrays | None = None,
    **extra: Any,
) -> UniverseData:
    adj_close = np.asarray(adj_close, dtype=float)
    t, n = adj_close.shape
    return UniverseData(
        as_of=date(2024, 6, 28),
        symbols=tuple(f"S{i}" for i in range(n)),
        asset_class=np.array(asset_class or ["equity"] * n, dtype=object),
        sector=np.array([None] * n, dtype=object),
        industry=np.array([None] * n, dtype=object),
        dates=np.arange(t).astype("datetime64[D]"),
        close=adj_close if close is None else close,
        adj_close=adj_close,
        adj_high=adj_close if adj_high is None else adj_high,
        adj_low=adj_close,
        volume=np.full((t, n), 1000.0) if volume is None else volume,
        benchmark_symbol="BENCH",
        benchmark=adj_close[:, 0] if benchmark is None else benchmark,
        fundamentals=fundamentals or _fundamentals(n),
        **extra,
    )


def _random_walk(t: int, n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50.0 * np.exp(np.cumsum(rng.normal(0.0004, 0.015, size=(t, n)), axis=0))


def _wilder_rsi(closes: list[float], period: int) -> float:
    """RSI of the last close, by hand: averages seeded with the simple mean of the first `period` changes,
    then Wilder's smoothing (Achelis)."""
    changes = [b - a for a, b in itertools.pairwise(closes)]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    for c in changes[period:]:
        gain = (gain * (period - 1) + max(c, 0.0)) / period
        loss = (loss * (period - 1) + max(-c, 0.0)) / period
    return 100.0 * gain / (gain + loss)


# ---- shape -----------------------------------------------------------------------------------------------------


def test_frame_has_every_catalogue_metric_in_order_as_float64() -> None:
    metrics = compute_metrics(_universe(_random_walk(300, 3)))
    assert list(metrics.columns) == list(METRIC_NAMES)
    assert metrics.index.name == "symbol"
    assert list(metrics.index) == ["S0", "S1", "S2"]
    assert all(dtype == np.float64 for dtype in metrics.dtypes)


def test_empty_universe_gives_an_empty_frame_with_every_column() -> None:
    metrics = compute_metrics(_universe(np.zeros((300, 0)), benchmark=np.ones(300)))
    assert metrics.empty
    assert list(metrics.columns) == list(METRIC_NAMES)


def test_no_sessions_gives_nan_price_metrics_without_crashing() -> None:
    n = 2
    data = _universe(np.zeros((0, n)), benchmark=np.zeros(0), fundamentals=_fundamentals(n, eps_ttm=[1.0, 2.0]))
    metrics = compute_metrics(data)
    assert metrics.isna().all().all()


def test_mismatched_matrix_shape_is_a_clear_error() -> None:
    data = replace(_universe(_random_walk(30, 2)), volume=np.ones((29, 2)))
    with pytest.raises(ValueError, match=r"UniverseData\.volume has shape \(29, 2\); expected"):
        compute_metrics(data)


# ---- fundamentals ----------------------------------------------------------------------------------------------

_COMPANY = {
    "eps_ttm": 2.5,
    "eps_ttm_prev": 2.0,
    "shares_outstanding": 1e6,
    "total_equity": 2.5e7,
    "revenue_ttm": 1e8,
    "revenue_ttm_prev": 8e7,
    "total_debt": 1e7,
    "cash": 5e6,
    "ebitda_ttm": 1.1e7,
    "free_cash_flow_ttm": 4e6,
    "dividends_per_share_ttm": 1.0,
    "net_income_ttm": 2.5e6,
    "total_assets": 1e8,
    "gross_profit_ttm": 4e7,
    "operating_income_ttm": 6e6,
    "current_assets": 3e7,
    "current_liabilities": 2e7,
    "interest_expense_ttm": 1.5e6,
}


def _one_company(price: float = 50.0, **changes: float) -> pd.Series:
    values = {**_COMPANY, **changes}
    prices = np.full((300, 1), price)
    data = _universe(prices, fundamentals=_fundamentals(1, **{k: [v] for k, v in values.items()}))
    return compute_metrics(data).iloc[0]


def test_fundamental_ratios_match_a_hand_computation() -> None:
    m = _one_company()
    price, c = 50.0, _COMPANY
    cap = price * c["shares_outstanding"]  # 5e7
    ev = cap + c["total_debt"] - c["cash"]  # 5.5e7
    expected = {
        "pe": price / c["eps_ttm"],
        "pb": cap / c["total_equity"],
        "ps": cap / c["revenue_ttm"],
        "ev_ebitda": ev / c["ebitda_ttm"],
        "earnings_yield": c["eps_ttm"] / price,
        "fcf_yield": c["free_cash_flow_ttm"] / cap,
        "dividend_yield": c["dividends_per_share_ttm"] / price,
        "roe": c["net_income_ttm"] / c["total_equity"],
        "roa": c["net_income_ttm"] / c["total_assets"],
        "gross_margin": c["gross_profit_ttm"] / c["revenue_ttm"],
        "operating_margin": c["operating_income_ttm"] / c["revenue_ttm"],
        "fcf_margin": c["free_cash_flow_ttm"] / c["revenue_ttm"],
        "debt_to_equity": c["total_debt"] / c["total_equity"],
        "current_ratio": c["current_assets"] / c["current_liabilities"],
        "interest_coverage": c["operating_income_ttm"] / c["interest_expense_ttm"],
        "total_equity": c["total_equity"],
        "revenue_growth": c["revenue_ttm"] / c["revenue_ttm_prev"] - 1,
        "eps_growth": c["eps_ttm"] / c["eps_ttm_prev"] - 1,
        "market_cap": cap,
        "price": price,
    }
    assert expected["pe"] == 20.0 and expected["ev_ebitda"] == 5.0  # the hand figures themselves
    for name, value in expected.items():
        assert m[name] == pytest.approx(value, rel=1e-12), name


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"eps_ttm": 0.0}, ["pe"]),
        ({"eps_ttm": -1.0}, ["pe"]),
        ({"total_equity": -5e6}, ["pb", "roe", "debt_to_equity"]),
        ({"ebitda_ttm": -1.0}, ["ev_ebitda"]),
        ({"total_debt": NAN}, ["ev_ebitda", "debt_to_equity"]),
        ({"eps_ttm_prev": -0.5}, ["eps_growth"]),
        ({"revenue_ttm": 0.0}, ["ps", "gross_margin", "operating_margin", "fcf_margin"]),
        ({"revenue_ttm_prev": 0.0}, ["revenue_growth"]),
        ({"interest_expense_ttm": 0.0}, ["interest_coverage"]),
        ({"current_liabilities": NAN}, ["current_ratio"]),
    ],
)
def test_a_ratio_is_missing_when_its_denominator_is_not_positive(changes: dict[str, float], missing: list[str]) -> None:
    m = _one_company(**changes)
    assert m[missing].isna().all(), m[missing]
    assert m.drop(missing)[["price", "market_cap", "roa"]].notna().all()


def test_earnings_yield_is_negative_for_a_loss_where_pe_is_missing() -> None:
    m = _one_company(eps_ttm=-2.0)
    assert np.isnan(m["pe"])
    assert m["earnings_yield"] == pytest.approx(-2.0 / 50.0)


def test_interest_coverage_uses_the_size_of_interest_expense_whatever_its_sign() -> None:
    assert _one_company(interest_expense_ttm=-1.5e6)["interest_coverage"] == pytest.approx(4.0)


def test_market_cap_falls_back_to_the_snapshot_when_shares_are_unknown() -> None:
    m = _one_company(shares_outstanding=NAN, market_cap_snapshot=7e7)
    assert m["market_cap"] == 7e7
    assert m["pb"] == pytest.approx(7e7 / 2.5e7)
    assert m["ev_ebitda"] == pytest.approx((7e7 + 1e7 - 5e6) / 1.1e7)


def test_earnings_stability_is_one_minus_the_coefficient_of_variation() -> None:
    quarters = np.array(
        [
            [NAN, NAN, NAN, NAN, 1.0, 1.2, 0.8, 1.0],  # 4 known: mean 1, sample std √(0.08/3)
            [1.0] * 8,  # perfectly steady
            [NAN, NAN, NAN, NAN, NAN, 1.0, 1.0, 1.0],  # only 3 known
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -0.01],  # a loss
            [0.1, 3.0, 0.1, 3.0, 0.1, 3.0, 0.1, 3.0],  # std > mean: floored at 0
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],  # zero EPS counts as a loss
        ]
    )
    hand = 1.0 - math.sqrt((0.0 + 0.04 + 0.04 + 0.0) / 3) / 1.0
    result = earnings_stability(quarters)
    assert result[0] == pytest.approx(hand, rel=1e-12)
    assert result[1] == 1.0
    assert np.isnan(result[2])
    assert result[3] == 0.0 and result[4] == 0.0 and result[5] == 0.0


def test_fcf_negative_years_counts_the_known_negative_years() -> None:
    years = [[-1.0, 2.0, -3.0], [NAN, NAN, NAN], [NAN, -1.0, NAN], [1.0, 2.0, 3.0]]
    data = _universe(np.full((300, 4), 10.0), fundamentals=_fundamentals(4, fcf_years=years))
    assert compute_metrics(data)["fcf_negative_years"].tolist()[:1] == [2.0]
    counts = compute_metrics(data)["fcf_negative_years"].to_numpy()
    assert counts[0] == 2.0 and np.isnan(counts[1]) and counts[2] == 1.0 and counts[3] == 0.0


# ---- prices ----------------------------------------------------------------------------------------------------


def test_price_metrics_match_pandas_on_a_random_walk() -> None:
    t, n = 300, 4
    adj = _random_walk(t, n)
    bench = _random_walk(t, 1, seed=99)[:, 0]
    rng = np.random.default_rng(3)
    high = adj * (1 + rng.uniform(0, 0.02, size=adj.shape))
    close = adj * 1.1  # as traded: not adjusted
    volume = rng.integers(1_000, 50_000, size=adj.shape).astype(float)
    metrics = compute_metrics(_universe(adj, close=close, adj_high=high, volume=volume, benchmark=bench))
    prices = pd.DataFrame(adj)
    returns = prices.pct_change().tail(252)
    bench_returns = pd.Series(bench).pct_change().tail(252)
    for j in range(n):
        m = metrics.iloc[j]
        p = prices[j]
        for name, k in (("return_1m_pct", 21), ("return_3m_pct", 63), ("return_6m_pct", 126), ("return_12m_pct", 252)):
            assert m[name] == pytest.approx((p.iloc[-1] / p.iloc[-1 - k] - 1) * 100, rel=1e-12)
        assert m["above_ma50_pct"] == pytest.approx((p.iloc[-1] / p.tail(50).mean() - 1) * 100, rel=1e-9)
        assert m["above_ma200_pct"] == pytest.approx((p.iloc[-1] / p.tail(200).mean() - 1) * 100, rel=1e-9)
        year_high = max(pd.Series(high[:, j]).tail(252).max(), p.tail(252).max())
        assert m["dip_pct"] == pytest.approx((1 - p.iloc[-1] / year_high) * 100, rel=1e-12)
        assert m["volatility_pct"] == pytest.approx(returns[j].std() * math.sqrt(252) * 100, rel=1e-9)
        assert m["beta"] == pytest.approx(returns[j].cov(bench_returns) / bench_returns.var(), rel=1e-9)
        window = p.tail(253)
        assert m["max_drawdown_pct"] == pytest.approx(((1 - window / window.cummax()).max()) * 100, rel=1e-12)
        dollar = (close[:, j] * volume[:, j])[-63:]
        assert m["avg_dollar_volume"] == pytest.approx(dollar.mean(), rel=1e-12)
        assert m["rsi14"] == pytest.approx(_wilder_rsi(p.tolist(), 14), abs=1e-9)
        assert m["price"] == close[-1, j]


def test_the_benchmark_against_itself_has_beta_one() -> None:
    adj = _random_walk(300, 2)
    metrics = compute_metrics(_universe(adj, benchmark=adj[:, 1].copy()))
    assert metrics["beta"].iloc[1] == pytest.approx(1.0, rel=1e-12)


def test_beta_uses_pairwise_complete_returns() -> None:
    t = 300
    adj = _random_walk(t, 1)
    bench = _random_walk(t, 1, seed=5)[:, 0]
    bench[:20] = np.nan  # the benchmark starts 20 sessions late …
    adj[150:160, 0] = np.nan  # … and the stock has a 10-session hole (5 carried forward, 5 left missing)
    metrics = compute_metrics(_universe(adj, benchmark=bench))
    filled = pd.DataFrame({"stock": adj[:, 0], "bench": bench}).ffill(limit=5)
    returns = filled.pct_change(fill_method=None).tail(252).dropna()
    assert len(returns) == 252 - 6  # the pairwise-complete sessions
    expected = returns["stock"].cov(returns["bench"]) / returns["bench"].var()
    assert metrics["beta"].iloc[0] == pytest.approx(expected, rel=1e-9)


def test_fill_forward_matches_pandas_ffill_with_a_limit() -> None:
    rng = np.random.default_rng(11)
    matrix = rng.uniform(1, 2, size=(60, 5))
    matrix[rng.uniform(size=matrix.shape) < 0.3] = np.nan
    matrix[:4, 2] = np.nan
    expected = pd.DataFrame(matrix).ffill(limit=5).to_numpy()
    np.testing.assert_array_equal(fill_forward(matrix, limit=5), expected)


def test_a_stale_price_within_five_sessions_is_carried_and_older_is_missing() -> None:
    adj = _random_walk(300, 2)
    adj[-3:, 0] = np.nan  # last bar 3 sessions ago
    adj[-6:, 1] = np.nan  # last bar 6 sessions ago
    metrics = compute_metrics(_universe(adj, benchmark=_random_walk(300, 1, seed=1)[:, 0]))
    assert metrics["price"].iloc[0] == adj[-4, 0]
    assert metrics["return_1m_pct"].iloc[0] == pytest.approx((adj[-4, 0] / adj[-22, 0] - 1) * 100)
    # what is measured from the latest price is missing; window statistics still have 90 % of their window
    latest = ["price", "return_1m_pct", "return_12m_pct", "dip_pct", "above_ma50_pct", "above_ma200_pct", "rsi14"]
    assert metrics[latest].iloc[1].isna().all()
    windowed = ["volatility_pct", "beta", "max_drawdown_pct", "avg_dollar_volume"]
    assert metrics[windowed].iloc[1].notna().all()


def test_a_young_listing_has_short_window_metrics_only() -> None:
    adj = _random_walk(300, 2)
    adj[:-100, 1] = np.nan  # listed 100 sessions ago
    m = compute_metrics(_universe(adj)).iloc[1]
    assert m[["return_1m_pct", "return_3m_pct", "above_ma50_pct", "rsi14", "price", "avg_dollar_volume"]].notna().all()
    assert m[["return_6m_pct", "return_12m_pct", "above_ma200_pct", "dip_pct"]].isna().all()
    assert m[["volatility_pct", "beta", "max_drawdown_pct"]].isna().all()


def test_rsi_runs_over_the_last_unbroken_stretch_of_prices() -> None:
    adj = _random_walk(300, 1)
    adj[100:110, 0] = np.nan  # a 10-session gap: TA-Lib cannot step over it
    metrics = compute_metrics(_universe(adj, benchmark=_random_walk(300, 1, seed=2)[:, 0]))
    stretch = pd.Series(adj[:, 0]).ffill(limit=5).to_numpy()[110:]  # 100–104 carried, 105–109 missing
    assert metrics["rsi14"].iloc[0] == pytest.approx(_wilder_rsi(stretch.tolist(), 14), abs=1e-9)


def test_rsi_matches_achelis_values_from_tulips_atoz(shared_data: Path) -> None:
    text = (shared_data / "indicator-reference/tulip/atoz.txt").read_text()
    block = re.search(r"^rsi 5\n#[^\n]*\n\{([^}]*)\}\n\{([^}]*)\}", text, re.MULTILINE)
    assert block is not None
    closes = [float(x) for x in block.group(1).split(",")]
    expected = [float(x) for x in block.group(2).split(",")]
    warmup = len(closes) - len(expected)
    for k, value in enumerate(expected):
        assert rsi_latest(np.array(closes[: warmup + k + 1]), period=5)[0] == pytest.approx(value, abs=5e-5)


def test_rsi14_on_the_stockcharts_closes_matches_a_hand_wilder_computation(shared_data: Path) -> None:
    closes = pd.read_csv(shared_data / "indicator-reference/ta-stockcharts/cs-rsi.csv")["Close"].to_numpy(float)
    data = _universe(closes[:, None])
    assert compute_metrics(data)["rsi14"].iloc[0] == pytest.approx(_wilder_rsi(closes.tolist(), 14), abs=1e-9)


# ---- asset classes ---------------------------------------------------------------------------------------------


def test_metrics_that_do_not_apply_to_an_asset_class_are_missing() -> None:
    classes = ["equity", "etf", "bond", "index"]
    n = len(classes)
    data = _universe(
        _random_walk(300, n),
        asset_class=classes,
        fundamentals=_fundamentals(n, **{k: [v] * n for k, v in _COMPANY.items()}),
        yields={"1y": 4.0, "10y": 4.5},
        expense_ratio_pct=np.full(n, 0.1),
        maturity_years=np.full(n, 5.0),
        coupon_pct=np.full(n, 4.0),
        credit_rating=np.array(["AA"] * n, dtype=object),
    )
    metrics = compute_metrics(data)
    for name in METRIC_NAMES:
        for symbol, asset_class in zip(metrics.index, classes, strict=True):
            if asset_class not in APPLIES_TO[name]:
                assert np.isnan(metrics.at[symbol, name]), (name, asset_class)
    assert np.isnan(metrics.at["S2", "pe"]) and np.isnan(metrics.at["S2", "return_1m_pct"])  # no P/E for a bond
    assert metrics.loc["S0", ["pe", "return_12m_pct", "market_cap"]].notna().all()
    assert metrics.at["S1", "expense_ratio_pct"] == 0.1 and np.isnan(metrics.at["S1", "pe"])
    assert metrics.at["S2", "credit_score"] == 9.0
    assert metrics.loc["S3", ["rsi14", "beta"]].notna().all()


def test_etf_fields_pass_through_and_net_assets_falls_back_to_the_snapshot() -> None:
    n = 3
    data = _universe(
        _random_walk(300, n),
        asset_class=["etf"] * n,
        fundamentals=_fundamentals(n, market_cap_snapshot=[NAN, 2e9, 3e9]),
        expense_ratio_pct=np.array([0.03, 0.5, NAN]),
        net_assets=np.array([1e10, NAN, 5e9]),
        top10_weight_pct=np.array([25.0, NAN, 60.0]),
    )
    metrics = compute_metrics(data)
    np.testing.assert_array_equal(metrics["expense_ratio_pct"], [0.03, 0.5, NAN])
    np.testing.assert_array_equal(metrics["net_assets"], [1e10, 2e9, 5e9])
    np.testing.assert_array_equal(metrics["top10_weight_pct"], [25.0, NAN, 60.0])


# ---- bonds -----------------------------------------------------------------------------------------------------


def _bond_cash_flow_duration(years: float, coupon_pct: float, yield_pct: float, m: int = 2) -> float:
    """Modified duration by summing discounted cash flows (whole coupon periods), by hand."""
    n, i, c = round(years * m), yield_pct / 100 / m, coupon_pct / 100 / m
    flows = [(k, c + (1.0 if k == n else 0.0)) for k in range(1, n + 1)]
    price = sum(cf / (1 + i) ** k for k, cf in flows)
    macaulay = sum(k / m * cf / (1 + i) ** k for k, cf in flows) / price
    return macaulay / (1 + i)


@pytest.mark.parametrize(
    ("years", "coupon", "yld"),
    [(10.0, 4.0, 4.3), (2.0, 5.0, 3.0), (30.0, 2.5, 4.54), (7.0, 0.0, 4.0), (5.5, 6.0, 6.0), (1.0, 4.0, 0.05)],
)
def test_modified_duration_matches_a_cash_flow_sum(years: float, coupon: float, yld: float) -> None:
    closed = modified_duration(np.array([years]), np.array([coupon]), np.array([yld]))[0]
    assert closed == pytest.approx(_bond_cash_flow_duration(years, coupon, yld), rel=1e-10)


def test_modified_duration_of_a_zero_coupon_bill_and_at_zero_yield() -> None:
    bill = modified_duration(np.array([0.25]), np.array([0.0]), np.array([5.0]))[0]
    assert bill == pytest.approx(0.25 / (1 + 0.025), rel=1e-12)
    at_zero = modified_duration(np.array([3.0]), np.array([4.0]), np.array([0.0]))[0]
    assert at_zero == pytest.approx(_bond_cash_flow_duration(3.0, 4.0, 1e-9), rel=1e-7)
    assert np.isnan(modified_duration(np.array([0.0]), np.array([4.0]), np.array([4.0]))[0])


def test_bond_yield_is_interpolated_on_the_curve_and_flat_beyond_it() -> None:
    curve = {"1y": 4.0, "2y": 4.5, "5y": 5.0, "bogus": 9.0, "7y": NAN}
    yields = curve_yield_pct(curve, np.array([3.0, 10.0, 0.5, 2.0, NAN, -1.0]))
    np.testing.assert_allclose(yields[:4], [4.5 + 0.5 / 3, 5.0, 4.0, 4.5], rtol=1e-12)
    assert np.isnan(yields[4:]).all()
    assert tenor_years("3m") == 0.25 and tenor_years("10Y") == 10.0 and tenor_years("bogus") is None


def test_bond_metrics_from_the_curve_coupon_and_rating() -> None:
    n = 4
    curve = {"3m": 5.0, "2y": 4.6, "10y": 4.2, "30y": 4.4}
    data = _universe(
        _random_walk(300, n),
        asset_class=["bond"] * n,
        yields=curve,
        maturity_years=np.array([10.0, 0.25, 6.0, NAN]),
        coupon_pct=np.array([4.0, 0.0, NAN, 3.0]),
        credit_rating=np.array(["AAA", "A-", "BB+", None], dtype=object),
    )
    m = compute_metrics(data)
    mean = sum(curve.values()) / 4
    six_year = 4.6 + (4.2 - 4.6) * (6 - 2) / 8
    np.testing.assert_allclose(m["yield_pct"].to_numpy()[:3], [4.2, 5.0, six_year], rtol=1e-12)
    np.testing.assert_allclose(m["curve_spread_pct"].to_numpy()[:3], [4.2 - mean, 5.0 - mean, six_year - mean])
    assert m["duration_years"].iloc[0] == pytest.approx(_bond_cash_flow_duration(10.0, 4.0, 4.2), rel=1e-10)
    assert m["duration_years"].iloc[1] == pytest.approx(0.25 / 1.025, rel=1e-12)
    # unknown coupon: a par bond, coupon = yield
    assert m["duration_years"].iloc[2] == pytest.approx(_bond_cash_flow_duration(6.0, six_year, six_year), rel=1e-10)
    np.testing.assert_array_equal(m["credit_score"], [10.0, 8.0, 6.0, NAN])
    assert m.iloc[3][["yield_pct", "duration_years", "maturity_years", "curve_spread_pct"]].isna().all()


def test_without_a_curve_bond_yields_are_missing() -> None:
    data = _universe(_random_walk(300, 1), asset_class=["bond"], maturity_years=np.array([5.0]))
    m = compute_metrics(data).iloc[0]
    assert m["maturity_years"] == 5.0 and np.isnan(m["yield_pct"]) and np.isnan(m["duration_years"])


def test_credit_scores_for_every_grade_ignore_notches() -> None:
    ratings = ["AAA", "AA+", "AA-", "A", "BBB-", "BB+", "B", "CCC+", "CC", "C", "D", "Aaa", "Baa2", "Caa1", "NR", ""]
    expected = [10, 9, 9, 8, 7, 6, 5, 4, 3, 2, 0, 10, 7, 4, NAN, NAN]
    np.testing.assert_array_equal(credit_scores(np.array(ratings, dtype=object), len(ratings)), expected)


# ---- the simulated market --------------------------------------------------------------------------------------


def test_the_simulated_market_gets_full_metrics_for_its_stocks(clock: SimClock) -> None:
    sim = SimMarketData(clock, seed=3, n_symbols=40, history_years=2)
    data = universe_from_sim(sim)
    metrics = compute_metrics(data)
    stocks = metrics[data.asset_class == "equity"]
    always = ["price", "market_cap", "ps", "roa", "return_12m_pct", "rsi14", "volatility_pct", "beta", "dip_pct"]
    assert stocks[always].notna().all().all()
    assert metrics.at[data.benchmark_symbol, "beta"] == pytest.approx(1.0)
    bonds = metrics[data.asset_class == "bond"]
    assert bonds[["yield_pct", "duration_years", "credit_score"]].notna().all().all()
    assert np.isfinite(metrics.to_numpy()[~metrics.isna().to_numpy()]).all()


# ---- invariants ------------------------------------------------------------------------------------------------


@st.composite
def _messy_universes(draw: st.DrawFn) -> UniverseData:
    """Random universes with gaps, zeros, negatives and infinities in prices and fundamentals."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(0, 6))
    t = draw(st.sampled_from([0, 1, 15, 30, 260, 300]))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([1e-6, 1.0, 1e6]))
    step = draw(st.sampled_from([0.0, 0.02, 0.3]))
    prices = scale * np.exp(np.cumsum(rng.normal(0, step, size=(t, n)), axis=0))
    junk = rng.choice([np.nan, 0.0, -1.0, np.inf, -np.inf], size=(t, n))
    holes = rng.uniform(size=(t, n)) < draw(st.sampled_from([0.0, 0.05, 0.5]))
    prices = np.where(holes, junk, prices)
    fundamentals: dict[str, Any] = {}
    for f in fields(FundamentalArrays):
        shape = (n, 8) if f.name == "eps_quarters" else (n, 3) if f.name == "fcf_years" else (n,)
        values = rng.choice([np.nan, 0.0, -1e9, -1e-300, 1e-300, 3.5, 1e12, np.inf], size=shape)
        fundamentals[f.name] = values
    classes = rng.choice(["equity", "etf", "bond", "index", "other"], size=n).tolist()
    return _universe(
        prices,
        close=prices * 1.01,
        adj_high=prices * rng.choice([1.0, 1.02, np.nan], size=(t, n)),
        volume=rng.choice([0.0, 1e3, np.nan, -5.0], size=(t, n)),
        benchmark=np.where(rng.uniform(size=t) < 0.1, np.nan, prices[:, 0] if n else np.ones(t)),
        asset_class=classes,
        fundamentals=FundamentalArrays(**fundamentals),
        yields=draw(st.sampled_from([{}, {"2y": 4.0, "10y": 3.5}, {"1m": 0.0, "30y": -0.5}, {"5y": np.nan}])),
        maturity_years=rng.choice([np.nan, 0.0, 0.1, 7.0, 100.0, -1.0], size=n),
        coupon_pct=rng.choice([np.nan, 0.0, 5.0, 50.0], size=n),
        credit_rating=np.array(rng.choice(["AAA", "BB-", "x", ""], size=n).tolist(), dtype=object),
    )


@settings(max_examples=60, deadline=None)
@given(_messy_universes())
def test_metrics_never_contain_infinities_and_stay_in_their_ranges(data: UniverseData) -> None:
    metrics = compute_metrics(data)
    values = metrics.to_numpy()
    assert values.dtype == np.float64
    assert not np.isinf(values).any()
    for name, low, high in (
        ("rsi14", 0, 100),
        ("dip_pct", 0, 100),
        ("max_drawdown_pct", 0, 100),
        ("earnings_stability", 0, 1),
        ("credit_score", 0, 10),
    ):
        column = metrics[name].dropna()
        assert ((column >= low) & (column <= high)).all(), name
    assert (metrics["volatility_pct"].dropna() >= 0).all()
    assert (metrics["fcf_negative_years"].dropna().isin([0.0, 1.0, 2.0, 3.0])).all()
    pd.testing.assert_frame_equal(metrics, compute_metrics(data))  # the same inputs give the same metrics
