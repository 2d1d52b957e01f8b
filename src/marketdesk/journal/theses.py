"""The thesis journal's rules, as data: the reasons to own something, the metrics to watch, how a check-in derives
the thesis status from them, and the next actions. Pure: no I/O, no clock.

A thesis watches one or two screener metrics (`marketdesk.screener.catalog`), each with the direction the thesis
needs it to move (`up` or `down`). At a check-in each metric is compared with its value when the thesis was
written:

    change_pct  = (now − then) ÷ |then| × 100, rounded to 6 decimals
    against_pct = −change_pct when the thesis needs the metric up, +change_pct when it needs it down

and the first rule of `STATUS_RULES` that matches gives that metric's status. The thesis takes the worst status
of its metrics (broken > shaken > working). The user then confirms the status (or overrides it) and picks the
next action.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from marketdesk.errors import Rejected
from marketdesk.screener.catalog import METRIC_NAMES, METRICS

DEFAULT_REVIEW_DAYS = 30
MAX_REVIEW_DAYS = 365
MAX_METRICS = 2
PCT_DECIMALS = 6  # moves are compared to the thresholds rounded to 1e-6 percentage points


class ThesisReason(StrEnum):
    """Why you own it: one reason per thesis (see `REASONS` for the words and the metrics each suggests)."""

    UNDERVALUED = "undervalued"
    GROWTH = "growth"
    QUALITY = "quality"
    MOMENTUM = "momentum"
    DIVIDEND = "dividend"
    TURNAROUND = "turnaround"
    OTHER = "other"


class Direction(StrEnum):
    """Which way the thesis needs a watched metric to move."""

    UP = "up"
    DOWN = "down"


class ThesisStatus(StrEnum):
    """Whether the reason still holds (ordered: working < shaken < broken)."""

    WORKING = "working"
    SHAKEN = "shaken"
    BROKEN = "broken"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {ThesisStatus.WORKING: 0, ThesisStatus.SHAKEN: 1, ThesisStatus.BROKEN: 2}


class NextAction(StrEnum):
    """What the user decides at a check-in (see `ACTIONS`)."""

    HOLD = "hold"
    ADD = "add"
    TRIM = "trim"
    SELL = "sell"
    EXTEND_REVIEW = "extend_review"


@dataclass(frozen=True, slots=True)
class ReasonInfo:
    description: str
    suggested_metrics: tuple[str, ...]  # as "metric:direction"


REASONS: dict[ThesisReason, ReasonInfo] = {
    ThesisReason.UNDERVALUED: ReasonInfo(
        "priced below what the business is worth; the thesis works when the price closes the gap while the "
        "business holds up",
        ("price:up", "fcf_margin:up"),
    ),
    ThesisReason.GROWTH: ReasonInfo(
        "revenue and earnings grow faster than the market expects", ("revenue_growth:up", "eps_growth:up")
    ),
    ThesisReason.QUALITY: ReasonInfo(
        "a durable, profitable business: high returns on capital and steady margins",
        ("roe:up", "operating_margin:up"),
    ),
    ThesisReason.MOMENTUM: ReasonInfo(
        "the trend is up and likely to continue", ("return_3m_pct:up", "above_ma200_pct:up")
    ),
    ThesisReason.DIVIDEND: ReasonInfo(
        "income: a dividend that is paid and covered by free cash flow", ("dividend_yield:up", "fcf_margin:up")
    ),
    ThesisReason.TURNAROUND: ReasonInfo(
        "a business recovering from a bad patch: margins and earnings should improve",
        ("operating_margin:up", "eps_growth:up"),
    ),
    ThesisReason.OTHER: ReasonInfo("a reason of your own (say it in the note)", ("price:up",)),
}

ACTIONS: dict[NextAction, str] = {
    NextAction.HOLD: "keep the position as it is; review again later",
    NextAction.ADD: "buy more; review again later",
    NextAction.TRIM: "sell part of the position; review again later",
    NextAction.SELL: "sell it all: the thesis is closed and leaves the due list",
    NextAction.EXTEND_REVIEW: "too early to judge: change nothing and look again later",
}

# metrics the screener calls neither better high nor low, but whose direction is plain for an owner
_OWNER_DIRECTIONS = {"price": Direction.UP, "market_cap": Direction.UP}


@dataclass(frozen=True, slots=True)
class StatusRule:
    """One rule of the check-in. A rule matches a watched metric when it moved more than `more_than_pct` against
    the thesis, or (`unmeasurable`) when no percentage move can be computed; a rule with neither matches any
    measured move."""

    status: ThesisStatus
    description: str
    more_than_pct: float | None = None
    unmeasurable: bool = False

    def matches(self, against_pct: float | None) -> bool:
        if self.unmeasurable:
            return against_pct is None
        if against_pct is None:
            return False
        return self.more_than_pct is None or against_pct > self.more_than_pct


STATUS_RULES: tuple[StatusRule, ...] = (
    StatusRule(ThesisStatus.BROKEN, "broken: a watched metric moved more than 25% against the thesis", 25.0),
    StatusRule(
        ThesisStatus.SHAKEN, "shaken: a watched metric moved more than 10% (up to 25%) against the thesis", 10.0
    ),
    StatusRule(
        ThesisStatus.SHAKEN,
        "shaken: a watched metric cannot be measured now (it has no value today, or it was 0 at entry)",
        unmeasurable=True,
    ),
    StatusRule(ThesisStatus.WORKING, "working: every watched metric moved at most 10% against the thesis, or its way"),
)
"""Checked in order for each watched metric; the first that matches gives its status. Read by people too: the
API and the CLI show these descriptions."""


@dataclass(frozen=True, slots=True)
class WatchedMetric:
    name: str
    direction: Direction
    entry_value: float


@dataclass(frozen=True, slots=True)
class MetricReading:
    """A watched metric then (at entry) and now, and what the rules made of it."""

    name: str
    direction: Direction
    then: float
    now: float | None
    change_pct: float | None
    against_pct: float | None
    status: ThesisStatus
    rule: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """The derived status of a thesis and why: the worst of its metrics' statuses."""

    status: ThesisStatus
    reason: str
    readings: tuple[MetricReading, ...]


