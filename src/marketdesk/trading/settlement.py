"""The cash account: no margin, no short sales, and sale proceeds that settle T+1 (the next XNYS session).

Buying with unsettled proceeds is allowed; **selling what was bought that way before those proceeds settle is a
good-faith violation**. The ledger walks the executions in order, keeps settled cash, unsettled credits and the
lots each purchase made (with the date its funding settles), and records every violation. The check warns
before an order would commit one. Three violations in twelve months restrict the account to settled cash for
90 days, as brokers apply Regulation T; while restricted, buying with unsettled funds is denied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from marketdesk.trading.activity import Execution, OrderIntent, SessionCalendar, Side

VIOLATIONS_BEFORE_RESTRICTION = 3
VIOLATION_LOOKBACK = timedelta(days=365)
RESTRICTION = timedelta(days=90)


@dataclass
class _Lot:
    qty: Decimal
    funded_until: date | None  # the day the unsettled funds that paid for it settle (None: paid with settled cash)


@dataclass(frozen=True, slots=True)
class Violation:
    """A good-faith violation (or a purchase without the cash for it)."""

    day: date
    symbol: str
    kind: str  # "good-faith" or "insufficient-cash"
    detail: str


@dataclass
class CashLedger:
    """Settled and unsettled cash, lots and violations after a run of executions."""

    calendar: SessionCalendar
    settled: Decimal
    unsettled: list[tuple[date, Decimal]] = field(default_factory=list)  # (settles on, amount), earliest first
    lots: dict[str, list[_Lot]] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        executions: Sequence[Execution],
        opening_cash: Decimal,
        calendar: SessionCalendar,
        opening_positions: Mapping[str, Decimal] | None = None,
    ) -> CashLedger:
        """Replay `executions` from `opening_cash` (all settled) and `opening_positions` (paid for)."""
        ledger = cls(calendar, opening_cash)
        for symbol, qty in (opening_positions or {}).items():
            if qty > 0:
                ledger.lots[symbol] = [_Lot(qty, None)]
        for execution in sorted(executions, key=lambda e: e.time):
            ledger.add(execution)
        return ledger

    def settle(self, day: date) -> None:
        """Move every credit that has settled by `day` into settled cash."""
        while self.unsettled and self.unsettled[0][0] <= day:
            self.settled += self.unsettled.pop(0)[1]

    @property
    def unsettled_total(self) -> Decimal:
        return sum((amount for _, amount in self.unsettled), Decimal(0))

    def held(self, symbol: str) -> Decimal:
        return sum((lot.qty for lot in self.lots.get(symbol, [])), Decimal(0))

    def add(self, execution: Execution) -> None:
        day = execution.trade_date
        self.settle(day)
        if execution.side is Side.BUY:
            self._buy(execution, day)
        else:
            self._sell(execution, day)

    def _buy(self, execution: Execution, day: date) -> None:
        cost = execution.notional
        if cost > self.settled + self.unsettled_total:
            self.violations.append(
                Violation(day, execution.symbol, "insufficient-cash", f"bought ${cost:,.2f} with less cash than that")
            )
        from_settled = min(cost, max(self.settled, Decimal(0)))
        self.settled -= from_settled
        owed = cost - from_settled
        funded_until = None
        while owed > 0 and self.unsettled:
            settles_on, amount = self.unsettled[0]
            used = min(owed, amount)
            funded_until = settles_on
            owed -= used
            if used == amount:
                self.unsettled.pop(0)
            else:
                self.unsettled[0] = (settles_on, amount - used)
        self.settled -= owed  # beyond all cash: the insufficient-cash violation above
        self.lots.setdefault(execution.symbol, []).append(_Lot(execution.qty, funded_until))

    def _sell(self, execution: Execution, day: date) -> None:
        for lot, qty in self._take(execution.symbol, execution.qty):
            if lot.funded_until is not None and lot.funded_until > day:
                self.violations.append(
                    Violation(
                        day, execution.symbol, "good-faith",
                        f"sold {qty.normalize():f} {execution.symbol} bought with funds that settle "
                        f"{lot.funded_until.isoformat()}",
                    )
                )  # fmt: skip
        self.unsettled.append((self.calendar.next_session(day), execution.notional))
        self.unsettled.sort(key=lambda credit: credit[0])

    def _take(self, symbol: str, qty: Decimal) -> list[tuple[_Lot, Decimal]]:
        """Remove `qty` from the symbol's lots, first in first out; the (lot, quantity) pairs taken."""
        taken = []
        lots = self.lots.get(symbol, [])
        while qty > 0 and lots:
            lot = lots[0]
            used = min(qty, lot.qty)
            taken.append((lot, used))
            lot.qty -= used
            qty -= used
            if lot.qty == 0:
                lots.pop(0)
        return taken

    def preview_sale(self, symbol: str, qty: Decimal, day: date) -> list[date]:
        """Settlement dates of unsettled funding that selling `qty` now would run into (FIFO), without selling."""
        dates = []
        left = qty
        for lot in self.lots.get(symbol, []):
            if left <= 0:
                break
            if lot.funded_until is not None and lot.funded_until > day:
                dates.append(lot.funded_until)
            left -= lot.qty
        return dates

    def restricted_until(self, day: date) -> date | None:
        """The day a settled-cash-only restriction ends, when three violations in 12 months impose one."""
        recent = [v.day for v in self.violations if v.kind == "good-faith" and day - v.day <= VIOLATION_LOOKBACK]
        if len(recent) < VIOLATIONS_BEFORE_RESTRICTION:
            return None
        ends = recent[VIOLATIONS_BEFORE_RESTRICTION - 1] + RESTRICTION
        return ends if ends > day else None


