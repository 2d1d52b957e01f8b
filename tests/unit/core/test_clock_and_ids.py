from datetime import UTC, datetime, timedelta

import pytest

from marketdesk.clock import LiveClock, SimClock
from marketdesk.kit.ids import id_time, new_id


def test_sim_clock_moves_only_forward() -> None:
    clock = SimClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    assert clock.advance(timedelta(minutes=5)) == datetime(2026, 1, 5, 14, 35, tzinfo=UTC)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(datetime(2026, 1, 5, 14, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        SimClock(datetime(2026, 1, 5))  # noqa: DTZ001 - the point of the test


def test_live_clock_is_aware_utc() -> None:
    now = LiveClock().now()
    assert now.tzinfo is UTC


def test_ids_sort_by_time_and_carry_it() -> None:
    clock = SimClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    first = new_id(clock, "x_")
    clock.advance(timedelta(milliseconds=5))
    second = new_id(clock, "x_")
    assert first < second
    assert id_time(first, "x_") == datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert len({new_id(clock) for _ in range(1000)}) == 1000
