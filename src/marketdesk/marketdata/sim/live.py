"""Where the simulated market stands at an instant: which session is live and how far into it.

Two modes:
- always open (default): the session is the clock's trading day (the next one on weekends and holidays), open
  whenever the desk runs. Simulated time runs at `speed` × real time from 09:30 New York on the clock's date
  and sweeps the 6.5-hour session forth and back (open → close → open …), so prices never jump back when a
  sweep ends: at speed 1 the sweep follows the real session during real market hours.
- real hours: the XNYS calendar decides. In a session the position is the real elapsed share of it; outside
  one the market stands at the close of the last session (no new prices), whatever `speed` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from marketdesk.kit.timeutil import NEW_YORK, ensure_utc
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.marketdata.sim.factors import Timeline
from marketdesk.marketdata.sim.intraday import SESSION_SECONDS

_OPEN_TIME = time(9, 30)


@dataclass(frozen=True)
class LivePoint:
    """The live session (a timeline row) and the position in it, in seconds of a 6.5-hour session."""

    row: int
    session: date
    second: float
    ts: datetime  # the quotes' timestamp: the instant, or the session's close when the market is shut
    trading: bool  # False when real hours have the market closed


def market_date(instant: datetime) -> date:
    """The New York calendar date of an instant."""
    return ensure_utc(instant).astimezone(NEW_YORK).date()


def live_point(
    instant: datetime, timeline: Timeline, calendar: ExchangeCalendar, *, real_hours: bool, speed: float
) -> LivePoint:
    """Where the market stands at `instant`."""
    instant = ensure_utc(instant)
    today = market_date(instant)
    if real_hours:
        return _real_hours_point(instant, today, timeline, calendar)
    row = timeline.row_on_or_after(today)
    anchor = datetime.combine(today, _OPEN_TIME, tzinfo=NEW_YORK)
    elapsed = (instant - anchor).total_seconds() * speed
    phase = elapsed % (2.0 * SESSION_SECONDS)
    second = phase if phase <= SESSION_SECONDS else 2.0 * SESSION_SECONDS - phase
    return LivePoint(row=row, session=timeline.day(row), second=second, ts=instant, trading=True)


def _real_hours_point(instant: datetime, today: date, timeline: Timeline, calendar: ExchangeCalendar) -> LivePoint:
    if calendar.is_open(instant):
        row = timeline.row_on_or_after(today)
        opens, closes = calendar.session_open_close(today)
        share = (instant - opens).total_seconds() / (closes - opens).total_seconds()
        return LivePoint(row=row, session=today, second=share * SESSION_SECONDS, ts=instant, trading=True)
    row = timeline.row_on_or_before(today)
    session = timeline.day(row)
    closes = calendar.session_open_close(session)[1] if calendar.is_session(session) else instant
    if session == today and instant < closes:  # before today's open: yesterday's close stands
        row -= 1
        session = timeline.day(row)
        closes = calendar.session_open_close(session)[1]
    return LivePoint(row=row, session=session, second=SESSION_SECONDS, ts=closes, trading=False)


def history_end_row(instant: datetime, timeline: Timeline) -> int:
    """Timeline row of the last completed session before the instant's New York date."""
    return timeline.row_on_or_before(market_date(instant) - timedelta(days=1))
