"""What an account did and wants to do, as the compliance and risk engines see it: executions (fills) and order
intents. Plain frozen values with Decimal quantities and prices; times are aware UTC."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from marketdesk.kit.timeutil import NEW_YORK, ensure_utc


class SessionCalendar(Protocol):
    """The exchange sessions the engines count in (XNYS: `marketdesk.marketdata.calendar.ExchangeCalendar`)."""

    def is_session(self, day: date) -> bool: ...

    def previous_session(self, day: date) -> date: ...

    def next_session(self, day: date) -> date: ...


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill: `qty` units of `symbol` bought or sold at `price` at `time`."""

    time: datetime
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", ensure_utc(self.time))
        if self.qty <= 0:
            raise ValueError(f"{self.symbol}: an execution's quantity must be positive, got {self.qty}")
        if self.price <= 0:
            raise ValueError(f"{self.symbol}: an execution's price must be positive, got {self.price}")

    @property
    def trade_date(self) -> date:
        """The exchange (New York) date the execution belongs to."""
        return trade_date(self.time)

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order that is proposed or still working: side, quantity and, where known, its price."""

    symbol: str
    side: Side
    qty: Decimal
    price: Decimal | None = None

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"{self.symbol}: an order's quantity must be positive, got {self.qty}")
        if self.price is not None and self.price <= 0:
            raise ValueError(f"{self.symbol}: an order's price must be positive, got {self.price}")

    def describe(self) -> str:
        price = "" if self.price is None else f" @ {self.price}"
        return f"{self.side.value.upper()} {self.qty.normalize():f} {self.symbol}{price}"


def trade_date(instant: datetime) -> date:
    """The New York date of an instant: the day a trade counts for."""
    return ensure_utc(instant).astimezone(NEW_YORK).date()


def positions_after(
    executions: Iterable[Execution], opening: Mapping[str, Decimal] | None = None
) -> dict[str, Decimal]:
    """Signed quantities per symbol after `executions` (long positive, short negative), from `opening`."""
    positions = dict(opening or {})
    for execution in executions:
        positions[execution.symbol] = positions.get(execution.symbol, Decimal(0)) + execution.side.sign * execution.qty
    return {symbol: qty for symbol, qty in positions.items() if qty != 0}


def last_prices(executions: Iterable[Execution]) -> dict[str, Decimal]:
    """The last execution price of each symbol."""
    prices: dict[str, Decimal] = {}
    for execution in executions:
        prices[execution.symbol] = execution.price
    return prices
