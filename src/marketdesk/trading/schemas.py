"""Pydantic in/out shapes of the trading API. Money, prices and quantities travel as decimal strings (numbers
are accepted on the way in and parsed exactly); unknown fields are refused."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from marketdesk.trading.activity import Side
from marketdesk.trading.adapters.alpaca import LIVE_CONFIRMATION_PHRASE
from marketdesk.trading.orders import Bracket, OrderClass, OrderType, SubmitOrder, TimeInForce
from marketdesk.trading.service import OrderView

Amount = Annotated[Decimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")]
InAmount = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=9, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderCreate(Strict):
    """An order to place (or preview). `client_order_id` makes it idempotent; one is made if you give none."""

    account_id: str = Field(min_length=1, max_length=40)
    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z][A-Za-z0-9.\-]*$")
    side: Side
    qty: InAmount
    type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: InAmount | None = None
    stop_price: InAmount | None = None
    extended_hours: bool = False
    take_profit: InAmount | None = None
    stop_loss: InAmount | None = None
    client_order_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
    tag: str | None = Field(default=None, max_length=64)
    order_class: OrderClass | None = Field(
        default=None,
        description="simple, bracket (an entry with take_profit/stop_loss exits) or oco (an exit pair for a held "
        "position: a take-profit limit and a stop-loss, one cancels the other). Default: bracket when "
        "take_profit or stop_loss is given, else simple.",
    )

    def command(self) -> SubmitOrder:
        bracket = None
        if self.take_profit is not None or self.stop_loss is not None:
            bracket = Bracket(take_profit=self.take_profit, stop_loss=self.stop_loss)
        order_type, limit_price = self.type, self.limit_price
        if self.order_class is OrderClass.OCO:  # an OCO is its take-profit limit with the stop-loss as its leg
            order_type, limit_price = OrderType.LIMIT, self.limit_price or self.take_profit
        classed = {} if self.order_class is None else {"order_class": self.order_class}
        return SubmitOrder(
            client_order_id=self.client_order_id or f"md-{uuid.uuid4().hex[:24]}", account_id=self.account_id,
            symbol=self.symbol.upper(), side=self.side, qty=self.qty, order_type=order_type,
            time_in_force=self.time_in_force, limit_price=limit_price, stop_price=self.stop_price,
            extended_hours=self.extended_hours, bracket=bracket, tag=self.tag, **classed,
        )  # fmt: skip


class OrderReplace(Strict):
    qty: InAmount | None = None
    limit_price: InAmount | None = None
    stop_price: InAmount | None = None


class OrderOut(Strict):
    id: str
    account_id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Amount
    type: str
    time_in_force: str
    status: str
    filled_qty: Amount
    average_fill_price: Amount | None
    limit_price: Amount | None
    stop_price: Amount | None
    reason: str | None
    created_at: datetime
    updated_at: datetime
    broker_order_id: str | None
    tag: str | None
    preview: dict[str, Any] | None = Field(default=None, description="the risk and compliance verdicts it met")
    order_class: str = "simple"
    parent_id: str | None = Field(default=None, description="a bracket's or an OCO's leg: the order it exits")

    @classmethod
    def of(cls, view: OrderView) -> OrderOut:
        return cls(
            id=view.id, account_id=view.account_id, client_order_id=view.client_order_id, symbol=view.symbol,
            side=view.side, qty=view.qty, type=view.order_type, time_in_force=view.time_in_force, status=view.status,
            filled_qty=view.filled_qty, average_fill_price=view.average_fill_price, limit_price=view.limit_price,
            stop_price=view.stop_price, reason=view.reason, created_at=view.created_at, updated_at=view.updated_at,
            broker_order_id=view.broker_order_id, tag=view.tag, preview=view.preview, order_class=view.order_class,
            parent_id=view.parent_id,
        )  # fmt: skip


class OrderEventOut(Strict):
    kind: str
    status: str
    detail: str
    data: dict[str, Any]
    ts: datetime


class OrderDetail(Strict):
    order: OrderOut
    events: list[OrderEventOut]


class PreviewOut(Strict):
    allowed: bool
    estimated_price: str | None
    estimated_cost: str | None
    reasons: list[str]
    risk: dict[str, Any]
    compliance: dict[str, Any] | None


class PositionOut(Strict):
    symbol: str
    qty: Amount
    average_price: Amount
    market_price: Amount | None
    market_value: Amount | None
    unrealized_pnl: Amount | None
    realized_pnl: Amount


class AccountCreate(Strict):
    name: str = Field(min_length=1, max_length=80)
    broker: Literal["paper", "alpaca"] = "paper"
    kind: Literal["margin", "cash"] = "margin"
    policy: Literal["legacy-pdt", "intraday-margin", "cash-account", "off", "auto"] = "auto"
    live: bool = Field(
        default=False,
        description="trade real money at Alpaca's live API (broker alpaca only): needs the desk setting "
        "allow_live_trading and, before the first order, POST /api/v1/accounts/{id}/live",
    )


class AccountOut(Strict):
    id: str
    name: str
    broker: str
    live: bool = Field(description="the account trades real money (Alpaca's live API)")
    live_confirmed: bool = Field(description="a live account whose owner typed the confirmation: its orders go out")
    live_confirmed_at: datetime | None = Field(description="when the owner confirmed live trading")
    kind: str
    policy: str
    state: str
    state_reason: str
    created_at: datetime


class AccountDetail(AccountOut):
    balances: dict[str, Any]
    positions: list[dict[str, Any]]
    risk: dict[str, Any]
    compliance: dict[str, Any]


class LiveConfirmation(Strict):
    """The phrase that turns on live trading for a live account, typed by its owner."""

    confirmation: str = Field(
        min_length=1, max_length=200, description="exactly the phrase", examples=[LIVE_CONFIRMATION_PHRASE]
    )


class KillSwitch(Strict):
    on: bool
    reason: str = Field(default="", max_length=200)


class FindingOut(Strict):
    kind: str
    subject: str
    desk_value: str
    broker_value: str
    correction: str
    found_at: datetime
