"""REST routes of the portfolio comparison under /api/v1/analytics. Thin: parse, call the comparison service,
render.

    GET /analytics/compare?portfolio_id=A&portfolio_id=B&start=&end=&benchmark=true&curves=true
        your portfolios (and the benchmark) side by side: TWR, annualized TWR, volatility, Sharpe, max drawdown,
        and each one's equity curve (the growth of 100)
    GET /analytics/compare.csv?…the same…&table=figures|curves
        the same comparison as CSV: one row per series (figures), or one row per day (curves)

Every portfolio named must be the caller's: another user's answers 404 exactly like one that does not exist.
Reading needs a sign-in (viewers too).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import StringConstraints

from marketdesk.analytics.compare_measures import comparison_csv, curves_csv
from marketdesk.analytics.compare_schemas import ComparisonOut
from marketdesk.analytics.compare_service import MAX_PORTFOLIOS, comparison_for
from marketdesk.deps import CurrentUserDep, DeskDep, SessionDep, refusals

router = APIRouter(prefix="/analytics", tags=["analytics"])
PortfolioId = Annotated[str, StringConstraints(min_length=1, max_length=40)]
PortfolioIds = Annotated[
    list[PortfolioId],
    Query(min_length=1, max_length=MAX_PORTFOLIOS, description="a portfolio of yours (repeat for each, 1 to 10)"),
]
StartDate = Annotated[date | None, Query(description="from this day (YYYY-MM-DD), inclusive")]
EndDate = Annotated[date | None, Query(description="to this day (YYYY-MM-DD), inclusive")]
WithBenchmark = Annotated[bool, Query(description="add the benchmark (SPY, else the desk's own) as a series")]


class Table(StrEnum):
    FIGURES = "figures"
    CURVES = "curves"


@router.get("/compare", response_model=ComparisonOut, responses=refusals(404, 422))
async def compare_portfolios(
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    portfolio_id: PortfolioIds,
    start: StartDate = None,
    end: EndDate = None,
    benchmark: WithBenchmark = True,
    curves: Annotated[bool, Query(description="include each series' equity curve")] = True,
) -> ComparisonOut:
    """Your portfolios and the benchmark side by side over one date range: each measured over its own days in
    the range from its daily time-weighted returns."""
    comparison, found = await comparison_for(desk).compare(
        session, user, portfolio_id, start=start, end=end, benchmark=benchmark
    )
    return ComparisonOut.of(comparison, None if found is None else found.symbol, curves=curves)


@router.get(
    "/compare.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **refusals(404, 422)},
)
async def compare_portfolios_csv(
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    portfolio_id: PortfolioIds,
    start: StartDate = None,
    end: EndDate = None,
    benchmark: WithBenchmark = True,
    table: Annotated[Table, Query(description="figures: a row per series; curves: a row per day")] = Table.FIGURES,
) -> Response:
    """The comparison as CSV, numbers in full precision and an empty cell where a figure does not exist."""
    comparison, _ = await comparison_for(desk).compare(
        session, user, portfolio_id, start=start, end=end, benchmark=benchmark
    )
    text = comparison_csv(comparison) if table is Table.FIGURES else curves_csv(comparison)
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="portfolio-comparison-{table.value}.csv"'},
    )
