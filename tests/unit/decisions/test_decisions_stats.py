"""The dashboard's figures (win rate, mean and median excess return by verdict, preset and signal), against
figures worked out by hand."""

import numpy as np
import pytest

from marketdesk.decisions.stats import NO_SIGNAL, Scored, decision_stats, group_stats

ROWS = [
    Scored("Buy", "value", ("dip",), {30: 0.03}),
    Scored("Buy", "value", (), {30: -0.05}),
    Scored("Buy", "momentum", ("dip", "oversold"), {30: 0.0}),  # a tie: not a win
    Scored("Avoid", "value", (), {30: None}),  # pending
    Scored("Avoid", "value", ("dip",), {30: -0.02}),
]


def figures(group: object) -> tuple[object, ...]:
    h = group.at(30)  # type: ignore[attr-defined]
    return (group.key, group.count, h.measured, h.wins, h.win_rate, h.mean_excess, h.median_excess)  # type: ignore[attr-defined]


def test_by_verdict_win_rate_and_excess_match_the_hand_computed_figures() -> None:
    stats = decision_stats(ROWS, (30,))
    buy, avoid = stats.by_verdict  # Strong Buy, Buy, Hold, Avoid order; absent verdicts are left out
    assert figures(buy)[:5] == ("Buy", 3, 3, 1, pytest.approx(1 / 3))
    assert buy.at(30).mean_excess == pytest.approx((0.03 - 0.05 + 0.0) / 3)
    assert buy.at(30).median_excess == pytest.approx(0.0)
    assert figures(avoid) == ("Avoid", 2, 1, 0, 0.0, pytest.approx(-0.02), pytest.approx(-0.02))
    assert stats.total == 5


def test_by_preset_and_by_signal_match_the_hand_computed_figures() -> None:
    stats = decision_stats(ROWS, (30,))
    momentum, value = stats.by_preset
    assert figures(momentum) == ("momentum", 1, 1, 0, 0.0, 0.0, 0.0)
    assert figures(value)[:5] == ("value", 4, 3, 1, pytest.approx(1 / 3))
    assert value.at(30).mean_excess == pytest.approx((0.03 - 0.05 - 0.02) / 3)
    assert value.at(30).median_excess == pytest.approx(-0.02)
    # a decision with two signals counts under each; one with none under "none", listed last
    dip, oversold, none = stats.by_signal
    assert figures(dip)[:5] == ("dip", 3, 3, 1, pytest.approx(1 / 3))
    assert dip.at(30).mean_excess == pytest.approx((0.03 + 0.0 - 0.02) / 3)
    assert figures(oversold) == ("oversold", 1, 1, 0, 0.0, 0.0, 0.0)
    assert figures(none) == (NO_SIGNAL, 2, 1, 0, 0.0, pytest.approx(-0.05), pytest.approx(-0.05))


def test_a_group_with_nothing_measured_states_none_rather_than_nan() -> None:
    stats = decision_stats([Scored("Hold", "balanced", (), {})], (30, 60))
    (hold,) = stats.by_verdict
    assert [(h.measured, h.wins, h.win_rate, h.mean_excess, h.median_excess) for h in hold.horizons] == [
        (0, 0, None, None, None),
        (0, 0, None, None, None),
    ]


def test_groups_follow_the_verdict_order_then_the_alphabet() -> None:
    keys = ["Avoid", "Strong Buy", "Hold", "Buy"]
    groups = group_stats(
        keys, np.array([[0.1], [0.2], [np.nan], [-0.1]]), (30,), ("Strong Buy", "Buy", "Hold", "Avoid")
    )
    assert [g.key for g in groups] == ["Strong Buy", "Buy", "Hold", "Avoid"]
    assert decision_stats([], (30,)).by_verdict == ()
