"""Earnings and dividend events for the tearsheet: the next report, the beat rate, and how the price moved
after beats and misses, measured from price history. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, EarningsEvent

REACTION_SESSIONS = 1  # close before the report to the close one session after it


@dataclass(frozen=True, slots=True)
class EarningsStats:
    next_report: date | None
    next_eps_estimate: float | None
    reports: int
    beats: int
    misses: int
    beat_rate: float | None  # fraction of reports with actual > estimate
    avg_move_after_beat_pct: float | None
    avg_move_after_miss_pct: float | None
    last_ex_dividend: date | None
    last_dividend: float | None
    next_ex_dividend_estimate: date | None  # last ex-date + the usual interval; None without a steady payer


def reaction_pct(closes: pd.Series, report_date: date, sessions: int = REACTION_SESSIONS) -> float | None:
    """Percent move from the last close before `report_date` to the close `sessions` after it.

    Reports may come before the open or after the close; spanning from the prior close to the next
    session's close captures either. None when the history does not cover the report.
    """
    if closes.empty:
        return None
    index = closes.index
    day = pd.Timestamp(report_date)
    before = index.searchsorted(day, side="left") - 1
    after = index.searchsorted(day, side="left") + sessions
    if before < 0 or after >= len(index):
        return None
    start, end = float(closes.iloc[before]), float(closes.iloc[after])
    if not (np.isfinite(start) and np.isfinite(end)) or start <= 0:
        return None
    return (end / start - 1) * 100


def earnings_stats(
    events: Sequence[EarningsEvent],
    adj_closes: pd.Series,
    actions: Sequence[CorporateAction],
    as_of: date,
) -> EarningsStats:
    """Summarise a symbol's earnings history known on `as_of` and its next scheduled report."""
    past = [e for e in events if e.report_date <= as_of and e.eps_actual is not None and e.eps_estimate is not None]
    upcoming = sorted((e for e in events if e.report_date > as_of), key=lambda e: e.report_date)
    beats = [e for e in past if (e.eps_actual or 0.0) > (e.eps_estimate or 0.0)]
    misses = [e for e in past if (e.eps_actual or 0.0) < (e.eps_estimate or 0.0)]

    def average(group: list[EarningsEvent]) -> float | None:
        moves = [m for e in group if (m := reaction_pct(adj_closes, e.report_date)) is not None]
        return float(np.mean(moves)) if moves else None

    dividends = sorted(
        (a for a in actions if a.kind is CorporateActionKind.DIVIDEND and a.ex_date <= as_of), key=lambda a: a.ex_date
    )
    return EarningsStats(
        next_report=upcoming[0].report_date if upcoming else None,
        next_eps_estimate=upcoming[0].eps_estimate if upcoming else None,
        reports=len(past),
        beats=len(beats),
        misses=len(misses),
        beat_rate=len(beats) / len(past) if past else None,
        avg_move_after_beat_pct=average(beats),
        avg_move_after_miss_pct=average(misses),
        last_ex_dividend=dividends[-1].ex_date if dividends else None,
        last_dividend=float(dividends[-1].value) if dividends else None,
        next_ex_dividend_estimate=next_ex_dividend(dividends, as_of),
    )


def next_ex_dividend(dividends: Sequence[CorporateAction], as_of: date) -> date | None:
    """Estimate the next ex-dividend date from the last year's cadence (at least two recent payments)."""
    recent = [d.ex_date for d in dividends if (as_of - d.ex_date).days <= 400]
    if len(recent) < 2:
        return None
    gaps = np.diff(np.array(recent, dtype="datetime64[D]")).astype(int)
    step = int(np.median(gaps))
    if step <= 0:
        return None
    upcoming = recent[-1]
    while upcoming <= as_of:
        upcoming = date.fromordinal(upcoming.toordinal() + step)
    return upcoming