def read_metric(metric: WatchedMetric, now: float | None, rules: Sequence[StatusRule] = STATUS_RULES) -> MetricReading:
    """Compare one watched metric with its entry value and apply the first matching rule.

    >>> read_metric(WatchedMetric("pe", Direction.DOWN, 20.0), 26.0).status
    <ThesisStatus.BROKEN: 'broken'>
    """
    change = _change_pct(metric.entry_value, now)
    against = None if change is None else (-change if metric.direction is Direction.UP else change)
    for rule in rules:
        if rule.matches(against):
            return MetricReading(metric.name, metric.direction, metric.entry_value, now, change, against, rule.status,
                                 rule.description)  # fmt: skip
    raise ValueError("the status rules must end with one that matches every measured move")


def assess(
    metrics: Sequence[WatchedMetric], now: dict[str, float | None], rules: Sequence[StatusRule] = STATUS_RULES
) -> Assessment:
    """The thesis status from its watched metrics' values now (a name missing from `now` has no value)."""
    if not metrics:
        raise ValueError("a thesis watches at least one metric")
    readings = tuple(read_metric(m, now.get(m.name), rules) for m in metrics)
    worst = max(readings, key=lambda r: r.status.severity)
    return Assessment(worst.status, explain(worst), readings)


def explain(reading: MetricReading) -> str:
    """One plain line for a reading, e.g. `broken: pe moved 30.0% against the thesis (needs down; 20 → 26)`."""
    if reading.now is None:
        return f"{reading.status}: {reading.name} has no value now (it was {_number(reading.then)} at entry)"
    if reading.against_pct is None:
        return f"{reading.status}: {reading.name} was 0 at entry, so its move ({_number(reading.now)} now) has no percentage"
    moved = (
        f"moved {reading.against_pct:.1f}% against the thesis"
        if reading.against_pct > 0
        else f"moved {-reading.against_pct:.1f}% its way"
    )
    return (
        f"{reading.status}: {reading.name} {moved} (needs {reading.direction}; "
        f"{_number(reading.then)} → {_number(reading.now)})"
    )


def parse_watch(text: str) -> tuple[str, Direction | None]:
    """Parse `metric` or `metric:up` / `metric:down`. The metric must be one of the screener's."""
    name, _, way = text.strip().partition(":")
    name = name.strip().lower()
    if name not in METRICS:
        raise Rejected(f"unknown metric {name!r} to watch", hint=f"Valid metrics: {', '.join(METRIC_NAMES)}.")
    if not way.strip():
        return name, None
    try:
        return name, Direction(way.strip().lower())
    except ValueError:
        raise Rejected(f"{text.strip()!r}: the direction must be up or down", hint="Write it like pe:down.") from None


def direction_for(name: str, given: Direction | None) -> Direction:
    """The direction a thesis needs `name` to move: the one given, else the screener's better side."""
    if given is not None:
        return given
    better = METRICS[name].higher_is_better
    if better is not None:
        return Direction.UP if better else Direction.DOWN
    if name in _OWNER_DIRECTIONS:
        return _OWNER_DIRECTIONS[name]
    raise Rejected(
        f"say which way {name} should move for the thesis to work",
        hint=f"Write {name}:up or {name}:down ({METRICS[name].description}).",
    )


def _change_pct(then: float, now: float | None) -> float | None:
    if now is None or not math.isfinite(now) or then == 0 or not math.isfinite(then):
        return None
    # rounded so binary noise cannot push a move across a threshold: 0.20 → 0.18 is 10%, not 10.000000000000009%
    return round((now - then) / abs(then) * 100.0, PCT_DECIMALS)


def _number(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
