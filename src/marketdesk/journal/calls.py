"""Market calls: how a call is judged from daily closes, its accuracy statistics and its calendar. Pure.

A call says "SYMBOL closes above (or below) LEVEL by DUE DATE". "Above" and "below" are strict: a close equal
to the level meets neither. What "by" means is the call's `mode`:

- `at_due_date` (the default): the close on the due date decides. When the due date is not a trading day, the
  last close before it decides. The call is judged once the due date is over (New York time) and a close dated
  on or after the due date is stored (so the deciding close is final), or, when the prices stop coming,
  `GRACE_DAYS` days after the due date with whatever closes there are.
- `any_time`: the call is hit at the first close, from the session after the call was made through the due
  date, that meets it; it can be hit before its due date. It is missed when no close did by then (judged as
  above).

Only closes after the day the call was made count (the close of that day may already have been known). With no
such close on or before the due date the call is `void`: there was nothing to judge it by. Accuracy is
hits ÷ (hits + misses); open and void calls are not counted in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

GRACE_DAYS = 5


class CallDirection(StrEnum):
    ABOVE = "above"
    BELOW = "below"


class CallMode(StrEnum):
    """What "by the due date" means (see the module's description)."""

    AT_DUE_DATE = "at_due_date"
    ANY_TIME = "any_time"


class CallOutcome(StrEnum):
    OPEN = "open"
    HIT = "hit"
    MISS = "miss"
    VOID = "void"


MODES: dict[CallMode, str] = {
    CallMode.AT_DUE_DATE: "the close on the due date decides (the last close before it when the market is shut)",
    CallMode.ANY_TIME: "hit at the first close, from the session after the call to the due date, that meets it",
}


@dataclass(frozen=True, slots=True)
class CallTerms:
    symbol: str
    direction: CallDirection
    level: Decimal
    mode: CallMode
    made_on: date  # New York date the call was made
    due_on: date

    def holds(self, close: Decimal) -> bool:
        """True when `close` meets the call (strictly above or below the level)."""
        return close > self.level if self.direction is CallDirection.ABOVE else close < self.level

    def describe(self) -> str:
        by = "on" if self.mode is CallMode.AT_DUE_DATE else "by"
        return f"{self.symbol} closes {self.direction} {self.level} {by} {self.due_on}"


@dataclass(frozen=True, slots=True)
class Judgement:
    outcome: CallOutcome
    decided_on: date | None  # the date of the deciding close
    close: Decimal | None
    reason: str


def judge(
    terms: CallTerms, closes: Sequence[tuple[date, Decimal]], today: date, *, grace_days: int = GRACE_DAYS
) -> Judgement | None:
    """The outcome of a call from the symbol's daily closes (date ascending) known on `today`; None while open.

    >>> from datetime import date
    >>> terms = CallTerms("SPY", CallDirection.ABOVE, Decimal(600), CallMode.AT_DUE_DATE, date(2027, 1, 4),
    ...                   date(2027, 3, 31))
    >>> judge(terms, [(date(2027, 3, 31), Decimal("612.5"))], date(2027, 4, 1)).outcome
    <CallOutcome.HIT: 'hit'>
    """
    known = [(day, close) for day, close in closes if day <= today]
    window = [(day, close) for day, close in known if terms.made_on < day <= terms.due_on]
    if terms.mode is CallMode.ANY_TIME:
        for day, close in window:
            if terms.holds(close):
                return Judgement(
                    CallOutcome.HIT, day, close, f"closed at {close} on {day}, {terms.direction} {terms.level}"
                )
    if today <= terms.due_on:
        return None
    final = any(day >= terms.due_on for day, _ in known) or today > terms.due_on + timedelta(days=grace_days)
    if not final:
        return None
    if not window:
        return Judgement(CallOutcome.VOID, None, None,
                         f"no close of {terms.symbol} from {terms.made_on + timedelta(days=1)} to {terms.due_on}")  # fmt: skip
    day, close = window[-1]
    if terms.mode is CallMode.AT_DUE_DATE:
        outcome = CallOutcome.HIT if terms.holds(close) else CallOutcome.MISS
        relation = terms.direction if terms.holds(close) else f"not {terms.direction}"
        return Judgement(outcome, day, close, f"closed at {close} on {day}, {relation} {terms.level}")
    extreme = max if terms.direction is CallDirection.ABOVE else min
    best_day, best = extreme(window, key=lambda pair: pair[1])
    word = "highest" if terms.direction is CallDirection.ABOVE else "lowest"
    return Judgement(
        CallOutcome.MISS, day, close,
        f"no close from {window[0][0]} to {day} was {terms.direction} {terms.level} ({word}: {best} on {best_day})",
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What statistics and the calendar need of a call."""

    id: str
    symbol: str
    direction: CallDirection
    mode: CallMode
    level: Decimal
    due_on: date
    outcome: CallOutcome


@dataclass(frozen=True, slots=True)
class Accuracy:
    key: str
    calls: int
    open: int
    hits: int
    misses: int
    void: int
    hit_rate: float | None  # hits ÷ (hits + misses); None with nothing judged


@dataclass(frozen=True, slots=True)
class CallStats:
    total: Accuracy
    by_direction: tuple[Accuracy, ...]
    by_mode: tuple[Accuracy, ...]
    by_symbol: tuple[Accuracy, ...]
    notes: tuple[str, ...]


def accuracy(key: str, calls: Sequence[CallFacts]) -> Accuracy:
    count = {o: sum(1 for c in calls if c.outcome is o) for o in CallOutcome}
    judged = count[CallOutcome.HIT] + count[CallOutcome.MISS]
    return Accuracy(
        key, len(calls), count[CallOutcome.OPEN], count[CallOutcome.HIT], count[CallOutcome.MISS],
        count[CallOutcome.VOID], count[CallOutcome.HIT] / judged if judged else None,
    )  # fmt: skip


def call_stats(calls: Sequence[CallFacts]) -> CallStats:
    """Accuracy overall, by direction, by mode and by symbol."""
    notes = []
    total = accuracy("all", calls)
    if total.hit_rate is None:
        notes.append("no call has been judged yet: accuracy needs a hit or a miss")
    return CallStats(
        total,
        _grouped(calls, lambda c: c.direction.value),
        _grouped(calls, lambda c: c.mode.value),
        _grouped(calls, lambda c: c.symbol),
        tuple(notes),
    )


def _grouped(calls: Sequence[CallFacts], key: Callable[[CallFacts], str]) -> tuple[Accuracy, ...]:
    groups: dict[str, list[CallFacts]] = {}
    for call in calls:
        groups.setdefault(key(call), []).append(call)
    return tuple(accuracy(name, members) for name, members in sorted(groups.items()))


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    calls: tuple[CallFacts, ...]


@dataclass(frozen=True, slots=True)
class CalendarMonth:
    month: str  # YYYY-MM
    days: tuple[CalendarDay, ...]
    open: int
    hits: int
    misses: int
    void: int


def calendar(calls: Iterable[CallFacts]) -> list[CalendarMonth]:
    """Calls by due month and due day, earliest first (a calendar's data)."""
    by_day: dict[date, list[CallFacts]] = {}
    for call in sorted(calls, key=lambda c: (c.due_on, c.symbol, c.id)):
        by_day.setdefault(call.due_on, []).append(call)
    months: dict[str, list[CalendarDay]] = {}
    for day, members in by_day.items():
        months.setdefault(f"{day:%Y-%m}", []).append(CalendarDay(day, tuple(members)))
    out = []
    for month, days in months.items():
        members = [c for d in days for c in d.calls]
        tally = accuracy(month, members)
        out.append(CalendarMonth(month, tuple(days), tally.open, tally.hits, tally.misses, tally.void))
    return out
