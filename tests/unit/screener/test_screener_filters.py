"""The filter language: parsing, evaluation over a table, missing data, and errors that list the choices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marketdesk.errors import Rejected
from marketdesk.screener.filters import FIELDS, FilterError, compile_filter, match_all

TABLE = pd.DataFrame(
    {
        "pe": [12.0, 30.0, np.nan, 18.0],
        "roe": [0.20, 0.25, 0.30, 0.10],
        "dip_pct": [6.0, 2.0, 12.0, 5.0],
        "market_cap": [2e11, 5e9, 1.5e10, np.nan],
        "sector": ["Energy", "Information Technology", None, "energy"],
        "verdict": ["Buy", "Strong Buy", "Hold", None],
        "asset_class": ["equity", "equity", "etf", "equity"],
        "score": [6.5, 8.0, 4.5, np.nan],
        "eps_growth": [-0.2, 0.1, np.nan, 0.0],
    },
    index=["AAA", "BBB", "CCC", "DDD"],
)


def _select(expression: str) -> list[str]:
    return list(TABLE.index[compile_filter(expression).mask(TABLE)])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("pe < 25 and roe > 0.15 and dip_pct >= 5", ["AAA"]),
        ("pe < 15 or roe >= 0.25", ["AAA", "BBB", "CCC"]),
        ("not pe > 20", ["AAA", "DDD"]),  # CCC has no P/E: unknown stays unselected under not
        ("not (pe > 20 or dip_pct > 10)", ["AAA", "DDD"]),
        ("(pe < 15 or roe > 0.28) and dip_pct >= 5", ["AAA", "CCC"]),
        ("pe == 18", ["DDD"]),
        ("pe != 18", ["AAA", "BBB"]),
        ("25 > pe", ["AAA", "DDD"]),
        ("roe > 15%", ["AAA", "BBB", "CCC"]),
        ("dip_pct >= 5%", ["AAA", "CCC", "DDD"]),
        ("market_cap > 10B", ["AAA", "CCC"]),
        ("market_cap < 5.5b", ["BBB"]),
        ("eps_growth > -0.1", ["BBB", "DDD"]),
        ("eps_growth > −0.1", ["BBB", "DDD"]),  # the minus sign the desk prints
        ('sector == "energy"', ["AAA", "DDD"]),  # text ignores case
        ("sector != 'Energy'", ["BBB"]),  # a missing sector is unknown, not different
        ('verdict >= "buy"', ["AAA", "BBB"]),
        ('verdict == "Hold"', ["CCC"]),
        ('asset_class == "etf"', ["CCC"]),
        ("score >= 6", ["AAA", "BBB"]),
        ("pe < roe", []),
        ("PE < 15 AND Roe > 0.1", ["AAA"]),
        ("pe<15", ["AAA"]),
    ],
)
def test_expressions_select_the_right_rows(expression: str, expected: list[str]) -> None:
    assert _select(expression) == expected


def test_or_with_an_unknown_side_is_true_when_the_other_side_is() -> None:
    assert _select("pe < 15 or dip_pct > 10") == ["AAA", "CCC"]
    # and: false when either side is known false; CCC (no P/E, a big dip) stays unknown, so unselected
    assert _select("not (pe < 15 and dip_pct > 10)") == ["AAA", "BBB", "DDD"]
    assert _select("pe > 100 and dip_pct > 10") == []


def test_mask_works_on_a_mapping_of_arrays() -> None:
    columns = {"pe": np.array([5.0, 50.0]), "sector": np.array(["Energy", "Utilities"], dtype=object)}
    assert compile_filter('pe < 10 and sector == "ENERGY"').mask(columns).tolist() == [True, False]


def test_match_all_combines_with_and_and_selects_all_without_filters() -> None:
    assert match_all([], TABLE, 4).tolist() == [True] * 4
    assert match_all(["pe < 25", "dip_pct >= 5"], TABLE, 4).tolist() == [True, False, False, True]


def test_fields_include_metrics_scores_and_text() -> None:
    for name in ("pe", "roe", "dip_pct", "score", "valuation_score", "credit_quality_score", "verdict", "sector"):
        assert name in FIELDS


@pytest.mark.parametrize(
    ("expression", "message", "position"),
    [
        ("peg < 1", "unknown field 'peg' at character 1", 1),
        ("pe =< 3", "unknown operator '=<' at character 4", 4),
        ("pe = 3", "unknown operator '=' at character 4", 4),
        ("pe contains 3", "unknown operator 'contains' at character 4", 4),
        ("pe <", "expected a field, a number or a quoted text at character 5, found the end", 5),
        ("pe < 3 and", "expected a field, a number or a quoted text at character 11", 11),
        ("pe 3", "expected an operator", 4),
        ("(pe < 3", "expected ')' at character 8", 8),
        ("pe < 3)", "expected and, or, or the end of the filter at character 7", 7),
        ("", "expected a comparison", 1),
        ("pe < 5x", "malformed number '5x' at character 6", 6),
        ("pe && roe", "unexpected character '&' at character 4", 4),
        ("3 < 4", "has no field", 3),
        ('sector < "x"', "sector is text: it can only be compared with == or !=", 8),
        ('pe < "x"', "pe is a number, but is compared with text", 6),
        ("sector == 3", "sector is text, but is compared with a number", 11),
        ("pe > 5%", "does not fit pe", 6),
        ('verdict == "great"', "unknown verdict 'great'", 12),
        ('asset_class == "stock"', "unknown asset class 'stock'", 16),
        ("pe < sector", "cannot compare pe with sector", 4),
        ("__import__('os')", "unknown field '__import__'", 1),
    ],
)
def test_bad_expressions_say_where_and_what_was_expected(expression: str, message: str, position: int) -> None:
    with pytest.raises(FilterError) as error:
        compile_filter(expression)
    assert message in error.value.message
    assert error.value.position == position
    assert isinstance(error.value, Rejected)


def test_unknown_field_lists_the_valid_fields_and_a_guess() -> None:
    with pytest.raises(FilterError) as error:
        compile_filter("dip > 5")
    assert "Did you mean dip_pct?" in str(error.value)
    assert "Valid fields: pe, pb" in str(error.value)
    assert "sector" in str(error.value)


def test_unknown_operator_lists_the_valid_operators() -> None:
    with pytest.raises(FilterError) as error:
        compile_filter("pe => 3")
    assert "Valid operators: <, <=, >, >=, ==, !=" in str(error.value)


def test_a_text_field_missing_from_the_table_is_rejected() -> None:
    with pytest.raises(Rejected, match="field 'rsi14' is not in this table"):
        compile_filter("rsi14 < 30").mask(TABLE)


def test_compiled_filter_reports_its_fields_and_source() -> None:
    compiled = compile_filter("pe < 25 and (roe > 0.1 or sector == 'Energy')")
    assert compiled.fields == frozenset({"pe", "roe", "sector"})
    assert str(compiled) == "pe < 25 and (roe > 0.1 or sector == 'Energy')"


@pytest.mark.parametrize(
    ("expression", "allowed"),
    [
        ("dip_pct > 150", "0 to 100"),
        ("rsi14 < -5", "0 to 100"),
        ("score >= 11", "0 to 10"),
        ("roe > 2000%", "-10 to 10"),
    ],
)
def test_absurd_thresholds_are_rejected_with_the_allowed_range(expression: str, allowed: str) -> None:
    with pytest.raises(Rejected, match="not a sensible threshold") as caught:
        compile_filter(expression)
    assert allowed in caught.value.one_line()


def test_thresholds_at_the_edges_of_the_range_are_accepted() -> None:
    assert compile_filter("dip_pct <= 100 and rsi14 >= 0 and score >= 0").source
