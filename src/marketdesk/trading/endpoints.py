"""REST routes of trading under /api/v1: orders, positions and accounts (risk, compliance, the kill switch,
reconciliation, the confirmation of live trading). Thin: parse, call the order or account service, render. Order and fill events are pushed on
the WebSocket's private `orders` channel.

Every route acts on the caller's own accounts and orders (another user's answers 404). Reading needs a sign-in;
placing, changing or cancelling needs the trader role (viewers see everything and trade nothing).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Response

from marketdesk.deps import CurrentUserDep, DeskDep, TraderDep, refusals
from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.trading.schemas import (
    AccountCreate,
    AccountDetail,
    AccountOut,
    FindingOut,
    KillSwitch,
    LiveConfirmation,
    OrderCreate,
    OrderDetail,
    OrderEventOut,
    OrderOut,
    OrderReplace,
    PositionOut,
    PreviewOut,
)

router = APIRouter(tags=["trading"])
STATUS_PATTERN = "^(open|new|accepted|partially_filled|filled|canceled|rejected|expired)$"


@router.post("/orders", response_model=OrderOut, status_code=201, responses=refusals(403, 404, 422))
async def submit_order(
    body: OrderCreate, user: TraderDep, desk: DeskDep, response: Response, background: BackgroundTasks
) -> OrderOut:
    """Place an order through the risk engine and compliance. A denial still answers 201 with the order in
    status `rejected` and the reason; the same `client_order_id` again returns the first order (200). A placed
    order is logged as an acted-on decision once the answer is sent (once a day per symbol and side; never for a
    name without a verdict); the answer does not wait for the log, nor depend on it."""
    view = await desk.orders.submit(user, body.command())
    if view.preview is None:  # an existing order returned for a repeated client_order_id
        response.status_code = 200
    else:
        background.add_task(desk.decisions.record_placed_order, desk.db.session, user, view)
    return OrderOut.of(view)


@router.post("/orders/preview", response_model=PreviewOut, responses=refusals(403, 404, 422))
async def preview_order(body: OrderCreate, user: TraderDep, desk: DeskDep) -> PreviewOut:
    """What placing this order would do: estimated cost, the risk verdict and the compliance verdict."""
    preview = await desk.orders.preview(user, body.command())
    return PreviewOut(**preview.to_dict())


@router.get("/orders", response_model=list[OrderOut])
async def list_orders(
    user: CurrentUserDep,
    desk: DeskDep,
    account_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[OrderOut]:
    """Your orders, newest first (`status=open` for working ones)."""
    return [OrderOut.of(v) for v in await desk.orders.orders(user, account_id=account_id, status=status, limit=limit)]


@router.get("/orders/{order_id}", response_model=OrderDetail, responses=refusals(404))
async def get_order(order_id: str, user: CurrentUserDep, desk: DeskDep) -> OrderDetail:
    """One order with every event of its life."""
    view, events = await desk.orders.order(user, order_id)
    return OrderDetail(order=OrderOut.of(view), events=[OrderEventOut(**to_jsonable(e)) for e in events])


@router.delete("/orders/{order_id}", response_model=OrderOut, responses=refusals(403, 404, 422))
async def cancel_order(order_id: str, user: TraderDep, desk: DeskDep) -> OrderOut:
    """Cancel a working order (allowed even when the account is halted)."""
    return OrderOut.of(await desk.orders.cancel(user, order_id))


@router.patch("/orders/{order_id}", response_model=OrderOut, responses=refusals(403, 404, 422))
async def replace_order(order_id: str, body: OrderReplace, user: TraderDep, desk: DeskDep) -> OrderOut:
    """Change a working order's quantity or prices (checked by risk and compliance again)."""
    view = await desk.orders.replace(
        user, order_id, qty=body.qty, limit_price=body.limit_price, stop_price=body.stop_price
    )
    return OrderOut.of(view)


@router.get("/positions", response_model=list[PositionOut], responses=refusals(404))
async def list_positions(
    user: CurrentUserDep, desk: DeskDep, account_id: Annotated[str | None, Query(max_length=40)] = None
) -> list[PositionOut]:
    """Open positions marked at the last price, with unrealized and realized P&L."""
    return [PositionOut(**asdict(p)) for p in await desk.trading_accounts.positions(user, account_id)]


@router.get("/accounts", response_model=list[AccountOut])
async def list_accounts(user: CurrentUserDep, desk: DeskDep) -> list[AccountOut]:
    return [AccountOut(**a) for a in await desk.trading_accounts.list_accounts(user)]


