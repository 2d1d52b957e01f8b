"""Intraday margin (the rule in force since 2026-06-04, SR-FINRA-2025-017, replacing the pattern-day-trader
rule).

The **maintenance requirement** is a share of each position's market value: 25% of a long and 30% of a short by
default, overridable per symbol. An account has an **intraday margin deficit** when the requirement on what it
holds at that moment exceeds its equity.

A trade that **increases exposure** (a buy other than a short cover, or a short sale) is denied when it would
create or increase a deficit. A trade that reduces exposure always passes. A broker may also cap the exposure a
day can add at a multiple of the previous close's excess equity (equity − requirement).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from marketdesk.trading.activity import Execution, OrderIntent, Side

LONG_RATE = Decimal("0.25")
SHORT_RATE = Decimal("0.30")


@dataclass(frozen=True, slots=True)
class MarginRates:
    """Maintenance requirement as a share of market value; `per_symbol` maps a symbol to (long, short)."""

    long: Decimal = LONG_RATE
    short: Decimal = SHORT_RATE
    per_symbol: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, rate in [("long", self.long), ("short", self.short)] + [
            (f"{s} {k}", r) for s, pair in self.per_symbol.items() for k, r in zip(("long", "short"), pair, strict=True)
        ]:
            if not Decimal(0) <= rate <= Decimal(1):
                raise ValueError(f"the {name} maintenance rate must be between 0 and 1 (e.g. 0.25), got {rate}")

    def rate(self, symbol: str, qty: Decimal) -> Decimal:
        long_rate, short_rate = self.per_symbol.get(symbol, (self.long, self.short))
        return long_rate if qty > 0 else short_rate


def requirement(positions: Mapping[str, Decimal], prices: Mapping[str, Decimal], rates: MarginRates) -> Decimal:
    """The maintenance requirement on `positions` (signed quantities) at `prices`."""
    total = Decimal(0)
    for symbol, qty in positions.items():
        if qty == 0:
            continue
        if symbol not in prices:
            raise KeyError(symbol)
        total += abs(qty) * prices[symbol] * rates.rate(symbol, qty)
    return total


def exposure_increase(held: Decimal, order: OrderIntent) -> Decimal:
    """The part of `order` that adds exposure: beyond a short cover for a buy, beyond the long for a sale."""
    if order.side is Side.BUY:
        return order.qty - min(order.qty, max(-held, Decimal(0)))
    return order.qty - min(order.qty, max(held, Decimal(0)))


def added_today(executions: Iterable[Execution], day: date, opening: Mapping[str, Decimal]) -> Decimal:
    """The notional of exposure-increasing executions on `day` (what a broker-style cap counts)."""
    positions = dict(opening)
    added = Decimal(0)
    for execution in sorted(executions, key=lambda e: e.time):
        held = positions.get(execution.symbol, Decimal(0))
        if execution.trade_date == day:
            intent = OrderIntent(execution.symbol, execution.side, execution.qty, execution.price)
            added += exposure_increase(held, intent) * execution.price
        positions[execution.symbol] = held + execution.side.sign * execution.qty
    return added


@dataclass(frozen=True, slots=True)
class MarginStatus:
    """The account's margin position right now."""

    requirement: Decimal
    equity: Decimal
    headroom: Decimal  # equity − requirement; negative is a deficit
    deficit: Decimal
    cap: Decimal | None  # exposure a day may add (multiple × previous close excess equity)
    added_today: Decimal


@dataclass(frozen=True, slots=True)
class MarginCheck:
    allowed: bool
    reason: str
    status: MarginStatus
    requirement_after: Decimal


def check(
    order: OrderIntent,
    positions: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    equity: Decimal,
    rates: MarginRates,
    *,
    cap_multiple: Decimal | None = None,
    previous_close_excess: Decimal | None = None,
    added_today_notional: Decimal = Decimal(0),
) -> MarginCheck:
    """Judge `order` under intraday margin. `prices` must hold every position's mark and the order's price."""
    price = order.price if order.price is not None else prices[order.symbol]
    marks = {**prices, order.symbol: price}
    before = requirement(positions, marks, rates)
    cap = None
    if cap_multiple is not None and previous_close_excess is not None:
        cap = cap_multiple * max(previous_close_excess, Decimal(0))
    now = MarginStatus(
        requirement=before,
        equity=equity,
        headroom=equity - before,
        deficit=max(before - equity, Decimal(0)),
        cap=cap,
        added_today=added_today_notional,
    )
    held = positions.get(order.symbol, Decimal(0))
    after_positions = {**positions, order.symbol: held + order.side.sign * order.qty}
    after = requirement(after_positions, marks, rates)
    increase = exposure_increase(held, order)
    if increase == 0:
        return MarginCheck(True, f"allowed: {order.describe()} reduces exposure", now, after)
    deficit_after = max(after - equity, Decimal(0))
    if deficit_after > 0 and deficit_after > now.deficit:
        verb = "increase" if now.deficit > 0 else "create"
        return MarginCheck(
            False,
            f"{order.describe()} would {verb} an intraday margin deficit: the maintenance requirement would be "
            f"${after:,.2f} against equity of ${equity:,.2f} (a deficit of ${deficit_after:,.2f}); "
            f"at most ${max(now.headroom, Decimal(0)):,.2f} of requirement is free",
            now,
            after,
        )
    if cap is not None:
        adding = increase * price
        if added_today_notional + adding > cap:
            return MarginCheck(
                False,
                f"{order.describe()} would add ${adding:,.2f} of exposure; today's cap of ${cap:,.2f} "
                f"({cap_multiple} × the last close's excess equity) has ${max(cap - added_today_notional, Decimal(0)):,.2f} left",
                now,
                after,
            )
    return MarginCheck(
        True,
        f"allowed: after {order.describe()} the requirement is ${after:,.2f} against equity of ${equity:,.2f} "
        f"(headroom ${equity - after:,.2f})",
        now,
        after,
    )
