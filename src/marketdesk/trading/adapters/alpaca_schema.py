"""Alpaca's Trading API v2 wire format and its explicit mapping to and from the Broker port's values.

Vendor field names live here and nowhere else. Everything is pure: dicts in, frozen values out.

- Money and quantities arrive as JSON strings ("229.87", "0.000000001") and become `Decimal` exactly.
- Times arrive as RFC 3339 with up to nanoseconds and become aware UTC (microseconds).
- Enums are mapped through tables. A value the desk does not know raises `Operational` naming it: a new
  Alpaca value means someone must decide its meaning, so nothing is guessed.

Order statuses (Alpaca's documented meanings, "Orders at Alpaca", and the desk state each becomes):

=====================  ===============================================================================
Alpaca                 desk
=====================  ===============================================================================
pending_new            NEW: routed to the exchange, not yet acknowledged
pending_review         NEW: Alpaca is reviewing it before accepting it
held                   NEW: a bracket/OTO exit leg waiting for its entry to fill, or an exit Alpaca holds
                       back while its OCO partner is at the exchange (reason says which)
new                    ACCEPTED: Alpaca routed it to the exchange; it can fill ("the usual initial state")
accepted               ACCEPTED: Alpaca took it but has not routed it yet (e.g. outside market hours)
accepted_for_bidding   ACCEPTED: the exchange took it and is evaluating it for pricing
partially_filled       PARTIALLY_FILLED
filled                 FILLED
done_for_day           working*: done for today, trades again next session
pending_cancel         working*: a cancel is requested but not confirmed, so it may still fill
pending_replace        working*: a replace is requested but not confirmed
stopped                working*: a fill is guaranteed but has not happened yet
suspended              working*: not eligible to trade until Alpaca lifts it (it is not final)
calculated             FILLED when fully filled, else working*: done for the day, settlement pending
canceled               CANCELED
expired                EXPIRED
rejected               REJECTED
replaced               CANCELED, reason "replaced by order <id>": this id is finished, the new one works
=====================  ===============================================================================

working* = PARTIALLY_FILLED once anything has filled, else ACCEPTED; the reason carries Alpaca's nuance.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypedDict

from marketdesk.errors import Operational, Rejected
from marketdesk.kit.money import to_decimal
from marketdesk.marketdata.adapters._common import parse_utc
from marketdesk.trading.activity import Side
from marketdesk.trading.broker import BrokerAccount, BrokerFill, BrokerOrder, BrokerPosition
from marketdesk.trading.orders import OrderClass, OrderStatus, OrderType, SubmitOrder, TimeInForce


class AlpacaOrder(TypedDict, total=False):
    """An order as Alpaca sends it (GET/POST/PATCH /v2/orders…); the fields the desk reads."""

    id: str
    client_order_id: str
    created_at: str
    updated_at: str
    submitted_at: str | None
    filled_at: str | None
    canceled_at: str | None
    replaced_by: str | None
    replaces: str | None
    symbol: str
    asset_class: str
    notional: str | None
    qty: str | None
    filled_qty: str
    filled_avg_price: str | None
    order_class: str  # "" or "simple", "bracket", "oco", "oto", "mleg"
    order_type: str  # deprecated twin of `type`
    type: str
    side: str
    time_in_force: str
    limit_price: str | None
    stop_price: str | None
    status: str
    extended_hours: bool
    legs: list[AlpacaOrder] | None


class AlpacaPosition(TypedDict, total=False):
    """A position (GET /v2/positions): `qty` is negative with `side` "short" for a short."""

    symbol: str
    qty: str
    side: str
    avg_entry_price: str
    current_price: str | None


class AlpacaAccount(TypedDict, total=False):
    """The trading account (GET /v2/account); money fields are strings."""

    id: str
    account_number: str
    status: str
    currency: str
    cash: str
    equity: str
    buying_power: str
    last_equity: str
    last_maintenance_margin: str
    pattern_day_trader: bool


class AlpacaFillActivity(TypedDict, total=False):
    """A trade activity (GET /v2/account/activities/FILL). It names the order id, never the client order id."""

    id: str  # "<yyyymmddhhmmssmmm>::<uuid>", also the page token
    activity_type: str  # always "FILL"
    transaction_time: str
    type: str  # "fill" or "partial_fill"
    price: str
    qty: str
    side: str  # "buy", "sell" or "sell_short"
    symbol: str
    leaves_qty: str
    order_id: str
    cum_qty: str
    order_status: str


# -- enums ---------------------------------------------------------------------------------------------

ORDER_TYPES: Final[dict[str, OrderType]] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
}
TIMES_IN_FORCE: Final[dict[str, TimeInForce]] = {
    "day": TimeInForce.DAY,
    "gtc": TimeInForce.GTC,
    "ioc": TimeInForce.IOC,
    "fok": TimeInForce.FOK,
}
ORDER_SIDES: Final[dict[str, Side]] = {"buy": Side.BUY, "sell": Side.SELL}
FILL_SIDES: Final[dict[str, Side]] = {"buy": Side.BUY, "sell": Side.SELL, "sell_short": Side.SELL}
POSITION_SIGNS: Final[dict[str, int]] = {"long": 1, "short": -1}
FILL_TYPES: Final[frozenset[str]] = frozenset({"fill", "partial_fill"})

# Alpaca values the desk knows but cannot represent: say so plainly instead of calling them unknown.
UNREPRESENTABLE: Final[dict[str, str]] = {
    "trailing_stop": "trailing-stop orders",
    "opg": "market-on-open (opg) orders",
    "cls": "market-on-close (cls) orders",
    "mleg": "multi-leg option orders",
}

WORKING = None
"""In `ORDER_STATUSES`: still live, so ACCEPTED, or PARTIALLY_FILLED once something has filled."""

ORDER_STATUSES: Final[dict[str, tuple[OrderStatus | None, str | None]]] = {
    "pending_new": (OrderStatus.NEW, None),
    "pending_review": (OrderStatus.NEW, "under review at Alpaca"),
    "held": (OrderStatus.NEW, "held until its entry order fills"),
    "new": (OrderStatus.ACCEPTED, None),
    "accepted": (OrderStatus.ACCEPTED, None),
    "accepted_for_bidding": (OrderStatus.ACCEPTED, None),
    "partially_filled": (OrderStatus.PARTIALLY_FILLED, None),
    "filled": (OrderStatus.FILLED, None),
    "done_for_day": (WORKING, "done for the day at Alpaca; it trades again next session"),
    "pending_cancel": (WORKING, "cancel requested at Alpaca, not yet confirmed: it may still fill"),
    "pending_replace": (WORKING, "replace requested at Alpaca, not yet confirmed"),
    "stopped": (WORKING, "stopped at Alpaca: a fill is guaranteed but has not happened yet"),
    "suspended": (WORKING, "suspended by Alpaca: not eligible to trade until it is lifted"),
    "calculated": (WORKING, "done for the day at Alpaca; settlement calculations pending"),
    "canceled": (OrderStatus.CANCELED, None),
    "expired": (OrderStatus.EXPIRED, None),
    "rejected": (OrderStatus.REJECTED, None),
    "replaced": (OrderStatus.CANCELED, "replaced by order {replaced_by}"),
}

TO_ORDER_TYPE: Final[dict[OrderType, str]] = {ours: theirs for theirs, ours in ORDER_TYPES.items()}
TO_TIME_IN_FORCE: Final[dict[TimeInForce, str]] = {ours: theirs for theirs, ours in TIMES_IN_FORCE.items()}
TO_SIDE: Final[dict[Side, str]] = {Side.BUY: "buy", Side.SELL: "sell"}

FRACTIONAL_TIME_IN_FORCE: Final[frozenset[TimeInForce]] = frozenset({TimeInForce.DAY})
"""Alpaca takes fractional share quantities only on day orders, and never in a bracket."""


def unknown_value(kind: str, value: object, known: Mapping[str, object]) -> Operational:
    """The error for a vendor value the desk has no mapping for."""
    if isinstance(value, str) and value in UNREPRESENTABLE:
        return Operational(
            f"Alpaca reports one of its {UNREPRESENTABLE[value]}, which the desk cannot track",
            hint="Manage that order in Alpaca's dashboard (or cancel it there); the desk places only market, "
            "limit, stop and stop-limit orders with day, gtc, ioc or fok.",
        )
    return Operational(
        f"Alpaca sent the {kind} {value!r}, which the desk does not know (it knows {', '.join(known)})",
        hint="Alpaca may have added it; map it in marketdesk/trading/adapters/alpaca_schema.py rather than guess.",
    )


def _lookup(table: Mapping[str, Any], kind: str, value: object) -> Any:
    if not isinstance(value, str) or value not in table:
        raise unknown_value(kind, value, table)
    return table[value]


# -- scalars -------------------------------------------------------------------------------------------


def wire_decimal(value: Decimal) -> str:
    """A Decimal as Alpaca takes it: plain digits, never an exponent or a float ("0.5", "150.00")."""
    return format(value, "f")


def parse_decimal(raw: Mapping[str, Any], field: str) -> Decimal:
    """Read a required number field (Alpaca sends strings) as an exact Decimal."""
    value = raw.get(field)
    if value is None or value == "":
        raise ValueError(f"Alpaca left {field} empty")
    return to_decimal(value, field=field)


def parse_optional_decimal(raw: Mapping[str, Any], field: str) -> Decimal | None:
    """Read a number field that Alpaca may send as null."""
    value = raw.get(field)
    if value is None or value == "":
        return None
    return to_decimal(value, field=field)


def parse_time(raw: Mapping[str, Any], field: str) -> datetime:
    """Read an RFC 3339 field (nanoseconds allowed) as an aware UTC datetime."""
    value = raw.get(field)
    if not isinstance(value, str):
        raise ValueError(f"Alpaca sent {field}={value!r}, not a timestamp")
    return parse_utc(value)


def _text(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value:
        raise ValueError(f"Alpaca sent {field}={value!r}, not a non-empty string")
    return value


# -- Alpaca → desk ---------------------------------------------------------------------------------------


def map_order_status(
    status: object, *, filled_qty: Decimal, qty: Decimal, replaced_by: str | None = None
) -> tuple[OrderStatus, str | None]:
    """The desk status and reason for an Alpaca order status (see the module table)."""
    mapped, reason = _lookup(ORDER_STATUSES, "order status", status)
    if status == "calculated" and filled_qty >= qty:
        return OrderStatus.FILLED, None
    if mapped is WORKING:
        mapped = OrderStatus.PARTIALLY_FILLED if filled_qty > 0 else OrderStatus.ACCEPTED
    if reason is not None and "{replaced_by}" in reason:
        reason = reason.format(replaced_by=replaced_by or "unknown")
    return mapped, reason


HELD_BEHIND_PARTNER = "held at Alpaca while its OCO partner works at the exchange; it goes out when its price is hit"
"""The reason of a `held` exit whose entry has filled (or of an OCO): Alpaca routes one exit of a pair at a time."""


def parse_to_order(raw: Mapping[str, Any], *, parent: Mapping[str, Any] | None = None) -> BrokerOrder:
    """Map an Alpaca order (and its nested legs) to a `BrokerOrder`; `parent` is the order a leg is nested in."""
    order_class = raw.get("order_class") or "simple"
    if order_class not in {"simple", "bracket", "oco", "oto"}:
        raise unknown_value("order class", order_class, {"simple": 0, "bracket": 0, "oco": 0, "oto": 0})
    if raw.get("qty") in (None, ""):
        raise Operational(
            f"Alpaca order {raw.get('id')} was placed by dollar amount (notional), so its share quantity is "
            "unknown until it fills",
            hint="The desk places orders by quantity; manage notional orders in Alpaca's dashboard.",
        )
    qty = parse_decimal(raw, "qty")
    filled_qty = parse_optional_decimal(raw, "filled_qty") or Decimal(0)
    status, reason = map_order_status(
        raw.get("status"), filled_qty=filled_qty, qty=qty, replaced_by=raw.get("replaced_by")
    )
    if raw.get("status") == "held" and parent is not None:
        entry_filled = (parse_optional_decimal(parent, "filled_qty") or Decimal(0)) > 0
        if entry_filled or parent.get("order_class") == "oco":
            reason = HELD_BEHIND_PARTNER
    average = parse_optional_decimal(raw, "filled_avg_price")
    created = parse_time(raw, "created_at")
    return BrokerOrder(
        client_order_id=_text(raw, "client_order_id"),
        broker_order_id=_text(raw, "id"),
        symbol=_text(raw, "symbol"),
        side=_lookup(ORDER_SIDES, "order side", raw.get("side")),
        qty=qty,
        order_type=_lookup(ORDER_TYPES, "order type", raw.get("type") or raw.get("order_type")),
        time_in_force=_lookup(TIMES_IN_FORCE, "time in force", raw.get("time_in_force")),
        status=status,
        # A held bracket leg may not be submitted yet; it exists from its creation.
        submitted_at=parse_time(raw, "submitted_at") if raw.get("submitted_at") else created,
        updated_at=parse_time(raw, "updated_at") if raw.get("updated_at") else created,
        limit_price=parse_optional_decimal(raw, "limit_price"),
        stop_price=parse_optional_decimal(raw, "stop_price"),
        filled_qty=filled_qty,
        # Alpaca may send "0" before anything fills; a price of zero is no price.
        average_fill_price=average if filled_qty > 0 and average is not None and average > 0 else None,
        reason=reason,
        legs=tuple(parse_to_order(leg, parent=raw) for leg in raw.get("legs") or ()),
    )


def parse_to_fill(activity: Mapping[str, Any], client_order_id: str) -> BrokerFill:
    """Map a FILL activity to a `BrokerFill`; `client_order_id` comes from the order it names.

    Alpaca charges no commission on US equities (regulatory fees arrive as separate FEE activities), so
    `commission` is zero.
    """
    if activity.get("activity_type") != "FILL":
        raise unknown_value("activity type", activity.get("activity_type"), {"FILL": 0})
    _lookup(dict.fromkeys(FILL_TYPES), "fill type", activity.get("type"))
    return BrokerFill(
        fill_id=_text(activity, "id"),
        broker_order_id=_text(activity, "order_id"),
        client_order_id=client_order_id,
        symbol=_text(activity, "symbol"),
        side=_lookup(FILL_SIDES, "fill side", activity.get("side")),
        qty=parse_decimal(activity, "qty"),
        price=parse_decimal(activity, "price"),
        commission=Decimal(0),
        time=parse_time(activity, "transaction_time"),
    )


def parse_to_position(raw: Mapping[str, Any]) -> BrokerPosition:
    """Map a position: the sign of the quantity follows `side`, whichever sign Alpaca puts on `qty`."""
    sign = _lookup(POSITION_SIGNS, "position side", raw.get("side"))
    return BrokerPosition(
        symbol=_text(raw, "symbol"),
        qty=abs(parse_decimal(raw, "qty")) * sign,
        average_price=parse_decimal(raw, "avg_entry_price"),
        market_price=parse_optional_decimal(raw, "current_price"),
    )


ACCOUNT_EXTRA: Final[tuple[str, ...]] = (
    "account_number",
    "status",
    "pattern_day_trader",
    "daytrade_count",
    "multiplier",
    "shorting_enabled",
    "trading_blocked",
    "account_blocked",
    "trade_suspended_by_user",
    "daytrading_buying_power",
    "regt_buying_power",
    "non_marginable_buying_power",
    "initial_margin",
    "maintenance_margin",
    "long_market_value",
    "short_market_value",
    "sma",
    "balance_asof",
)
"""Account fields kept as text in `BrokerAccount.extra` (booleans as "true"/"false")."""


def _extra_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_to_account(raw: Mapping[str, Any]) -> BrokerAccount:
    """Map the account; `last_equity` and `last_maintenance_margin` are the previous close's."""
    return BrokerAccount(
        account_id=_text(raw, "id"),
        cash=parse_decimal(raw, "cash"),
        equity=parse_decimal(raw, "equity"),
        buying_power=parse_decimal(raw, "buying_power"),
        last_equity=parse_decimal(raw, "last_equity"),
        last_maintenance_margin=parse_optional_decimal(raw, "last_maintenance_margin") or Decimal(0),
        currency=raw.get("currency") or "USD",
        extra={field: _extra_text(raw[field]) for field in ACCOUNT_EXTRA if raw.get(field) is not None},
    )


