"""Pydantic in/out shapes of the journal API. Money, prices, levels and quantities travel as decimal strings
(numbers are accepted on the way in and parsed exactly); screener metric values and percentages are plain numbers.
A statistic that does not exist is null and `notes` says why (never infinity). Unknown fields are refused."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from marketdesk.journal.calls import MODES, Accuracy, CalendarMonth, CallDirection, CallMode, CallOutcome, CallStats
from marketdesk.journal.theses import (
    ACTIONS,
    DEFAULT_REVIEW_DAYS,
    MAX_REVIEW_DAYS,
    REASONS,
    STATUS_RULES,
    Direction,
    MetricReading,
    NextAction,
    ThesisReason,
    ThesisStatus,
)
from marketdesk.journal.tradestats import SignalStats, TradeStats
from marketdesk.journal.views import CallView, CheckinPreview, CheckinView, RoundTripView, ThesisView
from marketdesk.screener.catalog import METRICS

Amount = Annotated[Decimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")]
Level = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=9, allow_inf_nan=False)]
SYMBOL_PATTERN = r"^[A-Za-z0-9^][A-Za-z0-9.\-^=]{0,14}$"
ReviewDays = Annotated[int, Field(ge=1, le=MAX_REVIEW_DAYS)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# ---- rules -------------------------------------------------------------------------------------------


class ChoiceOut(Strict):
    id: str
    description: str


class ReasonOut(ChoiceOut):
    suggested_metrics: list[str] = Field(description="metric:direction pairs that suit this reason")


class StatusRuleOut(Strict):
    status: ThesisStatus
    description: str


class JournalRulesOut(Strict):
    """The lists and rules of the journals, for people and forms."""

    reasons: list[ReasonOut]
    status_rules: list[StatusRuleOut] = Field(description="checked in order for each watched metric; worst wins")
    actions: list[ChoiceOut]
    call_modes: list[ChoiceOut]
    default_review_days: int
    metrics: list[str] = Field(description="the screener metrics a thesis can watch")

    @classmethod
    def build(cls) -> JournalRulesOut:
        return cls(
            reasons=[
                ReasonOut(id=r.value, description=i.description, suggested_metrics=list(i.suggested_metrics))
                for r, i in REASONS.items()
            ],
            status_rules=[StatusRuleOut(status=r.status, description=r.description) for r in STATUS_RULES],
            actions=[ChoiceOut(id=a.value, description=d) for a, d in ACTIONS.items()],
            call_modes=[ChoiceOut(id=m.value, description=d) for m, d in MODES.items()],
            default_review_days=DEFAULT_REVIEW_DAYS,
            metrics=list(METRICS),
        )


# ---- theses ------------------------------------------------------------------------------------------


class WatchIn(Strict):
    metric: str = Field(min_length=1, max_length=32, description="a screener metric, e.g. pe, roe, revenue_growth")
    direction: Direction | None = Field(
        default=None, description="which way the thesis needs it to move; default: the screener's better side"
    )


class ThesisCreate(Strict):
    """A thesis: one reason, 1–2 metrics to watch (their values now are kept), and when to review it (in
    `review_in_days`, 30 by default, or on `review_on`)."""

    symbol: str = Field(pattern=SYMBOL_PATTERN)
    reason: ThesisReason
    metrics: list[WatchIn] = Field(max_length=8, description="1 or 2")
    note: str = Field(default="", max_length=2000)
    review_in_days: ReviewDays | None = None
    review_on: dt.date | None = None


class WatchedOut(Strict):
    metric: str
    label: str
    direction: Direction
    entry_value: float


class ThesisOut(Strict):
    id: str
    symbol: str
    reason: ThesisReason
    note: str
    metrics: list[WatchedOut]
    metrics_as_of: dt.date = Field(description="the day of the entry values")
    review_days: int
    review_on: dt.date
    due: bool = Field(description="open and its review day has come")
    state: str = Field(description="open or closed (sold)")
    status: ThesisStatus | None = Field(description="the last confirmed status; null before the first check-in")
    last_action: NextAction | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None

    @classmethod
    def of(cls, v: ThesisView) -> ThesisOut:
        metrics = [
            WatchedOut(metric=m.name, label=METRICS[m.name].label, direction=m.direction, entry_value=m.entry_value)
            for m in v.metrics
        ]
        return cls(
            id=v.id, symbol=v.symbol, reason=v.reason, note=v.note, metrics=metrics, metrics_as_of=v.metrics_as_of,
            review_days=v.review_days, review_on=v.review_on, due=v.due, state=v.state, status=v.status,
            last_action=v.last_action, created_at=v.created_at, updated_at=v.updated_at, closed_at=v.closed_at,
        )  # fmt: skip


class ReadingOut(Strict):
    metric: str
    direction: Direction
    then: float
    now: float | None
    change_pct: float | None = Field(description="(now − then) ÷ |then| × 100")
    against_pct: float | None = Field(description="how far it moved against the thesis, in percent")
    status: ThesisStatus
    rule: str

    @classmethod
    def of(cls, r: MetricReading) -> ReadingOut:
        return cls(
            metric=r.name, direction=r.direction, then=r.then, now=_finite(r.now), change_pct=_finite(r.change_pct),
            against_pct=_finite(r.against_pct), status=r.status, rule=r.rule,
        )  # fmt: skip


class CheckinPreviewOut(Strict):
    thesis: ThesisOut
    metrics_as_of: dt.date
    derived_status: ThesisStatus
    reason: str
    readings: list[ReadingOut]
    rules: list[StatusRuleOut]

    @classmethod
    def of(cls, p: CheckinPreview) -> CheckinPreviewOut:
        return cls(
            thesis=ThesisOut.of(p.thesis), metrics_as_of=p.metrics_as_of, derived_status=p.assessment.status,
            reason=p.assessment.reason, readings=[ReadingOut.of(r) for r in p.assessment.readings],
            rules=[StatusRuleOut(status=r.status, description=r.description) for r in STATUS_RULES],
        )  # fmt: skip


class CheckinCreate(Strict):
    """Your decision: the next action, and the status you confirm (the derived one when left out)."""

    action: NextAction
    status: ThesisStatus | None = None
    note: str = Field(default="", max_length=2000)
    next_review_in_days: ReviewDays | None = Field(default=None, description="default: the thesis's interval")


class CheckinOut(Strict):
    id: int
    thesis_id: str
    at: dt.datetime
    metrics_as_of: dt.date
    derived_status: ThesisStatus
    status: ThesisStatus
    overridden: bool = Field(description="the confirmed status differs from the derived one")
    action: NextAction
    note: str
    readings: list[ReadingOut]
    next_review_on: dt.date | None

    @classmethod
    def of(cls, c: CheckinView) -> CheckinOut:
        return cls(
            id=c.id, thesis_id=c.thesis_id, at=c.at, metrics_as_of=c.metrics_as_of, derived_status=c.derived_status,
            status=c.status, overridden=c.overridden, action=c.action, note=c.note,
            readings=[ReadingOut.of(r) for r in c.readings], next_review_on=c.next_review_on,
        )  # fmt: skip


class ThesisDetail(Strict):
    thesis: ThesisOut
    checkins: list[CheckinOut]


class CheckinResultOut(Strict):
    thesis: ThesisOut
    checkin: CheckinOut


# ---- trades ------------------------------------------------------------------------------------------


class RoundTripOut(Strict):
    id: str
    account_id: str
    symbol: str
    side: str = Field(description="long or short")
    status: str = Field(description="open or closed")
    tag: str | None = Field(description="the opening order's strategy/signal tag")
    entry_order_id: str
    exit_order_ids: list[str]
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    qty: Amount
    closed_qty: Amount
    open_qty: Amount
    entry_price: Amount
    exit_price: Amount | None
    gross_pnl: Amount
    commission: Amount
    pnl: Amount = Field(description="realized so far: gross − commissions")
    return_pct: float | None = Field(description="P&L ÷ entry value of the units closed, in percent")
    holding_days: float | None
    fills: int
    reason: str
    notes: str

    @classmethod
    def of(cls, v: RoundTripView) -> RoundTripOut:
        t = v.trip
        return cls(
            id=t.id, account_id=t.account_id, symbol=t.symbol, side=t.side.value, status=t.status, tag=t.tag,
            entry_order_id=t.entry_order_id, exit_order_ids=list(t.exit_order_ids), opened_at=t.opened_at,
            closed_at=t.closed_at, qty=t.qty.normalize(), closed_qty=t.closed_qty.normalize(),
            open_qty=t.open_qty.normalize(), entry_price=t.entry_price, exit_price=t.exit_price,
            gross_pnl=t.gross_pnl, commission=t.commission, pnl=t.pnl, return_pct=_finite(t.return_pct),
            holding_days=t.holding_days, fills=t.fills, reason=v.reason, notes=v.notes,
        )  # fmt: skip


class TradeNoteUpdate(Strict):
    """Your reason and notes on a round trip; a field left out stays as it was."""

    reason: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=4000)


class SignalOut(Strict):
    tag: str | None = Field(description="null: round trips with no tag")
    count: int
    wins: int
    losses: int
    win_rate: float
    pnl: Amount
    expectancy: Amount

    @classmethod
    def of(cls, s: SignalStats) -> SignalOut:
        return cls(tag=s.tag, count=s.count, wins=s.wins, losses=s.losses, win_rate=s.win_rate, pnl=s.pnl,
                   expectancy=s.expectancy)  # fmt: skip


class TradeStatsOut(Strict):
    count: int = Field(description="closed round trips")
    open_round_trips: int
    wins: int
    losses: int
    breakeven: int
    win_rate: float | None
    pnl: Amount
    gross_profit: Amount
    gross_loss: Amount
    average_win: Amount | None
    average_loss: Amount | None
    profit_factor: float | None = Field(description='null with no losing trade ("no losing trades" in notes)')
    expectancy: Amount | None = Field(description="average P&L per closed round trip")
    best_signal: SignalOut | None
    worst_signal: SignalOut | None
    signals: list[SignalOut]
    notes: list[str]

    @classmethod
    def of(cls, s: TradeStats) -> TradeStatsOut:
        return cls(
            count=s.count, open_round_trips=s.open_round_trips, wins=s.wins, losses=s.losses, breakeven=s.breakeven,
            win_rate=s.win_rate, pnl=s.pnl, gross_profit=s.gross_profit, gross_loss=s.gross_loss,
            average_win=s.average_win, average_loss=s.average_loss, profit_factor=_finite(s.profit_factor),
            expectancy=s.expectancy, best_signal=None if s.best_signal is None else SignalOut.of(s.best_signal),
            worst_signal=None if s.worst_signal is None else SignalOut.of(s.worst_signal),
            signals=[SignalOut.of(x) for x in s.signals], notes=list(s.notes),
        )  # fmt: skip


# ---- calls -------------------------------------------------------------------------------------------


class CallCreate(Strict):
    """A call: SYMBOL closes above/below LEVEL on DUE_ON (`at_due_date`) or by it (`any_time`)."""

    symbol: str = Field(pattern=SYMBOL_PATTERN)
    direction: CallDirection
    level: Level
    due_on: dt.date
    mode: CallMode = CallMode.AT_DUE_DATE
    note: str = Field(default="", max_length=2000)


class CallOut(Strict):
    id: str
    statement: str = Field(description='the call in words, e.g. "SPY closes above 600 on 2027-03-31"')
    symbol: str
    direction: CallDirection
    level: Amount
    mode: CallMode
    made_on: dt.date
    due_on: dt.date
    note: str
    reference_close: Amount | None = Field(description="the last close when the call was made")
    reference_on: dt.date | None
    outcome: CallOutcome
    decided_on: dt.date | None = Field(description="the date of the deciding close")
    decided_close: Amount | None
    outcome_reason: str
    resolved_at: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def of(cls, v: CallView) -> CallOut:
        return cls(
            id=v.id, statement=v.statement, symbol=v.symbol, direction=v.direction, level=v.level, mode=v.mode,
            made_on=v.made_on, due_on=v.due_on, note=v.note, reference_close=v.reference_close,
            reference_on=v.reference_on, outcome=v.outcome, decided_on=v.decided_on, decided_close=v.decided_close,
            outcome_reason=v.outcome_reason, resolved_at=v.resolved_at, created_at=v.created_at,
        )  # fmt: skip


class CalendarCallOut(Strict):
    id: str
    symbol: str
    direction: CallDirection
    level: Amount
    mode: CallMode
    outcome: CallOutcome


class CalendarDayOut(Strict):
    date: dt.date
    calls: list[CalendarCallOut]


class CalendarMonthOut(Strict):
    month: str = Field(description="YYYY-MM")
    open: int
    hits: int
    misses: int
    void: int
    days: list[CalendarDayOut]

    @classmethod
    def of(cls, m: CalendarMonth) -> CalendarMonthOut:
        days = [
            CalendarDayOut(
                date=d.day,
                calls=[
                    CalendarCallOut(
                        id=c.id, symbol=c.symbol, direction=c.direction, level=c.level, mode=c.mode, outcome=c.outcome
                    )
                    for c in d.calls
                ],
            )
            for d in m.days
        ]
        return cls(month=m.month, open=m.open, hits=m.hits, misses=m.misses, void=m.void, days=days)


class AccuracyOut(Strict):
    key: str
    calls: int
    open: int
    hits: int
    misses: int
    void: int
    hit_rate: float | None = Field(description="hits ÷ (hits + misses); null when none is judged")

    @classmethod
    def of(cls, a: Accuracy) -> AccuracyOut:
        return cls(key=a.key, calls=a.calls, open=a.open, hits=a.hits, misses=a.misses, void=a.void,
                   hit_rate=a.hit_rate)  # fmt: skip


class CallStatsOut(Strict):
    total: AccuracyOut
    by_direction: list[AccuracyOut]
    by_mode: list[AccuracyOut]
    by_symbol: list[AccuracyOut]
    notes: list[str]

    @classmethod
    def of(cls, s: CallStats) -> CallStatsOut:
        return cls(
            total=AccuracyOut.of(s.total), by_direction=[AccuracyOut.of(a) for a in s.by_direction],
            by_mode=[AccuracyOut.of(a) for a in s.by_mode], by_symbol=[AccuracyOut.of(a) for a in s.by_symbol],
            notes=list(s.notes),
        )  # fmt: skip
