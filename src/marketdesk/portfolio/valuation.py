"""Valuation of a portfolio: holdings marked to market (exact), and the daily end-of-day series (vectorized).

Pure: it takes a replayed `Ledger` (see `ledger.py`) and a `PriceHistory` of raw (split-unadjusted) daily closes,
and does no I/O. Splits are transactions in the ledger, so marking with *adjusted* closes would count them twice.

Marks: a symbol's close on the day; on a day without one, its last close before; before its first close (or
when the price history has none), the last trade price in the ledger, split-adjusted. Each holding says which
day its mark is from, so a stale price is visible.

The daily series multiplies a (days × symbols) matrix of quantities by one of marks in float64 (like every
vector statistic of the desk); positions are then rounded to the cent. Cash, cost basis, realized P&L,
dividends and fees come from the ledger's exact steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from marketdesk.kit.money import CENT
from marketdesk.portfolio.ledger import ZERO, Ledger, Transaction

_NO_DAYS = np.array([], dtype="datetime64[D]")


@dataclass(frozen=True)
class PriceHistory:
    """Daily closes: `close[i, j]` is `symbols[j]` at the close of `dates[i]` (NaN where there is none)."""

    dates: np.ndarray  # datetime64[D], ascending
    symbols: tuple[str, ...]
    close: np.ndarray  # float64, shape (len(dates), len(symbols))

    @classmethod
    def empty(cls) -> PriceHistory:
        return cls(_NO_DAYS, (), np.empty((0, 0)))


@dataclass(frozen=True)
class Holding:
    """One open position marked to market."""

    symbol: str
    qty: Decimal
    cost_basis: Decimal
    average_cost: Decimal
    price: Decimal | None
    price_date: date | None  # the day of the close used; None when marked at the last trade price
    market_value: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    dividends: Decimal
    weight: float | None  # share of the portfolio's total value


@dataclass(frozen=True)
class Valuation:
    """A portfolio on one day: its holdings and totals. Total value = net contributions + total return."""

    as_of: date
    holdings: tuple[Holding, ...]
    market_value: Decimal
    cash: Decimal
    total_value: Decimal
    cost_basis: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal  # on every symbol, including closed positions
    dividend_income: Decimal
    fees: Decimal  # standalone fees; commissions are inside cost basis and realized P&L
    commissions: Decimal
    deposits: Decimal
    withdrawals: Decimal
    implicit_deposits: Decimal
    net_contributions: Decimal
    total_return: Decimal  # realized + unrealized + dividends − fees
    total_return_pct: float | None  # total return over the gross inflows (deposits, explicit and implicit)


@dataclass(frozen=True)
class DailySeries:
    """End-of-day values from the first transaction on: float64 vectors, one entry per day of `dates`."""

    dates: np.ndarray  # datetime64[D]
    positions_value: np.ndarray
    cash: np.ndarray
    value: np.ndarray  # positions + cash
    flows: np.ndarray  # external flows of the day (start of day): deposits and implicit deposits +, withdrawals −
    step: np.ndarray  # int: the index of the ledger's last step on or before the day (exact values), −1 if none

    def __len__(self) -> int:
        return len(self.dates)


def money(value: Decimal) -> Decimal:
    """Round an amount to the cent, banker's rounding (for display and storage, not for arithmetic)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def value_holdings(ledger: Ledger, prices: PriceHistory, as_of: date) -> Valuation:
    """The portfolio at the close of `as_of`, exact: each open position at its last close on or before it.

    `ledger` is the replay of the transactions up to and including `as_of`.
    """
    cutoff = np.datetime64(as_of, "D")
    upto = int(np.searchsorted(prices.dates, cutoff, side="right"))
    column = {symbol: j for j, symbol in enumerate(prices.symbols)}
    rows: list[tuple[Decimal, Decimal | None, date | None, Decimal]] = []
    for position in ledger.open_positions():
        price, price_date = position.mark, None
        j = column.get(position.symbol)
        if j is not None and upto:
            known = np.flatnonzero(~np.isnan(prices.close[:upto, j]))
            if len(known):
                i = int(known[-1])
                price = Decimal(repr(float(prices.close[i, j])))
                price_date = prices.dates[i].astype(object)
        qty = position.qty
        rows.append((qty, price, price_date, qty * price if price is not None else position.cost_basis))
    market_value = sum((row[3] for row in rows), ZERO)
    total_value = market_value + ledger.cash
    holdings = []
    for position, (qty, price, price_date, value) in zip(ledger.open_positions(), rows, strict=True):
        cost = position.cost_basis
        holdings.append(
            Holding(
                symbol=position.symbol, qty=qty, cost_basis=cost, average_cost=cost / qty, price=price,
                price_date=price_date, market_value=value, unrealized_pnl=value - cost,
                realized_pnl=position.realized, dividends=position.dividends,
                weight=float(value / total_value) if total_value > 0 else None,
            )
        )  # fmt: skip
    cost_basis = ledger.cost_basis
    unrealized = market_value - cost_basis
    total_return = ledger.realized + unrealized + ledger.dividends - ledger.fees
    inflows = ledger.deposits + ledger.implicit_deposits
    return Valuation(
        as_of=as_of, holdings=tuple(holdings), market_value=market_value, cash=ledger.cash, total_value=total_value,
        cost_basis=cost_basis, unrealized_pnl=unrealized, realized_pnl=ledger.realized,
        dividend_income=ledger.dividends, fees=ledger.fees, commissions=ledger.commissions,
        deposits=ledger.deposits, withdrawals=ledger.withdrawals, implicit_deposits=ledger.implicit_deposits,
        net_contributions=ledger.net_contributions, total_return=total_return,
        total_return_pct=float(total_return / inflows) if inflows > 0 else None,
    )  # fmt: skip


