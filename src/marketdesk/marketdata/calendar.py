"""The exchange calendar (XNYS through exchange_calendars): sessions, half days, next open and close."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

from marketdesk.kit.timeutil import NEW_YORK, ensure_utc

_FIRST = "2000-01-01"


@lru_cache(maxsize=4)
def _calendar(code: str) -> xcals.ExchangeCalendar:
    # exchange_calendars' default end is a year ahead; size the session table two years past this year.
    # This sizes a lookup table only: no answer depends on the wall clock.
    last = datetime.now(UTC).year + 2
    with _quiet():
        return xcals.get_calendar(code, start=_FIRST, end=f"{last}-12-31")


@contextmanager
def _quiet() -> Iterator[None]:
    # exchange_calendars 4.13 reads `.values` of tz-aware pandas objects, which pandas 3.1 deprecates
    # (it wants the UTC values, which is what it gets). Not ours to fix; silence exactly that warning.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*\.values returning an ndarray that drops timezone")
        yield


@dataclass(frozen=True, slots=True)
class MarketClock:
    """The market's state at one instant, as the header shows it."""

    is_open: bool
    now: datetime
    next_open: datetime
    next_close: datetime
    session: date | None  # today's session when the market trades today
    half_day: bool
    simulated_hours: bool = False

    def describe(self) -> str:
        """One line for people: "Open · closes 16:00 ET" or "Closed · opens Mon 09:30 ET"."""
        if self.is_open:
            close = self.next_close.astimezone(NEW_YORK)
            suffix = " (half day)" if self.half_day else ""
            return f"Open · closes {close:%H:%M} ET{suffix}"
        opens = self.next_open.astimezone(NEW_YORK)
        return f"Closed · opens {opens:%a %d %b %H:%M} ET"


class ExchangeCalendar:
    """Sessions of one exchange (XNYS by default). Every answer is computed from an instant you pass in."""

    def __init__(self, code: str = "XNYS") -> None:
        self.code = code
        self._cal = _calendar(code)

    def is_session(self, day: date) -> bool:
        with _quiet():
            return bool(self._cal.is_session(pd.Timestamp(day)))

    def sessions(self, start: date, end: date) -> list[date]:
        """Trading days from `start` to `end`, both included."""
        with _quiet():
            if start > end:
                return []
            labels = self._cal.sessions_in_range(pd.Timestamp(start), pd.Timestamp(end))
            return [ts.date() for ts in labels]

    def is_half_day(self, day: date) -> bool:
        with _quiet():
            if not self.is_session(day):
                return False
            close = self._cal.session_close(pd.Timestamp(day)).tz_convert(NEW_YORK)
            return bool(close.hour < 16)

    def session_open_close(self, day: date) -> tuple[datetime, datetime]:
        """Open and close of a session, aware UTC."""
        with _quiet():
            label = pd.Timestamp(day)
            return (
                self._cal.session_open(label).to_pydatetime().astimezone(UTC),
                self._cal.session_close(label).to_pydatetime().astimezone(UTC),
            )

    def is_open(self, instant: datetime) -> bool:
        with _quiet():
            return bool(self._cal.is_open_on_minute(pd.Timestamp(ensure_utc(instant)), ignore_breaks=True))

    def next_open(self, instant: datetime) -> datetime:
        with _quiet():
            return self._cal.next_open(pd.Timestamp(ensure_utc(instant))).to_pydatetime().astimezone(UTC)

    def next_close(self, instant: datetime) -> datetime:
        with _quiet():
            return self._cal.next_close(pd.Timestamp(ensure_utc(instant))).to_pydatetime().astimezone(UTC)

    def previous_session(self, day: date) -> date:
        with _quiet():
            return self._cal.date_to_session(pd.Timestamp(day) - pd.Timedelta(days=1), direction="previous").date()

    def next_session(self, day: date) -> date:
        with _quiet():
            return self._cal.date_to_session(pd.Timestamp(day) + pd.Timedelta(days=1), direction="next").date()

    def clock(self, instant: datetime) -> MarketClock:
        """The market clock at `instant`."""
        instant = ensure_utc(instant)
        is_open = self.is_open(instant)
        local_day = instant.astimezone(NEW_YORK).date()
        session = local_day if self.is_session(local_day) else None
        return MarketClock(
            is_open=is_open,
            now=instant,
            next_open=self.next_open(instant),
            next_close=self.next_close(instant),
            session=session,
            half_day=self.is_half_day(local_day) if session else False,
        )


def always_open_clock(instant: datetime, session_hours: float = 6.5) -> MarketClock:
    """The simulated desk's default: a session that is open whenever the desk runs."""
    instant = ensure_utc(instant)
    return MarketClock(
        is_open=True,
        now=instant,
        next_open=instant,
        next_close=instant + timedelta(hours=session_hours),
        session=instant.date(),
        half_day=False,
        simulated_hours=True,
    )
