"""A portfolio's performance over a date range: total return with dividends, TWR and XIRR. Pure.

Dating, consistent with the start-of-day convention of `returns.py`: a day's external flows are dated that day
(they arrive at its start); the value at the close of the range's last day is dated the next day (the close is
the next day's start), and the value before the range (the close of the day before its first day) is dated the
first day. So a deposit on 2023-01-02 that is worth 10% more at the close of 2024-01-01 earned 10% a year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from marketdesk.portfolio.ledger import ZERO, Ledger
from marketdesk.portfolio.returns import NoSolution, annualized, time_weighted_return, xirr
from marketdesk.portfolio.valuation import DailySeries


@dataclass(frozen=True)
class Performance:
    """Returns over `start`..`end` (inclusive). A measure that does not exist is None and `notes` says why."""

    start: date | None
    end: date | None
    days: int  # calendar days the range spans
    start_value: Decimal  # at the close of the day before `start`
    end_value: Decimal  # at the close of `end`
    net_flows: Decimal  # deposits (explicit and implicit) − withdrawals within the range
    dividend_income: Decimal
    fees: Decimal
    gain: Decimal  # end value − start value − net flows: what the portfolio itself earned, dividends included
    total_return: float | None  # gain ÷ (start value + inflows): simple, not time- or money-weighted
    twr: float | None
    twr_annualized: float | None
    xirr: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)


def exact_value(series: DailySeries, ledger: Ledger, row: int) -> Decimal:
    """The value at the close of `series.dates[row]`: positions (to the cent) plus the ledger's exact cash."""
    if row < 0:
        return ZERO
    cash = ledger.steps[int(series.step[row])].cash if series.step[row] >= 0 else ZERO
    return Decimal(f"{series.positions_value[row]:.2f}") + cash


def performance(series: DailySeries, ledger: Ledger, start: date | None = None, end: date | None = None) -> Performance:
    """Total return, TWR and XIRR of the days of `series` within `start`..`end` (default: all of them).

    The range is clipped to the valued days: it starts no earlier than the first transaction (annualizing over
    days before any money was in would understate the rate) and ends no later than the last day with a value.
    """
    if not len(series):
        return _nothing(start, end, "the portfolio has no transactions yet")
    if start is not None and end is not None and end < start:
        return _nothing(start, end, f"the range ends ({end}) before it starts ({start})")
    notes: list[str] = []
    first_valued, last_valued = series.dates[0].astype(object), series.dates[-1].astype(object)
    first_day = first_valued if start is None or start < first_valued else start
    last_day = last_valued if end is None or end > last_valued else end
    if start is not None and start < first_valued:
        notes.append(f"the portfolio starts on {first_valued}: the range starts there")
    if end is not None and end > last_valued:
        notes.append(f"there is no valued day after {last_valued}: the range ends there")
    if last_day < first_day:
        return _nothing(start, end, f"the portfolio has no valued day from {start} to {end}")
    lo = int(np.searchsorted(series.dates, np.datetime64(first_day, "D"), side="left"))
    hi = int(np.searchsorted(series.dates, np.datetime64(last_day, "D"), side="right"))
    if hi <= lo:
        return _nothing(first_day, last_day, "the portfolio has no valued day in this range")
    values, flows = series.value[lo:hi], series.flows[lo:hi]
    start_value = exact_value(series, ledger, lo - 1)
    end_value = exact_value(series, ledger, hi - 1)
    step_before = int(series.step[lo - 1]) if lo > 0 else -1
    step_last = int(series.step[hi - 1])
    net_flows = _step_sum(ledger, step_before, step_last, "flow")
    inflows = start_value + _step_sum(ledger, step_before, step_last, "flow", positive_only=True)
    dividends = _cumulative(ledger, step_last, "dividends") - _cumulative(ledger, step_before, "dividends")
    fees = _cumulative(ledger, step_last, "fees") - _cumulative(ledger, step_before, "fees")
    gain = end_value - start_value - net_flows
    span = (last_day - first_day).days + 1
    twr = time_weighted_return(values, flows, float(start_value))
    twr_annual = annualized(twr, span)
    if twr_annual is None:
        notes.append(f"TWR is not annualized over {span} days (less than a year)")
    rate: float | None = None
    try:
        rate = xirr(*_investor_flows(series, lo, hi, start_value, end_value, first_day, last_day))
    except NoSolution as exc:
        notes.append(f"XIRR: {exc.one_line()}")
    return Performance(
        start=first_day, end=last_day, days=span, start_value=start_value, end_value=end_value, net_flows=net_flows,
        dividend_income=dividends, fees=fees, gain=gain,
        total_return=float(gain / inflows) if inflows > 0 else None, twr=twr, twr_annualized=twr_annual,
        xirr=rate, notes=tuple(notes),
    )  # fmt: skip


def _investor_flows(
    series: DailySeries, lo: int, hi: int, start_value: Decimal, end_value: Decimal, first: date, last: date
) -> tuple[list[date], list[float]]:
    """The investor's dated cash flows over the range: what went in is negative, what came (or could come) out
    positive."""
    days: list[date] = [first]
    amounts: list[float] = [-float(start_value)]
    moved = np.flatnonzero(series.flows[lo:hi]) + lo
    days += [series.dates[i].astype(object) for i in moved]
    amounts += [-float(series.flows[i]) for i in moved]
    days.append(last + timedelta(days=1))
    amounts.append(float(end_value))
    return days, amounts


def _step_sum(ledger: Ledger, after: int, upto: int, name: str, *, positive_only: bool = False) -> Decimal:
    values = (getattr(step, name) for step in ledger.steps[after + 1 : upto + 1])
    return sum((v for v in values if not positive_only or v > 0), ZERO)


def _cumulative(ledger: Ledger, step: int, name: str) -> Decimal:
    return Decimal(getattr(ledger.steps[step], name)) if step >= 0 else ZERO


def _nothing(start: date | None, end: date | None, why: str) -> Performance:
    return Performance(start, end, 0, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, None, None, None, None, (why,))
