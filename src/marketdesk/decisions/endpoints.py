"""REST routes of the decision log under /api/v1/decisions. Thin: parse, call the decision service, render.

    GET  /decisions                   yours, newest first, with outcomes (filter by symbol, verdict, preset, date)
    POST /decisions                   log the desk's verdict on a symbol now (saved, or acted on)
    GET  /decisions/stats             win rate and excess return by verdict, preset and signal type
    GET  /decisions/{id}              one, with its outcomes

Every route acts on the caller's own log (another user's decision answers 404). Reading needs a sign-in;
logging needs the trader role (the app's guard answers a viewer 403).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from marketdesk.decisions.schemas import DecisionCreate, DecisionOut, StatsOut
from marketdesk.deps import CurrentUserDep, DeskDep, SessionDep, TraderDep, refusals

router = APIRouter(prefix="/decisions", tags=["decisions"])
DecisionId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("", response_model=list[DecisionOut], responses=refusals(422))
async def list_decisions(
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    symbol: Annotated[str | None, Query(max_length=16)] = None,
    verdict: Annotated[str | None, Query(max_length=16, description="Strong Buy, Buy, Hold or Avoid")] = None,
    preset: Annotated[str | None, Query(max_length=40)] = None,
    start: Annotated[date | None, Query(description="first price date")] = None,
    end: Annotated[date | None, Query(description="last price date")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DecisionOut]:
    """Your logged decisions, newest first; each outcome is measured, or pending with the day it is due."""
    views = await desk.decisions.decisions(
        session, user, symbol=symbol, verdict=verdict, preset=preset, start=start, end=end, limit=limit, offset=offset
    )
    return [DecisionOut.of(v) for v in views]


@router.post("", response_model=DecisionOut, status_code=201, responses=refusals(403, 404, 422))
async def log_decision(body: DecisionCreate, user: TraderDep, desk: DeskDep, session: SessionDep) -> DecisionOut:
    """Log the desk's verdict on a symbol as it stands now (score, signals, scoring-config version, the close it
    was given on). 404 when the symbol is not in the universe; 422 when it has no verdict."""
    view = await desk.decisions.log_decision(
        session, user, body.symbol, action=body.action, side=body.side, preset=body.preset, universe=body.universe,
        signals=body.signals, note=body.note,
    )  # fmt: skip
    return DecisionOut.of(view)


@router.get("/stats", response_model=StatsOut, responses=refusals(422))
async def decision_stats(
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    start: Annotated[date | None, Query(description="first price date")] = None,
    end: Annotated[date | None, Query(description="last price date")] = None,
) -> StatsOut:
    """Win rate against the benchmark and mean and median excess return at 30, 60 and 90 days, by verdict,
    preset and signal type."""
    stats = await desk.decisions.stats(session, user, start=start, end=end)
    return StatsOut.of(stats, desk.decisions.horizons)


@router.get("/{decision_id}", response_model=DecisionOut, responses=refusals(404))
async def get_decision(
    decision_id: DecisionId, user: CurrentUserDep, desk: DeskDep, session: SessionDep
) -> DecisionOut:
    return DecisionOut.of(await desk.decisions.decision(session, user, decision_id))
