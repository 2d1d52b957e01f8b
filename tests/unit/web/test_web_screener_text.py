"""What the screener, the tearsheet and the dip monitor say: filter boxes turned into expressions, saved screens
read back, table cells, the newbie's one-sentence "why", and the dip monitor's status line."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pytest

from marketdesk.screener.dcf import DcfRefusal
from marketdesk.screener.filters import compile_filter
from marketdesk.screener.model import Regime, RegimeState
from marketdesk.screener.service import DipReport
from marketdesk.web import format as fmt
from marketdesk.web.dips import DipSettings, dip_row, status_text
from marketdesk.web.screener import CustomFilters, Screen, table_row, universe_label, why_sentence
from marketdesk.web.tearsheet import DCF_REFUSALS, dcf_refusal_text, metric_text, score_hue, verdict_key


def screen_row(**overrides: Any) -> dict[str, Any]:
    """A row shaped like `ScreenerService.screen` returns it."""
    row: dict[str, Any] = {
        "symbol": "QE",
        "name": "Quill Entertainment Inc.",
        "verdict": "Buy",
        "score": 6.84,
        "no_score": None,
        "metrics": {"price": 201.79, "pe": 14.03, "roe": 0.2943, "dip_pct": 3.55},
        "reasons": {
            "for": ["Growing: Revenue growth 26.8% is above the 15.0% we call good"],
            "against": ["Expensive: P/B 4.1 is nearer the 6.0 we call poor than the 1.5 we call good"],
        },
        "flags": ["dip", "high leverage"],
        "dcf": {"intrinsic_value": 313.9, "margin_of_safety": 0.357, "refusal": None},
    }
    row.update(overrides)
    return row


# ---- filter boxes and saved screens -------------------------------------------------------------------------


def test_filter_boxes_become_one_expression_in_catalogue_units() -> None:
    filters = CustomFilters(pe_min=5, pe_max=25, roe_min_pct=15, dip_min_pct=7.5, de_max=1.5)
    assert filters.expression() == ("pe >= 5 and pe <= 25 and roe >= 0.15 and dip_pct >= 7.5 and debt_to_equity <= 1.5")
    # the expression is one the screener's own parser accepts, and it selects what the boxes say
    frame = pd.DataFrame({"pe": [12.0, 30.0], "roe": [0.2, 0.2], "dip_pct": [8.0, 8.0], "debt_to_equity": [1.0, 1.0]})
    assert compile_filter(filters.expression()).mask(frame).tolist() == [True, False]


def test_empty_filter_boxes_add_no_expression() -> None:
    assert CustomFilters().expression() == ""
    assert CustomFilters().clauses() == []
    assert Screen().where() == []


def test_each_filter_clause_can_be_dropped_alone() -> None:
    filters = CustomFilters(pe_max=20, roe_min_pct=12.5)
    labels = [clause.label for clause in filters.clauses()]
    assert labels == ["P/E any to 20", "ROE at least 12.5%"]
    assert filters.without(filters.clauses()[0]) == CustomFilters(roe_min_pct=12.5)


def test_screen_combines_filters_and_expression() -> None:
    screen = Screen(filters=CustomFilters(pe_max=20), expression="  dip_pct >= 5 ")
    assert screen.where() == ["pe <= 20", "dip_pct >= 5"]


def test_saved_screen_reads_back_what_was_saved() -> None:
    screen = Screen(
        preset="value", universe="megacap", asset="stock", filters=CustomFilters(pe_max=18.0), expression="roe > 15%"
    )
    assert Screen.from_dict({"name": "Mine", **screen.to_dict()}) == screen


def test_saved_screen_with_unexpected_entries_falls_back_to_the_defaults() -> None:
    stored = {"name": "Odd", "preset": "momentum", "filters": {"pe_max": "twenty", "bogus": 3, "de_max": 2}, "x": 1}
    assert Screen.from_dict(stored) == Screen(preset="momentum", filters=CustomFilters(de_max=2.0))
    assert Screen.from_dict({"filters": None}) == Screen()
    assert Screen.from_dict({"asset": "equity"}) == Screen(), "only the sidebar's own asset choices"


# ---- table cells ------------------------------------------------------------------------------------------


def test_table_row_formats_numbers_and_keeps_raw_values_to_sort_on() -> None:
    row = table_row(screen_row())
    assert row["price_text"] == "201.79"
    assert row["pe_text"] == "14.0"
    assert row["roe_text"] == "29%"
    assert row["dip_text"] == "−3.5%"
    assert row["mos_text"] == "+36%"
    assert row["mos_class"] == "desk-up"
    assert row["score_text"] == "6.8"
    assert row["verdict_key"] == "buy"
    assert row["verdict_rank"] == 2
    assert (row["score"], row["pe"], row["dip_pct"]) == (6.84, 14.03, 3.55)
    assert row["flags"] == "dip|high leverage"
    assert row["flag_count"] == 2
    assert not any(isinstance(value, list | tuple | dict) for value in row.values()), "Quasar cells must be flat"


def test_refused_dcf_shows_a_dash_with_the_reason_as_its_tooltip() -> None:
    refused = {"intrinsic_value": None, "margin_of_safety": None, "refusal": "fcf-not-positive"}
    row = table_row(screen_row(dcf=refused))
    assert row["mos_text"] == "—"
    assert row["mos"] is None
    assert row["dcf_note"] == DCF_REFUSALS["fcf-not-positive"]


def test_a_margin_that_rounds_to_zero_is_not_coloured() -> None:
    row = table_row(screen_row(dcf={"intrinsic_value": 100.0, "margin_of_safety": -0.004, "refusal": None}))
    assert row["mos_text"] == "0%"
    assert row["mos_class"] == ""


def test_row_without_a_verdict_sorts_last_and_says_why() -> None:
    row = table_row(screen_row(verdict=None, score=None, no_score="only 10% of the data it needs", metrics={}))
    assert row["verdict_rank"] is None
    assert row["verdict_text"] == "No verdict"
    assert row["verdict_key"] == "none"
    assert row["score_hue"] is None
    assert row["why"] == "No verdict: only 10% of the data it needs."
    assert "None" not in " ".join(str(v) for k, v in row.items() if k.endswith("_text"))


def test_every_dcf_refusal_code_has_words() -> None:
    assert set(DCF_REFUSALS) == {code.value for code in DcfRefusal}
    assert dcf_refusal_text("something-new") == "No DCF (something new)."


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [
        ("Buy", "Growing: Revenue growth 26.8% is above the 15.0% we call good."),
        ("Strong Buy", "Growing: Revenue growth 26.8% is above the 15.0% we call good."),
        ("Hold", "Expensive: P/B 4.1 is nearer the 6.0 we call poor than the 1.5 we call good."),
        ("Avoid", "Expensive: P/B 4.1 is nearer the 6.0 we call poor than the 1.5 we call good."),
    ],
)
def test_why_gives_the_best_reason_for_a_buy_and_the_worst_otherwise(verdict: str, expected: str) -> None:
    assert why_sentence(screen_row(verdict=verdict)) == expected


def test_why_falls_back_to_the_other_side_or_says_nothing_stands_out() -> None:
    only_pros = {"for": ["Steady: Beta 0.9× is good."], "against": []}
    assert why_sentence(screen_row(verdict="Hold", reasons=only_pros)) == "Steady: Beta 0.9× is good."
    assert why_sentence(screen_row(verdict="Hold", reasons={})) == "Hold: nothing stands out either way."


def test_score_hue_runs_from_red_through_amber_to_green() -> None:
    assert score_hue(0.0) == 0
    assert score_hue(5.0) == 45
    assert score_hue(10.0) == 130
    assert score_hue(12.0) == 130
    assert score_hue(float("nan")) is None
    hues = [score_hue(s / 10) for s in range(101)]
    steps = [int(b) - int(a) for a, b in itertools.pairwise(hues) if a is not None and b is not None]
    assert min(steps) >= 0
    assert max(steps) <= 2, "neighbouring scores get neighbouring colours"


def test_verdict_keys_and_metric_text() -> None:
    assert [verdict_key(v) for v in ("Strong Buy", "Buy", "Hold", "Avoid", None)] == [
        "strong-buy",
        "buy",
        "hold",
        "avoid",
        "none",
    ]
    assert metric_text("roe", 0.153) == "15.3%"
    assert metric_text("market_cap", 2.1e9) == "$2.1B"
    assert metric_text("pe", None) == fmt.MISSING


def test_universe_labels_read_as_people_say_them() -> None:
    assert universe_label("all") == "Everything"
    assert universe_label("megacap") == "Mega-cap"
    assert universe_label("watchlist:Main") == "Watchlist: Main"
    assert universe_label("custom-set") == "custom-set"


# ---- format helpers ---------------------------------------------------------------------------------------


def test_fractions_dips_scores_and_timestamps_for_people() -> None:
    assert fmt.fraction(0.153) == "15.3%"
    assert fmt.fraction(-0.04, 0, signed=True) == "−4%"
    assert fmt.fraction(float("inf")) == fmt.MISSING
    assert fmt.below_high(12.34) == "−12.3%"
    assert fmt.below_high(0.01) == "0.0%"
    assert fmt.below_high(None) == fmt.MISSING
    assert fmt.score(7.25) == "7.2"
    assert fmt.score(None) == fmt.MISSING
    assert fmt.timestamp(datetime(2026, 11, 21, 19, 5, tzinfo=UTC)) == "Sat 21 Nov 2026 19:05 UTC"
    assert fmt.timestamp(None) == fmt.MISSING


# ---- dip monitor ------------------------------------------------------------------------------------------


def dip_report(rows: list[dict[str, Any]], *, cached: bool) -> DipReport:
    regime = Regime(RegimeState.NEUTRAL, "Neutral.", (), date(2026, 11, 20))
    return DipReport(
        rows, "all", 5.0, "Hold", date(2026, 11, 20), datetime(2026, 11, 21, 15, 30, tzinfo=UTC), regime, cached=cached
    )


def test_dip_row_names_the_cause_and_keeps_the_dip_to_sort_on() -> None:
    row = dip_row(
        {
            "symbol": "COBA",
            "name": "Cobalt Steel Inc.",
            "price": 34.69,
            "dip_pct": 53.56,
            "verdict": "Buy",
            "cause": "market-wide",
            "why": "The whole market fell.",
            "play": "Buy in tranches.",
        }
    )
    assert (row["cause_text"], row["cause_key"]) == ("Market", "market")
    assert row["dip_text"] == "−53.6%"
    assert row["dip_pct"] == 53.56
    assert row["verdict_rank"] == 2
    assert row["play"] == "Buy in tranches."


def test_status_says_when_the_dips_were_computed_and_whether_from_the_cache() -> None:
    fresh = status_text(dip_report([{}], cached=False))
    assert (
        fresh == "1 dip of 5% or more · computed Sat 21 Nov 2026 10:30 EST · just computed · data as of Fri 20 Nov 2026"
    )
    assert "from the cache" in status_text(dip_report([{}, {}], cached=True))


def test_dip_settings_kept_by_the_browser_are_checked() -> None:
    kept = {"universe": "megacap", "threshold_pct": 15, "min_verdict": "Buy"}
    assert DipSettings.from_dict(kept) == DipSettings("megacap", 15.0, "Buy")
    assert DipSettings.from_dict({"threshold_pct": 7, "min_verdict": "Great"}) == DipSettings()
    assert DipSettings.from_dict(None) == DipSettings()
