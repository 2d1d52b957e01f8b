"""Round trips from fills: FIFO matching with partial closes and shorts. Pure and Decimal.

A round trip is the life of what one opening order opened: it starts with the order's first fill that opens (or
adds to) a position, and it is closed when every unit it opened has been closed by later opposite fills, oldest
units first (FIFO). So

- a buy of 100 closed by sells of 40 and 60 is one round trip (a partial close, then the rest);
- a second buy while the first is still held (a scale-in) is a round trip of its own, with its own order's tag;
- a sell of 150 while 100 are held closes the 100 and opens a short round trip of 50 (a flip);
- a short is the same with the sides swapped: P&L = (entry − exit) × qty.

Commissions: an opening fill's commission goes to the round trip it opens; a closing fill's commission is shared
among the round trips it closes (and the one it opens, on a flip) in proportion to quantity, each share rounded
to 1e-8 and the last taking the rest, so the shares add up exactly. A round trip's `pnl` is its gross P&L on the
units closed so far minus every commission given to it, so the sum of `pnl` over all round trips equals the FIFO
realized P&L of the fills after all commissions (`marketdesk.trading.positions.Position.realized_pnl_fifo`).

The id of a round trip is its opening order's id; should the same order open again after its first round trip
closed (two working orders filling in turn), the next one is `ORDER_ID~2`, and so on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

ZERO = Decimal(0)
SHARE_STEP = Decimal("0.00000001")
AVERAGE_STEP = Decimal("0.000001")


class TradeSide(StrEnum):
    LONG = "long"
    SHORT = "short"


@dataclass(frozen=True, slots=True)
class TradeFill:
    """One execution, as the matcher needs it. `side` is buy or sell; `tag` is the order's strategy/signal tag."""

    fill_id: str
    order_id: str
    account_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    commission: Decimal
    time: datetime
    tag: str | None = None

    @property
    def sign(self) -> int:
        return 1 if self.side == "buy" else -1


@dataclass(frozen=True, slots=True)
class RoundTrip:
    id: str
    account_id: str
    symbol: str
    side: TradeSide
    tag: str | None
    entry_order_id: str
    exit_order_ids: tuple[str, ...]
    opened_at: datetime
    closed_at: datetime | None  # the last closing fill's time, once nothing is left open
    last_exit_at: datetime | None
    qty: Decimal  # opened
    closed_qty: Decimal
    entry_price: Decimal  # average, rounded to 1e-6
    exit_price: Decimal | None  # average of the closing fills, rounded to 1e-6
    entry_value: Decimal  # Σ entry price × qty opened
    closed_cost: Decimal  # Σ entry price × qty closed
    gross_pnl: Decimal  # on the units closed so far
    commission: Decimal
    pnl: Decimal  # gross − commission (realized so far)
    fills: int

    @property
    def open_qty(self) -> Decimal:
        return self.qty - self.closed_qty

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def status(self) -> str:
        return "closed" if self.is_closed else "open"

    @property
    def return_pct(self) -> float | None:
        """P&L as a percent of the entry value of the units closed; None before any unit closes."""
        if self.closed_cost == 0:
            return None
        return float(self.pnl / self.closed_cost * 100)

    @property
    def holding_days(self) -> float | None:
        if self.closed_at is None:
            return None
        return (self.closed_at - self.opened_at).total_seconds() / 86400


