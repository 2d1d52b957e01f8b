"""The Broker port: what the order service needs from a venue. Adapters: `paper` (the embedded default) and
`alpaca` (alpaca-py, paper or live). Every adapter passes tests/contract/broker_contract.py.

Only `OrderService` calls a broker (one road: OrderService → RiskEngine → Compliance → Broker). An adapter keeps
the vendor's wire format at its edge and maps it explicitly into these values; money arrives as Decimal.

Idempotency: `submit` with a `client_order_id` the broker already knows returns that order, never a second one,
and `order(client_order_id=…)` finds an order by it — that is how in-flight orders are resolved after a crash.

Exchanges: an adapter notes each request it makes of its venue for an order (`submit`, `cancel`, `replace`, the
lookups) and the venue's answer as a `BrokerExchange` (`note_exchange`), in the venue's own format (Alpaca's JSON,
the paper broker's values as data) and never with a secret. The caller collects them around its calls
(`with collect_exchanges() as exchanges: await broker.submit(order)`) and records them in the audit log. The
collector lives in a context variable, so concurrent calls on one adapter (each in its own task) never see each
other's exchanges; a worker thread the adapter starts (`asyncio.to_thread`) inherits it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

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


@dataclass(frozen=True, slots=True)
class BrokerExchange:
    """One request an adapter made of its venue and the venue's answer, as the venue has them.

    `operation` is the port method that made it (`submit`, `cancel`, `replace`, `order`, `orders`); `request` what
    was sent (Alpaca: method, path, query or JSON body; never a header, so never a key) and `response` what came
    back (Alpaca: its JSON as received, in its own field names; None for an empty answer or a failure that
    brought none). `error` is the failure in one line, None when the call succeeded. `venue` names where it went
    (`paper`, `alpaca-paper`, `alpaca-live`).
    """

    operation: str
    request: dict[str, Any]
    response: Any
    error: str | None
    venue: str

    def to_detail(self) -> dict[str, Any]:
        """The exchange as an audit entry's detail."""
        return {
            "operation": self.operation,
            "venue": self.venue,
            "request": self.request,
            "response": self.response,
            "error": self.error,
        }


_collector: ContextVar[list[BrokerExchange] | None] = ContextVar("marketdesk_broker_exchanges", default=None)


@contextmanager
def collect_exchanges() -> Iterator[list[BrokerExchange]]:
    """Collect the exchanges the broker calls inside the block make, in order (a list that fills as they run).

    Blocks nest: an inner block collects its own calls, not the outer block's.
    """
    collected: list[BrokerExchange] = []
    token = _collector.set(collected)
    try:
        yield collected
    finally:
        _collector.reset(token)


def collecting() -> bool:
    """Whether a caller collects exchanges here (an adapter may skip building one nobody keeps)."""
    return _collector.get() is not None


def note_exchange(exchange: BrokerExchange) -> None:
    """Hand an exchange to the caller collecting them (`collect_exchanges`); without one it is dropped."""
    collected = _collector.get()
    if collected is not None:
        collected.append(exchange)


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


@runtime_checkable
class InProcessVenue(Protocol):
    """A venue that keeps its books in a database of this process (the paper broker). When that is the desk's
    own database, the order service writes the venue's change and its own record of it in one unit of work
    (`OrderService.with_venue`): one commit instead of two, and never one without the other."""

    @property
    def database(self) -> object:
        """The `Database` the venue writes to."""
        ...

    def hold(self) -> AbstractAsyncContextManager[None]:
        """The venue's own lock, reentrant for the task holding it: held across such a unit of work, so that
        every task takes it before the database's write lock."""
        ...
