"""The journal service: theses and their check-ins, round trips of the user's trading accounts with statistics,
and market calls. Every call takes a session (the caller's unit of work commits) and the signed-in user, and acts
on that user's journal only: another user's thesis, round trip or call answers 404 like one that does not exist.
Changes need a role that may write (trader or admin). The clock is injected; prices come through `Closes` and the
screener's metrics through `MetricsReader`.

Calls are judged by `resolve_due` (the scheduled job, for everyone) and, for one user, before each read of their
calls: an outcome is a fact of the prices, not a choice, so recording it on a read changes nothing anyone decided.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.errors import Forbidden
from marketdesk.accounts.roles import CurrentUser
from marketdesk.clock import Clock
from marketdesk.errors import NotFound, Rejected
from marketdesk.journal import calls as call_rules
from marketdesk.journal.calls import CallDirection, CallMode, CallOutcome, CallTerms, judge
from marketdesk.journal.models import MarketCall, Thesis, ThesisCheckin, ThesisMetric, TradeNote
from marketdesk.journal.ports import Closes, MetricsReader
from marketdesk.journal.repository import JournalRepository
from marketdesk.journal.roundtrips import RoundTrip, TradeFill, match_round_trips
from marketdesk.journal.theses import (
    DEFAULT_REVIEW_DAYS,
    MAX_METRICS,
    MAX_REVIEW_DAYS,
    REASONS,
    Direction,
    NextAction,
    ThesisReason,
    ThesisStatus,
    assess,
    direction_for,
    parse_watch,
)
from marketdesk.journal.tradestats import TradeFilter, TradeStats, select, trade_stats
from marketdesk.journal.views import (
    CallView,
    CheckinPreview,
    CheckinView,
    ResolveReport,
    RoundTripView,
    ThesisView,
    call_terms,
    call_view,
    checkin_view,
    thesis_view,
    watched_metrics,
)
from marketdesk.kit.ids import new_id
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.screener.catalog import METRICS

MAX_CALL_YEARS = 10
LEVEL_SANITY_FACTOR = 100  # a level 100× away from the last close is a typo, not a call
PRICE_LOOKBACK = timedelta(days=3660)
E = TypeVar("E", ThesisReason, NextAction, ThesisStatus, CallDirection, CallMode, CallOutcome)


class JournalService:
    def __init__(self, clock: Clock, closes: Closes, metrics: MetricsReader) -> None:
        self.clock = clock
        self.closes = closes
        self.metrics = metrics

    def today(self, now: datetime | None = None) -> date:
        """A day on the exchange's calendar (New York)."""
        return (now or self.clock.now()).astimezone(NEW_YORK).date()

    # ---- theses --------------------------------------------------------------------------------------

    async def add_thesis(
        self, session: AsyncSession, user: CurrentUser, symbol: str, reason: ThesisReason | str,
        watch: Sequence[tuple[str, Direction | None] | str], *, note: str = "", review_in_days: int | None = None,
        review_on: date | None = None,
    ) -> ThesisView:  # fmt: skip
        """Write a thesis: one reason, one or two metrics to watch (their values now are kept as the entry
        values), and the day to review it (in `review_in_days`, 30 by default, or on `review_on`)."""
        _may_write(user)
        symbol = normalize_symbol(symbol)
        chosen = _reason(reason)
        wanted = _watch_list(watch, chosen)
        today = self.today()
        days, review = _review(today, review_in_days, review_on)
        repo = JournalRepository(session)
        if await repo.theses(owner_id=user.id, state="open", symbol=symbol):
            raise Rejected(f"you already have an open thesis on {symbol}", hint="Check in on it instead.")
        reading = await self.metrics(session, symbol)
        missing = [name for name, _ in wanted if reading.values.get(name) is None]
        if missing:
            having = [n for n, v in reading.values.items() if v is not None]
            raise Rejected(
                f"{', '.join(missing)} of {symbol} has no value on {reading.as_of} "
                f"({'; '.join(METRICS[n].description for n in missing)})",
                hint=f"Watch a metric {symbol} has: {', '.join(having[:12]) or 'none yet'}.",
            )
        now = self.clock.now()
        thesis = Thesis(
            id=new_id(self.clock, "th_"), owner_id=user.id, symbol=symbol, reason=chosen.value,
            note=_text(note, 2000, "note"), review_days=days, review_on=review, state="open", status=None,
            last_action=None, metrics_as_of=reading.as_of, created_at=now, updated_at=now, closed_at=None,
        )  # fmt: skip
        repo.add(thesis)
        await repo.flush()
        rows = [
            ThesisMetric(
                thesis_id=thesis.id,
                metric=name,
                position=i,
                direction=direction.value,
                entry_value=reading.values[name],
            )
            for i, (name, direction) in enumerate(wanted)
        ]
        for row in rows:
            repo.add(row)
        await repo.flush()
        return thesis_view(thesis, rows, today)

    async def theses(
        self, session: AsyncSession, user: CurrentUser, *, state: str = "open", symbol: str | None = None
    ) -> list[ThesisView]:
        """Your theses (`state` open, closed or all), soonest review first."""
        if state not in {"open", "closed", "all"}:
            raise Rejected(f"unknown thesis state {state!r}", hint="Use open, closed or all.")
        repo = JournalRepository(session)
        rows = await repo.theses(
            owner_id=user.id,
            state=None if state == "all" else state,
            symbol=normalize_symbol(symbol) if symbol else None,
        )
        return await self._views(repo, rows)

    async def due(self, session: AsyncSession, user: CurrentUser, now: datetime | None = None) -> list[ThesisView]:
        """Open theses whose review day has come (on or before today), soonest first."""
        today = self.today(now)
        repo = JournalRepository(session)
        return await self._views(repo, await repo.theses(owner_id=user.id, state="open", due_by=today), today)

    async def thesis(
        self, session: AsyncSession, user: CurrentUser, thesis_id: str
    ) -> tuple[ThesisView, list[CheckinView]]:
        """One thesis with its check-ins, oldest first."""
        repo = JournalRepository(session)
        row = await self._thesis(repo, user, thesis_id)
        metrics = await repo.metrics([row.id])
        return thesis_view(row, metrics.get(row.id, []), self.today()), [
            checkin_view(c) for c in await repo.checkins(row.id)
        ]

    async def checkin_preview(self, session: AsyncSession, user: CurrentUser, thesis_id: str) -> CheckinPreview:
        """Each watched metric then and now, and the status the rules derive (nothing is written)."""
        repo = JournalRepository(session)
        row = await self._thesis(repo, user, thesis_id)
        metrics = (await repo.metrics([row.id])).get(row.id, [])
        view = thesis_view(row, metrics, self.today())
        reading = await self.metrics(session, row.symbol)
        return CheckinPreview(view, reading.as_of, assess(view.metrics, reading.values))

    async def checkin(
        self, session: AsyncSession, user: CurrentUser, thesis_id: str, action: NextAction | str, *,
        status: ThesisStatus | str | None = None, note: str = "", next_review_in_days: int | None = None,
    ) -> tuple[ThesisView, CheckinView]:  # fmt: skip
        """Record a check-in: the derived status (from the metrics now), the status you confirm (the derived one
        unless given), and the next action. Selling closes the thesis; any other action sets the next review in
        `next_review_in_days` (the thesis's own interval by default)."""
        _may_write(user)
        chosen = _enum(NextAction, action, "action")
        confirmed = None if status is None else _enum(ThesisStatus, status, "status")
        if chosen is NextAction.SELL and next_review_in_days is not None:
            raise Rejected("a sale closes the thesis: it takes no next review", hint="Leave next_review_in_days out.")
        repo = JournalRepository(session)
        row = await self._thesis(repo, user, thesis_id)
        if row.state != "open":
            raise Rejected(f"the thesis on {row.symbol} is closed", hint="Write a new thesis to follow it again.")
        today = self.today()
        days = row.review_days if next_review_in_days is None else next_review_in_days
        if chosen is not NextAction.SELL and not 1 <= days <= MAX_REVIEW_DAYS:
            raise Rejected(f"next review in {days} days is out of range", hint=f"Use 1 to {MAX_REVIEW_DAYS} days.")
        metrics = (await repo.metrics([row.id])).get(row.id, [])
        reading = await self.metrics(session, row.symbol)
        assessment = assess(watched_metrics(metrics), reading.values)
        final = confirmed or assessment.status
        now = self.clock.now()
        next_review = None if chosen is NextAction.SELL else today + timedelta(days=days)
        record = ThesisCheckin(
            thesis_id=row.id, at=now, metrics_as_of=reading.as_of, derived_status=assessment.status.value,
            status=final.value, action=chosen.value, note=_text(note, 2000, "note"),
            readings_json=json.dumps([asdict(r) for r in assessment.readings]), next_review_on=next_review,
        )  # fmt: skip
        repo.add(record)
        row.status, row.last_action, row.updated_at = final.value, chosen.value, now
        if next_review is None:
            row.state, row.closed_at = "closed", now
        else:
            row.review_on = next_review
        await repo.flush()
        return thesis_view(row, metrics, today), checkin_view(record)

    async def _thesis(self, repo: JournalRepository, user: CurrentUser, thesis_id: str) -> Thesis:
        row = await repo.thesis(thesis_id.strip(), owner_id=user.id)
        if row is None:
            raise NotFound(f"no thesis {thesis_id!r}", hint="List yours: GET /api/v1/journal/theses.")
        return row

    async def _views(
        self, repo: JournalRepository, rows: Sequence[Thesis], today: date | None = None
    ) -> list[ThesisView]:
        metrics = await repo.metrics([r.id for r in rows])
        day = today or self.today()
        return [thesis_view(r, metrics.get(r.id, []), day) for r in rows]

    # ---- trades --------------------------------------------------------------------------------------

    async def round_trips(
        self, session: AsyncSession, user: CurrentUser, wanted: TradeFilter | None = None
    ) -> list[RoundTripView]:
        """Round trips of your trading accounts' fills (one account with `account_id`), filtered, newest first."""
        wanted = _normalized_filter(wanted or TradeFilter())
        trips = await self._trips(session, user, wanted.account_id, wanted.symbol)
        chosen = sorted(select(trips, wanted), key=lambda t: (t.last_exit_at or t.opened_at, t.id), reverse=True)
        return await self._annotated(session, user, chosen)

    async def trade_stats(
        self, session: AsyncSession, user: CurrentUser, wanted: TradeFilter | None = None
    ) -> TradeStats:
        """Statistics of the closed round trips that pass the filter (see `marketdesk.journal.tradestats`)."""
        wanted = _normalized_filter(wanted or TradeFilter())
        trips = await self._trips(session, user, wanted.account_id, wanted.symbol)
        return trade_stats(select(trips, wanted))

    async def round_trip(self, session: AsyncSession, user: CurrentUser, round_trip_id: str) -> RoundTripView:
        trip = await self._find_trip(session, user, round_trip_id)
        return (await self._annotated(session, user, [trip]))[0]

    async def annotate(
        self, session: AsyncSession, user: CurrentUser, round_trip_id: str, *, reason: str | None = None,
        notes: str | None = None,
    ) -> RoundTripView:  # fmt: skip
        """Set your reason and notes on a round trip (what is not given stays as it was)."""
        _may_write(user)
        if reason is None and notes is None:
            raise Rejected("nothing to change", hint="Give a reason, notes or both.")
        trip = await self._find_trip(session, user, round_trip_id)
        repo = JournalRepository(session)
        row = await repo.trade_note(trip.account_id, trip.id, owner_id=user.id)
        if row is None:
            row = TradeNote(account_id=trip.account_id, round_trip_id=trip.id, owner_id=user.id, reason="", notes="")
            repo.add(row)
        if reason is not None:
            row.reason = _text(reason, 200, "reason")
        if notes is not None:
            row.notes = _text(notes, 4000, "notes")
        row.updated_at = self.clock.now()
        await repo.flush()
        return RoundTripView(trip, row.reason, row.notes)

    async def _trips(
        self, session: AsyncSession, user: CurrentUser, account_id: str | None, symbol: str | None
    ) -> list[RoundTrip]:
        repo = JournalRepository(session)
        if account_id is not None and account_id not in {a.id for a in await repo.accounts(owner_id=user.id)}:
            raise NotFound(f"no trading account {account_id!r}", hint="List yours: GET /api/v1/accounts.")
        rows = await repo.tagged_fills(owner_id=user.id, account_id=account_id, symbol=symbol)
        return match_round_trips(
            TradeFill(str(f.id), f.order_id, f.account_id, f.symbol, f.side, f.qty, f.price, f.commission, f.time, tag)
            for f, tag in rows
        )

    async def _find_trip(self, session: AsyncSession, user: CurrentUser, round_trip_id: str) -> RoundTrip:
        wanted = round_trip_id.strip()
        account_id = await JournalRepository(session).order_account(wanted.split("~", 1)[0], owner_id=user.id)
        trip = None
        if account_id is not None:
            trip = next((t for t in await self._trips(session, user, account_id, None) if t.id == wanted), None)
        if trip is None:
            raise NotFound(f"no round trip {round_trip_id!r}", hint="List yours: GET /api/v1/journal/trades.")
        return trip

    async def _annotated(
        self, session: AsyncSession, user: CurrentUser, trips: Sequence[RoundTrip]
    ) -> list[RoundTripView]:
        accounts = sorted({t.account_id for t in trips})
        notes = {(n.account_id, n.round_trip_id): n for n in await JournalRepository(session).trade_notes(
            owner_id=user.id, account_ids=accounts)}  # fmt: skip
        out = []
        for trip in trips:
            note = notes.get((trip.account_id, trip.id))
            out.append(RoundTripView(trip, note.reason if note else "", note.notes if note else ""))
        return out

    # ---- market calls --------------------------------------------------------------------------------

    async def add_call(
        self, session: AsyncSession, user: CurrentUser, symbol: str, direction: CallDirection | str,
        level: Decimal | str, due_on: date, *, mode: CallMode | str = CallMode.AT_DUE_DATE, note: str = "",
    ) -> CallView:  # fmt: skip
        """Record a call: SYMBOL closes above/below LEVEL on (or, `any_time`, by) DUE_ON."""
        _may_write(user)
        symbol = normalize_symbol(symbol)
        terms = CallTerms(symbol, _enum(CallDirection, direction, "direction"), _level(level),
                          _enum(CallMode, mode, "mode"), self.today(), due_on)  # fmt: skip
        if due_on <= terms.made_on:
            raise Rejected(f"the due date {due_on} is not after today ({terms.made_on})", hint="Pick a later date.")
        latest = terms.made_on + timedelta(days=round(365.25 * MAX_CALL_YEARS))
        if due_on > latest:
            raise Rejected(
                f"the due date {due_on} is more than {MAX_CALL_YEARS} years away", hint=f"Pick one by {latest}."
            )
        known = await self.closes(symbol, terms.made_on - PRICE_LOOKBACK, terms.made_on)
        if not known:
            raise Rejected(
                f"no prices of {symbol} are stored, so the call could never be judged",
                hint=f"Import its prices (`marketdesk data import prices FILE`) or fetch them (`marketdesk data fetch {symbol}`).",
            )
        reference_on, reference = known[-1]
        if not reference / LEVEL_SANITY_FACTOR <= terms.level <= reference * LEVEL_SANITY_FACTOR:
            raise Rejected(
                f"level {terms.level} is more than {LEVEL_SANITY_FACTOR}× away from {symbol}'s last close "
                f"({reference} on {reference_on})",
                hint="Check the level (it is a price, not a percentage).",
            )
        if terms.mode is CallMode.ANY_TIME and terms.holds(reference):
            raise Rejected(
                f"{symbol} already closed {terms.direction} {terms.level} ({reference} on {reference_on}): "
                "an any-time call would be hit at once",
                hint="Use mode at_due_date, or a level it has not reached.",
            )
        now = self.clock.now()
        row = MarketCall(
            id=new_id(self.clock, "call_"), owner_id=user.id, symbol=symbol, direction=terms.direction.value,
            level=terms.level, mode=terms.mode.value, made_on=terms.made_on, due_on=due_on,
            note=_text(note, 2000, "note"), reference_close=reference, reference_on=reference_on, outcome="open",
            decided_on=None, decided_close=None, outcome_reason="", resolved_at=None, created_at=now,
        )  # fmt: skip
        JournalRepository(session).add(row)
        await session.flush()
        return call_view(row)

    async def calls(
        self, session: AsyncSession, user: CurrentUser, *, outcome: CallOutcome | str | None = None,
        symbol: str | None = None, due_from: date | None = None, due_to: date | None = None,
    ) -> list[CallView]:  # fmt: skip
        """Your calls by due date (judging the ones that have come due first)."""
        chosen = None if outcome is None else _enum(CallOutcome, outcome, "outcome")
        await self.resolve_due(session, owner_id=user.id)
        rows = await JournalRepository(session).calls(
            owner_id=user.id, outcome=None if chosen is None else chosen.value,
            symbol=normalize_symbol(symbol) if symbol else None, due_from=due_from, due_to=due_to,
        )  # fmt: skip
        return [call_view(r) for r in rows]

    async def call(self, session: AsyncSession, user: CurrentUser, call_id: str) -> CallView:
        repo = JournalRepository(session)
        row = await repo.call(call_id.strip(), owner_id=user.id)
        if row is None:
            raise NotFound(f"no call {call_id!r}", hint="List yours: GET /api/v1/journal/calls.")
        if row.outcome == "open":
            await self.resolve_due(session, owner_id=user.id)  # updates `row` in the session when it is judged
        return call_view(row)

    async def call_calendar(
        self, session: AsyncSession, user: CurrentUser, *, start: date | None = None, end: date | None = None
    ) -> list[call_rules.CalendarMonth]:
        """Your calls by due month and day (from `start` to `end`, inclusive)."""
        if start is not None and end is not None and start > end:
            raise Rejected(f"start {start} is after end {end}", hint="Swap them.")
        views = await self.calls(session, user, due_from=start, due_to=end)
        return call_rules.calendar(v.facts() for v in views)

    async def call_stats(self, session: AsyncSession, user: CurrentUser) -> call_rules.CallStats:
        """Accuracy of your calls: overall, by direction, by mode and by symbol."""
        return call_rules.call_stats([v.facts() for v in await self.calls(session, user)])

    async def resolve_due(
        self, session: AsyncSession, now: datetime | None = None, *, owner_id: str | None = None
    ) -> ResolveReport:
        """Judge every open call whose outcome the prices now decide (one owner's, or everyone's for the job).
        Idempotent: a call is judged once, and a second run finds nothing new."""
        today = self.today(now)
        repo = JournalRepository(session)
        open_calls = [c for c in await repo.open_calls(owner_id=owner_id) if c.mode == "any_time" or c.due_on < today]
        by_symbol: dict[str, list[MarketCall]] = {}
        for row in open_calls:
            by_symbol.setdefault(row.symbol, []).append(row)
        tally = {CallOutcome.HIT: 0, CallOutcome.MISS: 0, CallOutcome.VOID: 0}
        at = now or self.clock.now()
        for symbol, rows in by_symbol.items():
            first = min(r.made_on for r in rows) + timedelta(days=1)
            closes = await self.closes(symbol, first, today)
            for row in rows:
                verdict = judge(call_terms(row), closes, today)
                if verdict is None:
                    continue
                close = verdict.close
                if await repo.settle_call(row.id, outcome=verdict.outcome.value, decided_on=verdict.decided_on,
                                          decided_close=close, reason=verdict.reason, at=at):  # fmt: skip
                    tally[verdict.outcome] += 1
        return ResolveReport(len(open_calls), tally[CallOutcome.HIT], tally[CallOutcome.MISS], tally[CallOutcome.VOID])


