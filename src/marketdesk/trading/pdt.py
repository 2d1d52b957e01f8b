"""The legacy pattern-day-trader rule (FINRA 4210(f)(8)(B), in force until 2026-06-04 and still applied by
firms phasing in its replacement, and to history).

**A day trade** is buying and selling (or selling short and buying back) the same security on the same trade
date. How they are counted, per symbol and day, in execution order:

- a sale first reduces what was bought that day, then the position held overnight, and anything beyond goes
  short; a purchase first covers what was sold short that day, then the overnight short, and the rest is long;
- an execution that reduces something opened *that day* closes a day trade; one that only reduces an overnight
  position does not (selling yesterday's shares, then buying again, is not a day trade);
- a run of closing executions after an opening run is **one** day trade: buy, buy, sell counts 1, and
  buy, sell, buy, sell counts 2 (FINRA's own examples); so do partial fills of one order.

**A pattern day trader** has 4 or more day trades in 5 business days (XNYS sessions: holidays do not count),
and those are more than 6% of the account's trades in the window.

**The check:** with previous-close equity under $25,000, an order that could create the 4th day trade in the
window is denied. Working orders count as possible pairs: the order is judged as if it and every working
order filled, in the order that makes the most day trades. At $25,000 or more the count does not block; a
pattern day trader's opening orders must then fit the day-trading buying power, 4 × (last equity − last
maintenance margin), less what is already opened that day.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from marketdesk.trading.activity import Execution, OrderIntent, SessionCalendar, Side, trade_date

WINDOW_SESSIONS = 5
DAY_TRADES_ALLOWED = 3  # the 4th in the window makes a pattern day trader
PDT_MIN_EQUITY = Decimal(25000)
PDT_TRADE_SHARE = Decimal("0.06")
DTBP_MULTIPLE = 4
MAX_EXACT_ORDERINGS = 7  # beyond this many working orders on one symbol, each counts as a possible day trade


@dataclass(frozen=True, slots=True)
class DayTrade:
    """One day trade: the symbol, its trade date and the execution that closed it."""

    symbol: str
    day: date
    closed_at: datetime


@dataclass
class _SymbolDay:
    """One symbol's state through one trade date: what is held overnight and what was opened that day."""

    overnight: Decimal  # signed position at the start of the day
    long_today: Decimal = Decimal(0)
    short_today: Decimal = Decimal(0)
    closing_run: Side | None = None  # the side of the closing run in progress, if the last execution closed

    def apply(self, side: Side, qty: Decimal) -> bool:
        """Apply an execution; True when it starts a new day trade."""
        closes = Decimal(0)
        if side is Side.SELL:
            closes = min(qty, self.long_today)
            self.long_today -= closes
            rest = qty - closes
            from_overnight = min(rest, max(self.overnight, Decimal(0)))
            self.overnight -= from_overnight
            self.short_today += rest - from_overnight
        else:
            closes = min(qty, self.short_today)
            self.short_today -= closes
            rest = qty - closes
            from_overnight = min(rest, max(-self.overnight, Decimal(0)))
            self.overnight += from_overnight
            self.long_today += rest - from_overnight
        if closes > 0:
            new = self.closing_run is not side
            self.closing_run = side
            return new
        self.closing_run = None
        return False

    def copy(self) -> _SymbolDay:
        return _SymbolDay(self.overnight, self.long_today, self.short_today, self.closing_run)


