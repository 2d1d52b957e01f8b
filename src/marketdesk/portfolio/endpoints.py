"""REST routes of portfolios under /api/v1/portfolios. Thin: parse, call the portfolio service, render.

    GET    /portfolios                                  yours
    POST   /portfolios                                  open one (kept by hand, or linked to a trading account)
    GET    /portfolios/{id}                             one
    DELETE /portfolios/{id}?confirm=NAME                delete it, its transactions and snapshots (204)
    GET    /portfolios/{id}/transactions                in the order they happened (filter by date, symbol)
    POST   /portfolios/{id}/transactions                record one by hand
    DELETE /portfolios/{id}/transactions/{tid}          remove one, unless a later one needs it
    POST   /portfolios/{id}/import                      a broker statement (multipart `file`): a result per row
    GET    /portfolios/{id}/valuation?as_of=            holdings, cost basis, P&L, dividends, total return
    GET    /portfolios/{id}/snapshots?start=&end=       the stored daily end-of-day values
    POST   /portfolios/{id}/snapshots                   recompute them from transactions and price history
    GET    /portfolios/{id}/returns?start=&end=         total return, TWR and XIRR over the range
    GET    /portfolios/{id}/targets                     target weights (asset class, sector, symbol), band, min trade
    PUT    /portfolios/{id}/targets                     set them (replacing any before)
    DELETE /portfolios/{id}/targets                     remove them (204)
    GET    /portfolios/{id}/allocation?as_of=           weights against the targets: drift, in or out of band
    GET    /portfolios/{id}/rebalance?prefer_losses=&fractional=
                                                        the trades back into the bands (suggestions, never placed)
                                                        and the actions the screener's verdicts call for

Every route acts on the caller's own portfolios (another user's answers 404). Reading needs a sign-in; changing
anything needs the trader role (the app's guard answers a viewer 403). After a change the desk publishes a
`{"event": …}` message on the portfolio's WebSocket channel `portfolio:ID`, once the change is committed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Path, Query, Response, UploadFile

from marketdesk.deps import CurrentUserDep, DeskDep, SessionDep, TraderDep, refusals
from marketdesk.desk import Desk
from marketdesk.errors import Rejected
from marketdesk.portfolio.schemas import (
    AllocationOut,
    ImportOut,
    PortfolioCreate,
    PortfolioOut,
    RebalanceOut,
    RebuildOut,
    ReturnsOut,
    SnapshotOut,
    SnapshotsOut,
    TargetsIn,
    TargetsOut,
    TransactionCreate,
    TransactionOut,
    ValuationOut,
)
from marketdesk.portfolio.service import MAX_STATEMENT_BYTES, PortfolioService
from marketdesk.portfolio.targets import screener_holding_verdicts

router = APIRouter(prefix="/portfolios", tags=["portfolios"])
PortfolioId = Annotated[str, Path(min_length=1, max_length=40)]
TransactionId = Annotated[str, Path(min_length=1, max_length=40)]
SymbolFilter = Annotated[str | None, Query(max_length=16)]
MAP_PATTERN = r"^(date|symbol|side|qty|price|fee|amount)=.{1,80}$"


def _service(desk: Desk) -> PortfolioService:
    return desk.portfolios


async def _publish(desk: Desk, portfolio_id: str, payload: dict[str, Any]) -> None:
    await desk.bus.publish(f"portfolio:{portfolio_id}", {"portfolio_id": portfolio_id, **payload})


@router.get("", response_model=list[PortfolioOut])
async def list_portfolios(user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> list[PortfolioOut]:
    """Your portfolios, oldest first."""
    return [PortfolioOut.of(v) for v in await _service(desk).list_portfolios(session, user)]


@router.post("", response_model=PortfolioOut, status_code=201, responses=refusals(403, 404, 422))
async def create_portfolio(body: PortfolioCreate, user: TraderDep, desk: DeskDep, session: SessionDep) -> PortfolioOut:
    """Open a portfolio: kept by hand, or (with `account_id`) following one of your trading accounts' fills."""
    view = await _service(desk).create(
        session, user, body.name, account_id=body.account_id, description=body.description
    )
    return PortfolioOut.of(view)


@router.get("/{portfolio_id}", response_model=PortfolioOut, responses=refusals(404))
async def get_portfolio(
    portfolio_id: PortfolioId, user: CurrentUserDep, desk: DeskDep, session: SessionDep
) -> PortfolioOut:
    return PortfolioOut.of(await _service(desk).get(session, user, portfolio_id))


@router.delete("/{portfolio_id}", status_code=204, response_class=Response, responses=refusals(403, 404, 422))
async def delete_portfolio(
    portfolio_id: PortfolioId,
    user: TraderDep,
    desk: DeskDep,
    session: SessionDep,
    background: BackgroundTasks,
    confirm: Annotated[str | None, Query(max_length=80, description="the portfolio's name (or id), repeated")] = None,
) -> Response:
    """Delete a portfolio with its transactions and snapshots; `confirm` must repeat its name."""
    await _service(desk).delete(session, user, portfolio_id, confirm=confirm)
    background.add_task(_publish, desk, portfolio_id, {"event": "deleted"})
    return Response(status_code=204)


