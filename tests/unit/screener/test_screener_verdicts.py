"""Verdicts, explanations and the screen's per-symbol API."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from marketdesk.errors import NotFound, Rejected
from marketdesk.kit.jsonutil import dumps
from marketdesk.screener.config import SCORING_VERSION, Cutoffs, resolve
from marketdesk.screener.engine import screen
from marketdesk.screener.model import Regime, RegimeSignal, RegimeState
from marketdesk.screener.verdicts import MEANING, apply_gates, score_rank, verdict_labels

SOUND = {
    "total_equity": 5e9, "debt_to_equity": 0.5, "fcf_negative_years": 0.0, "market_cap": 5e10,
    "avg_dollar_volume": 2e8, "pe": 10.0, "ev_ebitda": 7.0, "pb": 1.5, "ps": 1.0, "earnings_yield": 0.1,
    "fcf_yield": 0.08, "roe": 0.25, "roa": 0.12, "gross_margin": 0.6, "operating_margin": 0.3, "fcf_margin": 0.22,
    "current_ratio": 2.0, "interest_coverage": 12.0, "earnings_stability": 0.95, "revenue_growth": 0.2,
    "eps_growth": 0.25, "return_3m_pct": 12.0, "return_6m_pct": 20.0, "return_12m_pct": 30.0,
    "above_ma200_pct": 10.0, "volatility_pct": 18.0, "max_drawdown_pct": 12.0, "beta": 0.8,
}  # fmt: skip
RISK_OFF = Regime(
    RegimeState.RISK_OFF,
    "The benchmark is below its 200-day average and volatility is high.",
    (RegimeSignal("trend", -3.0, -1, "below its 200-day average"),),
    date(2026, 11, 20),
)


def _universe() -> pd.DataFrame:
    rows = {
        "BEST": SOUND,
        "MIXED": {**SOUND, "pe": 40.0, "ev_ebitda": 25.0, "revenue_growth": -0.1, "eps_growth": -0.3,
                  "return_12m_pct": -25.0, "return_6m_pct": -20.0, "volatility_pct": 55.0},
        "LEVER": {**SOUND, "debt_to_equity": 6.0},
        "BROKE": {**SOUND, "total_equity": -2e9, "debt_to_equity": np.nan, "roe": np.nan, "pb": np.nan},
        "EMPTY": {"market_cap": 1e9},
    }  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index")


def test_score_rank_uses_the_cutoffs_inclusively() -> None:
    cut = Cutoffs(7.5, 6.0, 4.0)
    ranks = score_rank(np.array([10.0, 7.5, 7.49, 6.0, 5.99, 4.0, 3.99, 0.0, np.nan]), cut)
    assert ranks.tolist() == [3, 3, 2, 2, 1, 1, 0, 0, -1]
    labels = verdict_labels(ranks).tolist()
    assert labels == ["Strong Buy", "Strong Buy", "Buy", "Buy", "Hold", "Hold", "Avoid", "Avoid", None]


def test_gates_cap_at_hold_and_force_avoid() -> None:
    rank = np.array([3, 2, 1, 0, 3, -1, -1], dtype=np.int8)
    cap = np.array([True, True, True, True, False, True, False])
    avoid = np.array([False, False, False, False, True, False, True])
    assert apply_gates(rank, cap, avoid).tolist() == [1, 1, 1, 0, 0, -1, 0]


def test_verdicts_follow_score_then_gates() -> None:
    table = screen(_universe()).table
    assert table.loc["BEST", "verdict"] == "Strong Buy"
    assert table.loc["LEVER", "verdict"] == "Hold"
    assert table.loc["BROKE", "verdict"] == "Avoid"
    assert table.loc["MIXED", "verdict"] in {"Hold", "Avoid"}
    assert pd.isna(table.loc["EMPTY", "verdict"])
    assert table.loc["EMPTY", "no_score"].startswith("No score:")
    assert (table["scoring_version"] == SCORING_VERSION).all()
    assert (table["preset"] == "balanced").all()


def test_plain_explanation_gives_reasons_and_what_the_verdict_means() -> None:
    explanation = screen(_universe()).explain("BEST")
    assert explanation.verdict == "Strong Buy"
    assert explanation.meaning == MEANING[explanation.verdict]  # type: ignore[index]
    assert len(explanation.reasons_for) == 3
    assert explanation.reasons_against == ()
    texts = [r.text for r in explanation.reasons_for]
    assert all(r.points is not None and r.points > 0 for r in explanation.reasons_for)
    assert texts == sorted(texts, key=lambda t: -next(r.points for r in explanation.reasons_for if r.text == t))  # type: ignore[arg-type, return-value]
    plain = explanation.plain_text()
    assert plain.startswith("BEST: Strong Buy (")
    assert "strong on nearly every measure" in plain


def test_reason_sentences_compare_with_our_thresholds() -> None:
    result = screen(_universe())
    against = [r.text for r in result.reasons("MIXED")["against"]]
    assert against == [
        "Shrinking or slow: Revenue growth −10.0% is below the −5.0% we call poor",
        "Shrinking or slow: EPS growth −30.0% is below the −10.0% we call poor",
        "Expensive: P/E 40.0 is above the 35.0 we call poor",
    ]
    cheap = next(r for r in result.explain("BEST").factors if r.name == "valuation").metrics[0]
    assert (cheap.metric, cheap.shown, cheap.good_shown, cheap.score) == ("pe", "10.0", "12.0", 1.0)


def test_a_middling_value_is_described_against_both_thresholds() -> None:
    only_pe = {"classes": {"equity": {"factors": {
        "valuation": {"metrics": {m: {"remove": True} for m in ("ev_ebitda", "pb", "ps", "earnings_yield", "fcf_yield")}},
        **{f: {"weight": 0.0} for f in ("quality", "growth", "momentum", "risk")}}}}}  # fmt: skip
    result = screen(pd.DataFrame({"pe": [14.3, 30.4]}, index=["MID", "DEAR"]), config=resolve(overrides=only_pe))
    assert [r.text for r in result.reasons("MID")["for"]] == [
        "Cheap: P/E 14.3 is nearer the 12.0 we call good than the 35.0 we call poor"
    ]
    assert [r.text for r in result.reasons("DEAR")["against"]] == [
        "Expensive: P/E 30.4 is nearer the 35.0 we call poor than the 12.0 we call good"
    ]


def test_failed_gates_lead_the_reasons_against_and_explain_the_cap() -> None:
    result = screen(_universe())
    explanation = result.explain("LEVER")
    assert explanation.verdict == "Hold"
    assert explanation.score_verdict == "Strong Buy"
    assert explanation.capped_by == ("Leverage",)
    first = explanation.reasons_against[0]
    assert (first.gate, first.text) == (
        "extreme_leverage",
        "Fails a check (Leverage): Debt is 6.0× equity, above the 4.0× we accept.",
    )
    assert (
        "On the numbers alone it would be Strong Buy, but it fails Leverage, so it is Hold." in explanation.plain_text()
    )


def test_pro_detail_lists_every_metric_factor_and_gate() -> None:
    explanation = screen(_universe()).explain("BROKE")
    pro = explanation.pro_text()
    equity = resolve().asset_class("equity")
    assert equity is not None
    for factor in equity.factors:
        assert f"{factor.label}: " in pro
        for rule in factor.rules:
            detail = next(m for f in explanation.factors for m in f.metrics if m.metric == rule.metric)
            assert detail.weight == rule.weight
            assert detail.label in pro
    assert pro.count("FAIL") == 1
    assert "UNKNOWN" in pro  # leverage is unknown without positive equity
    quality = next(f for f in explanation.factors if f.name == "quality")
    assert "ROE" in quality.missing
    assert f"scoring {SCORING_VERSION} · preset Balanced" in pro


def test_explanation_serialises_with_version_preset_and_regime() -> None:
    result = screen(_universe(), regime=RISK_OFF, config=resolve("value"))
    data = json.loads(dumps(result.explain("BEST").to_dict()))
    assert (data["version"], data["preset"], data["regime"]) == (SCORING_VERSION, "value", "risk-off")
    assert data["plain"].endswith(
        "The market is risk-off (The benchmark is below its 200-day average and volatility is high): quality and "
        "low risk count for more and every verdict needs a higher score."
    )
    assert data["cutoffs"] == {"strong_buy": 8.0, "buy": 6.5, "hold": 4.5}


def test_a_row_without_data_explains_why_there_is_no_verdict() -> None:
    explanation = screen(_universe()).explain("EMPTY")
    assert explanation.verdict is None
    assert explanation.plain_text() == (
        "EMPTY: no verdict.\nNo score: none of the measures the equity score uses is available."
    )


def test_rows_are_json_with_symbol_verdict_score_metrics_gates_reasons() -> None:
    result = screen(_universe(), sector=["Energy", "Energy", "Utilities", None, None])
    rows = list(result.rows())
    assert [r["symbol"] for r in rows][:1] == ["BEST"]
    json.loads(dumps(rows))  # no NaN anywhere
    best = rows[0]
    assert set(best) >= {"symbol", "verdict", "score", "metrics", "gates", "reasons", "flags", "version", "preset"}
    assert best["metrics"]["pe"] == 10.0
    assert best["metrics"]["rsi14"] is None
    assert best["sector"] == "Energy"
    assert best["gates"][0]["status"] in {"pass", "fail", "unknown"}
    empty = next(r for r in rows if r["symbol"] == "EMPTY")
    assert (empty["verdict"], empty["score"]) == (None, None)
    assert empty["no_score"].startswith("No score")


def test_view_sorts_best_first_and_by_any_column() -> None:
    result = screen(_universe())
    assert list(result.view().index) == ["BEST", "LEVER", "MIXED", "BROKE", "EMPTY"]  # verdict, then score
    assert list(result.view("score", descending=False, limit=2).index) == ["MIXED", "LEVER"]
    assert list(result.view("pe", limit=2).index) == ["MIXED", "BEST"]  # ties by symbol
    assert len(result.view(limit=1)) == 1
    with pytest.raises(Rejected, match="cannot sort by 'peg'"):
        result.view("peg")


def test_unknown_symbol_is_not_found() -> None:
    with pytest.raises(NotFound, match="'ZZZ' is not in this screen"):
        screen(_universe()).explain("ZZZ")


def test_where_filters_select_rows_and_bad_filters_are_rejected_first() -> None:
    result = screen(_universe(), where=["pe < 20", 'verdict >= "Hold"'])
    assert list(result.view().index) == ["BEST", "LEVER"]
    assert result.table["selected"].sum() == 2
    with pytest.raises(Rejected, match="unknown field 'peg'"):
        screen(_universe(), where="peg < 1")
    nothing = screen(_universe(), where="pe < 0")
    assert nothing.message is not None and nothing.message.startswith("No names match the filters (pe < 0)")


def test_empty_universe_gives_a_clear_empty_state() -> None:
    result = screen(pd.DataFrame(columns=["pe"], dtype=float))
    assert result.table.empty
    assert list(result.rows()) == []
    assert (
        result.message == "The universe is empty: there is nothing to screen. Import prices or pick another universe."
    )


def test_bad_input_is_rejected() -> None:
    frame = _universe()
    with pytest.raises(Rejected, match="symbol 'BEST' appears more than once"):
        screen(pd.concat([frame, frame.iloc[:1]]))
    with pytest.raises(Rejected, match="unknown metric column 'P/E'"):
        screen(frame.rename(columns={"pe": "P/E"}))
    with pytest.raises(Rejected, match="asset_class has 2 values for 5 rows"):
        screen(frame, asset_class=["equity", "etf"])
    with pytest.raises(Rejected, match="resolved for a risk-on market"):
        screen(frame, config=resolve(None, "risk-on"), regime=RISK_OFF)


def test_asset_class_and_sector_may_come_from_columns() -> None:
    frame = _universe().assign(asset_class=["equity", "equity", "equity", "equity", "index"], sector="Energy")
    table = screen(frame).table
    assert table.loc["EMPTY", "asset_class"] == "index"
    assert (table["sector"] == "Energy").all()


def test_flags_are_short_labels() -> None:
    frame = _universe()
    frame.loc["TRAP"] = {**SOUND, "eps_growth": -0.3, "debt_to_equity": 2.5}
    result = screen(frame)
    assert result.flags("TRAP") == ("value trap", "high leverage", "falling earnings")
    assert result.table.loc["TRAP", "flags"] == "value trap, high leverage, falling earnings"
    assert result.flags("BROKE") == ("negative equity",)
    assert result.table.loc["EMPTY", "flags"] == "thin data"