# -- desk → Alpaca ---------------------------------------------------------------------------------------


def is_fractional(qty: Decimal) -> bool:
    return qty != qty.to_integral_value()


def check_submittable(order: SubmitOrder) -> None:
    """Refuse, before sending, what Alpaca would refuse for certain (`Rejected` says what to change)."""
    if not is_fractional(order.qty):
        return
    if order.time_in_force not in FRACTIONAL_TIME_IN_FORCE:
        raise Rejected(
            f"order {order.client_order_id}: Alpaca takes a fractional quantity ({wire_decimal(order.qty)}) "
            f"only on day orders, not {order.time_in_force.value}",
            hint="Use a whole number of shares, or time in force day.",
        )
    if order.bracket is not None:
        what = "an OCO" if order.order_class is OrderClass.OCO else "a bracket"
        raise Rejected(
            f"order {order.client_order_id}: Alpaca does not take a fractional quantity "
            f"({wire_decimal(order.qty)}) on {what} order",
            hint=f"Use a whole number of shares for {what}.",
        )


def to_order_body(order: SubmitOrder) -> dict[str, Any]:
    """The JSON body of POST /v2/orders for `order`: numbers as decimal strings, the client order id kept.

    A bracket with both exits is Alpaca's `bracket` class; with one exit it is `oto` (one triggers other). An
    OCO is Alpaca's `oco` class: a limit order whose exit prices travel as `take_profit.limit_price` and
    `stop_loss.stop_price` (Alpaca answers with the take-profit order, the stop-loss nested in its `legs`).
    """
    check_submittable(order)
    body: dict[str, Any] = {
        "symbol": order.symbol,
        "qty": wire_decimal(order.qty),
        "side": TO_SIDE[order.side],
        "type": TO_ORDER_TYPE[order.order_type],
        "time_in_force": TO_TIME_IN_FORCE[order.time_in_force],
        "client_order_id": order.client_order_id,
    }
    if order.limit_price is not None:
        body["limit_price"] = wire_decimal(order.limit_price)
    if order.stop_price is not None:
        body["stop_price"] = wire_decimal(order.stop_price)
    if order.extended_hours:
        body["extended_hours"] = True
    bracket = order.bracket
    if bracket is not None:
        both = bracket.take_profit is not None and bracket.stop_loss is not None
        body["order_class"] = "bracket" if both else "oto"
        if order.order_class is OrderClass.OCO:
            body["order_class"] = "oco"
            del body["limit_price"]  # an OCO's limit is its take-profit, sent as take_profit.limit_price
        if bracket.take_profit is not None:
            body["take_profit"] = {"limit_price": wire_decimal(bracket.take_profit)}
        if bracket.stop_loss is not None:
            body["stop_loss"] = {"stop_price": wire_decimal(bracket.stop_loss)}
    return body


def to_replace_body(
    *, qty: Decimal | None = None, limit_price: Decimal | None = None, stop_price: Decimal | None = None
) -> dict[str, str]:
    """The JSON body of PATCH /v2/orders/{id}: only what changes."""
    changes = {"qty": qty, "limit_price": limit_price, "stop_price": stop_price}
    body = {field: wire_decimal(value) for field, value in changes.items() if value is not None}
    if not body:
        raise Rejected("a replace must change the quantity, the limit price or the stop price")
    for field, value in changes.items():
        if value is not None and value <= 0:
            raise Rejected(f"the new {field.replace('_', ' ')} must be positive, got {value}")
    return body