# ---- helpers -----------------------------------------------------------------------------------------


def _may_write(user: CurrentUser) -> None:
    if not user.can_write:
        raise Forbidden("viewers can read the journal but not change it", hint="Ask an admin for the trader role.")


def _enum(kind: type[E], value: E | str, field: str) -> E:
    try:
        return kind(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        raise Rejected(f"unknown {field} {value!r}", hint=f"Use one of: {', '.join(m.value for m in kind)}.") from None


def _reason(reason: ThesisReason | str) -> ThesisReason:
    return _enum(ThesisReason, reason, "reason")


def _watch_list(
    watch: Sequence[tuple[str, Direction | None] | str], reason: ThesisReason
) -> list[tuple[str, Direction]]:
    suggested = ", ".join(REASONS[reason].suggested_metrics)
    if not 1 <= len(watch) <= MAX_METRICS:
        raise Rejected(
            f"a thesis watches 1 or {MAX_METRICS} metrics, not {len(watch)}",
            hint=f"For {reason}, for example: {suggested}.",
        )
    out: list[tuple[str, Direction]] = []
    for item in watch:
        if isinstance(item, str):
            name, given = parse_watch(item)
        else:
            name, given = parse_watch(item[0])[0], item[1]
        if name in {n for n, _ in out}:
            raise Rejected(f"{name} is watched twice", hint="Watch two different metrics, or one.")
        out.append((name, direction_for(name, given)))
    return out


def _review(today: date, review_in_days: int | None, review_on: date | None) -> tuple[int, date]:
    if review_in_days is not None and review_on is not None:
        raise Rejected("give the review in days or on a date, not both")
    if review_on is not None:
        days = (review_on - today).days
        if not 1 <= days <= MAX_REVIEW_DAYS:
            raise Rejected(
                f"the review date {review_on} is not 1 to {MAX_REVIEW_DAYS} days after today ({today})",
                hint=f"Pick a date from {today + timedelta(days=1)} to {today + timedelta(days=MAX_REVIEW_DAYS)}.",
            )
        return days, review_on
    days = DEFAULT_REVIEW_DAYS if review_in_days is None else review_in_days
    if not 1 <= days <= MAX_REVIEW_DAYS:
        raise Rejected(f"a review in {days} days is out of range", hint=f"Use 1 to {MAX_REVIEW_DAYS} days.")
    return days, today + timedelta(days=days)


def _level(value: Decimal | str) -> Decimal:
    try:
        level = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except ArithmeticError:
        raise Rejected(f"level {value!r} is not a number", hint="Write it like 600 or 612.50.") from None
    if not level.is_finite() or level <= 0:
        raise Rejected(f"level {value} must be a positive price", hint="Write it like 600 or 612.50.")
    return level


def _text(value: str, limit: int, field: str) -> str:
    value = value.strip()
    if len(value) > limit:
        raise Rejected(f"the {field} is {len(value)} characters long", hint=f"Keep it to {limit}.")
    return value


def _normalized_filter(wanted: TradeFilter) -> TradeFilter:
    if wanted.status not in {"open", "closed", "all"}:
        raise Rejected(f"unknown round-trip status {wanted.status!r}", hint="Use open, closed or all.")
    if wanted.start is not None and wanted.end is not None and wanted.start > wanted.end:
        raise Rejected(f"start {wanted.start} is after end {wanted.end}", hint="Swap them.")
    symbol = normalize_symbol(wanted.symbol) if wanted.symbol else None
    return TradeFilter(wanted.status, wanted.tag, symbol, wanted.start, wanted.end, wanted.account_id)
