"""The Broker port: what the order service needs from a venue. Adapters: `paper` (the embedded default) and
`alpaca` (alpaca-py, paper or live). Every adapter passes tests/contract/broker_contract.py.

Only `OrderService` calls a broker (one road: OrderService → RiskEngine → Compliance → Broker). An adapter keeps
the vendor's wire format at its edge and maps it explicitly into these values; money arrives as Decimal.

Idempotency: `submit` with a `client_order_id` the broker already knows returns that order, never a second one,
and `order(client_order_id=…)` finds an order by it — that is how in-flight orders are resolved after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from marketdesk.trading.activity import Side
from marketdesk.trading.orders import OrderStatus, OrderType, SubmitOrder, TimeInForce


@dataclass(frozen=True, slots=True)
class BrokerCapabilities:
    """What a venue supports, as data (the order service checks these before submitting)."""

    fractional: bool = False
    short: bool = True
    extended_hours: bool = False
    brackets: bool = False
    order_types: frozenset[OrderType] = frozenset(OrderType)
    time_in_force: frozenset[TimeInForce] = frozenset(TimeInForce)
    streams_updates: bool = False  # False: the desk polls order status


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """An order as the broker reports it."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    order_type: OrderType
    time_in_force: TimeInForce
    status: OrderStatus
    submitted_at: datetime
    updated_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    filled_qty: Decimal = Decimal(0)
    average_fill_price: Decimal | None = None
    reason: str | None = None
    legs: tuple[BrokerOrder, ...] = ()


@dataclass(frozen=True, slots=True)
class BrokerFill:
    """One execution as the broker reports it."""

    fill_id: str
    broker_order_id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    commission: Decimal
    time: datetime


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    """A holding: signed quantity (short negative) and average entry price."""

    symbol: str
    qty: Decimal
    average_price: Decimal
    market_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BrokerAccount:
    """Balances. `last_equity` and `last_maintenance_margin` are the previous close's (compliance uses them)."""

    account_id: str
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    last_equity: Decimal
    last_maintenance_margin: Decimal = Decimal(0)
    currency: str = "USD"
    settled_cash: Decimal | None = None  # cash accounts
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Broker(Protocol):
    """A venue orders go to."""

    name: str
    capabilities: BrokerCapabilities

    async def submit(self, order: SubmitOrder) -> BrokerOrder:
        """Place `order`; the same `client_order_id` again returns the existing order."""
        ...

    async def cancel(self, broker_order_id: str) -> BrokerOrder:
        """Ask to cancel; the answer is the order's state after the request (it may have filled first)."""
        ...

    async def replace(
        self,
        broker_order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> BrokerOrder:
        """Change a working order's quantity or prices; the answer is the replacement."""
        ...

    async def order(self, *, client_order_id: str) -> BrokerOrder | None:
        """The order with this client order id, or None if the broker never received it."""
        ...

    async def orders(self, *, open_only: bool = True) -> list[BrokerOrder]: ...

    async def fills(self, *, since: datetime | None = None) -> list[BrokerFill]: ...

    async def positions(self) -> list[BrokerPosition]: ...

    async def account(self) -> BrokerAccount: ...
