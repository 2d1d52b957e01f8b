"""Gates: every gate for every row, pass / fail / unknown, severities, sentences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from marketdesk.screener.config import resolve
from marketdesk.screener.engine import screen
from marketdesk.screener.gates import FAIL, NOT_APPLICABLE, PASS, UNKNOWN, format_value

HEALTHY = {
    "total_equity": 5e9,
    "debt_to_equity": 0.8,
    "fcf_negative_years": 0.0,
    "market_cap": 2e10,
    "avg_dollar_volume": 5e7,
}


def _frame(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index")


def _status(result_gates: tuple, gate_id: str) -> str:
    return next(g.status for g in result_gates if g.id == gate_id)


def test_each_equity_gate_fails_on_its_own_condition() -> None:
    rows = {
        "OK": HEALTHY,
        "NEGEQ": {**HEALTHY, "total_equity": -1e9, "debt_to_equity": float("nan")},
        "LEVER": {**HEALTHY, "debt_to_equity": 6.0},
        "BURN": {**HEALTHY, "fcf_negative_years": 2.0},
        "TINY": {**HEALTHY, "market_cap": 1e8},
        "THIN": {**HEALTHY, "avg_dollar_volume": 2e5},
    }
    result = screen(_frame(rows))
    expected = {
        "NEGEQ": "negative_equity",
        "LEVER": "extreme_leverage",
        "BURN": "persistent_negative_fcf",
        "TINY": "min_size",
        "THIN": "min_liquidity",
    }
    assert all(g.status == "pass" for g in result.gates("OK"))
    for symbol, gate_id in expected.items():
        failed = [g.id for g in result.gates(symbol) if g.status == "fail"]
        assert failed == [gate_id], symbol
    assert result.table.loc["NEGEQ", "failed_gates"] == 1
    assert _status(result.gates("NEGEQ"), "extreme_leverage") == "unknown"


def test_one_negative_fcf_year_of_three_passes_and_two_fail() -> None:
    result = screen(
        _frame({"ONE": {**HEALTHY, "fcf_negative_years": 1.0}, "TWO": {**HEALTHY, "fcf_negative_years": 2.0}})
    )
    assert _status(result.gates("ONE"), "persistent_negative_fcf") == "pass"
    assert _status(result.gates("TWO"), "persistent_negative_fcf") == "fail"


def test_a_missing_metric_makes_the_gate_unknown_not_failed() -> None:
    result = screen(_frame({"GAP": {"total_equity": 1e9}}))
    gates = result.gates("GAP")
    assert len(gates) == 5  # every equity gate is kept
    assert [g.status for g in gates].count("unknown") == 4
    assert result.table.loc["GAP", "failed_gates"] == 0
    assert result.table.loc["GAP", "unknown_gates"] == 4
    unknown = next(g for g in gates if g.id == "min_size")
    assert unknown.value is None
    assert unknown.text == "Minimum size: not checked, Market cap is not available."


def test_gate_results_keep_value_threshold_and_a_sentence() -> None:
    result = screen(_frame({"LEVER": {**HEALTHY, "debt_to_equity": 6.25}}))
    gate = next(g for g in result.gates("LEVER") if g.id == "extreme_leverage")
    assert (gate.status, gate.value, gate.threshold, gate.operator, gate.severity) == ("fail", 6.25, 4.0, "<=", "cap")
    assert gate.text == "Debt is 6.2× equity, above the 4.0× we accept."
    assert result.gates("LEVER")[0].id == "extreme_leverage"  # failures first
    passed = next(g for g in result.gates("LEVER") if g.id == "min_size")
    assert passed.text == "Minimum size: passed (Market cap $20B, at least $300M)."


def test_status_matrix_marks_other_classes_not_applicable() -> None:
    frame = _frame(
        {"EQ": HEALTHY, "FUND": {"expense_ratio_pct": 1.5, "avg_dollar_volume": 5e7}, "UST": {"credit_score": 10.0}}
    )
    result = screen(frame, asset_class=["equity", "etf", "bond"])
    table = result.evaluation.gates
    ids = [f"{s.asset_class}:{s.gate.id}" for s in table.specs]
    row = dict(zip(ids, table.status[1], strict=True))
    assert row["etf:max_expense"] == FAIL
    assert row["etf:min_liquidity"] == PASS
    assert row["etf:min_assets"] == UNKNOWN
    assert row["equity:min_size"] == NOT_APPLICABLE
    assert [g.id for g in result.gates("UST")] == ["min_credit"]
    assert result.gates("UST")[0].status == "pass"


def test_bond_below_investment_grade_fails_the_credit_gate() -> None:
    result = screen(_frame({"JUNK": {"credit_score": 5.0, "yield_pct": 7.0}}), asset_class="bond")
    gate = result.gates("JUNK")[0]
    assert (gate.id, gate.status) == ("min_credit", "fail")
    assert gate.text == "Credit quality is 5 (BBB = 7), below investment grade."


def test_cap_gate_holds_the_verdict_and_avoid_gate_makes_it_avoid() -> None:
    great = {
        **HEALTHY,
        "pe": 8.0, "ev_ebitda": 5.0, "earnings_yield": 0.12, "fcf_yield": 0.1, "roe": 0.3, "operating_margin": 0.3,
        "fcf_margin": 0.25, "revenue_growth": 0.2, "eps_growth": 0.3, "return_6m_pct": 25.0, "return_12m_pct": 40.0,
        "above_ma200_pct": 12.0, "volatility_pct": 15.0, "max_drawdown_pct": 8.0,
    }  # fmt: skip
    frame = _frame({
        "GREAT": great,
        "CAPPED": {**great, "debt_to_equity": 5.0},
        "AVOID": {**great, "total_equity": -1e9},
    })  # fmt: skip
    table = screen(frame).table
    assert table.loc["GREAT", "verdict"] == "Strong Buy"
    assert table.loc["CAPPED", "verdict"] == "Hold"
    assert table.loc["AVOID", "verdict"] == "Avoid"
    assert table.loc["CAPPED", "score"] >= 7.5  # a Strong Buy on the numbers alone


def test_preset_gates_join_the_defaults() -> None:
    frame = _frame({"TRAP": {**HEALTHY, "pe": 8.0, "eps_growth": -0.4, "fcf_yield": 0.05, "revenue_growth": 0.0}})
    gates = screen(frame, config=resolve("value-trap")).gates("TRAP")
    assert len(gates) == 8
    failed = next(g for g in gates if g.status == "fail")
    assert (failed.id, failed.severity) == ("falling_earnings", "avoid")
    assert failed.text == "Earnings per share changed −40.0% in a year: cheap because profits are falling."


@pytest.mark.parametrize(
    ("metric", "value", "shown"),
    [
        ("pe", 11.24, "11.2"),
        ("roe", 0.153, "15.3%"),
        ("dip_pct", 7.5, "7.5%"),
        ("market_cap", 2.14e9, "$2.14B"),
        ("avg_dollar_volume", 350e6, "$350M"),
        ("total_equity", -1.2e9, "−$1.2B"),
        ("debt_to_equity", 1.5, "1.5×"),
        ("duration_years", 4.25, "4.2 years"),
        ("fcf_negative_years", 2.0, "2"),
        ("eps_growth", -0.0001, "0.0%"),
        ("pe", math.nan, "n/a"),
        ("pe", None, "n/a"),
    ],
)
def test_values_are_formatted_for_people(metric: str, value: float | None, shown: str) -> None:
    assert format_value(metric, value) == shown


def test_inf_in_the_metrics_counts_as_missing() -> None:
    result = screen(_frame({"INF": {**HEALTHY, "debt_to_equity": np.inf}}))
    assert _status(result.gates("INF"), "extreme_leverage") == "unknown"
