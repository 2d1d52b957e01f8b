"""REST routes of the screener: /screener, /research/{symbol}, /dips, /regime. Thin: parse, call, render.

A `watchlist:NAME` universe is always the caller's own list."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from marketdesk.deps import CurrentUserDep, DeskDep, SessionDep, refusals
from marketdesk.desk import Desk
from marketdesk.screener.catalog import METRICS
from marketdesk.screener.config import PRESETS
from marketdesk.screener.filters import FIELDS, OPERATORS
from marketdesk.screener.schemas import DipsOut, PresetOut, RegimeOut, ScreenerOptions, ScreenPageOut, jsonable_rows
from marketdesk.screener.service import ScreenerService

router = APIRouter(tags=["screener"])


def _screener(desk: Desk) -> ScreenerService:
    return desk.screener


@router.get("/screener", response_model=ScreenPageOut, responses=refusals(404, 422))
async def get_screen(
    desk: DeskDep,
    session: SessionDep,
    user: CurrentUserDep,
    preset: Annotated[str | None, Query(max_length=64, description="balanced, momentum, value, …")] = None,
    where: Annotated[list[str] | None, Query(max_length=20, description="filter, e.g. pe < 25 and roe > 0.15")] = None,
    universe: Annotated[str, Query(max_length=80)] = "all",
    asset: Annotated[str | None, Query(description="stock, etf or bond")] = None,
    sort: Annotated[str | None, Query(max_length=64)] = None,
    descending: bool = True,
    limit: Annotated[int, Query(ge=0, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    as_of: date | None = None,
) -> ScreenPageOut:
    """Screen a universe: each row with its verdict, score, metrics, gates and reasons."""
    page = await _screener(desk).screen(
        session, preset=preset, where=where or [], universe=universe, asset=asset, sort=sort,
        descending=descending, limit=limit, offset=offset, as_of=as_of, owner_id=user.id,
    )  # fmt: skip
    return ScreenPageOut(
        rows=jsonable_rows(page.rows),
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        as_of=page.as_of,
        universe=page.universe,
        preset=page.preset,
        version=page.version,
        regime=RegimeOut.of(page.regime),
        message=page.message,
    )


@router.get("/screener/options", response_model=ScreenerOptions)
async def screener_options() -> ScreenerOptions:
    """The presets, filter fields and operators the screener understands."""
    return ScreenerOptions(
        presets=[PresetOut(id=p.id, label=p.label, kind=p.kind, description=p.description) for p in PRESETS.values()],
        fields=sorted(FIELDS),
        operators=list(OPERATORS),
        metrics=[{**asdict(m), "group": m.group.value, "unit": m.unit.value} for m in METRICS.values()],
    )


@router.get("/research/{symbol}", responses=refusals(404))
async def get_research(
    symbol: str,
    desk: DeskDep,
    session: SessionDep,
    preset: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The tearsheet of one symbol: core metrics, valuation context, decision framework, risks, threshold
    sensitivity, peers and events, with the verdict, flags, plain explanation and DCF."""
    return await _screener(desk).research(session, symbol, preset=preset)


@router.get("/dips", response_model=DipsOut, responses=refusals(404, 422))
async def get_dips(
    desk: DeskDep,
    session: SessionDep,
    user: CurrentUserDep,
    universe: Annotated[str, Query(max_length=80)] = "largecap",
    threshold: Annotated[float, Query(description="5, 10 or 15 (% below the 52-week high)")] = 5.0,
    min_verdict: Annotated[str, Query(max_length=16)] = "Hold",
    refresh: bool = False,
) -> DipsOut:
    """Quality names below their 52-week high, why they dipped, and a suggested play (cached 24 h)."""
    report = await _screener(desk).dips(
        session, universe=universe, threshold_pct=threshold, min_verdict=min_verdict, refresh=refresh, owner_id=user.id
    )
    return DipsOut(
        rows=jsonable_rows(report.rows),
        universe=report.universe,
        threshold_pct=report.threshold_pct,
        min_verdict=report.min_verdict,
        as_of=report.as_of,
        computed_at=report.computed_at,
        cached=report.cached,
        regime=RegimeOut.of(report.regime),
        message=report.message,
    )


@router.get("/regime", response_model=RegimeOut, responses=refusals(404))
async def get_regime(
    desk: DeskDep, session: SessionDep, user: CurrentUserDep, universe: Annotated[str, Query(max_length=80)] = "all"
) -> RegimeOut:
    """The market regime: risk-on, neutral or risk-off, with the reason and each signal."""
    return RegimeOut.of(await _screener(desk).regime(session, universe, owner_id=user.id))
