"""When the paper venue trades: XNYS regular hours (09:30–16:00 New York, half days included) and the extended
session (04:00 until four hours after the close, as Alpaca runs it), from an injected calendar.

Every answer is computed from an instant passed in; sessions are looked up once per day and cached, because the
order path is timed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from marketdesk.kit.timeutil import NEW_YORK, ensure_utc
from marketdesk.trading.activity import SessionCalendar

PRE_MARKET = timedelta(hours=5, minutes=30)  # 04:00 is 5½ hours before the 09:30 open
AFTER_HOURS = timedelta(hours=4)  # 20:00 after a 16:00 close, 17:00 after a 13:00 half day


class TradingCalendar(SessionCalendar, Protocol):
    """Sessions and their hours (`marketdesk.marketdata.calendar.ExchangeCalendar` is one)."""

    def session_open_close(self, day: date) -> tuple[datetime, datetime]: ...


@dataclass(frozen=True, slots=True)
class Session:
    day: date
    open: datetime
    close: datetime

    @property
    def extended_open(self) -> datetime:
        return self.open - PRE_MARKET

    @property
    def extended_close(self) -> datetime:
        return self.close + AFTER_HOURS


@dataclass(frozen=True, slots=True)
class OrderWindow:
    """When an order may trade: from `active_from` (None: now) until `expires_at` (None: until canceled)."""

    active_from: datetime | None
    expires_at: datetime | None


class SessionHours:
    """Regular and extended hours of a calendar, cached per day."""

    def __init__(self, calendar: TradingCalendar) -> None:
        self.calendar = calendar
        self._sessions: dict[date, Session | None] = {}
        self._next: dict[date, date] = {}
        self._previous: dict[date, date] = {}

    def session(self, day: date) -> Session | None:
        """The session on `day`, or None when the exchange is shut that day."""
        if day not in self._sessions:
            if self.calendar.is_session(day):
                opens, closes = self.calendar.session_open_close(day)
                self._sessions[day] = Session(day, ensure_utc(opens), ensure_utc(closes))
            else:
                self._sessions[day] = None
        return self._sessions[day]

    def next_session(self, day: date) -> date:
        if day not in self._next:
            self._next[day] = self.calendar.next_session(day)
        return self._next[day]

    def previous_session(self, day: date) -> date:
        if day not in self._previous:
            self._previous[day] = self.calendar.previous_session(day)
        return self._previous[day]

    def _required(self, day: date) -> Session:
        session = self.session(day)
        if session is None:
            raise ValueError(f"{day.isoformat()} is not a session of the calendar")
        return session

    def regular(self, instant: datetime) -> bool:
        """True during regular trading hours."""
        session = self.session(_local_day(instant))
        return session is not None and session.open <= instant < session.close

    def extended(self, instant: datetime) -> bool:
        """True from the pre-market open to the after-hours close of a session day."""
        session = self.session(_local_day(instant))
        return session is not None and session.extended_open <= instant < session.extended_close

    def current_or_next(self, instant: datetime, *, extended: bool = False) -> Session:
        """The session still to come or under way at `instant` (by its regular or extended close)."""
        day = _local_day(instant)
        session = self.session(day)
        if session is not None and instant < (session.extended_close if extended else session.close):
            return session
        return self._required(self.next_session(day))

    def window(self, instant: datetime, *, day_order: bool, extended: bool) -> OrderWindow:
        """When an order placed at `instant` trades: now if the market is open (extended hours for extended
        orders), else from the next open; a day order until that session's close."""
        session = self.current_or_next(instant, extended=extended)
        opens = session.extended_open if extended else session.open
        closes = session.extended_close if extended else session.close
        active_from = None if instant >= opens else opens
        return OrderWindow(active_from, closes if day_order else None)

    def last_close(self, instant: datetime) -> Session:
        """The last session that closed at or before `instant`."""
        day = _local_day(instant)
        session = self.session(day)
        if session is not None and session.close <= instant:
            return session
        return self._required(self.previous_session(day))

    def close_after(self, day: date) -> datetime:
        """The close of the session after `day`."""
        return self._required(self.next_session(day)).close


def _local_day(instant: datetime) -> date:
    return instant.astimezone(NEW_YORK).date()
