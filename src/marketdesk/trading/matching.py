"""The paper venue's fill engine: given a working order and one market event (a tick or a bar), the fills.

Pure: no I/O, no clock reads. The caller (the paper broker, a backtest) reveals events one at a time, in order.

Semantics
- **market**: fills at the next tick (the ask for a buy, the bid for a sell, else the last price) or at the next
  bar's open, moved against the order by `FillModel.slippage_bps`.
- **limit**: a buy fills when the price is at or below the limit, at min(limit, price): a bar that opens below
  the limit fills at the open (better than the limit); a bar that only touches it intrabar fills at the limit.
  Sells mirror this. Limit fills take no slippage.
- **stop**: triggers when the last price crosses the stop (a buy stop at or above, a sell stop at or below), then
  fills as a market order: a bar that gaps through a sell stop fills at the open (worse than the stop), an
  intrabar touch at the stop; slippage applies.
- **stop-limit**: triggers like a stop, then works as a limit. After an intrabar trigger on a bar, it fills in
  that bar only if the stop price itself satisfies the limit (the path after the touch is unknown); after a
  trigger at the open it sees the whole bar.
- **volume participation**: with `FillModel.participation_rate`, one event fills at most that share of the
  event's volume (shared by all orders on the event through `taken`); the rest stays working. Whole-share
  orders fill in whole shares. An event without a volume is not capped.
- **time in force**: IOC fills what it can on the first event it sees and cancels the rest; FOK fills entirely on
  the first event or is canceled unfilled; DAY expires at `WorkingOrder.expires_at` (the session close, which
  the caller computes from the exchange calendar); GTC persists. Events before `active_from` (an order queued
  to the open) are not seen.

Commissions are data (`Commission`): per share with an optional minimum per order, a flat amount per order, and
a percentage of notional, in any combination. All amounts are Decimal.

Brackets and OCO (the rules; the paper broker applies them to its stored orders)
- `exit_legs`: a bracket entry that fills opens its exits, on the other side, for the quantity filled: a
  take-profit limit and/or a stop-loss stop. Each later fill of the entry grows them (`grown_with_entry`).
- The members of an OCO group (a bracket's exits, or an OCO's take-profit and its stop leg) exit the same
  shares: when one fills, even partly, each other's quantity shrinks by as much (`after_partner_fill`); when
  nothing is left to exit they are canceled. A member canceled or expired cancels the others.
- One event can reach both exits: a bar whose range spans the take-profit and the stop-loss, or a tick that
  finds a stop triggered earlier still waiting on volume. The path inside the event is unknown, so the venue
  assumes the worse one: the stop-loss meets the event first (`exit_priority`) and the take-profit gets what
  is left, usually nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from marketdesk.errors import Rejected
from marketdesk.kit.money import CENT, PRICE_STEP, QTY_STEP
from marketdesk.kit.timeutil import ensure_utc
from marketdesk.trading.activity import Side
from marketdesk.trading.orders import (
    OrderClass,
    OrderStatus,
    OrderType,
    SubmitOrder,
    TimeInForce,
    leg_client_order_id,
    transition,
)

ZERO = Decimal(0)
BPS = Decimal(10_000)
STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})  # orders that wait for their stop price
MARKET_TYPES = frozenset({OrderType.MARKET, OrderType.STOP})  # orders that fill at the market (a stop once triggered)


@dataclass(frozen=True, slots=True)
class Tick:
    """A trade or quote update: the last price, optionally the bid and ask, and the volume since the last tick."""

    time: datetime
    price: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None
    volume: Decimal | None = None  # shares traded in this tick; None: unknown (fills are not capped)

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", ensure_utc(self.time))
        for name, value in (("price", self.price), ("bid", self.bid), ("ask", self.ask)):
            if value is not None and not (value.is_finite() and value > 0):
                raise Rejected(f"a tick's {name} must be a positive price, got {value}")
        if self.bid is not None and self.ask is not None and self.bid > self.ask:
            raise Rejected(f"a tick's bid {self.bid} is above its ask {self.ask}")
        _check_volume(self.volume, "tick")

    def quote(self, side: Side) -> Decimal:
        """The price a market order on `side` meets: the ask for a buy, the bid for a sell, else the last."""
        touch = self.ask if side is Side.BUY else self.bid
        return self.price if touch is None else touch


@dataclass(frozen=True, slots=True)
class Bar:
    """An OHLCV bar. `time` is when the bar opens: an order sees only bars that open once it is active."""

    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", ensure_utc(self.time))
        for name in ("open", "high", "low", "close"):
            value = getattr(self, name)
            if not (value.is_finite() and value > 0):
                raise Rejected(f"a bar's {name} must be a positive price, got {value}")
        if self.low > min(self.open, self.close) or self.high < max(self.open, self.close):
            raise Rejected(
                f"bar at {self.time.isoformat()} is inconsistent: low {self.low} and high {self.high} must "
                f"bracket open {self.open} and close {self.close}"
            )
        _check_volume(self.volume, "bar")


MarketEvent = Tick | Bar


def _check_volume(volume: Decimal | None, what: str) -> None:
    if volume is not None and not (volume.is_finite() and volume >= 0):
        raise Rejected(f"a {what}'s volume must be zero or more, got {volume}")


@dataclass(frozen=True, slots=True)
class Commission:
    """What a venue charges per order, as data. The parts add up:

    - `per_share` × shares, but at least `minimum_per_order` over the whole order (partial fills included);
    - `per_order`, charged once, on the order's first fill;
    - `notional_pct` percent of the traded notional.

    Each charge is rounded to the cent (half up) on the order's running total, so partial fills add up to what
    one fill of the same size would cost.

    >>> Commission.per_share_rate(Decimal("0.005"), minimum=Decimal(1)).charge(ZERO, ZERO, Decimal(100), Decimal(50))
    Decimal('1.00')
    """

    per_share: Decimal = ZERO
    minimum_per_order: Decimal = ZERO
    per_order: Decimal = ZERO
    notional_pct: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in ("per_share", "minimum_per_order", "per_order", "notional_pct"):
            value = getattr(self, name)
            if not (value.is_finite() and value >= 0):
                raise Rejected(f"commission {name} must be zero or more, got {value}")

    @classmethod
    def free(cls) -> Commission:
        return cls()

    @classmethod
    def per_share_rate(cls, rate: Decimal, *, minimum: Decimal = ZERO) -> Commission:
        return cls(per_share=rate, minimum_per_order=minimum)

    @classmethod
    def flat(cls, amount: Decimal) -> Commission:
        return cls(per_order=amount)

    @classmethod
    def percent(cls, pct: Decimal) -> Commission:
        return cls(notional_pct=pct)

    def total(self, qty: Decimal, notional: Decimal) -> Decimal:
        """The commission on an order that has filled `qty` shares worth `notional` in all."""
        if qty == 0:
            return ZERO.quantize(CENT)
        variable = max(self.per_share * qty, self.minimum_per_order)
        raw = variable + self.per_order + notional * self.notional_pct / 100
        return raw.quantize(CENT, rounding=ROUND_HALF_UP)

    def charge(self, filled_qty: Decimal, filled_notional: Decimal, qty: Decimal, price: Decimal) -> Decimal:
        """The commission on a fill of `qty` at `price`, for an order that had already filled `filled_qty`."""
        before = self.total(filled_qty, filled_notional)
        return self.total(filled_qty + qty, filled_notional + qty * price) - before


@dataclass(frozen=True, slots=True)
class FillModel:
    """How the paper venue fills: slippage (basis points, against the order), volume cap, commissions."""

    slippage_bps: Decimal = ZERO
    participation_rate: Decimal | None = None  # e.g. Decimal("0.1"): at most 10% of an event's volume
    commission: Commission = Commission()

    def __post_init__(self) -> None:
        if not (self.slippage_bps.is_finite() and ZERO <= self.slippage_bps < BPS):
            raise Rejected(f"slippage_bps must be between 0 and 10000, got {self.slippage_bps}")
        if self.participation_rate is not None and not ZERO < self.participation_rate <= 1:
            raise Rejected(
                f"participation_rate must be above 0 and at most 1 (e.g. 0.1 for 10%), got {self.participation_rate}"
            )

    def slipped(self, price: Decimal, side: Side) -> Decimal:
        """`price` moved against `side` by the slippage, rounded against the order to 1/100 of a cent."""
        if self.slippage_bps == 0:
            return price
        if side is Side.BUY:
            return (price * (BPS + self.slippage_bps) / BPS).quantize(PRICE_STEP, rounding=ROUND_CEILING)
        return (price * (BPS - self.slippage_bps) / BPS).quantize(PRICE_STEP, rounding=ROUND_FLOOR)


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """An order as the engine sees it: the request and how far it has got."""

    request: SubmitOrder
    status: OrderStatus = OrderStatus.ACCEPTED
    filled_qty: Decimal = ZERO
    filled_notional: Decimal = ZERO
    commission: Decimal = ZERO
    stop_triggered: bool = False
    seen_event: bool = False  # IOC and FOK decide on the first event they see
    active_from: datetime | None = None  # events before this are not seen (queued to the open)
    expires_at: datetime | None = None  # DAY orders: the session close
    reason: str | None = None

    @property
    def remaining_qty(self) -> Decimal:
        return self.request.qty - self.filled_qty

    @property
    def average_fill_price(self) -> Decimal | None:
        return None if self.filled_qty == 0 else self.filled_notional / self.filled_qty

    def moved(self, target: OrderStatus, **changes: object) -> WorkingOrder:
        """This order in `target`, checked against the order state machine."""
        return replace(self, status=transition(self.status, target), **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class MatchedFill:
    """One execution. `market_price` is where the market stood before slippage (equal to `price` for limits)."""

    qty: Decimal
    price: Decimal
    commission: Decimal
    time: datetime
    market_price: Decimal

    @property
    def slippage_cost(self) -> Decimal:
        return self.qty * abs(self.price - self.market_price)


@dataclass(frozen=True, slots=True)
class Match:
    """The order after an event, and the fills the event gave it (none or one)."""

    order: WorkingOrder
    fills: tuple[MatchedFill, ...] = ()


@dataclass(frozen=True, slots=True)
class _Price:
    price: Decimal | None  # the execution price before any volume cap; None: no fill on this event
    market_price: Decimal | None
    triggered: bool


def expire_if_due(order: WorkingOrder, now: datetime) -> WorkingOrder | None:
    """The order expired, if it is a working order whose expiry has come by `now`; else None."""
    if order.status.working and order.expires_at is not None and now >= order.expires_at:
        reason = (
            "expired unfilled at the session close"
            if order.filled_qty == 0
            else "the unfilled rest expired at the session close"
        )
        return order.moved(OrderStatus.EXPIRED, reason=reason)
    return None


def match(order: WorkingOrder, event: MarketEvent, model: FillModel, *, taken: Decimal = ZERO) -> Match:
    """What `event` does to `order`. `taken` is the quantity other orders already filled on this event
    (they share its volume cap)."""
    if not order.status.working or (order.active_from is not None and event.time < order.active_from):
        return Match(order)
    expired = expire_if_due(order, event.time)
    if expired is not None:
        return Match(expired)
    priced = _tick_price(order, event, model) if isinstance(event, Tick) else _bar_price(order, event, model)
    stop_triggered = order.stop_triggered or priced.triggered
    if priced.price is None and order.seen_event and stop_triggered == order.stop_triggered:
        return Match(order)  # an order resting away from the price: unchanged (the common case, on every event)
    remaining = order.remaining_qty
    qty = ZERO if priced.price is None else min(remaining, _capacity(order, event, model, taken))
    tif = order.request.time_in_force
    first = not order.seen_event
    seen = replace(order, stop_triggered=stop_triggered, seen_event=True)
    if tif is TimeInForce.FOK and first and qty < remaining:
        return Match(seen.moved(OrderStatus.CANCELED, reason=_fok_reason(order, priced, qty)))
    fills: tuple[MatchedFill, ...] = ()
    after = seen
    if qty > 0 and priced.price is not None and priced.market_price is not None:
        commission = model.commission.charge(order.filled_qty, order.filled_notional, qty, priced.price)
        fills = (MatchedFill(qty, priced.price, commission, event.time, priced.market_price),)
        filled = order.filled_qty + qty
        target = OrderStatus.FILLED if filled == order.request.qty else OrderStatus.PARTIALLY_FILLED
        after = seen.moved(
            target,
            filled_qty=filled,
            filled_notional=order.filled_notional + qty * priced.price,
            commission=order.commission + commission,
        )
    if tif is TimeInForce.IOC and first and after.status.working:
        unfilled = after.remaining_qty.normalize()
        after = after.moved(
            OrderStatus.CANCELED,
            reason=f"immediate-or-cancel: the {unfilled:f} not filled on the first price were canceled",
        )
    return Match(after, fills)


def _fok_reason(order: WorkingOrder, priced: _Price, qty: Decimal) -> str:
    if priced.price is None:
        return "fill-or-kill: the first price did not reach the order's price, so it was canceled unfilled"
    return (
        f"fill-or-kill: only {qty.normalize():f} of {order.remaining_qty.normalize():f} could fill on the first "
        "price (volume cap), so it was canceled unfilled"
    )


def _capacity(order: WorkingOrder, event: MarketEvent, model: FillModel, taken: Decimal) -> Decimal:
    if model.participation_rate is None or event.volume is None:
        return order.remaining_qty
    room = event.volume * model.participation_rate - taken
    whole = order.request.qty == order.request.qty.to_integral_value()
    step = Decimal(1) if whole else QTY_STEP
    return max(room.quantize(step, rounding=ROUND_DOWN), ZERO)


def _price_of(value: Decimal | None) -> Decimal:
    # SubmitOrder validates that limit and stop orders carry their prices
    if value is None:
        raise Rejected("the order is missing the price its type needs")
    return value


def _crossed(side: Side, price: Decimal, stop: Decimal) -> bool:
    return price >= stop if side is Side.BUY else price <= stop


def _marketable(side: Side, price: Decimal, limit: Decimal) -> bool:
    return price <= limit if side is Side.BUY else price >= limit


def _tick_price(order: WorkingOrder, tick: Tick, model: FillModel) -> _Price:
    request = order.request
    side = request.side
    kind = request.order_type
    triggered = order.stop_triggered
    if kind in STOP_TYPES and not triggered:
        triggered = _crossed(side, tick.price, _price_of(request.stop_price))
        if not triggered:
            return _Price(None, None, False)
    quote = tick.quote(side)
    if kind in MARKET_TYPES:
        return _Price(model.slipped(quote, side), quote, triggered)
    if _marketable(side, quote, _price_of(request.limit_price)):
        return _Price(quote, quote, triggered)
    return _Price(None, None, triggered)


def _bar_price(order: WorkingOrder, bar: Bar, model: FillModel) -> _Price:
    request = order.request
    side = request.side
    kind = request.order_type
    if kind is OrderType.MARKET:
        return _Price(model.slipped(bar.open, side), bar.open, False)
    if kind is OrderType.LIMIT:
        price = _bar_limit_price(side, bar, _price_of(request.limit_price))
        return _Price(price, price, False)
    trigger = bar.open  # a stop triggered on an earlier event sees this bar from its open
    if not order.stop_triggered:
        touched = _bar_trigger(side, bar, _price_of(request.stop_price))
        if touched is None:
            return _Price(None, None, False)
        trigger = touched
    if kind is OrderType.STOP:
        return _Price(model.slipped(trigger, side), trigger, True)
    limit = _price_of(request.limit_price)
    if trigger == bar.open:
        price = _bar_limit_price(side, bar, limit)
    else:  # triggered intrabar at the stop: what happened after the touch is unknown
        price = trigger if _marketable(side, trigger, limit) else None
    return _Price(price, price, True)


def _bar_trigger(side: Side, bar: Bar, stop: Decimal) -> Decimal | None:
    """Where a bar triggers a stop: at the open when it gaps through, at the stop when it touches it."""
    if _crossed(side, bar.open, stop):
        return bar.open
    extreme = bar.high if side is Side.BUY else bar.low
    return stop if _crossed(side, extreme, stop) else None


def _bar_limit_price(side: Side, bar: Bar, limit: Decimal) -> Decimal | None:
    """A limit's fill in a bar: the open when it opens through the limit, the limit when it touches it."""
    if _marketable(side, bar.open, limit):
        return bar.open
    extreme = bar.low if side is Side.BUY else bar.high
    return limit if _marketable(side, extreme, limit) else None


