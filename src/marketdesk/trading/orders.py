"""Orders: what a user asks for (`SubmitOrder`), the order's life (an explicit state machine) and what happened to
it (past-tense events). Pure values; quantities and prices are Decimal, times aware UTC.

States::

    new ──► accepted ──► partially_filled ──► filled
     │         │  │              │  │
     │         │  └──► filled    │  └──► canceled / expired
     │         └──► canceled / expired / rejected
     └──► rejected / canceled

`filled`, `canceled`, `rejected` and `expired` are final. Any other move raises `IllegalTransition`, and every
accepted move is stored as an `OrderEvent`.

Order classes (`OrderClass`):

- **simple**: one order.
- **bracket**: a market or limit entry with a take-profit limit and/or a stop-loss stop (`Bracket`). The venue
  places the exits, on the other side, once and as much as the entry fills; they cancel each other (OCO).
- **oco**: an exit pair for a position already held, placed as the take-profit limit order itself (type limit,
  limit price = the take-profit) with the stop-loss stop as its linked leg, as Alpaca places one. `oco_order`
  builds it.

The venue names a leg after its parent: `<parent>-tp` and `<parent>-sl` (`leg_client_order_id`), so a parent's
client order id has at most `MAX_PARENT_CLIENT_ORDER_ID` characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from marketdesk.errors import Rejected
from marketdesk.trading.activity import OrderIntent, Side


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderClass(StrEnum):
    SIMPLE = "simple"
    BRACKET = "bracket"
    OCO = "oco"


class OrderStatus(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        return self in FINAL

    @property
    def working(self) -> bool:
        """Still able to fill."""
        return self in {OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED}


FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset({OrderStatus.ACCEPTED, OrderStatus.REJECTED, OrderStatus.CANCELED}),
    OrderStatus.ACCEPTED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.EXPIRED,
            OrderStatus.REJECTED,
        }
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset(
        {OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED}
    ),
    **{status: frozenset() for status in FINAL},
}


CLIENT_ORDER_ID_LENGTH = 64  # the column's length (orders.client_order_id, paper_orders.client_order_id)
TAKE_PROFIT_SUFFIX = "-tp"
STOP_LOSS_SUFFIX = "-sl"
MAX_PARENT_CLIENT_ORDER_ID = CLIENT_ORDER_ID_LENGTH - len(TAKE_PROFIT_SUFFIX)


def leg_client_order_id(parent: str, *, stop_loss: bool) -> str:
    """The client order id of a bracket or OCO leg: `<parent>-sl` for the stop-loss, `<parent>-tp` else.

    >>> leg_client_order_id("md-42", stop_loss=True)
    'md-42-sl'
    """
    return parent + (STOP_LOSS_SUFFIX if stop_loss else TAKE_PROFIT_SUFFIX)


def parent_client_order_id(client_order_id: str) -> str | None:
    """The parent's client order id if `client_order_id` is named like a leg (`<parent>-tp`/`-sl`), else None."""
    for suffix in (TAKE_PROFIT_SUFFIX, STOP_LOSS_SUFFIX):
        if client_order_id.endswith(suffix) and len(client_order_id) > len(suffix):
            return client_order_id[: -len(suffix)]
    return None


class IllegalTransition(Rejected):
    """An order was asked to move to a state it cannot reach from where it is."""