@dataclass
class DayTradeBook:
    """Day trades found in an account's executions, with the state of the last trade date kept so that
    hypothetical orders can be judged against it."""

    day_trades: list[DayTrade] = field(default_factory=list)
    trades_per_day: dict[date, int] = field(default_factory=dict)
    last_day: date | None = None
    today: dict[str, _SymbolDay] = field(default_factory=dict)
    positions: dict[str, Decimal] = field(default_factory=dict)
    opened_notional_today: Decimal = Decimal(0)

    @classmethod
    def of(cls, executions: Sequence[Execution], opening: Mapping[str, Decimal] | None = None) -> DayTradeBook:
        book = cls(positions=dict(opening or {}))
        for execution in sorted(executions, key=lambda e: e.time):
            book.add(execution)
        return book

    def _roll_to(self, day: date) -> None:
        if day != self.last_day:
            self.last_day = day
            self.today = {}
            self.opened_notional_today = Decimal(0)

    def state(self, symbol: str, day: date) -> _SymbolDay:
        self._roll_to(day)
        if symbol not in self.today:
            self.today[symbol] = _SymbolDay(self.positions.get(symbol, Decimal(0)))
        return self.today[symbol]

    def add(self, execution: Execution) -> None:
        day = execution.trade_date
        state = self.state(execution.symbol, day)
        before = state.long_today + state.short_today
        if state.apply(execution.side, execution.qty):
            self.day_trades.append(DayTrade(execution.symbol, day, execution.time))
        opened = state.long_today + state.short_today - before
        if opened > 0:
            self.opened_notional_today += opened * execution.price
        self.trades_per_day[day] = self.trades_per_day.get(day, 0) + 1
        self.positions[execution.symbol] = (
            self.positions.get(execution.symbol, Decimal(0)) + execution.side.sign * execution.qty
        )

    def possible_day_trades(self, orders: Sequence[OrderIntent], day: date) -> int:
        """The most day trades `orders` could still make on `day` if they all filled, in the worst order."""
        total = 0
        by_symbol: dict[str, list[OrderIntent]] = {}
        for order in orders:
            by_symbol.setdefault(order.symbol, []).append(order)
        for symbol, group in by_symbol.items():
            state = (
                self.state(symbol, day) if day == self.last_day else _SymbolDay(self.positions.get(symbol, Decimal(0)))
            )
            total += _most_day_trades(state, group)
        return total


def _most_day_trades(state: _SymbolDay, orders: Sequence[OrderIntent]) -> int:
    if len(orders) > MAX_EXACT_ORDERINGS:
        return len(orders)  # too many to try every order: count each as a possible day trade (the safe side)
    best = 0
    for ordering in set(itertools.permutations(range(len(orders)))):
        trial = state.copy()
        made = sum(trial.apply(orders[i].side, orders[i].qty) for i in ordering)
        best = max(best, made)
    return best


def window(day: date, calendar: SessionCalendar) -> list[date]:
    """The 5 business days that end on `day` (or on the last session before it), oldest first."""
    last = day if calendar.is_session(day) else calendar.previous_session(day)
    sessions = [last]
    while len(sessions) < WINDOW_SESSIONS:
        sessions.append(calendar.previous_session(sessions[-1]))
    return sessions[::-1]


def drop_off(day: date, calendar: SessionCalendar) -> date:
    """The first session on which a day trade made on `day` no longer counts."""
    for _ in range(WINDOW_SESSIONS):
        day = calendar.next_session(day)
    return day


@dataclass(frozen=True, slots=True)
class PdtStatus:
    """Where the account stands under the legacy rule on one trade date."""

    day_trades_used: int
    day_trades_remaining: int
    trades_in_window: int
    pattern_day_trader: bool
    window_start: date
    window_end: date
    next_drop_off: date | None  # when the oldest day trade in the window stops counting
    previous_close_equity: Decimal
    equity_exempt: bool  # $25,000 or more at the previous close
    day_trading_buying_power: Decimal | None  # for a pattern day trader at or above $25,000