# brackets and OCO --------------------------------------------------------------------------------------------


def exit_legs(parent: SubmitOrder, qty: Decimal) -> tuple[SubmitOrder, ...]:
    """The orders a venue places for a bracket or OCO `parent`:

    - a bracket entry that has filled `qty`: a take-profit limit (`<parent>-tp`) and/or a stop-loss stop
      (`<parent>-sl`) for `qty`, on the other side;
    - an OCO (itself the take-profit limit): its stop-loss stop (`<parent>-sl`) for `qty`, on its own side.

    Legs keep the parent's time in force and tag. A simple order has none.
    """
    bracket = parent.bracket
    if parent.order_class is OrderClass.SIMPLE or bracket is None:
        return ()
    oco = parent.order_class is OrderClass.OCO
    side = parent.side if oco else (Side.SELL if parent.side is Side.BUY else Side.BUY)
    legs = []
    if bracket.take_profit is not None and not oco:
        legs.append(_leg(parent, side, qty, limit_price=bracket.take_profit))
    if bracket.stop_loss is not None:
        legs.append(_leg(parent, side, qty, stop_price=bracket.stop_loss))
    return tuple(legs)


def _leg(
    parent: SubmitOrder,
    side: Side,
    qty: Decimal,
    *,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
) -> SubmitOrder:
    stop_loss = stop_price is not None
    leg: SubmitOrder = SubmitOrder(
        client_order_id=leg_client_order_id(parent.client_order_id, stop_loss=stop_loss),
        account_id=parent.account_id, symbol=parent.symbol, side=side, qty=qty,
        order_type=OrderType.STOP if stop_loss else OrderType.LIMIT, time_in_force=parent.time_in_force,
        limit_price=limit_price, stop_price=stop_price, tag=parent.tag,
    )  # fmt: skip
    return leg