@router.get("/{portfolio_id}/transactions", response_model=list[TransactionOut], responses=refusals(404, 422))
async def list_transactions(
    portfolio_id: PortfolioId,
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    start: date | None = None,
    end: date | None = None,
    symbol: SymbolFilter = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TransactionOut]:
    """The transactions in the order they happened; a linked portfolio's are its trading account's fills."""
    views = await _service(desk).transactions(
        session, user, portfolio_id, start=start, end=end, symbol=symbol, limit=limit, offset=offset
    )
    return [TransactionOut.of(v) for v in views]


@router.post(
    "/{portfolio_id}/transactions", response_model=TransactionOut, status_code=201, responses=refusals(403, 404, 422)
)
async def add_transaction(
    portfolio_id: PortfolioId,
    body: TransactionCreate,
    user: TraderDep,
    desk: DeskDep,
    session: SessionDep,
    background: BackgroundTasks,
) -> TransactionOut:
    """Record a transaction by hand. Refused with the reason when the history cannot take it (a sell of shares
    not held then, a withdrawal of cash not there)."""
    view = await _service(desk).add(
        session, user, portfolio_id, body.transaction(), note=body.note, executed_at=body.executed_at
    )
    background.add_task(_publish, desk, portfolio_id, {"event": "transactions_changed", "added": 1})
    return TransactionOut.of(view)


@router.delete(
    "/{portfolio_id}/transactions/{transaction_id}", response_model=TransactionOut, responses=refusals(403, 404, 422)
)
async def remove_transaction(
    portfolio_id: PortfolioId,
    transaction_id: TransactionId,
    user: TraderDep,
    desk: DeskDep,
    session: SessionDep,
    background: BackgroundTasks,
) -> TransactionOut:
    """Remove a recorded transaction (answers it); refused when a later one needs it."""
    view = await _service(desk).remove_transaction(session, user, portfolio_id, transaction_id)
    background.add_task(_publish, desk, portfolio_id, {"event": "transactions_changed", "removed": 1})
    return TransactionOut.of(view)


@router.post("/{portfolio_id}/import", response_model=ImportOut, responses=refusals(403, 404, 422))
async def import_statement(
    portfolio_id: PortfolioId,
    user: TraderDep,
    desk: DeskDep,
    session: SessionDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="the statement, CSV")],
    layout: Annotated[str, Query(pattern="^(auto|generic|alpaca)$")] = "auto",
    dry_run: Annotated[bool, Query(description="check every row, write nothing")] = False,
    date_format: Annotated[str | None, Query(max_length=40, description="strptime format, e.g. %m/%d/%Y")] = None,
    column: Annotated[
        list[str] | None, Query(max_length=7, description="generic layout: FIELD=Column Name, e.g. date=Trade Date")
    ] = None,
) -> ImportOut:
    """Import a broker statement: the generic `date,symbol,side,qty,price,fee` layout or Alpaca's account
    activities. Each row is accepted, a duplicate of one imported before, or rejected with the reason; the
    accepted rows are written together. Re-importing the same file adds nothing."""
    data = await file.read(MAX_STATEMENT_BYTES + 1)
    column_map: dict[str, str] = {}
    for item in column or []:
        field, separator, name = item.partition("=")
        if (
            not separator
            or not name.strip()
            or field.strip() not in {"date", "symbol", "side", "qty", "price", "fee", "amount"}
        ):
            raise Rejected(f"column {item!r} is not FIELD=Column Name", hint="For example: date=Trade Date.")
        column_map[field.strip()] = name.strip()
    report = await _service(desk).import_statement(
        session, user, portfolio_id, data, layout=layout, column_map=column_map or None, date_format=date_format,
        dry_run=dry_run,
    )  # fmt: skip
    if report.accepted and not dry_run:
        background.add_task(_publish, desk, portfolio_id, {"event": "transactions_changed", "added": report.accepted})
    return ImportOut.of(report)


@router.get("/{portfolio_id}/valuation", response_model=ValuationOut, responses=refusals(404, 422))
async def get_valuation(
    portfolio_id: PortfolioId,
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    as_of: Annotated[date | None, Query(description="the close of this day (default: today)")] = None,
) -> ValuationOut:
    """Holdings marked at the close, FIFO cost basis, realized and unrealized P&L, dividends, total return."""
    valuation = await _service(desk).valuation(session, user, portfolio_id, as_of)
    return ValuationOut.of(portfolio_id, valuation, simulated=desk.simulated)


