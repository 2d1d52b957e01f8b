"""The paper broker's records and their stored form: an order as the broker keeps it, the staged changes of one
state change (written in one transaction, then kept in memory), and row ↔ value conversions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from marketdesk.trading.activity import Side
from marketdesk.trading.broker import BrokerFill, BrokerOrder
from marketdesk.trading.matching import WorkingOrder
from marketdesk.trading.orders import Bracket, OrderClass, OrderStatus, OrderType, SubmitOrder, TimeInForce
from marketdesk.trading.paper_ledger import Ledger, Position


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order at the paper venue: its id, the engine's view of it, when it was placed and last changed, and
    the order it is a leg of (a bracket's entry, or the OCO whose stop-loss it is)."""

    id: str
    seq: int  # placing order: who fills first when orders share an event
    working: WorkingOrder
    submitted_at: datetime
    updated_at: datetime
    parent_id: str | None = None

    @property
    def request(self) -> SubmitOrder:
        return self.working.request

    @property
    def status(self) -> OrderStatus:
        return self.working.status

    def changed(self, working: WorkingOrder, at: datetime) -> OrderRecord:
        # the constructor, not `dataclasses.replace`: this runs on every fill and expiry
        updated_at = max(at, self.updated_at)
        return OrderRecord(self.id, self.seq, working, self.submitted_at, updated_at, self.parent_id)

    def to_broker(self, legs: tuple[BrokerOrder, ...] = ()) -> BrokerOrder:
        request = self.request
        return BrokerOrder(
            client_order_id=request.client_order_id,
            broker_order_id=self.id,
            symbol=request.symbol,
            side=request.side,
            qty=request.qty,
            order_type=request.order_type,
            time_in_force=request.time_in_force,
            status=self.status,
            submitted_at=self.submitted_at,
            updated_at=self.updated_at,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            filled_qty=self.working.filled_qty,
            average_fill_price=self.working.average_fill_price,
            reason=self.working.reason,
            legs=legs,
        )

    def row(self) -> dict[str, Any]:
        request, working = self.request, self.working
        return {
            "id": self.id,
            "seq": self.seq,
            "client_order_id": request.client_order_id,
            "symbol": request.symbol,
            "side": request.side.value,
            "order_type": request.order_type.value,
            "time_in_force": request.time_in_force.value,
            "extended_hours": request.extended_hours,
            "tag": request.tag,
            "order_class": request.order_class.value,
            "parent_id": self.parent_id,
            "submitted_at": self.submitted_at,
            "active_from": working.active_from,
            "expires_at": working.expires_at,
            **self.changes(),
        }

    def changes(self) -> dict[str, Any]:
        """The columns a state change can touch (a replace moves an OCO's take-profit with its limit)."""
        working = self.working
        bracket = working.request.bracket
        return {
            "qty": working.request.qty,
            "limit_price": working.request.limit_price,
            "stop_price": working.request.stop_price,
            "take_profit": None if bracket is None else bracket.take_profit,
            "stop_loss": None if bracket is None else bracket.stop_loss,
            "status": working.status.value,
            "filled_qty": working.filled_qty,
            "filled_notional": working.filled_notional,
            "commission": working.commission,
            "stop_triggered": working.stop_triggered,
            "seen_event": working.seen_event,
            "reason": working.reason,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any], account_id: str) -> OrderRecord:
        bracket = None
        if row["take_profit"] is not None or row["stop_loss"] is not None:
            bracket = Bracket(take_profit=row["take_profit"], stop_loss=row["stop_loss"])
        request = SubmitOrder(
            client_order_id=row["client_order_id"],
            account_id=account_id,
            symbol=row["symbol"],
            side=Side(row["side"]),
            qty=row["qty"],
            order_type=OrderType(row["order_type"]),
            time_in_force=TimeInForce(row["time_in_force"]),
            limit_price=row["limit_price"],
            stop_price=row["stop_price"],
            extended_hours=row["extended_hours"],
            bracket=bracket,
            tag=row["tag"],
            order_class=OrderClass(row["order_class"]),
        )
        working = WorkingOrder(
            request=request,
            status=OrderStatus(row["status"]),
            filled_qty=row["filled_qty"],
            filled_notional=row["filled_notional"],
            commission=row["commission"],
            stop_triggered=row["stop_triggered"],
            seen_event=row["seen_event"],
            active_from=row["active_from"],
            expires_at=row["expires_at"],
            reason=row["reason"],
        )
        return cls(row["id"], row["seq"], working, row["submitted_at"], row["updated_at"], row["parent_id"])


def fill_row(fill: BrokerFill, seq: int) -> dict[str, Any]:
    return {
        "id": fill.fill_id,
        "seq": seq,
        "order_id": fill.broker_order_id,
        "client_order_id": fill.client_order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "commission": fill.commission,
        "time": fill.time,
    }


def fill_from_row(row: Mapping[str, Any]) -> BrokerFill:
    return BrokerFill(
        fill_id=row["id"],
        broker_order_id=row["order_id"],
        client_order_id=row["client_order_id"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        qty=row["qty"],
        price=row["price"],
        commission=row["commission"],
        time=row["time"],
    )


def unsettled_json(ledger: Ledger) -> str:
    if not ledger.unsettled:  # a margin account's, always: written with the account on every fill
        return "[]"
    return json.dumps([[day.isoformat(), format(amount, "f")] for day, amount in ledger.unsettled])


def unsettled_from_json(text: str) -> list[tuple[date, Decimal]]:
    return sorted((date.fromisoformat(day), Decimal(amount)) for day, amount in json.loads(text or "[]"))


def position_from_row(row: Mapping[str, Any]) -> Position:
    return Position(row["symbol"], row["qty"], row["average_price"])


@dataclass(frozen=True, slots=True)
class Mark:
    """The account at a session's close: what compliance reads as the previous close."""

    session: date
    equity: Decimal
    maintenance_margin: Decimal


@dataclass(frozen=True, slots=True)
class CorporateAction:
    symbol: str
    kind: str  # split or dividend
    value: Decimal
    cash: Decimal
    at: datetime

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.symbol, self.kind, self.at)


@dataclass
class Stage:
    """The changes of one state change, written in one transaction and then kept."""

    base: Ledger
    ledger: Ledger | None = None  # a copy, once something changes the books
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    new_orders: set[str] = field(default_factory=set)
    fills: list[BrokerFill] = field(default_factory=list)
    positions: set[str] = field(default_factory=set)  # symbols whose position row to write
    mark: Mark | None = None
    actions: list[CorporateAction] = field(default_factory=list)

    def books(self) -> Ledger:
        """The ledger to change (copied from the kept one on first use)."""
        if self.ledger is None:
            self.ledger = self.base.copy()
        return self.ledger

    @property
    def current(self) -> Ledger:
        return self.base if self.ledger is None else self.ledger

    def put(self, record: OrderRecord, *, new: bool = False) -> None:
        self.orders[record.id] = record
        if new:
            self.new_orders.add(record.id)

    @property
    def empty(self) -> bool:
        return self.ledger is None and not self.orders and self.mark is None and not self.actions
