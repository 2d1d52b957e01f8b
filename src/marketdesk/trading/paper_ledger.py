"""The paper account's books: cash, signed positions with average prices, realized P&L, and (cash accounts)
settled versus unsettled cash. Pure: no I/O and no clock; the broker passes trade dates and prices in.

Accounts
- **margin** (the default): may sell short, except names the borrow check calls hard to borrow; buying power is
  `margin_multiplier` (2 by default, Regulation T) × equity − the gross value of the positions.
- **cash**: no short sales; buying power is the cash. Sale proceeds settle T+1 (the next XNYS session), as in
  `trading/settlement.py`: purchases spend settled cash first, then unsettled credits, earliest first. Good-faith
  violations are the compliance engine's business (it replays the fills through `settlement.CashLedger`).

Marks: a position is valued at the last price the broker saw for it, else at its average price.

Hard to borrow: `AccountPolicy.hard_to_borrow` is a callable `symbol -> bool` (build it from a set with
`borrow_list`). A short sale of such a name is refused, saying how much could be sold without going short.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from marketdesk.trading.activity import OrderIntent, Side
from marketdesk.trading.margin import MarginRates, requirement

ZERO = Decimal(0)


class NextSession(Protocol):
    """What settlement needs of a calendar: the session after a day (T+1)."""

    def next_session(self, day: date) -> date: ...


class AccountType(StrEnum):
    MARGIN = "margin"
    CASH = "cash"


def borrow_list(symbols: Collection[str]) -> Callable[[str], bool]:
    """A hard-to-borrow check from a set of symbols (case-insensitive)."""
    names = frozenset(s.upper() for s in symbols)
    return lambda symbol: symbol.upper() in names


def _nothing_hard_to_borrow(symbol: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """The account's rules: its type, leverage, borrow list and maintenance rates."""

    account_type: AccountType = AccountType.MARGIN
    margin_multiplier: Decimal = Decimal(2)
    hard_to_borrow: Callable[[str], bool] = _nothing_hard_to_borrow
    margin_rates: MarginRates = field(default_factory=MarginRates)

    def __post_init__(self) -> None:
        if not self.margin_multiplier >= 1:
            raise ValueError(f"margin_multiplier must be at least 1 (2 is Regulation T), got {self.margin_multiplier}")


@dataclass(frozen=True, slots=True)
class Position:
    """A holding: signed quantity (short negative) and the average price it was opened at."""

    symbol: str
    qty: Decimal
    average_price: Decimal


