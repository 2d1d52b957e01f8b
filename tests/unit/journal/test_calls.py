"""Market calls judged by hand from closes: the due date's close (or the last before it), strictly above or
below, only after the due date is over and its close is in (or the grace days have passed), void without prices,
hit early in any-time mode; accuracy statistics and the calendar."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from marketdesk.journal.calls import (
    CallDirection,
    CallFacts,
    CallMode,
    CallOutcome,
    CallTerms,
    calendar,
    call_stats,
    judge,
)

D = Decimal
ABOVE, BELOW = CallDirection.ABOVE, CallDirection.BELOW
AT_DUE, ANY_TIME = CallMode.AT_DUE_DATE, CallMode.ANY_TIME
MADE, DUE = date(2027, 1, 4), date(2027, 3, 31)  # a Monday; a Wednesday


def terms(direction: CallDirection = ABOVE, mode: CallMode = AT_DUE, level: str = "600", due: date = DUE) -> CallTerms:
    return CallTerms("SPY", direction, D(level), mode, MADE, due)


def closes(*rows: tuple[str, str]) -> list[tuple[date, Decimal]]:
    return [(date.fromisoformat(day), D(close)) for day, close in rows]


def test_the_close_on_the_due_date_above_the_level_is_a_hit() -> None:
    verdict = judge(terms(), closes(("2027-03-30", "590"), ("2027-03-31", "612.5")), date(2027, 4, 1))
    assert verdict is not None
    assert (verdict.outcome, verdict.decided_on, verdict.close) == (CallOutcome.HIT, DUE, D("612.5"))
    assert verdict.reason == "closed at 612.5 on 2027-03-31, above 600"


def test_a_close_equal_to_the_level_is_not_above_it() -> None:
    verdict = judge(terms(), closes(("2027-03-31", "600.00")), date(2027, 4, 1))
    assert verdict is not None
    assert verdict.outcome is CallOutcome.MISS
    assert verdict.reason == "closed at 600.00 on 2027-03-31, not above 600"


def test_a_below_call_is_hit_by_a_close_under_the_level() -> None:
    verdict = judge(terms(BELOW, level="4000"), closes(("2027-03-31", "3999.99")), date(2027, 4, 2))
    assert verdict is not None and verdict.outcome is CallOutcome.HIT


def test_nothing_is_judged_before_the_due_date_is_over() -> None:
    assert judge(terms(), closes(("2027-03-31", "650")), DUE) is None
    assert judge(terms(), closes(("2027-03-15", "650")), date(2027, 3, 20)) is None


def test_a_due_date_on_a_weekend_is_decided_by_the_friday_close_once_monday_is_in() -> None:
    saturday = date(2027, 4, 3)
    prices = closes(("2027-04-01", "590"), ("2027-04-02", "605"))
    assert judge(terms(due=saturday), prices, date(2027, 4, 4)) is None  # no close on or after the due date yet
    monday = prices + closes(("2027-04-05", "580"))
    verdict = judge(terms(due=saturday), monday, date(2027, 4, 6))
    assert verdict is not None
    assert (verdict.outcome, verdict.decided_on, verdict.close) == (CallOutcome.HIT, date(2027, 4, 2), D(605))


def test_when_prices_stop_coming_the_last_close_decides_after_the_grace_days() -> None:
    stale = closes(("2027-03-19", "640"))
    assert judge(terms(), stale, date(2027, 4, 5)) is None  # 5 days after the due date: still waiting
    verdict = judge(terms(), stale, date(2027, 4, 6))
    assert verdict is not None
    assert (verdict.outcome, verdict.decided_on) == (CallOutcome.HIT, date(2027, 3, 19))


def test_without_a_close_between_the_call_and_its_due_date_the_call_is_void() -> None:
    made_day_only = closes(("2027-01-04", "650"))  # the close of the day it was made does not count
    verdict = judge(terms(), made_day_only, date(2027, 4, 30))
    assert verdict is not None
    assert (verdict.outcome, verdict.decided_on, verdict.close) == (CallOutcome.VOID, None, None)
    assert verdict.reason == "no close of SPY from 2027-01-05 to 2027-03-31"


def test_an_any_time_call_is_hit_at_the_first_close_that_meets_it_before_its_due_date() -> None:
    prices = closes(("2027-01-04", "700"), ("2027-01-05", "590"), ("2027-01-06", "601"), ("2027-01-07", "620"))
    verdict = judge(terms(mode=ANY_TIME), prices, date(2027, 1, 7))
    assert verdict is not None
    assert (verdict.outcome, verdict.decided_on, verdict.close) == (CallOutcome.HIT, date(2027, 1, 6), D(601))
    # the same closes judged at the due date's close alone: it had not ended yet
    assert judge(terms(mode=AT_DUE), prices, date(2027, 1, 7)) is None


def test_an_any_time_call_never_met_is_missed_with_its_best_close() -> None:
    prices = closes(("2027-02-01", "590"), ("2027-03-01", "599.99"), ("2027-03-31", "580"))
    verdict = judge(terms(mode=ANY_TIME), prices, date(2027, 4, 1))
    assert verdict is not None
    assert (verdict.outcome, verdict.decided_on) == (CallOutcome.MISS, DUE)
    assert verdict.reason == "no close from 2027-02-01 to 2027-03-31 was above 600 (highest: 599.99 on 2027-03-01)"


def test_closes_after_today_are_not_seen() -> None:
    future = closes(("2027-03-31", "650"))
    assert judge(terms(mode=ANY_TIME), future, date(2027, 2, 1)) is None


def facts(n: int, outcome: CallOutcome, due: str, direction: CallDirection = ABOVE, symbol: str = "SPY",
          mode: CallMode = AT_DUE) -> CallFacts:  # fmt: skip
    return CallFacts(f"c{n}", symbol, direction, mode, D(100), date.fromisoformat(due), outcome)


CALLS = [
    facts(1, CallOutcome.HIT, "2027-01-15"),
    facts(2, CallOutcome.MISS, "2027-01-15", BELOW, "QQQ"),
    facts(3, CallOutcome.HIT, "2027-01-29", BELOW),
    facts(4, CallOutcome.VOID, "2027-02-10", symbol="XYZ"),
    facts(5, CallOutcome.OPEN, "2027-03-31", mode=ANY_TIME),
]


def test_accuracy_counts_hits_over_judged_calls_overall_and_by_group() -> None:
    stats = call_stats(CALLS)
    total = stats.total
    assert (total.calls, total.open, total.hits, total.misses, total.void) == (5, 1, 2, 1, 1)
    assert total.hit_rate == pytest.approx(2 / 3)
    assert {a.key: a.hit_rate for a in stats.by_direction} == {"above": 1.0, "below": 0.5}
    assert {a.key: (a.calls, a.hit_rate) for a in stats.by_mode} == {"any_time": (1, None), "at_due_date": (4, 2 / 3)}
    assert [(a.key, a.hit_rate) for a in stats.by_symbol] == [("QQQ", 0.0), ("SPY", 1.0), ("XYZ", None)]
    assert stats.notes == ()


def test_with_nothing_judged_accuracy_is_missing_and_says_why() -> None:
    stats = call_stats([facts(1, CallOutcome.OPEN, "2027-03-31")])
    assert stats.total.hit_rate is None
    assert stats.notes == ("no call has been judged yet: accuracy needs a hit or a miss",)


def test_the_calendar_groups_calls_by_due_month_and_day() -> None:
    months = calendar(reversed(CALLS))
    assert [m.month for m in months] == ["2027-01", "2027-02", "2027-03"]
    january = months[0]
    assert [(d.day, [c.id for c in d.calls]) for d in january.days] == [
        (date(2027, 1, 15), ["c2", "c1"]), (date(2027, 1, 29), ["c3"]),
    ]  # fmt: skip
    assert (january.hits, january.misses, january.open, january.void) == (2, 1, 0, 0)
    assert (months[2].open, months[1].void) == (1, 1)
    assert calendar([]) == []
