"""The ledger of a portfolio: transactions replayed in order into FIFO lots, cash, realized P&L, dividends and fees.

Exact `Decimal` throughout; pure (no I/O, no clock). The conventions, also in docs/portfolio.md:

- **Lots are FIFO.** A sell closes the oldest open lots first. A buy's commission is part of its lot's cost; a
  sell's commission reduces its proceeds (so both end up in realized P&L). A trade that both closes and opens
  (a sell larger than a long position, allowed only where shorts are) splits its commission pro rata.
- **A split** multiplies every open lot's quantity by its ratio (new shares per old share); cost is unchanged.
- **Cash never goes negative.** A buy or fee that needs more cash than the portfolio holds brings the shortfall
  in as an *implicit deposit*, an external inflow like a deposit. So a statement of trades only, with no
  deposits, still gives honest returns. A withdrawal larger than the cash held is refused.
- **Dividends** (and interest: a dividend without a symbol) are income paid into cash, never external flows.
- Total value = net contributions + realized + unrealized + dividends − standalone fees, exactly.

>>> from datetime import date
>>> ledger = replay([
...     Transaction(date(2024, 1, 2), Kind.BUY, "AAA", qty=Decimal(10), price=Decimal(100)),
...     Transaction(date(2024, 6, 3), Kind.SELL, "AAA", qty=Decimal(4), price=Decimal(120)),
... ])
>>> ledger.positions["AAA"].qty, ledger.positions["AAA"].realized, ledger.implicit_deposits
(Decimal('6'), Decimal('80'), Decimal('1000'))
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

ZERO = Decimal(0)
COST_STEP = Decimal("1e-12")
"""A share of a lot's cost (or of a commission) is rounded to this, so what leaves a lot is exactly what arrives
in realized P&L: with 28 significant digits, unrounded quotients would lose their last digits in subtraction."""


class Kind(StrEnum):
    BUY = "buy"
    SELL = "sell"
    DIVIDEND = "dividend"
    SPLIT = "split"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    FEE = "fee"


TRADES = frozenset({Kind.BUY, Kind.SELL})
CASH_KINDS = frozenset({Kind.DIVIDEND, Kind.DEPOSIT, Kind.WITHDRAWAL, Kind.FEE})
ORDER_OF_DAY = {
    Kind.DEPOSIT: 0, Kind.SPLIT: 1, Kind.BUY: 2, Kind.SELL: 2, Kind.DIVIDEND: 3, Kind.FEE: 4, Kind.WITHDRAWAL: 5,
}  # fmt: skip
"""Where a transaction falls within its day: deposits first, then splits (they take effect at the open), trades in
the order they were made, dividends, fees and, last, withdrawals (which the day's sales may fund)."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """One line of a portfolio's history.

    - buy / sell: `symbol`, `qty` shares (> 0) at `price` (≥ 0), plus `fee` (commission, ≥ 0);
    - dividend: `amount` of cash received (> 0), with the `symbol` that paid it (none: interest);
    - split: `symbol` and `ratio`, new shares per old share (4 for a 4-for-1, 0.1 for a 1-for-10);
    - deposit / withdrawal: `amount` (> 0) of cash in or out;
    - fee: `amount` (> 0) of cash charged, with a `symbol` where it belongs to one.
    """

    day: date
    kind: Kind
    symbol: str | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    amount: Decimal | None = None
    fee: Decimal = ZERO
    ratio: Decimal | None = None


def problem(transaction: Transaction) -> str | None:
    """What is wrong with the shape of one transaction, in words a person can act on; None when it is sound.

    >>> problem(Transaction(date(2024, 1, 2), Kind.BUY, "AAA", qty=Decimal(0), price=Decimal(1)))
    'a buy needs a quantity greater than 0'
    """
    t, kind = transaction, transaction.kind
    numbers = {"qty": t.qty, "price": t.price, "amount": t.amount, "fee": t.fee, "ratio": t.ratio}
    for name, value in numbers.items():
        if value is not None and not value.is_finite():
            return f"{name} {value} is not a finite number"
    if t.fee < 0:
        return "a fee cannot be negative"
    if kind in TRADES:
        return _trade_problem(t)
    if t.fee:
        return f"a {kind} takes no separate fee; record the fee as its own transaction"
    if kind is Kind.SPLIT:
        if not t.symbol:
            return "a split needs a symbol"
        if t.ratio is None or t.ratio <= 0 or t.ratio == 1:
            return "a split needs a ratio above 0 and not 1 (new shares per old share, e.g. 4 for 4-for-1)"
        return _unexpected(t, kind, ("qty", "price", "amount"))
    if t.amount is None or t.amount <= 0:
        return f"a {kind} needs an amount greater than 0"
    if kind in {Kind.DEPOSIT, Kind.WITHDRAWAL} and t.symbol:
        return f"a {kind} is cash and takes no symbol"
    return _unexpected(t, kind, ("qty", "price", "ratio"))


def _trade_problem(t: Transaction) -> str | None:
    if not t.symbol:
        return f"a {t.kind} needs a symbol"
    if t.qty is None or t.qty <= 0:
        return f"a {t.kind} needs a quantity greater than 0"
    if t.price is None or t.price < 0:
        return f"a {t.kind} needs a price of 0 or more"
    return _unexpected(t, t.kind, ("amount", "ratio"))


def _unexpected(t: Transaction, kind: Kind, names: Sequence[str]) -> str | None:
    given = [name for name in names if getattr(t, name) is not None]
    return f"a {kind} takes no {' or '.join(given)}" if given else None


@dataclass(slots=True)
class Lot:
    """An open lot: signed quantity (long > 0, short < 0) and its signed total cost (a short's is −proceeds)."""

    day: date
    qty: Decimal
    cost: Decimal


@dataclass(slots=True)
class Position:
    """One symbol's open lots and what it has earned."""

    symbol: str
    lots: deque[Lot] = field(default_factory=deque)
    realized: Decimal = ZERO
    dividends: Decimal = ZERO
    commissions: Decimal = ZERO
    mark: Decimal | None = None  # the last trade price, split-adjusted: the fallback when no close is known

    @property
    def qty(self) -> Decimal:
        return sum((lot.qty for lot in self.lots), ZERO)

    @property
    def cost_basis(self) -> Decimal:
        return sum((lot.cost for lot in self.lots), ZERO)


@dataclass(frozen=True, slots=True)
class Step:
    """The ledger right after one transaction: what the daily series needs, exact."""

    cash: Decimal
    cost_basis: Decimal
    realized: Decimal
    dividends: Decimal
    fees: Decimal  # standalone fees (commissions are inside cost basis and realized P&L)
    flow: Decimal  # the external flow this transaction made: deposits and implicit deposits in, withdrawals out
    symbol: str | None
    qty: Decimal | None  # the symbol's quantity after it (trades and splits), else None
    mark: Decimal | None  # the symbol's fallback mark after it (trades and splits), else None


class LedgerProblem(ValueError):
    """A transaction the ledger cannot take at its place in history: `index` says which, the message why."""

    def __init__(self, index: int, message: str, symbol: str | None) -> None:
        super().__init__(message)
        self.index = index
        self.message = message
        self.symbol = symbol  # the symbol short of shares, or None when cash is short


@dataclass
class Ledger:
    """Transactions replayed: open positions, cash and the totals, with one `Step` per transaction."""

    positions: dict[str, Position] = field(default_factory=dict)
    cash: Decimal = ZERO
    deposits: Decimal = ZERO
    withdrawals: Decimal = ZERO
    implicit_deposits: Decimal = ZERO
    dividends: Decimal = ZERO
    fees: Decimal = ZERO
    steps: list[Step] = field(default_factory=list)

    @property
    def realized(self) -> Decimal:
        return sum((p.realized for p in self.positions.values()), ZERO)

    @property
    def cost_basis(self) -> Decimal:
        return sum((p.cost_basis for p in self.positions.values()), ZERO)

    @property
    def commissions(self) -> Decimal:
        return sum((p.commissions for p in self.positions.values()), ZERO)

    @property
    def net_contributions(self) -> Decimal:
        """Deposits (explicit and implicit) less withdrawals."""
        return self.deposits + self.implicit_deposits - self.withdrawals

    def open_positions(self) -> list[Position]:
        return [p for symbol, p in sorted(self.positions.items()) if p.lots]


def replay(transactions: Sequence[Transaction], *, allow_short: bool = False) -> Ledger:
    """Replay `transactions` (already in the order they happened) into a `Ledger`.

    Raises `LedgerProblem` at the first one that cannot happen: a sell of more than is held (unless
    `allow_short`, as for a broker account's fills), a split of nothing held, a withdrawal of more cash than
    there is. A dividend needs no holding on its day: one is often paid after the shares are sold.
    """
    ledger = Ledger()
    cost_basis = realized = ZERO
    for index, t in enumerate(transactions):
        qty_after: Decimal | None = None
        mark_after: Decimal | None = None
        if t.kind in TRADES or t.kind is Kind.SPLIT:
            position = _holding(ledger, index, t, allow_short)
            before_cost, before_realized = position.cost_basis, position.realized
            _change_holding(ledger, position, t)
            cost_basis += position.cost_basis - before_cost
            realized += position.realized - before_realized
            qty_after, mark_after = position.qty, position.mark
        flow = _move_cash(ledger, index, t)
        if ledger.cash < 0:  # a buy or a fee needed more cash than there was: the investor brought it in
            shortfall = -ledger.cash
            ledger.implicit_deposits += shortfall
            ledger.cash = ZERO
            flow += shortfall
        ledger.steps.append(
            Step(
                ledger.cash, cost_basis, realized, ledger.dividends, ledger.fees, flow, t.symbol, qty_after, mark_after
            )
        )
    return ledger


def _holding(ledger: Ledger, index: int, t: Transaction, allow_short: bool) -> Position:
    """The position a trade or split changes, once it is clear that it can."""
    symbol = t.symbol or ""
    position = ledger.positions.setdefault(symbol, Position(symbol))
    if t.kind is Kind.SPLIT and not position.lots:
        raise LedgerProblem(index, f"splits {symbol} on {t.day} but holds none then", symbol)
    if t.kind is Kind.SELL and not allow_short and position.qty < (t.qty or ZERO):
        raise LedgerProblem(index, f"sells {t.qty} {symbol} on {t.day} but holds only {position.qty} then", symbol)
    return position


def _change_holding(ledger: Ledger, position: Position, t: Transaction) -> None:
    if t.kind is Kind.SPLIT:
        ratio = t.ratio or Decimal(1)
        for lot in position.lots:
            lot.qty *= ratio
        if position.mark is not None:
            position.mark /= ratio
        return
    qty, price = t.qty or ZERO, t.price or ZERO
    signed = qty if t.kind is Kind.BUY else -qty
    _trade(position, t.day, signed, price, t.fee)
    ledger.cash -= signed * price + t.fee


def _move_cash(ledger: Ledger, index: int, t: Transaction) -> Decimal:
    """Apply a cash transaction (dividend, deposit, withdrawal, fee); the external flow it makes."""
    amount = t.amount or ZERO
    if t.kind is Kind.DIVIDEND:
        ledger.cash += amount
        ledger.dividends += amount
        if t.symbol is not None:
            ledger.positions.setdefault(t.symbol, Position(t.symbol)).dividends += amount
    elif t.kind is Kind.DEPOSIT:
        ledger.cash += amount
        ledger.deposits += amount
        return amount
    elif t.kind is Kind.WITHDRAWAL:
        if amount > ledger.cash:
            raise LedgerProblem(index, f"withdraws {amount} on {t.day} but the cash then is {ledger.cash}", None)
        ledger.cash -= amount
        ledger.withdrawals += amount
        return -amount
    elif t.kind is Kind.FEE:
        ledger.cash -= amount
        ledger.fees += amount
    return ZERO


def _trade(position: Position, day: date, signed_qty: Decimal, price: Decimal, fee: Decimal) -> None:
    """Apply a trade of `signed_qty` (buy > 0, sell < 0) to the position's FIFO lots."""
    quantity = abs(signed_qty)
    remaining = signed_qty
    fee_left = fee
    lots = position.lots
    while remaining and lots and (lots[0].qty > 0) != (remaining > 0):
        lot = lots[0]
        sign = 1 if lot.qty > 0 else -1
        take = min(abs(remaining), abs(lot.qty))
        if take == abs(lot.qty):
            cost = lot.cost
            lots.popleft()
        else:
            cost = (lot.cost * take / abs(lot.qty)).quantize(COST_STEP)
            lot.qty -= sign * take
            lot.cost -= cost
        # the last piece takes what is left of the fee, so the pieces add up to it exactly
        closing_fee = fee_left if take == abs(remaining) else (fee * take / quantity).quantize(COST_STEP)
        fee_left -= closing_fee
        position.realized += sign * take * price - cost - closing_fee
        remaining += sign * take
    if remaining:
        lots.append(Lot(day, remaining, remaining * price + fee_left))
    position.commissions += fee
    position.mark = price


def first_shortfall(transactions: Sequence[Transaction], *, allow_short: bool = False) -> LedgerProblem | None:
    """The first `LedgerProblem` replaying `transactions` meets, or None when they all can happen."""
    try:
        replay(transactions, allow_short=allow_short)
    except LedgerProblem as found:
        return found
    return None


@dataclass(frozen=True, slots=True)
class Entry:
    """A transaction at its place in history: `key` orders it; `tag` names a candidate (None: already recorded)."""

    key: tuple[Any, ...]
    transaction: Transaction
    tag: int | None = None


def admit(recorded: Sequence[Entry], candidates: Sequence[Entry], *, allow_short: bool = False) -> dict[int, str]:
    """The candidates that cannot join the recorded history, each with the reason: `{tag: reason}`.

    The rest can all join together. A candidate is refused when the history with it sells shares not held,
    splits a position not held, or withdraws cash not there, either at the candidate itself or later, at a
    recorded transaction it would leave short (then the latest candidate before that one which takes from the
    same shares, or from cash, is refused).
    """
    pending = list(candidates)
    refused: dict[int, str] = {}
    while pending:
        merged = sorted([*recorded, *pending], key=lambda entry: entry.key)
        found = first_shortfall([entry.transaction for entry in merged], allow_short=allow_short)
        if found is None:
            break
        culprit = merged[found.index]
        reason = found.message
        if culprit.tag is None:
            earlier = [e for e in merged[: found.index] if e.tag is not None and _takes_from(e.transaction, found)]
            if not earlier:  # the recorded history is short by itself: none of the candidates can be judged
                return {**refused, **{e.tag: found.message for e in pending if e.tag is not None}}
            culprit = earlier[-1]
            reason = f"it would leave a later transaction short: {found.message}"
        assert culprit.tag is not None  # noqa: S101 - a recorded entry was replaced by a candidate above
        refused[culprit.tag] = reason
        pending.remove(culprit)
    return refused


def _takes_from(t: Transaction, found: LedgerProblem) -> bool:
    """True when `t` lowers what `found` ran short of: the shares of its symbol, or cash."""
    if found.symbol is not None:
        return t.symbol == found.symbol and (t.kind is Kind.SELL or t.kind is Kind.SPLIT)
    return t.kind in {Kind.BUY, Kind.FEE, Kind.WITHDRAWAL}