@dataclass(frozen=True, slots=True)
class CashStatus:
    settled_cash: Decimal
    unsettled_cash: Decimal
    next_settlement: date | None
    good_faith_violations_12m: int
    restricted_until: date | None


@dataclass(frozen=True, slots=True)
class CashCheck:
    allowed: bool
    reason: str
    warnings: tuple[str, ...]
    status: CashStatus


def status(ledger: CashLedger, day: date) -> CashStatus:
    ledger.settle(day)
    recent = [v for v in ledger.violations if v.kind == "good-faith" and day - v.day <= VIOLATION_LOOKBACK]
    return CashStatus(
        settled_cash=ledger.settled,
        unsettled_cash=ledger.unsettled_total,
        next_settlement=ledger.unsettled[0][0] if ledger.unsettled else None,
        good_faith_violations_12m=len(recent),
        restricted_until=ledger.restricted_until(day),
    )


def check(ledger: CashLedger, order: OrderIntent, day: date, price: Decimal) -> CashCheck:
    """Judge `order` on `day` at `price` in a cash account."""
    now = status(ledger, day)
    if order.side is Side.SELL:
        held = ledger.held(order.symbol)
        if order.qty > held:
            return CashCheck(
                False,
                f"{order.describe()} sells more than the {held.normalize():f} held: a cash account cannot sell short",
                (),
                now,
            )
        dates = ledger.preview_sale(order.symbol, order.qty, day)
        if dates:
            warning = (
                f"selling now is a good-faith violation: these shares were bought with funds that settle "
                f"{max(dates).isoformat()}; wait until then to avoid it"
            )
            return CashCheck(True, f"allowed with a warning: {warning}", (warning,), now)
        return CashCheck(True, f"allowed: {order.describe()} sells shares paid for with settled cash", (), now)
    cost = order.qty * price
    available = now.settled_cash + now.unsettled_cash
    if cost > available:
        return CashCheck(
            False,
            f"{order.describe()} costs ${cost:,.2f}; the account has ${available:,.2f} of cash "
            f"(${now.settled_cash:,.2f} settled) and a cash account cannot borrow",
            (),
            now,
        )
    if cost > now.settled_cash:
        unsettled_used = cost - max(now.settled_cash, Decimal(0))
        if now.restricted_until is not None:
            return CashCheck(
                False,
                f"{order.describe()} needs ${unsettled_used:,.2f} of unsettled funds; after "
                f"{now.good_faith_violations_12m} good-faith violations in 12 months the account may buy only "
                f"with settled cash until {now.restricted_until.isoformat()}",
                (),
                now,
            )
        warning = (
            f"${unsettled_used:,.2f} of this purchase uses unsettled funds (next settlement "
            f"{now.next_settlement.isoformat() if now.next_settlement else 'pending'}): selling it before they settle "
            f"would be a good-faith violation"
        )
        return CashCheck(True, f"allowed with a warning: {warning}", (warning,), now)
    return CashCheck(True, f"allowed: {order.describe()} is paid with settled cash", (), now)