@dataclass(slots=True)
class _Building:
    id: str
    fill: TradeFill
    direction: int
    qty: Decimal = ZERO
    closed_qty: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_value: Decimal = ZERO
    closed_cost: Decimal = ZERO
    gross: Decimal = ZERO
    commission: Decimal = ZERO
    fills: set[str] = field(default_factory=set)
    exits: list[str] = field(default_factory=list)
    last_exit_at: datetime | None = None

    def freeze(self) -> RoundTrip:
        closed = self.closed_qty == self.qty
        return RoundTrip(
            id=self.id, account_id=self.fill.account_id, symbol=self.fill.symbol,
            side=TradeSide.LONG if self.direction > 0 else TradeSide.SHORT, tag=self.fill.tag,
            entry_order_id=self.fill.order_id, exit_order_ids=tuple(self.exits), opened_at=self.fill.time,
            closed_at=self.last_exit_at if closed else None, last_exit_at=self.last_exit_at, qty=self.qty,
            closed_qty=self.closed_qty, entry_price=_average(self.entry_value, self.qty) or ZERO,
            exit_price=_average(self.exit_value, self.closed_qty), entry_value=self.entry_value,
            closed_cost=self.closed_cost, gross_pnl=self.gross, commission=self.commission,
            pnl=self.gross - self.commission, fills=len(self.fills),
        )  # fmt: skip


@dataclass(slots=True)
class _Lot:
    trip: _Building
    qty: Decimal
    price: Decimal


def match_round_trips(fills: Iterable[TradeFill]) -> list[RoundTrip]:
    """Round trips of `fills` (any accounts and symbols), oldest opened first.

    Fills are taken in time order (ties in the order given); each account and symbol is matched on its own.
    """
    ordered = sorted(enumerate(fills), key=lambda pair: (pair[1].time, pair[0]))
    queues: dict[tuple[str, str], list[_Lot]] = {}
    trips: list[_Building] = []
    opened_by: dict[tuple[str, str], list[_Building]] = {}  # (account, order) → its round trips
    for _, fill in ordered:
        if fill.qty <= 0:
            raise ValueError(f"fill {fill.fill_id}: quantity must be positive, got {fill.qty}")
        queue = queues.setdefault((fill.account_id, fill.symbol), [])
        pieces: list[tuple[_Building, Decimal]] = []
        left = fill.qty
        while left > 0 and queue and (queue[0].trip.direction > 0) != (fill.sign > 0):
            lot = queue[0]
            take = min(left, lot.qty)
            trip = lot.trip
            trip.closed_qty += take
            trip.closed_cost += lot.price * take
            trip.exit_value += fill.price * take
            trip.gross += (fill.price - lot.price) * take * trip.direction
            trip.fills.add(fill.fill_id)
            trip.last_exit_at = fill.time
            if fill.order_id not in trip.exits:
                trip.exits.append(fill.order_id)
            lot.qty -= take
            left -= take
            if lot.qty == 0:
                queue.pop(0)
            pieces.append((trip, take))
        if left > 0:
            trip = _opening_trip(fill, opened_by, trips)
            trip.qty += left
            trip.entry_value += fill.price * left
            trip.fills.add(fill.fill_id)
            queue.append(_Lot(trip, left, fill.price))
            pieces.append((trip, left))
        _share_commission(fill, pieces)
    return [t.freeze() for t in trips]


def _opening_trip(
    fill: TradeFill, opened_by: dict[tuple[str, str], list[_Building]], trips: list[_Building]
) -> _Building:
    """The round trip this order is still building (a later fill of the same order adds to it), else a new one."""
    key = (fill.account_id, fill.order_id)
    mine = opened_by.setdefault(key, [])
    if mine and mine[-1].closed_qty < mine[-1].qty and mine[-1].fill.symbol == fill.symbol:
        return mine[-1]
    trip = _Building(fill.order_id if not mine else f"{fill.order_id}~{len(mine) + 1}", fill, fill.sign)
    mine.append(trip)
    trips.append(trip)
    return trip


def _share_commission(fill: TradeFill, pieces: Sequence[tuple[_Building, Decimal]]) -> None:
    given = ZERO
    for index, (trip, qty) in enumerate(pieces):
        if index == len(pieces) - 1:
            share = fill.commission - given
        else:
            share = (fill.commission * qty / fill.qty).quantize(SHARE_STEP, rounding=ROUND_HALF_EVEN)
        given += share
        trip.commission += share


def _average(value: Decimal, qty: Decimal) -> Decimal | None:
    if qty == 0:
        return None
    return (value / qty).quantize(AVERAGE_STEP, rounding=ROUND_HALF_EVEN)