@dataclass
class Ledger:
    """The books of one account. Mutable; `copy()` it to stage a change and keep the copy once it is stored."""

    account_type: AccountType
    cash: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    realized_pnl: Decimal = ZERO
    commissions: Decimal = ZERO
    unsettled: list[tuple[date, Decimal]] = field(default_factory=list)  # (settles on, amount), earliest first

    def copy(self) -> Ledger:
        return Ledger(
            self.account_type, self.cash, dict(self.positions), self.realized_pnl, self.commissions,
            list(self.unsettled),
        )  # fmt: skip

    # cash ------------------------------------------------------------------------------------------------------

    @property
    def unsettled_cash(self) -> Decimal:
        return sum((amount for _, amount in self.unsettled), ZERO)

    @property
    def settled_cash(self) -> Decimal:
        return self.cash - self.unsettled_cash

    def settle(self, day: date) -> bool:
        """Count every credit that settles by `day` as settled; True when anything settled."""
        before = len(self.unsettled)
        self.unsettled = [(settles_on, amount) for settles_on, amount in self.unsettled if settles_on > day]
        return len(self.unsettled) != before

    def _spend(self, amount: Decimal) -> None:
        # a cash account spends settled cash first, then unsettled credits, earliest first
        owed = amount - max(self.settled_cash, ZERO)
        self.cash -= amount
        credits = []
        for settles_on, credit in self.unsettled:
            used = min(max(owed, ZERO), credit)
            owed -= used
            if credit > used:
                credits.append((settles_on, credit - used))
        self.unsettled = credits

    # positions -------------------------------------------------------------------------------------------------

    def qty(self, symbol: str) -> Decimal:
        position = self.positions.get(symbol)
        return ZERO if position is None else position.qty

    def apply_fill(
        self,
        symbol: str,
        side: Side,
        qty: Decimal,
        price: Decimal,
        commission: Decimal,
        *,
        trade_day: date,
        calendar: NextSession,
    ) -> Decimal:
        """Book a fill; return the P&L it realized (before commission)."""
        signed = side.sign * qty
        notional = qty * price
        if self.account_type is AccountType.CASH:
            self.settle(trade_day)
            if side is Side.BUY:
                self._spend(notional + commission)
            else:
                self.cash += notional - commission
                self.unsettled.append((calendar.next_session(trade_day), notional - commission))
                self.unsettled.sort(key=lambda credit: credit[0])
        else:
            self.cash -= signed * price + commission
        self.commissions += commission
        held = self.positions.get(symbol)
        realized = ZERO
        if held is None or held.qty == 0:
            self.positions[symbol] = Position(symbol, signed, price)
        elif (held.qty > 0) == (signed > 0):  # adding to the position
            total = held.qty + signed
            average = (held.qty * held.average_price + signed * price) / total
            self.positions[symbol] = Position(symbol, total, average)
        else:  # reducing, closing or flipping it
            closed = min(abs(signed), abs(held.qty))
            direction = Decimal(1) if held.qty > 0 else Decimal(-1)
            realized = closed * (price - held.average_price) * direction
            left = held.qty + signed
            if left == 0:
                del self.positions[symbol]
            elif (left > 0) == (held.qty > 0):
                self.positions[symbol] = Position(symbol, left, held.average_price)
            else:
                self.positions[symbol] = Position(symbol, left, price)
        self.realized_pnl += realized
        return realized

    def apply_split(self, symbol: str, ratio: Decimal) -> Position | None:
        """Adjust for a split of `ratio` new shares per old share (2 for a 2-for-1, 0.1 for a 1-for-10 reverse):
        quantity × ratio, average price ÷ ratio. Cash and value are unchanged."""
        if not ratio > 0:
            raise ValueError(f"a split ratio must be positive (2 for a 2-for-1 split), got {ratio}")
        held = self.positions.get(symbol)
        if held is None:
            return None
        adjusted = Position(symbol, held.qty * ratio, held.average_price / ratio)
        self.positions[symbol] = adjusted
        return adjusted

    def apply_dividend(self, symbol: str, amount_per_share: Decimal) -> Decimal:
        """Credit a cash dividend on a long position (a short pays it); return the cash moved."""
        if not amount_per_share > 0:
            raise ValueError(f"a dividend must be a positive amount per share, got {amount_per_share}")
        amount = self.qty(symbol) * amount_per_share
        self.cash += amount  # paid (or charged) in settled cash
        return amount

    # valuation -------------------------------------------------------------------------------------------------

    def marks(self, prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """The price each position is valued at: its last price, else its average price."""
        return {s: prices.get(s, p.average_price) for s, p in self.positions.items()}

    def market_value(self, prices: Mapping[str, Decimal]) -> Decimal:
        return self._market_value(self.marks(prices))

    def gross_exposure(self, prices: Mapping[str, Decimal]) -> Decimal:
        return self._gross_exposure(self.marks(prices))

    def equity(self, prices: Mapping[str, Decimal]) -> Decimal:
        return self.cash + self.market_value(prices)

    def maintenance_margin(self, prices: Mapping[str, Decimal], rates: MarginRates) -> Decimal:
        return self._maintenance_margin(self.marks(prices), rates)

    def buying_power(self, prices: Mapping[str, Decimal], policy: AccountPolicy) -> Decimal:
        """Cash accounts: the cash. Margin accounts: multiplier × equity − gross position value."""
        if self.account_type is AccountType.CASH:
            return max(self.cash, ZERO)
        return self._margin_buying_power(self.marks(prices), policy)

    def valuation(self, prices: Mapping[str, Decimal], policy: AccountPolicy) -> Valuation:
        """Equity, buying power and maintenance margin at `prices`, each as its own method computes it, from
        one set of marks (the broker's `account()` asks for all three on every order)."""
        marks = self.marks(prices)
        equity = self.cash + self._market_value(marks)
        if self.account_type is AccountType.CASH:
            power = max(self.cash, ZERO)
        else:
            power = max(policy.margin_multiplier * equity - self._gross_exposure(marks), ZERO)
        return Valuation(equity, power, self._maintenance_margin(marks, policy.margin_rates))

    # the sums over positions, in position order, from marks computed once

    def _market_value(self, marks: Mapping[str, Decimal]) -> Decimal:
        return sum((p.qty * marks[s] for s, p in self.positions.items()), ZERO)

    def _gross_exposure(self, marks: Mapping[str, Decimal]) -> Decimal:
        return sum((abs(p.qty) * marks[s] for s, p in self.positions.items()), ZERO)

    def _maintenance_margin(self, marks: Mapping[str, Decimal], rates: MarginRates) -> Decimal:
        quantities = {s: p.qty for s, p in self.positions.items()}
        return requirement(quantities, marks, rates)

    def _margin_buying_power(self, marks: Mapping[str, Decimal], policy: AccountPolicy) -> Decimal:
        equity = self.cash + self._market_value(marks)
        return max(policy.margin_multiplier * equity - self._gross_exposure(marks), ZERO)


@dataclass(frozen=True, slots=True)
class Valuation:
    """The account marked at one set of prices (`Ledger.valuation`)."""

    equity: Decimal
    buying_power: Decimal
    maintenance_margin: Decimal


def exposure_added(held: Decimal, side: Side, qty: Decimal, *, committed_sells: Decimal = ZERO) -> Decimal:
    """The part of an order that opens or grows a position: a buy beyond covering a short, a sale beyond the
    long (less what open sell orders already commit)."""
    if side is Side.BUY:
        return qty - min(qty, max(-held, ZERO))
    sellable = max(held - committed_sells, ZERO)
    return qty - min(qty, sellable)


def refusal(
    ledger: Ledger,
    order: OrderIntent,
    prices: Mapping[str, Decimal],
    policy: AccountPolicy,
    *,
    reserved: Decimal = ZERO,
    committed_sells: Decimal = ZERO,
) -> str | None:
    """Why the account cannot take `order` (None: it can). `order.price` is the expected price (None: unknown,
    so buying power is not judged); `reserved` is the buying power open orders already hold and
    `committed_sells` the shares of this symbol that open sell orders will deliver."""
    held = ledger.qty(order.symbol)
    added = exposure_added(held, order.side, order.qty, committed_sells=committed_sells)
    if order.side is Side.SELL and added > 0:
        sellable = order.qty - added
        if ledger.account_type is AccountType.CASH:
            return (
                f"{order.describe()} would sell {added.normalize():f} short, and a cash account cannot sell short; "
                f"sell at most {sellable.normalize():f} (the shares held, less open sell orders)"
            )
        if policy.hard_to_borrow(order.symbol):
            return (
                f"{order.symbol} is hard to borrow, so it cannot be sold short: {order.describe()} would be "
                f"{added.normalize():f} short; sell at most {sellable.normalize():f} (the shares held, less open "
                "sell orders)"
            )
    if added == 0 or order.price is None:
        return None
    cost = added * order.price
    power = ledger.buying_power(prices, policy)
    available = power - reserved
    if cost <= available:
        return None
    if ledger.account_type is AccountType.CASH:
        basis = f"${power:,.2f} of cash"
    else:
        basis = (
            f"{policy.margin_multiplier.normalize():f} × equity ${ledger.equity(prices):,.2f} − positions "
            f"${ledger.gross_exposure(prices):,.2f} = ${power:,.2f}"
        )
    held_back = f", less ${reserved:,.2f} held by open orders" if reserved > 0 else ""
    return (
        f"{order.describe()} needs ${cost:,.2f} of buying power; the account has ${max(available, ZERO):,.2f} "
        f"({basis}{held_back}); reduce the quantity"
    )
