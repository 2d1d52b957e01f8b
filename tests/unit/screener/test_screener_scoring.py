"""Scoring: metric rules, factor means, missing data dropping out, shares, coverage and hand-checked totals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from marketdesk.screener.config import MetricRule, ScoringConfig, merge, parse_config, resolve
from marketdesk.screener.engine import screen
from marketdesk.screener.scoring import rule_score


def tiny(**override: Any) -> ScoringConfig:
    """Two factors: A (weight 0.6: P/E 30→10, ROE 0→20%) and B (weight 0.4: 12M return −20→30%)."""
    raw = {
        "cutoffs": {"strong_buy": 7.5, "buy": 6.0, "hold": 4.0},
        "min_coverage": 0.25,
        "filters": [],
        "flags": [],
        "classes": {
            "equity": {
                "gates": [],
                "factors": {
                    "valuation": {"label": "A", "weight": 0.6, "pro": "Good A", "con": "Bad A", "metrics": {
                        "pe": {"bad": 30.0, "good": 10.0, "weight": 1.0},
                        "roe": {"bad": 0.0, "good": 0.2, "weight": 1.0}}},
                    "momentum": {"label": "B", "weight": 0.4, "pro": "Good B", "con": "Bad B", "metrics": {
                        "return_12m_pct": {"bad": -20.0, "good": 30.0, "weight": 1.0}}},
                },
            }
        },
        "regimes": {},
    }  # fmt: skip
    return parse_config(merge(raw, override))


def _screen(rows: dict[str, dict[str, float]], config: ScoringConfig | None = None, **kwargs: Any) -> pd.DataFrame:
    return screen(pd.DataFrame.from_dict(rows, orient="index"), config=config or tiny(), **kwargs).table


@pytest.mark.parametrize(
    ("value", "expected"),
    [(30.0, 0.0), (40.0, 0.0), (20.0, 0.5), (15.0, 0.75), (10.0, 1.0), (5.0, 1.0), (math.nan, math.nan)],
)
def test_a_lower_is_better_rule_is_linear_between_bad_and_good(value: float, expected: float) -> None:
    score = float(rule_score(value, MetricRule("pe", 30.0, 10.0, 1.0)))
    assert score == pytest.approx(expected, nan_ok=True)


def test_a_log_rule_scores_on_orders_of_magnitude() -> None:
    rule = MetricRule("avg_dollar_volume", 1e6, 1e8, 1.0, "log")
    values = np.array([1e5, 1e6, 1e7, 1e8, 1e9, 0.0, -5.0, np.nan])
    assert rule_score(values, rule) == pytest.approx([0, 0, 0.5, 1, 1, 0, 0, np.nan], nan_ok=True)


def test_total_is_the_weighted_mean_of_factor_means() -> None:
    # A = 10 × mean(0.5, 0.75) = 6.25; B = 10 × 0.5 = 5; total = 0.6 × 6.25 + 0.4 × 5 = 5.75
    table = _screen({"X": {"pe": 20.0, "roe": 0.15, "return_12m_pct": 5.0}})
    assert table.loc["X", "valuation_score"] == pytest.approx(6.25)
    assert table.loc["X", "momentum_score"] == pytest.approx(5.0)
    assert table.loc["X", "score"] == pytest.approx(5.75)
    assert table.loc["X", "verdict"] == "Hold"
    assert table.loc["X", "coverage"] == pytest.approx(1.0)


def test_a_missing_metric_drops_out_of_its_factor() -> None:
    # A = 10 × 0.5 (P/E only) = 5; total = 0.6 × 5 + 0.4 × 5 = 5; coverage = 0.6 × 1/2 + 0.4 = 0.7
    table = _screen({"X": {"pe": 20.0, "return_12m_pct": 5.0}})
    assert table.loc["X", "valuation_score"] == pytest.approx(5.0)
    assert table.loc["X", "score"] == pytest.approx(5.0)
    assert table.loc["X", "coverage"] == pytest.approx(0.7)


def test_a_factor_without_data_drops_out_of_the_total() -> None:
    table = _screen({"X": {"return_12m_pct": 30.0}})
    assert math.isnan(table.loc["X", "valuation_score"])
    assert table.loc["X", "score"] == pytest.approx(10.0)
    assert table.loc["X", "coverage"] == pytest.approx(0.4)
    assert table.loc["X", "verdict"] == "Strong Buy"


def test_below_min_coverage_a_row_gets_a_reason_instead_of_a_score() -> None:
    table = _screen({"THIN": {"return_12m_pct": 30.0}, "NONE": {"pe": math.nan}}, tiny(min_coverage=0.5))
    assert math.isnan(table.loc["THIN", "score"])
    assert pd.isna(table.loc["THIN", "verdict"])
    assert table.loc["THIN", "no_score"] == (
        "No score: only 40% of the measures the equity score uses are available (at least 50% needed)."
    )
    assert table.loc["NONE", "no_score"] == "No score: none of the measures the equity score uses is available."


def test_unscored_asset_class_gets_a_stated_reason() -> None:
    table = _screen({"SPX": {"return_12m_pct": 5.0}}, asset_class="index")
    assert math.isnan(table.loc["SPX", "score"])
    assert (
        table.loc["SPX", "no_score"] == "No score: there are no scoring rules for asset class 'index' (scored: equity)."
    )


def test_shares_sum_to_one_and_contributions_to_the_score() -> None:
    result = screen(pd.DataFrame({"pe": [20.0], "roe": [0.15], "return_12m_pct": [5.0]}, index=["X"]), config=tiny())
    scores = result.evaluation.scores
    assert scores.rule_share[0].sum() == pytest.approx(1.0)
    assert scores.rule_share[0] == pytest.approx([0.3, 0.3, 0.4])
    contributions = 10 * scores.rule_share[0] * np.nan_to_num(scores.rule_score[0])
    assert contributions.sum() == pytest.approx(scores.total[0])
    assert scores.factor_share[0] == pytest.approx([0.6, 0.4])


def test_metric_weights_within_a_factor() -> None:
    config = tiny(classes={"equity": {"factors": {"valuation": {"metrics": {"roe": {"weight": 3.0}}}}}})
    # A = 10 × (1 × 0.5 + 3 × 1.0) / 4 = 8.75
    table = _screen({"X": {"pe": 20.0, "roe": 0.3, "return_12m_pct": 5.0}}, config)
    assert table.loc["X", "valuation_score"] == pytest.approx(8.75)


def test_a_zero_weight_factor_is_shown_but_does_not_count() -> None:
    config = tiny(classes={"equity": {"factors": {"momentum": {"weight": 0.0}}}})
    table = _screen({"X": {"pe": 20.0, "roe": 0.15, "return_12m_pct": 30.0}}, config)
    assert table.loc["X", "momentum_score"] == pytest.approx(10.0)
    assert table.loc["X", "score"] == pytest.approx(6.25)


def test_etf_scorer_uses_cost_size_liquidity_momentum_concentration() -> None:
    fund = {
        "expense_ratio_pct": 0.05, "net_assets": 10e9, "avg_dollar_volume": 100e6, "return_6m_pct": 12.0,
        "return_12m_pct": 20.0, "above_ma200_pct": 8.0, "top10_weight_pct": 20.0,
    }  # fmt: skip
    table = _screen(
        {"BEST": fund, "WORST": {**fund, "expense_ratio_pct": 0.75, "top10_weight_pct": 70.0}},
        resolve(),
        asset_class="etf",
    )
    assert table.loc["BEST", "score"] == pytest.approx(10.0)
    assert table.loc["BEST", "cost_score"] == pytest.approx(10.0)
    # cost (0.30) and concentration (0.10) score 0: 10 × 0.6
    assert table.loc["WORST", "score"] == pytest.approx(6.0)
    assert math.isnan(table.loc["BEST", "valuation_score"])


def test_bond_scorer_uses_yield_duration_credit_and_curve() -> None:
    # yield 3.25 → 0.5; duration 8.5 → 0.5; credit 10 → 1; curve 0 → 0.5
    # total = 10 × (0.35 × 0.5 + 0.2 × 0.5 + 0.3 × 1 + 0.15 × 0.5) = 6.5
    bond = {"yield_pct": 3.25, "duration_years": 8.5, "credit_score": 10.0, "curve_spread_pct": 0.0}
    table = _screen({"UST10Y": bond}, resolve(), asset_class="bond")
    assert table.loc["UST10Y", "score"] == pytest.approx(6.5)
    assert table.loc["UST10Y", "credit_quality_score"] == pytest.approx(10.0)
    assert table.loc["UST10Y", "verdict"] == "Buy"


def test_scores_stay_in_range_for_extreme_values() -> None:
    rows = {
        "HUGE": {"pe": 1e12, "roe": 1e9, "return_12m_pct": -1e9},
        "TINY": {"pe": 1e-12, "roe": -1e9, "return_12m_pct": 1e12},
        "INF": {"pe": np.inf, "roe": -np.inf, "return_12m_pct": 5.0},
    }
    table = _screen(rows)
    assert table["score"].between(0, 10).all()
    assert table.loc["INF", "coverage"] == pytest.approx(0.4)  # ±inf counts as missing