def status(
    book: DayTradeBook,
    day: date,
    calendar: SessionCalendar,
    *,
    previous_close_equity: Decimal,
    previous_close_maintenance: Decimal = Decimal(0),
) -> PdtStatus:
    sessions = window(day, calendar)
    in_window = [t for t in book.day_trades if sessions[0] <= t.day <= sessions[-1]]
    trades = sum(n for d, n in book.trades_per_day.items() if sessions[0] <= d <= sessions[-1])
    used = len(in_window)
    flagged = used > DAY_TRADES_ALLOWED and trades > 0 and Decimal(used) / Decimal(trades) > PDT_TRADE_SHARE
    exempt = previous_close_equity >= PDT_MIN_EQUITY
    dtbp = None
    if flagged and exempt:
        dtbp = DTBP_MULTIPLE * max(previous_close_equity - previous_close_maintenance, Decimal(0))
    return PdtStatus(
        day_trades_used=used,
        day_trades_remaining=max(DAY_TRADES_ALLOWED - used, 0),
        trades_in_window=trades,
        pattern_day_trader=flagged,
        window_start=sessions[0],
        window_end=sessions[-1],
        next_drop_off=drop_off(min(t.day for t in in_window), calendar) if in_window else None,
        previous_close_equity=previous_close_equity,
        equity_exempt=exempt,
        day_trading_buying_power=dtbp,
    )


@dataclass(frozen=True, slots=True)
class PdtCheck:
    allowed: bool
    reason: str
    status: PdtStatus
    possible_day_trades: int  # what this order could add, working orders counted as pairs


def check(
    book: DayTradeBook,
    order: OrderIntent,
    at: datetime,
    calendar: SessionCalendar,
    *,
    pending: Sequence[OrderIntent] = (),
    previous_close_equity: Decimal,
    previous_close_maintenance: Decimal = Decimal(0),
) -> PdtCheck:
    """Judge `order` at `at` under the legacy rule."""
    day = trade_date(at)
    now = status(
        book, day, calendar,
        previous_close_equity=previous_close_equity, previous_close_maintenance=previous_close_maintenance,
    )  # fmt: skip
    without = book.possible_day_trades(pending, day)
    added = book.possible_day_trades([*pending, order], day) - without
    could_reach = now.day_trades_used + without + added
    if now.equity_exempt:
        if now.day_trading_buying_power is not None and order.price is not None:
            opening = _opening_qty(book, order, day) * order.price
            room = now.day_trading_buying_power - book.opened_notional_today
            if opening > room:
                return PdtCheck(
                    False,
                    f"{order.describe()} would open ${opening:,.2f} today; your day-trading buying power has "
                    f"${max(room, Decimal(0)):,.2f} left (4 × (equity − maintenance margin) at the last close)",
                    now,
                    added,
                )
        return PdtCheck(
            True,
            f"allowed: previous-close equity ${previous_close_equity:,.2f} is at or above $25,000, so the "
            f"day-trade count ({now.day_trades_used} in 5 business days) does not limit you",
            now,
            added,
        )
    if added > 0 and could_reach > DAY_TRADES_ALLOWED:
        pending_note = f", {without} more possible from your working orders" if without else ""
        return PdtCheck(
            False,
            f"{order.describe()} could make day trade number {could_reach} in 5 business days "
            f"({now.day_trades_used} used{pending_note}); under $25,000 of equity "
            f"(${previous_close_equity:,.2f} at the last close) only {DAY_TRADES_ALLOWED} are allowed"
            + (f"; the oldest stops counting on {now.next_drop_off.isoformat()}" if now.next_drop_off else ""),
            now,
            added,
        )
    made = "could make a day trade" if added else "makes no day trade"
    return PdtCheck(
        True,
        f"allowed: {order.describe()} {made}; {now.day_trades_used} of {DAY_TRADES_ALLOWED} day trades used "
        f"in 5 business days",
        now,
        added,
    )


def _opening_qty(book: DayTradeBook, order: OrderIntent, day: date) -> Decimal:
    """How much of `order` opens or adds to a position (the rest closes one)."""
    held = book.positions.get(order.symbol, Decimal(0))
    if order.side is Side.BUY:
        return order.qty - min(order.qty, max(-held, Decimal(0)))
    return order.qty - min(order.qty, max(held, Decimal(0)))


def day_trades_by_day(book: DayTradeBook) -> list[tuple[date, list[DayTrade]]]:
    """The day trades found, grouped per trade date, oldest first."""
    grouped: dict[date, list[DayTrade]] = {}
    for trade in book.day_trades:
        grouped.setdefault(trade.day, []).append(trade)
    return sorted(grouped.items())