def transition(current: OrderStatus, target: OrderStatus) -> OrderStatus:
    """`target` if an order in `current` may move there; `IllegalTransition` otherwise."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"
        raise IllegalTransition(
            f"an order that is {current.value} cannot become {target.value}; it can become {allowed}"
        )
    return target


@dataclass(frozen=True, slots=True)
class Bracket:
    """Exit orders attached to an entry: a take-profit limit and/or a stop-loss (one cancels the other)."""

    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    """A command to place an order. `client_order_id` makes it idempotent: the same id is the same order.

    An order with a `bracket` is a bracket order (`order_class` becomes `BRACKET` unless it says `OCO`).
    """

    client_order_id: str
    account_id: str
    symbol: str
    side: Side
    qty: Decimal
    order_type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    extended_hours: bool = False
    bracket: Bracket | None = None
    tag: str | None = None  # the strategy or signal that placed it
    order_class: OrderClass = OrderClass.SIMPLE

    def __post_init__(self) -> None:
        if self.order_class is OrderClass.SIMPLE and self.bracket is not None:
            object.__setattr__(self, "order_class", OrderClass.BRACKET)
        problems = validate(self)
        if problems:
            raise Rejected(f"order {self.client_order_id}: {'; '.join(problems)}")

    @property
    def reference_price(self) -> Decimal | None:
        """The price the order names (its limit, else its stop), if any."""
        return self.limit_price if self.limit_price is not None else self.stop_price

    def intent(self, price: Decimal | None = None) -> OrderIntent:
        return OrderIntent(self.symbol, self.side, self.qty, self.reference_price or price)

    def describe(self) -> str:
        kind = {
            OrderType.MARKET: "at market",
            OrderType.LIMIT: f"limit {self.limit_price}",
            OrderType.STOP: f"stop {self.stop_price}",
            OrderType.STOP_LIMIT: f"stop {self.stop_price} limit {self.limit_price}",
        }[self.order_type]
        exits = ""
        if self.bracket is not None:
            parts = [f"take-profit {self.bracket.take_profit}"] if self.bracket.take_profit is not None else []
            parts += [f"stop-loss {self.bracket.stop_loss}"] if self.bracket.stop_loss is not None else []
            if self.order_class is OrderClass.OCO:
                kind = "OCO " + " / ".join(parts)
            else:
                exits = " with " + " / ".join(parts)
        side = self.side.value.upper()
        return f"{side} {self.qty.normalize():f} {self.symbol} {kind}{exits} ({self.time_in_force.value})"


def oco_order(
    client_order_id: str,
    account_id: str,
    symbol: str,
    side: Side,
    qty: Decimal,
    *,
    take_profit: Decimal,
    stop_loss: Decimal,
    time_in_force: TimeInForce = TimeInForce.GTC,
    tag: str | None = None,
) -> SubmitOrder:
    """An OCO exit pair for a position held: a take-profit limit and a stop-loss stop, one cancels the other.

    `side` is the exit's side: sell to close a long (take-profit above the market, stop-loss below), buy to
    cover a short (the other way round).

    >>> oco_order("x-1", "acct", "AAPL", Side.SELL, Decimal(10), take_profit=Decimal(210), stop_loss=Decimal(180)).describe()
    'SELL 10 AAPL OCO take-profit 210 / stop-loss 180 (gtc)'
    """
    return SubmitOrder(
        client_order_id=client_order_id, account_id=account_id, symbol=symbol, side=side, qty=qty,
        order_type=OrderType.LIMIT, time_in_force=time_in_force, limit_price=take_profit,
        bracket=Bracket(take_profit=take_profit, stop_loss=stop_loss), tag=tag, order_class=OrderClass.OCO,
    )  # fmt: skip


def validate(order: SubmitOrder) -> list[str]:
    """What is wrong with an order as written, in words that say what to fix (empty: nothing)."""
    problems = []
    if not order.client_order_id or len(order.client_order_id) > 64:
        problems.append("client_order_id must be 1 to 64 characters")
    if order.qty <= 0:
        problems.append(f"quantity must be positive, got {order.qty}")
    needs_limit = order.order_type in {OrderType.LIMIT, OrderType.STOP_LIMIT}
    needs_stop = order.order_type in {OrderType.STOP, OrderType.STOP_LIMIT}
    if needs_limit and order.limit_price is None:
        problems.append(f"a {order.order_type.value} order needs a limit price")
    if not needs_limit and order.limit_price is not None:
        problems.append(f"a {order.order_type.value} order takes no limit price")
    if needs_stop and order.stop_price is None:
        problems.append(f"a {order.order_type.value} order needs a stop price")
    if not needs_stop and order.stop_price is not None:
        problems.append(f"a {order.order_type.value} order takes no stop price")
    for name, price in (("limit", order.limit_price), ("stop", order.stop_price)):
        if price is not None and price <= 0:
            problems.append(f"the {name} price must be positive, got {price}")
    if order.extended_hours and (order.order_type is not OrderType.LIMIT or order.time_in_force is not TimeInForce.DAY):
        problems.append("extended-hours orders must be day limit orders")
    if order.order_class is not OrderClass.SIMPLE:
        problems.extend(_linked_problems(order))
    return problems


def _linked_problems(order: SubmitOrder) -> list[str]:
    """What is wrong with a bracket or an OCO beyond what any order checks."""
    problems = []
    what = "an OCO" if order.order_class is OrderClass.OCO else "a bracket"
    if len(order.client_order_id) > MAX_PARENT_CLIENT_ORDER_ID:
        problems.append(
            f"{what}'s client_order_id must be at most {MAX_PARENT_CLIENT_ORDER_ID} characters (its legs add "
            f"{TAKE_PROFIT_SUFFIX!r} or {STOP_LOSS_SUFFIX!r})"
        )
    if order.time_in_force not in {TimeInForce.DAY, TimeInForce.GTC}:
        problems.append(f"{what} must be a day or gtc order, not {order.time_in_force.value}")
    if order.extended_hours:
        problems.append(f"{what} trades in regular hours only: leave extended hours off")
    if order.bracket is None:
        prices = (
            "a take-profit and a stop-loss" if order.order_class is OrderClass.OCO else "a take-profit or a stop-loss"
        )
        return [*problems, f"{what} needs {prices}"]
    if order.order_class is OrderClass.OCO:
        return problems + _oco_problems(order, order.bracket)
    return problems + _bracket_problems(order, order.bracket)


def _oco_problems(order: SubmitOrder, bracket: Bracket) -> list[str]:
    if bracket.take_profit is None or bracket.stop_loss is None:
        return ["an OCO needs both a take-profit and a stop-loss"]
    problems = []
    if order.order_type is not OrderType.LIMIT or order.limit_price != bracket.take_profit:
        problems.append(
            f"an OCO is placed as its take-profit limit order: make it a limit order at {bracket.take_profit}"
        )
    if (bracket.take_profit - bracket.stop_loss) * order.side.sign >= 0:
        side = order.side.value
        problems.append(
            f"for an OCO that {'sells' if side == 'sell' else 'buys'} the stop-loss must be "
            f"{'below' if side == 'sell' else 'above'} the take-profit"
        )
    return problems


def exit_price_problems(order: SubmitOrder, last_price: Decimal) -> list[str]:
    """What is wrong with an OCO's prices against the market at `last_price`: its take-profit must be on the
    profitable side and its stop-loss on the losing side, or it would trade at once (empty: nothing)."""
    if order.order_class is not OrderClass.OCO or order.bracket is None:
        return []
    take_profit, stop_loss = order.bracket.take_profit, order.bracket.stop_loss
    # an exit that sells takes profit above the market and stops out below it; one that buys the other way
    sign = -order.side.sign
    problems = []
    if take_profit is not None and (take_profit - last_price) * sign <= 0:
        where = "above" if sign > 0 else "below"
        problems.append(f"the take-profit {take_profit} must be {where} the last price {last_price}")
    if stop_loss is not None and (last_price - stop_loss) * sign <= 0:
        where = "below" if sign > 0 else "above"
        problems.append(f"the stop-loss {stop_loss} must be {where} the last price {last_price}")
    return problems


def _bracket_problems(order: SubmitOrder, bracket: Bracket) -> list[str]:
    if bracket.take_profit is None and bracket.stop_loss is None:
        return ["a bracket needs a take-profit, a stop-loss or both"]
    problems = []
    if order.order_type not in {OrderType.MARKET, OrderType.LIMIT}:
        problems.append("a bracket's entry must be a market or limit order")
    if bracket.take_profit is not None and bracket.stop_loss is not None:
        low, high = sorted([bracket.take_profit, bracket.stop_loss])
        wanted = (
            (bracket.stop_loss, bracket.take_profit)
            if order.side is Side.BUY
            else (bracket.take_profit, bracket.stop_loss)
        )
        if (low, high) != wanted:
            side = "buy" if order.side is Side.BUY else "sell"
            problems.append(
                f"for a {side} the stop-loss must be {'below' if side == 'buy' else 'above'} the take-profit"
            )
    entry = order.limit_price
    if entry is not None:
        if bracket.take_profit is not None and (bracket.take_profit - entry) * order.side.sign <= 0:
            problems.append(f"the take-profit {bracket.take_profit} must be beyond the entry {entry}")
        if bracket.stop_loss is not None and (entry - bracket.stop_loss) * order.side.sign <= 0:
            problems.append(f"the stop-loss {bracket.stop_loss} must be on the losing side of the entry {entry}")
    return problems


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the desk knows it: the command, its state and how much has filled."""

    id: str
    request: SubmitOrder
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    filled_qty: Decimal = Decimal(0)
    average_fill_price: Decimal | None = None
    broker_order_id: str | None = None
    reason: str | None = None  # why it was rejected, canceled or expired
    parent_id: str | None = None  # a bracket leg's entry order
    legs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def remaining_qty(self) -> Decimal:
        return self.request.qty - self.filled_qty

    def moved(self, target: OrderStatus, at: datetime, **changes: object) -> Order:
        """This order in `target` (checked against the state machine)."""
        return replace(self, status=transition(self.status, target), updated_at=at, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution of (part of) an order."""

    order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    commission: Decimal
    ts_event: datetime
    fill_id: str


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """Something that happened to an order: its new status, why, and any fill. Stored for every transition."""

    order_id: str
    kind: str  # accepted, denied, filled, partially_filled, canceled, expired, rejected, replaced
    status: OrderStatus
    ts_event: datetime
    ts_init: datetime
    detail: str = ""
    fill: Fill | None = None
