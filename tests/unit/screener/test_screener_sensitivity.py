"""Threshold sensitivity: the smallest change in one metric that changes the verdict, checked by re-screening."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.screener.config import ScoringConfig, merge, parse_config, resolve
from marketdesk.screener.engine import ScreenResult, screen
from marketdesk.screener.sensitivity import Change, MetricSensitivity

LEVERAGE_GATE = {
    "id": "extreme_leverage", "label": "Leverage", "metric": "debt_to_equity", "op": "<=", "threshold": 4.0,
    "severity": "cap", "fail": "Debt is {value} equity.",
}  # fmt: skip


def one_factor(metrics: dict[str, Any], extra: dict[str, Any] | None = None, **override: Any) -> ScoringConfig:
    factors = {"valuation": {"label": "Valuation", "weight": 1.0, "pro": "Cheap", "con": "Dear", "metrics": metrics}}
    raw = {
        "cutoffs": {"strong_buy": 7.5, "buy": 6.0, "hold": 4.0},
        "min_coverage": 0.0,
        "filters": [],
        "flags": [],
        "classes": {"equity": {"gates": [LEVERAGE_GATE], "factors": {**factors, **(extra or {})}}},
        "regimes": {},
    }
    return parse_config(merge(raw, override))


PE_ONLY = {"pe": {"bad": 30.0, "good": 10.0, "weight": 1.0}}


def _run(row: dict[str, float], config: ScoringConfig, asset_class: str = "equity") -> ScreenResult:
    return screen(pd.DataFrame([row], index=["X"]), config=config, asset_class=asset_class)


def _item(result: ScreenResult, metric: str) -> MetricSensitivity:
    return next(i for i in result.sensitivity("X").items if i.metric == metric)


def test_pe_change_that_moves_a_hold_up_and_down() -> None:
    # P/E 20 scores 0.5 → 5/10, Hold. Buy needs 6 (P/E ≤ 18); Avoid comes below 4 (P/E above 22).
    item = _item(_run({"pe": 20.0, "debt_to_equity": 1.0}, one_factor(PE_ONLY)), "pe")
    assert item.down == Change(pytest.approx(18.0), True, pytest.approx(-2.0), "Buy", "18.0")  # type: ignore[arg-type]
    assert item.up == Change(pytest.approx(22.0), False, pytest.approx(2.0), "Avoid", "22.0")  # type: ignore[arg-type]
    assert item.text == "P/E 20.0: a fall to 18.0 would make it Buy; a rise above 22.0 would make it Avoid."


def test_a_failed_gate_passes_at_its_threshold() -> None:
    result = _run({"pe": 8.0, "debt_to_equity": 5.0}, one_factor(PE_ONLY))
    assert result.table.loc["X", "verdict"] == "Hold"  # a 10/10 held by the leverage gate
    leverage = _item(result, "debt_to_equity")
    assert leverage.down is not None
    assert (leverage.down.target, leverage.down.inclusive, leverage.down.verdict) == (4.0, True, "Strong Buy")
    assert leverage.up is None
    pe = _item(result, "pe")
    assert pe.down is None
    assert pe.up is not None
    assert (pe.up.target, pe.up.inclusive, pe.up.verdict) == (pytest.approx(22.0), False, "Avoid")


def test_a_metric_that_cannot_move_the_verdict_alone_says_so() -> None:
    metrics = {**PE_ONLY, "roe": {"bad": 0.0, "good": 0.2, "weight": 0.1}}
    result = _run({"pe": 10.0, "roe": 0.1, "debt_to_equity": 1.0}, one_factor(metrics))
    assert _item(result, "roe").text == "No change in ROE alone changes the verdict."
    # score = 10 × (s + 0.05) / 1.1 falls below 7.5 when s < 0.775, i.e. P/E above 14.5
    pe = _item(result, "pe")
    assert pe.up is not None
    assert (pe.up.target, pe.up.inclusive, pe.up.verdict) == (pytest.approx(14.5), False, "Buy")
    assert result.sensitivity("X").items[0].metric == "pe"  # the most sensitive first


def test_a_missing_metric_is_reported_as_not_counting() -> None:
    metrics = {**PE_ONLY, "roe": {"bad": 0.0, "good": 0.2, "weight": 1.0}}
    item = _item(_run({"pe": 20.0}, one_factor(metrics)), "roe")
    assert (item.value, item.up, item.down) == (None, None, None)
    assert item.text == "ROE is not available, so it does not count now."


def test_log_rules_cross_on_orders_of_magnitude() -> None:
    config = one_factor({"avg_dollar_volume": {"bad": 1e6, "good": 1e8, "weight": 1.0, "scale": "log"}})
    item = _item(_run({"avg_dollar_volume": 1e7}, config), "avg_dollar_volume")
    assert item.up is not None and item.down is not None
    assert item.up.target == pytest.approx(10**7.2)
    assert (item.up.inclusive, item.up.verdict) == (True, "Buy")
    assert item.down.target == pytest.approx(10**6.8)
    assert (item.down.inclusive, item.down.verdict) == (False, "Avoid")


def test_a_row_without_a_score_has_no_threshold_to_move() -> None:
    result = _run({"debt_to_equity": 1.0}, one_factor(PE_ONLY, min_coverage=0.5))
    sensitivity = result.sensitivity("X")
    assert sensitivity.items == ()
    assert sensitivity.note is not None and "Without a score" in sensitivity.note


def test_sensitivity_text_and_dict() -> None:
    sensitivity = _run({"pe": 20.0, "debt_to_equity": 1.0}, one_factor(PE_ONLY)).sensitivity("X")
    assert sensitivity.text().startswith("X: what would change the verdict (Hold)")
    data = sensitivity.to_dict()
    assert data["items"][0]["metric"] == "pe"


# ------------------------------------------------------------------------------------ checked by re-screening

_DEFAULT = resolve()
_EQUITY_METRICS = sorted(
    {r.metric for f in _DEFAULT.asset_class("equity").factors for r in f.rules}  # type: ignore[union-attr]
    | {g.metric for g in _DEFAULT.asset_class("equity").gates}  # type: ignore[union-attr]
)
_MIXED = one_factor(
    {"avg_dollar_volume": {"bad": 1e6, "good": 1e8, "weight": 1.0, "scale": "log"}},
    {"size": {"label": "Size", "weight": 1.0, "pro": "Big", "con": "Small",
              "metrics": {"avg_dollar_volume": {"bad": 0.0, "good": 2e8, "weight": 1.0}}}},
)  # fmt: skip


def _value(metric: str) -> st.SearchStrategy[float]:
    from marketdesk.screener.filters import metric_range

    low, high = metric_range(metric)
    low, high = max(low, -200.0), min(high, 1e11)
    return st.one_of(st.just(math.nan), st.floats(low, high, allow_nan=False))


def _verdict_at(row: dict[str, float], metric: str, value: float, config: ScoringConfig) -> str | None:
    verdict = _run({**row, metric: value}, config).table.loc["X", "verdict"]
    return None if pd.isna(verdict) else str(verdict)


def _check(row: dict[str, float], config: ScoringConfig) -> None:
    result = _run(row, config)
    current = result.table.loc["X", "verdict"]
    for item in result.sensitivity("X").items:
        for change, sign in ((item.up, 1.0), (item.down, -1.0)):
            if change is None:
                continue
            assert item.value is not None
            nudge = sign * max(abs(change.target), 1.0) * 1e-9
            beyond = _verdict_at(row, item.metric, change.target + nudge, config)
            at = _verdict_at(row, item.metric, change.target, config)
            assert change.verdict in ({beyond, at} if change.inclusive else {beyond}), (item, change)
            if abs(change.change) > 1e-6 * max(abs(item.value), 1.0):
                between = item.value + 0.5 * change.change
                assert _verdict_at(row, item.metric, between, config) == current, (item, change)


@settings(max_examples=40, deadline=None)
@given(st.fixed_dictionaries({m: _value(m) for m in _EQUITY_METRICS}))
def test_each_reported_change_flips_the_verdict_and_a_smaller_one_does_not(row: dict[str, float]) -> None:
    _check(row, _DEFAULT)


@settings(max_examples=25, deadline=None)
@given(st.floats(1e5, 3e8), st.floats(0.0, 60.0))
def test_mixed_scale_rules_on_one_metric_are_solved_too(volume: float, pe_like: float) -> None:
    _check({"avg_dollar_volume": volume, "debt_to_equity": pe_like / 10.0}, _MIXED)


def test_regime_and_preset_rules_are_checked_too() -> None:
    generator = np.random.default_rng(7)
    config = resolve("dip-opportunity", "risk-off")
    for _ in range(5):
        row = {m: float(generator.uniform(*sorted((0.0, 40.0)))) for m in ("pe", "dip_pct", "rsi14", "roe")}
        row.update(debt_to_equity=1.0, total_equity=1e9, market_cap=5e9, avg_dollar_volume=1e7)
        _check(row, config)