def daily_series(
    transactions: Sequence[Transaction], ledger: Ledger, prices: PriceHistory, end: date | None = None
) -> DailySeries:
    """End-of-day value, cash and external flows for every day from the first transaction to `end`.

    The days are those of the price history plus the transaction days (a deposit on a Saturday is a day).
    `ledger` must be `replay(transactions)`.
    """
    if not transactions:
        return _empty_series()
    if len(ledger.steps) != len(transactions):
        raise ValueError("the ledger must be the replay of these transactions")
    txn_days = np.array([t.day for t in transactions], dtype="datetime64[D]")
    if (np.diff(txn_days) < np.timedelta64(0, "D")).any():
        raise ValueError("transactions must be in the order they happened (by day)")
    first = txn_days.min()
    last = np.datetime64(end, "D") if end is not None else max(txn_days.max(), _last(prices.dates, txn_days))
    in_range = prices.dates[(prices.dates >= first) & (prices.dates <= last)]
    days = np.union1d(in_range, txn_days[txn_days <= last])
    if not len(days):
        return _empty_series()
    txn_row = np.searchsorted(days, txn_days)  # a transaction after `end` lands past the last row
    counted = txn_row < len(days)
    order = np.arange(len(transactions))

    symbols = sorted({s.symbol for s in ledger.steps if s.qty is not None and s.symbol is not None})
    column = {symbol: j for j, symbol in enumerate(symbols)}
    quantities, marks = _position_matrices(ledger, txn_row, counted, column, (len(days), len(symbols)))
    closes = _closes_on(days, prices, symbols)
    mark_matrix = _forward_fill(np.where(np.isnan(closes), marks, closes))
    held = np.nan_to_num(_forward_fill(quantities))
    positions_value = np.round(np.nansum(held * np.nan_to_num(mark_matrix), axis=1), 2)

    step = np.full(len(days), -1, dtype=np.int64)
    np.maximum.at(step, txn_row[counted], order[counted])  # a day's last transaction
    step = np.maximum.accumulate(step)
    cash_by_step = np.array([float(s.cash) for s in ledger.steps])
    cash = np.where(step >= 0, cash_by_step[np.maximum(step, 0)], 0.0)
    flows = np.zeros(len(days))
    np.add.at(flows, txn_row[counted], np.array([float(s.flow) for s in ledger.steps])[counted])
    return DailySeries(days, positions_value, cash, positions_value + cash, flows, step)


def _position_matrices(
    ledger: Ledger, txn_row: np.ndarray, counted: np.ndarray, column: dict[str, int], shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Quantity and fallback-mark matrices with values on the days they change (NaN elsewhere)."""
    quantities = np.full(shape, np.nan)
    marks = np.full(shape, np.nan)
    for index, s in enumerate(ledger.steps):  # in order, so a day's last trade wins
        if s.qty is None or not counted[index] or s.symbol is None:
            continue
        row, j = txn_row[index], column[s.symbol]
        quantities[row, j] = float(s.qty)
        if s.mark is not None:
            marks[row, j] = float(s.mark)
    return quantities, marks


def _closes_on(days: np.ndarray, prices: PriceHistory, symbols: Sequence[str]) -> np.ndarray:
    """The closes of `symbols` on `days` (NaN where the history has none)."""
    out = np.full((len(days), len(symbols)), np.nan)
    if not len(prices.dates) or not symbols:
        return out
    source = {symbol: j for j, symbol in enumerate(prices.symbols)}
    wanted = [(k, source[s]) for k, s in enumerate(symbols) if s in source]
    if not wanted:
        return out
    position = np.searchsorted(prices.dates, days)
    found = position < len(prices.dates)
    found[found] = prices.dates[position[found]] == days[found]
    targets = np.array([k for k, _ in wanted])
    sources = np.array([j for _, j in wanted])
    out[np.ix_(np.flatnonzero(found), targets)] = prices.close[np.ix_(position[found], sources)]
    return out


def _forward_fill(matrix: np.ndarray) -> np.ndarray:
    """Carry each column's last value down over NaN (leading NaN stay)."""
    if not matrix.size:
        return matrix
    rows = np.arange(matrix.shape[0])[:, None]
    index = np.where(np.isnan(matrix), 0, rows)
    np.maximum.accumulate(index, axis=0, out=index)
    return matrix[index, np.arange(matrix.shape[1])]


def _last(price_days: np.ndarray, txn_days: np.ndarray) -> np.datetime64:
    return price_days.max() if len(price_days) else txn_days.max()


def _empty_series() -> DailySeries:
    empty = np.array([], dtype=float)
    return DailySeries(_NO_DAYS, empty, empty, empty, empty, np.array([], dtype=np.int64))