@router.get("/{portfolio_id}/snapshots", response_model=SnapshotsOut, responses=refusals(404, 422))
async def list_snapshots(
    portfolio_id: PortfolioId,
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    start: date | None = None,
    end: date | None = None,
) -> SnapshotsOut:
    """The stored end-of-day snapshots (recomputed when a hand-kept portfolio changes, or on POST)."""
    rows = await _service(desk).snapshots(session, user, portfolio_id, start, end)
    snapshots = [
        SnapshotOut(
            date=r.day, value=r.value, positions_value=r.positions_value, cash=r.cash, net_flow=r.net_flow,
            cost_basis=r.cost_basis, realized_pnl=r.realized_pnl, dividend_income=r.dividend_income, fees=r.fees,
        )
        for r in rows
    ]  # fmt: skip
    computed_at = max((r.computed_at for r in rows), default=None)
    return SnapshotsOut(portfolio_id=portfolio_id, computed_at=computed_at, snapshots=snapshots)


@router.post("/{portfolio_id}/snapshots", response_model=RebuildOut, responses=refusals(403, 404))
async def rebuild_snapshots(
    portfolio_id: PortfolioId, user: TraderDep, desk: DeskDep, session: SessionDep, background: BackgroundTasks
) -> RebuildOut:
    """Recompute every daily snapshot from the transactions (or fills) and price history; idempotent."""
    rebuilt = await _service(desk).rebuild_snapshots(session, user, portfolio_id)
    background.add_task(_publish, desk, portfolio_id, {"event": "snapshots_rebuilt", "days": rebuilt.days})
    return RebuildOut.of(portfolio_id, rebuilt)


@router.get("/{portfolio_id}/returns", response_model=ReturnsOut, responses=refusals(404, 422))
async def get_returns(
    portfolio_id: PortfolioId,
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    start: date | None = None,
    end: date | None = None,
) -> ReturnsOut:
    """Total return with dividends, time-weighted (TWR) and money-weighted (XIRR) returns over the range
    (default: from the first transaction to the last valued day). A measure that does not exist is null, and
    `notes` says why; a range reaching past the valued days is clipped to them (`notes` says so)."""
    result = await _service(desk).returns(session, user, portfolio_id, start, end)
    return ReturnsOut.of(portfolio_id, result, simulated=desk.simulated)


@router.get("/{portfolio_id}/targets", response_model=TargetsOut, responses=refusals(404))
async def get_targets(
    portfolio_id: PortfolioId, user: CurrentUserDep, desk: DeskDep, session: SessionDep
) -> TargetsOut:
    """The portfolio's allocation targets; `set` is false (and the default band and minimum trade show) when
    none are set."""
    return TargetsOut.of(portfolio_id, await _service(desk).targets(session, user, portfolio_id))


@router.put("/{portfolio_id}/targets", response_model=TargetsOut, responses=refusals(403, 404, 422))
async def put_targets(
    portfolio_id: PortfolioId, body: TargetsIn, user: TraderDep, desk: DeskDep, session: SessionDep
) -> TargetsOut:
    """Set the targets, replacing any before: weights in percent by asset class, sector and symbol (each
    dimension's sum at most 100; the rest stays unassigned, in cash), the band and the minimum trade."""
    view = await _service(desk).set_targets(session, user, portfolio_id, body.targets())
    return TargetsOut.of(portfolio_id, view)


@router.delete("/{portfolio_id}/targets", status_code=204, response_class=Response, responses=refusals(403, 404))
async def delete_targets(portfolio_id: PortfolioId, user: TraderDep, desk: DeskDep, session: SessionDep) -> Response:
    """Remove the targets (the portfolio and its transactions stay)."""
    await _service(desk).clear_targets(session, user, portfolio_id)
    return Response(status_code=204)


@router.get("/{portfolio_id}/allocation", response_model=AllocationOut, responses=refusals(404, 422))
async def get_allocation(
    portfolio_id: PortfolioId,
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    as_of: Annotated[date | None, Query(description="the close of this day (default: today)")] = None,
) -> AllocationOut:
    """Each line's weight, target, drift (pp) and band status, by asset class, sector and symbol; cash is a line."""
    view = await _service(desk).allocation(session, user, portfolio_id, as_of)
    return AllocationOut.of(portfolio_id, view, simulated=desk.simulated)


@router.get("/{portfolio_id}/rebalance", response_model=RebalanceOut, responses=refusals(404, 422))
async def get_rebalance(
    portfolio_id: PortfolioId,
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    prefer_losses: Annotated[bool, Query(description="sell lots with unrealized losses first")] = False,
    fractional: Annotated[bool, Query(description="fractional shares (default: whole shares)")] = False,
) -> RebalanceOut:
    """The trades that bring every out-of-band line back inside its band, at the last closes: suggestions only,
    each with a link that previews it on the trade ticket. Also the screener's verdict on each holding beside the
    last one you logged, and the actions a change calls for."""
    view = await _service(desk).rebalance(
        session, user, portfolio_id, prefer_losses=prefer_losses, fractional=fractional,
        verdicts=screener_holding_verdicts(desk.screener),
    )  # fmt: skip
    return RebalanceOut.of(portfolio_id, view, simulated=desk.simulated)
