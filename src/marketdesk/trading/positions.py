"""Positions from fills: signed quantity, average cost, FIFO lots, realized and unrealized P&L. Pure and Decimal.

Average cost moves only when a fill adds to a position; a fill that reduces it realizes (price − average) × qty
(reversed for shorts); a fill that flips it closes the old side and opens the new one at the fill price.
FIFO lots are kept alongside for the tax view: realized P&L by FIFO can differ from average cost, so both are
reported. Commissions are realized costs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from marketdesk.trading.activity import Side

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Lot:
    """Units opened together: signed quantity still open, price and when."""

    qty: Decimal
    price: Decimal
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    qty: Decimal = ZERO
    average_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO  # average-cost basis, after commissions
    realized_pnl_fifo: Decimal = ZERO
    lots: tuple[Lot, ...] = field(default_factory=tuple)

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        return (mark - self.average_price) * self.qty

    def market_value(self, mark: Decimal) -> Decimal:
        return self.qty * mark

    def apply(self, side: Side, qty: Decimal, price: Decimal, commission: Decimal, at: datetime) -> Position:
        """This position after a fill."""
        signed = side.sign * qty
        realized = -commission
        average = self.average_price
        if self.qty == 0 or (self.qty > 0) == (signed > 0):  # opening or adding
            new_qty = self.qty + signed
            average = (self.average_price * abs(self.qty) + price * qty) / abs(new_qty)
        else:  # reducing, closing or flipping
            closing = min(qty, abs(self.qty))
            direction = 1 if self.qty > 0 else -1
            realized += (price - self.average_price) * closing * direction
            new_qty = self.qty + signed
            if new_qty == 0:
                average = ZERO
            elif (new_qty > 0) != (self.qty > 0):  # flipped: the rest opens at the fill price
                average = price
        lots, fifo = _fifo(self.lots, signed, price, at)
        return replace(
            self,
            qty=new_qty,
            average_price=average,
            realized_pnl=self.realized_pnl + realized,
            realized_pnl_fifo=self.realized_pnl_fifo + fifo - commission,
            lots=lots,
        )


def _fifo(lots: tuple[Lot, ...], signed: Decimal, price: Decimal, at: datetime) -> tuple[tuple[Lot, ...], Decimal]:
    """Close the oldest opposite lots first; open a new lot with what is left. Returns (lots, realized)."""
    remaining = list(lots)
    realized = ZERO
    left = signed
    while left != 0 and remaining and (remaining[0].qty > 0) != (left > 0):
        lot = remaining[0]
        closing = min(abs(left), abs(lot.qty))
        direction = 1 if lot.qty > 0 else -1
        realized += (price - lot.price) * closing * direction
        rest = lot.qty - direction * closing
        left += direction * closing
        if rest == 0:
            remaining.pop(0)
        else:
            remaining[0] = replace(lot, qty=rest)
    if left != 0:
        remaining.append(Lot(left, price, at))
    return tuple(remaining), realized


def replay(symbol: str, fills: Iterable[tuple[Side, Decimal, Decimal, Decimal, datetime]]) -> Position:
    """A position rebuilt from (side, qty, price, commission, time) fills in order."""
    position = Position(symbol)
    for side, qty, price, commission, at in fills:
        position = position.apply(side, qty, price, commission, at)
    return position
