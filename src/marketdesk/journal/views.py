"""What the journal service answers: frozen views of theses, check-ins, round trips and calls, and the mapping
from stored rows to them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from marketdesk.journal.calls import CallDirection, CallFacts, CallMode, CallOutcome, CallTerms
from marketdesk.journal.models import MarketCall, Thesis, ThesisCheckin, ThesisMetric
from marketdesk.journal.roundtrips import RoundTrip
from marketdesk.journal.theses import (
    Assessment,
    Direction,
    MetricReading,
    NextAction,
    ThesisReason,
    ThesisStatus,
    WatchedMetric,
)


@dataclass(frozen=True, slots=True)
class ThesisView:
    id: str
    symbol: str
    reason: ThesisReason
    note: str
    metrics: tuple[WatchedMetric, ...]
    metrics_as_of: date
    review_days: int
    review_on: date
    due: bool
    state: str  # open, closed
    status: ThesisStatus | None  # the last confirmed; None before the first check-in
    last_action: NextAction | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class CheckinView:
    id: int
    thesis_id: str
    at: datetime
    metrics_as_of: date
    derived_status: ThesisStatus
    status: ThesisStatus
    overridden: bool
    action: NextAction
    note: str
    readings: tuple[MetricReading, ...]
    next_review_on: date | None


@dataclass(frozen=True, slots=True)
class CheckinPreview:
    """What a check-in shows before the user decides: each metric then and now, and the derived status."""

    thesis: ThesisView
    metrics_as_of: date
    assessment: Assessment


@dataclass(frozen=True, slots=True)
class RoundTripView:
    trip: RoundTrip
    reason: str
    notes: str


@dataclass(frozen=True, slots=True)
class CallView:
    id: str
    symbol: str
    direction: CallDirection
    level: Decimal
    mode: CallMode
    made_on: date
    due_on: date
    note: str
    reference_close: Decimal | None
    reference_on: date | None
    outcome: CallOutcome
    decided_on: date | None
    decided_close: Decimal | None
    outcome_reason: str
    resolved_at: datetime | None
    created_at: datetime
    statement: str

    def facts(self) -> CallFacts:
        return CallFacts(self.id, self.symbol, self.direction, self.mode, self.level, self.due_on, self.outcome)


@dataclass(frozen=True, slots=True)
class ResolveReport:
    checked: int
    hits: int
    misses: int
    void: int

    @property
    def judged(self) -> int:
        return self.hits + self.misses + self.void


def watched_metrics(rows: Sequence[ThesisMetric]) -> tuple[WatchedMetric, ...]:
    return tuple(WatchedMetric(r.metric, Direction(r.direction), r.entry_value) for r in rows)


def thesis_view(row: Thesis, metrics: Sequence[ThesisMetric], today: date) -> ThesisView:
    return ThesisView(
        id=row.id, symbol=row.symbol, reason=ThesisReason(row.reason), note=row.note, metrics=watched_metrics(metrics),
        metrics_as_of=row.metrics_as_of, review_days=row.review_days, review_on=row.review_on,
        due=row.state == "open" and row.review_on <= today, state=row.state,
        status=None if row.status is None else ThesisStatus(row.status),
        last_action=None if row.last_action is None else NextAction(row.last_action), created_at=row.created_at,
        updated_at=row.updated_at, closed_at=row.closed_at,
    )  # fmt: skip


def checkin_view(row: ThesisCheckin) -> CheckinView:
    readings = tuple(
        MetricReading(
            r["name"],
            Direction(r["direction"]),
            r["then"],
            r["now"],
            r["change_pct"],
            r["against_pct"],
            ThesisStatus(r["status"]),
            r["rule"],
        )
        for r in json.loads(row.readings_json)
    )
    return CheckinView(
        id=row.id, thesis_id=row.thesis_id, at=row.at, metrics_as_of=row.metrics_as_of,
        derived_status=ThesisStatus(row.derived_status), status=ThesisStatus(row.status),
        overridden=row.status != row.derived_status, action=NextAction(row.action), note=row.note, readings=readings,
        next_review_on=row.next_review_on,
    )  # fmt: skip


def call_terms(row: MarketCall) -> CallTerms:
    return CallTerms(row.symbol, CallDirection(row.direction), row.level, CallMode(row.mode), row.made_on, row.due_on)


def call_view(row: MarketCall) -> CallView:
    terms = call_terms(row)
    return CallView(
        id=row.id, symbol=row.symbol, direction=terms.direction, level=row.level, mode=terms.mode,
        made_on=row.made_on, due_on=row.due_on, note=row.note, reference_close=row.reference_close,
        reference_on=row.reference_on, outcome=CallOutcome(row.outcome), decided_on=row.decided_on,
        decided_close=row.decided_close, outcome_reason=row.outcome_reason, resolved_at=row.resolved_at,
        created_at=row.created_at, statement=terms.describe(),
    )  # fmt: skip