def exit_priority(order: WorkingOrder) -> int:
    """Which member of an OCO group meets an event first (lower first): stops before limits, so when one event
    reaches both exits the stop-loss fills (the conservative assumption) and the take-profit is cut back."""
    return 0 if order.request.order_type in STOP_TYPES else 1


def grown_with_entry(leg: WorkingOrder, qty: Decimal) -> WorkingOrder:
    """A working bracket exit after its entry filled `qty` more: it exits that much more."""
    return _resized(leg, leg.request.qty + qty)


def after_partner_fill(order: WorkingOrder, qty: Decimal, partner: str) -> WorkingOrder:
    """A working OCO member after `partner` (a client order id) filled `qty`: its quantity shrinks by as much, and
    when nothing is left to exit it is canceled (its quantity kept as it was, for the record)."""
    if not order.status.working:
        return order
    if order.remaining_qty - qty <= 0:
        return order.moved(OrderStatus.CANCELED, reason=f"canceled: its OCO partner {partner} filled")
    return _resized(order, order.request.qty - qty)


def canceled_with_partner(order: WorkingOrder, partner: str, status: OrderStatus) -> WorkingOrder:
    """A working OCO member after `partner` ended unfilled (`status`: canceled or expired): canceled too."""
    if not order.status.working:
        return order
    return order.moved(OrderStatus.CANCELED, reason=f"canceled: its OCO partner {partner} was {status.value}")


def _resized(order: WorkingOrder, qty: Decimal) -> WorkingOrder:
    return replace(order, request=replace(order.request, qty=qty))
