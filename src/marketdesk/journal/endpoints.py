"""REST routes of the journals under /api/v1/journal. Thin: parse, call the journal service, render.

    GET   /journal/rules                              reasons, status rules, actions, call modes
    GET   /journal/theses?state=&symbol=              your theses (open by default), soonest review first
    POST  /journal/theses                             write one (entry values of its metrics captured now)
    GET   /journal/theses/due                         open theses whose review day has come
    GET   /journal/theses/{id}                        one, with its check-ins
    GET   /journal/theses/{id}/checkin                each metric then and now, and the derived status
    POST  /journal/theses/{id}/checkins               confirm the status and pick the next action
    GET   /journal/trades?account_id=&tag=&symbol=&start=&end=&status=    round trips, newest first
    GET   /journal/trades/stats?…same filters…        statistics of the closed round trips
    GET   /journal/trades/{id}                        one round trip
    PATCH /journal/trades/{id}                        your reason and notes on it
    GET   /journal/calls?outcome=&symbol=&start=&end= your market calls by due date
    POST  /journal/calls                              make one
    GET   /journal/calls/calendar?start=&end=         calls by due month and day
    GET   /journal/calls/stats                        accuracy
    GET   /journal/calls/{id}                         one

Every route acts on the caller's own journal (another user's thesis, round trip or call answers 404). Reading
needs a sign-in; changing anything needs the trader role (the app's guard answers a viewer 403).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from marketdesk.deps import CurrentUserDep, DeskDep, SessionDep, TraderDep, refusals
from marketdesk.desk import Desk
from marketdesk.journal.calls import CallOutcome
from marketdesk.journal.schemas import (
    SYMBOL_PATTERN,
    CalendarMonthOut,
    CallCreate,
    CallOut,
    CallStatsOut,
    CheckinCreate,
    CheckinOut,
    CheckinPreviewOut,
    CheckinResultOut,
    JournalRulesOut,
    RoundTripOut,
    ThesisCreate,
    ThesisDetail,
    ThesisOut,
    TradeNoteUpdate,
    TradeStatsOut,
)
from marketdesk.journal.service import JournalService
from marketdesk.journal.tradestats import TradeFilter

router = APIRouter(prefix="/journal", tags=["journal"])
ThesisId = Annotated[str, Path(min_length=1, max_length=40)]
RoundTripId = Annotated[str, Path(min_length=1, max_length=48)]
CallId = Annotated[str, Path(min_length=1, max_length=40)]
SymbolFilter = Annotated[str | None, Query(pattern=SYMBOL_PATTERN)]
StartDate = Annotated[date | None, Query(description="from this day (YYYY-MM-DD), inclusive")]
EndDate = Annotated[date | None, Query(description="to this day (YYYY-MM-DD), inclusive")]


def _service(desk: Desk) -> JournalService:
    return desk.journal


@router.get("/rules", response_model=JournalRulesOut)
async def journal_rules() -> JournalRulesOut:
    """The thesis reasons (with suggested metrics), the status rules a check-in applies, the next actions, and
    what "by the due date" means in each call mode."""
    return JournalRulesOut.build()


# ---- theses ------------------------------------------------------------------------------------------


@router.get("/theses", response_model=list[ThesisOut])
async def list_theses(
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    state: Annotated[str, Query(pattern="^(open|closed|all)$")] = "open",
    symbol: SymbolFilter = None,
) -> list[ThesisOut]:
    """Your theses, soonest review first."""
    return [ThesisOut.of(v) for v in await _service(desk).theses(session, user, state=state, symbol=symbol)]


@router.post("/theses", response_model=ThesisOut, status_code=201, responses=refusals(403, 404, 422))
async def add_thesis(body: ThesisCreate, user: TraderDep, desk: DeskDep, session: SessionDep) -> ThesisOut:
    """Write a thesis: one reason, one or two screener metrics to watch (their values today are kept as the entry
    values) and a review date (in 30 days unless given). 404 when the screener does not know the symbol."""
    view = await _service(desk).add_thesis(
        session, user, body.symbol, body.reason, [(m.metric, m.direction) for m in body.metrics], note=body.note,
        review_in_days=body.review_in_days, review_on=body.review_on,
    )  # fmt: skip
    return ThesisOut.of(view)


@router.get("/theses/due", response_model=list[ThesisOut])
async def due_theses(user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> list[ThesisOut]:
    """Open theses whose review day has come: the check-ins due."""
    return [ThesisOut.of(v) for v in await _service(desk).due(session, user)]


@router.get("/theses/{thesis_id}", response_model=ThesisDetail, responses=refusals(404))
async def get_thesis(thesis_id: ThesisId, user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> ThesisDetail:
    view, checkins = await _service(desk).thesis(session, user, thesis_id)
    return ThesisDetail(thesis=ThesisOut.of(view), checkins=[CheckinOut.of(c) for c in checkins])


@router.get("/theses/{thesis_id}/checkin", response_model=CheckinPreviewOut, responses=refusals(404))
async def preview_checkin(
    thesis_id: ThesisId, user: CurrentUserDep, desk: DeskDep, session: SessionDep
) -> CheckinPreviewOut:
    """Each watched metric then and now, the status the rules derive and the rules themselves (writes nothing)."""
    return CheckinPreviewOut.of(await _service(desk).checkin_preview(session, user, thesis_id))


@router.post(
    "/theses/{thesis_id}/checkins", response_model=CheckinResultOut, status_code=201, responses=refusals(403, 404, 422)
)
async def add_checkin(
    thesis_id: ThesisId, body: CheckinCreate, user: TraderDep, desk: DeskDep, session: SessionDep
) -> CheckinResultOut:
    """Check in: the metrics are read again, the derived status recorded with the status you confirm (the derived
    one unless `status` says otherwise) and your next action. `sell` closes the thesis; any other action sets the
    next review."""
    view, checkin = await _service(desk).checkin(
        session, user, thesis_id, body.action, status=body.status, note=body.note,
        next_review_in_days=body.next_review_in_days,
    )  # fmt: skip
    return CheckinResultOut(thesis=ThesisOut.of(view), checkin=CheckinOut.of(checkin))


# ---- trades ------------------------------------------------------------------------------------------


def _trade_filter(
    account_id: str | None, tag: str | None, symbol: str | None, start: date | None, end: date | None, status: str
) -> TradeFilter:
    return TradeFilter(status=status, tag=tag, symbol=symbol, start=start, end=end, account_id=account_id)


@router.get("/trades", response_model=list[RoundTripOut], responses=refusals(404))
async def list_round_trips(
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    account_id: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=64, description='"untagged": no tag')] = None,
    symbol: SymbolFilter = None,
    start: StartDate = None,
    end: EndDate = None,
    status: Annotated[str, Query(pattern="^(open|closed|all)$")] = "all",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[RoundTripOut]:
    """Round trips of your trading accounts' fills, newest first (closed ones dated by their close, open ones by
    their open). 404 for an account that is not yours."""
    wanted = _trade_filter(account_id, tag, symbol, start, end, status)
    views = await _service(desk).round_trips(session, user, wanted)
    return [RoundTripOut.of(v) for v in views[:limit]]


@router.get("/trades/stats", response_model=TradeStatsOut, responses=refusals(404))
async def round_trip_stats(
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    account_id: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=64, description='"untagged": no tag')] = None,
    symbol: SymbolFilter = None,
    start: StartDate = None,
    end: EndDate = None,
) -> TradeStatsOut:
    """Count, wins, losses, win rate, P&L, average win and loss, profit factor, expectancy, and the best and worst
    signal (tag), over the closed round trips that pass the filters."""
    wanted = _trade_filter(account_id, tag, symbol, start, end, "all")
    return TradeStatsOut.of(await _service(desk).trade_stats(session, user, wanted))


@router.get("/trades/{round_trip_id}", response_model=RoundTripOut, responses=refusals(404))
async def get_round_trip(
    round_trip_id: RoundTripId, user: CurrentUserDep, desk: DeskDep, session: SessionDep
) -> RoundTripOut:
    return RoundTripOut.of(await _service(desk).round_trip(session, user, round_trip_id))


@router.patch("/trades/{round_trip_id}", response_model=RoundTripOut, responses=refusals(403, 404, 422))
async def annotate_round_trip(
    round_trip_id: RoundTripId, body: TradeNoteUpdate, user: TraderDep, desk: DeskDep, session: SessionDep
) -> RoundTripOut:
    """Set your reason and notes on a round trip."""
    view = await _service(desk).annotate(session, user, round_trip_id, reason=body.reason, notes=body.notes)
    return RoundTripOut.of(view)


# ---- calls -------------------------------------------------------------------------------------------


@router.get("/calls", response_model=list[CallOut])
async def list_calls(
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    outcome: CallOutcome | None = None,
    symbol: SymbolFilter = None,
    start: StartDate = None,
    end: EndDate = None,
) -> list[CallOut]:
    """Your calls by due date (due ones are judged from prices first)."""
    views = await _service(desk).calls(session, user, outcome=outcome, symbol=symbol, due_from=start, due_to=end)
    return [CallOut.of(v) for v in views]


@router.post("/calls", response_model=CallOut, status_code=201, responses=refusals(403, 422))
async def add_call(body: CallCreate, user: TraderDep, desk: DeskDep, session: SessionDep) -> CallOut:
    """Make a call, e.g. SPY above 600 by 2027-03-31. Refused when no price of the symbol is stored (it could never
    be judged), when the due date is not after today, or (any_time) when the last close already meets it."""
    view = await _service(desk).add_call(
        session, user, body.symbol, body.direction, body.level, body.due_on, mode=body.mode, note=body.note
    )
    return CallOut.of(view)


@router.get("/calls/calendar", response_model=list[CalendarMonthOut], responses=refusals(422))
async def call_calendar(
    user: CurrentUserDep, desk: DeskDep, session: SessionDep, start: StartDate = None, end: EndDate = None
) -> list[CalendarMonthOut]:
    """Your calls by due month and day, earliest first."""
    months = await _service(desk).call_calendar(session, user, start=start, end=end)
    return [CalendarMonthOut.of(m) for m in months]


@router.get("/calls/stats", response_model=CallStatsOut)
async def call_stats(user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> CallStatsOut:
    """Accuracy (hits ÷ judged calls) overall, by direction, by mode and by symbol."""
    return CallStatsOut.of(await _service(desk).call_stats(session, user))


@router.get("/calls/{call_id}", response_model=CallOut, responses=refusals(404))
async def get_call(call_id: CallId, user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> CallOut:
    return CallOut.of(await _service(desk).call(session, user, call_id))