@router.post("/accounts", response_model=AccountOut, status_code=201, responses=refusals(403, 422))
async def open_account(body: AccountCreate, user: TraderDep, desk: DeskDep) -> AccountOut:
    """Open a trading account (paper by default). An Alpaca account needs your Alpaca keys in the key vault; a live
    one (`live`: real money) needs the desk setting allow_live_trading and places nothing until you confirm it
    with POST /api/v1/accounts/{id}/live."""
    opened = await desk.trading_accounts.open(
        user, body.name, broker=body.broker, kind=body.kind, policy=body.policy, live=body.live
    )
    return AccountOut(**opened)


@router.get("/accounts/{account_id}", response_model=AccountDetail, responses=refusals(404))
async def get_account(account_id: str, user: CurrentUserDep, desk: DeskDep) -> AccountDetail:
    """Balances from the broker, positions, risk limits and compliance settings."""
    return AccountDetail(**to_jsonable(await desk.trading_accounts.get(user, account_id)))


@router.get("/accounts/{account_id}/risk", responses=refusals(404))
async def get_risk(account_id: str, user: CurrentUserDep, desk: DeskDep) -> dict[str, Any]:
    """The risk limits and the trading state (active, reducing or halted)."""
    detail = await desk.trading_accounts.get(user, account_id)
    return {"limits": detail["risk"], "state": detail["state"], "state_reason": detail["state_reason"]}


@router.patch("/accounts/{account_id}/risk", responses=refusals(403, 404, 422))
async def update_risk(account_id: str, body: dict[str, Any], user: TraderDep, desk: DeskDep) -> dict[str, Any]:
    """Change risk limits; unknown names are refused with the valid ones."""
    return {"limits": await desk.trading_accounts.update_risk(user, account_id, body)}


@router.post("/accounts/{account_id}/kill-switch", response_model=AccountOut, responses=refusals(403, 404, 422))
async def kill_switch(account_id: str, body: KillSwitch, user: TraderDep, desk: DeskDep) -> AccountOut:
    """On: the account is HALTED and only cancels pass. Off: ACTIVE again."""
    return AccountOut(**await desk.trading_accounts.set_kill_switch(user, account_id, on=body.on, reason=body.reason))


@router.post("/accounts/{account_id}/live", response_model=AccountOut, responses=refusals(403, 404, 422))
async def confirm_live(account_id: str, body: LiveConfirmation, user: TraderDep, desk: DeskDep) -> AccountOut:
    """Turn on live (real-money) trading for your live Alpaca account by typing the phrase exactly (a wrong one
    answers 422 with the phrase in the hint). Needed once, before its first order; audited. Refused while the
    desk setting allow_live_trading is off."""
    return AccountOut(**await desk.trading_accounts.confirm_live(user, account_id, body.confirmation))


@router.get("/accounts/{account_id}/compliance", responses=refusals(404, 422))
async def get_compliance(account_id: str, user: CurrentUserDep, desk: DeskDep) -> dict[str, Any]:
    """The policy's settings and where the account stands: day trades used and the next drop-off, or the margin
    requirement, equity and headroom, or settled cash."""
    detail = await desk.trading_accounts.get(user, account_id)
    status = await desk.trading_accounts.compliance_status(user, account_id)
    return {"settings": detail["compliance"], "status": status}


@router.patch("/accounts/{account_id}/compliance", responses=refusals(403, 404, 422))
async def update_compliance(account_id: str, body: dict[str, Any], user: TraderDep, desk: DeskDep) -> dict[str, Any]:
    return {"settings": await desk.trading_accounts.update_compliance(user, account_id, body)}


@router.get("/accounts/{account_id}/reconciliation", response_model=list[FindingOut], responses=refusals(404))
async def findings(account_id: str, user: CurrentUserDep, desk: DeskDep) -> list[FindingOut]:
    """Differences found between the desk's books and the broker's, and how each was corrected."""
    return [FindingOut(**f) for f in await desk.reconciler.findings(user, account_id)]


@router.post("/accounts/{account_id}/reconcile", response_model=list[FindingOut], responses=refusals(403, 404))
async def reconcile(account_id: str, user: TraderDep, desk: DeskDep) -> list[FindingOut]:
    """Compare with the broker now; the differences found (and corrected)."""
    return [FindingOut(**asdict(f)) for f in await desk.reconciler.reconcile_for(user, account_id)]


@router.post("/accounts/{account_id}/corporate-actions", responses=refusals(403, 404, 422))
async def apply_corporate_actions(account_id: str, user: TraderDep, desk: DeskDep) -> dict[str, Any]:
    """Apply the splits and dividends now due to your paper account: `applied` lists those applied by this call
    (none applied before), `not_applied` those held back with the reason."""
    return (await desk.corporate_actions.apply_for(user, account_id)).to_dict()
