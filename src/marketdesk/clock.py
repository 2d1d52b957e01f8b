"""Time, injected. Domain code asks a `Clock`; it never reads the wall clock itself."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Something that tells the time, tz-aware UTC."""

    def now(self) -> datetime:
        """Return the current instant as an aware UTC datetime."""
        ...


class LiveClock:
    """The wall clock. Only transports and process wiring create one."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimClock:
    """A clock that moves only when told to: for tests, backtests and the simulated market.

    >>> clock = SimClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    >>> clock.advance(timedelta(minutes=1)).minute
    31
    """

    def __init__(self, start: datetime) -> None:
        self._now = _require_aware(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        """Move to `instant`; time never goes backwards."""
        instant = _require_aware(instant)
        with self._lock:
            if instant < self._now:
                raise ValueError(f"SimClock cannot go back from {self._now.isoformat()} to {instant.isoformat()}")
            self._now = instant

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new time."""
        if delta < timedelta(0):
            raise ValueError("SimClock.advance needs a non-negative delta")
        with self._lock:
            self._now = self._now + delta
            return self._now


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: pass an aware datetime (tzinfo=UTC)")
    return instant.astimezone(UTC)
