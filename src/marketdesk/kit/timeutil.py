"""Time helpers: everything aware, everything UTC, dates parsed strictly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")


def ensure_utc(instant: datetime) -> datetime:
    """Return `instant` in UTC; refuse naive datetimes rather than guess their zone."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: give a timezone")
    return instant.astimezone(UTC)


def parse_date(text: str, *, field: str = "date") -> date:
    """Parse an ISO date (YYYY-MM-DD) with a message that says what was expected."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not a date; write it as YYYY-MM-DD") from None


def utc_from_date(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
