"""The thesis rules: a watched metric's move against the thesis, in percent of its entry value, gives its status
(broken > 25, shaken > 10 or unmeasurable, working otherwise); the worst metric decides the thesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketdesk.errors import Rejected
from marketdesk.journal.theses import (
    REASONS,
    STATUS_RULES,
    Direction,
    ThesisReason,
    ThesisStatus,
    WatchedMetric,
    assess,
    direction_for,
    parse_watch,
    read_metric,
)
from marketdesk.screener.catalog import METRICS

UP, DOWN = Direction.UP, Direction.DOWN


def test_pe_up_30_percent_against_a_thesis_needing_it_down_is_broken() -> None:
    reading = read_metric(WatchedMetric("pe", DOWN, 20.0), 26.0)
    assert reading.change_pct == pytest.approx(30.0)
    assert reading.against_pct == pytest.approx(30.0)
    assert reading.status is ThesisStatus.BROKEN
    assert reading.rule == "broken: a watched metric moved more than 25% against the thesis"


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (0.1499, ThesisStatus.BROKEN),  # −25.05%
        (0.15, ThesisStatus.SHAKEN),  # −25% exactly is not "more than 25%" (no binary noise: moves are rounded)
        (0.151, ThesisStatus.SHAKEN),  # −24.5%
        (0.17, ThesisStatus.SHAKEN),  # −15%
        (0.1799, ThesisStatus.SHAKEN),  # −10.05%
        (0.18, ThesisStatus.WORKING),  # −10% exactly is not "more than 10%"
        (0.19, ThesisStatus.WORKING),  # −5%
        (0.30, ThesisStatus.WORKING),  # +50%: its way
    ],
)
def test_roe_falling_from_20_percent_crosses_the_thresholds(now: float, status: ThesisStatus) -> None:
    assert read_metric(WatchedMetric("roe", UP, 0.20), now).status is status


def test_exactly_25_percent_against_is_shaken_not_broken() -> None:
    reading = read_metric(WatchedMetric("pe", DOWN, 40.0), 50.0)
    assert reading.against_pct == 25.0
    assert reading.status is ThesisStatus.SHAKEN


def test_a_negative_entry_value_moves_against_its_magnitude() -> None:
    # EPS growth −10% → −12%: (−0.12 − −0.10) ÷ 0.10 = −20%, against a thesis that needs it up
    reading = read_metric(WatchedMetric("eps_growth", UP, -0.10), -0.12)
    assert reading.change_pct == pytest.approx(-20.0)
    assert reading.status is ThesisStatus.SHAKEN


def test_a_metric_with_no_value_now_or_zero_at_entry_is_shaken() -> None:
    missing = read_metric(WatchedMetric("pe", DOWN, 18.0), None)
    assert (missing.status, missing.change_pct) == (ThesisStatus.SHAKEN, None)
    assert "cannot be measured" in missing.rule
    zero = read_metric(WatchedMetric("return_1m_pct", UP, 0.0), 5.0)
    assert (zero.status, zero.against_pct) == (ThesisStatus.SHAKEN, None)


def test_the_worst_metric_decides_and_the_reason_names_it() -> None:
    metrics = [WatchedMetric("price", UP, 100.0), WatchedMetric("pe", DOWN, 20.0)]
    result = assess(metrics, {"price": 104.0, "pe": 26.0})
    assert result.status is ThesisStatus.BROKEN
    assert [r.status for r in result.readings] == [ThesisStatus.WORKING, ThesisStatus.BROKEN]
    assert result.reason == "broken: pe moved 30.0% against the thesis (needs down; 20 → 26)"
    working = assess(metrics, {"price": 110.0, "pe": 19.0})
    assert working.status is ThesisStatus.WORKING
    assert working.reason == "working: price moved 10.0% its way (needs up; 100 → 110)"


def test_a_metric_missing_from_the_reading_counts_as_no_value() -> None:
    result = assess([WatchedMetric("roe", UP, 0.2)], {})
    assert result.status is ThesisStatus.SHAKEN
    assert result.reason == "shaken: roe has no value now (it was 0.2 at entry)"


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(then=finite.filter(lambda v: abs(v) > 1e-6), now=finite, direction=st.sampled_from(list(Direction)))
def test_every_measured_move_gets_exactly_the_status_its_size_says(
    then: float, now: float, direction: Direction
) -> None:
    reading = read_metric(WatchedMetric("pe", direction, then), now)
    assert reading.against_pct is not None
    expected = (
        ThesisStatus.BROKEN
        if reading.against_pct > 25
        else ThesisStatus.SHAKEN
        if reading.against_pct > 10
        else ThesisStatus.WORKING
    )
    assert reading.status is expected


def test_the_rules_are_written_for_people() -> None:
    assert [r.status for r in STATUS_RULES] == ["broken", "shaken", "shaken", "working"]
    assert all(r.description.startswith(f"{r.status}: ") for r in STATUS_RULES)


def test_every_reason_has_words_and_suggests_metrics_the_screener_has() -> None:
    assert set(REASONS) == set(ThesisReason)
    for info in REASONS.values():
        assert info.description
        for suggestion in info.suggested_metrics:
            name, direction = parse_watch(suggestion)
            assert name in METRICS
            assert direction is not None


def test_a_watch_is_parsed_with_or_without_its_direction() -> None:
    assert parse_watch(" PE:Down ") == ("pe", DOWN)
    assert parse_watch("roe") == ("roe", None)
    with pytest.raises(Rejected, match="unknown metric 'moon'") as unknown:
        parse_watch("moon")
    assert "revenue_growth" in (unknown.value.hint or "")
    with pytest.raises(Rejected, match="the direction must be up or down"):
        parse_watch("pe:sideways")


def test_the_direction_defaults_to_the_screeners_better_side_or_is_asked_for() -> None:
    assert direction_for("pe", None) is DOWN
    assert direction_for("roe", None) is UP
    assert direction_for("price", None) is UP  # an owner wants the price up
    assert direction_for("pe", UP) is UP  # the user's word wins
    with pytest.raises(Rejected, match="say which way rsi14 should move") as asked:
        direction_for("rsi14", None)
    assert "rsi14:up or rsi14:down" in (asked.value.hint or "")
