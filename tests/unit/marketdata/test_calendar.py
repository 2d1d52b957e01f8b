from datetime import UTC, date, datetime

from marketdesk.marketdata.calendar import ExchangeCalendar, always_open_clock


def test_weekend_clock_is_closed_and_names_monday_open() -> None:
    clock = ExchangeCalendar().clock(datetime(2026, 11, 21, 17, tzinfo=UTC))  # a Saturday
    assert not clock.is_open
    assert clock.next_open == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 09:30 New York (EST)
    assert clock.describe() == "Closed · opens Mon 23 Nov 09:30 ET"


def test_day_after_thanksgiving_is_a_half_day_closing_at_13_00() -> None:
    calendar = ExchangeCalendar()
    clock = calendar.clock(datetime(2026, 11, 27, 16, tzinfo=UTC))
    assert clock.is_open and clock.half_day
    assert clock.next_close == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    assert clock.describe() == "Open · closes 13:00 ET (half day)"


def test_sessions_skip_holidays() -> None:
    calendar = ExchangeCalendar()
    assert not calendar.is_session(date(2026, 12, 25))
    assert calendar.sessions(date(2026, 12, 24), date(2026, 12, 29)) == [
        date(2026, 12, 24),
        date(2026, 12, 28),
        date(2026, 12, 29),
    ]
    assert calendar.previous_session(date(2026, 12, 28)) == date(2026, 12, 24)
    assert calendar.next_session(date(2026, 12, 24)) == date(2026, 12, 28)


def test_summer_open_is_13_30_utc() -> None:
    open_, close = ExchangeCalendar().session_open_close(date(2026, 7, 1))
    assert (open_.hour, open_.minute, close.hour) == (13, 30, 20)


def test_simulated_session_is_always_open() -> None:
    clock = always_open_clock(datetime(2026, 11, 21, 3, tzinfo=UTC))
    assert clock.is_open and clock.simulated_hours
