"""kit/tasks.cancel_and_wait: a task is stopped for certain, even when something under it swallows a
cancellation (as redis-py has while reading a command's answer); and the quote hub stops that way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from marketdesk.kit.tasks import cancel_and_wait
from marketdesk.marketdata.port import Quote
from marketdesk.realtime.quotes import QuoteHub


class SwallowsOnce:
    """Awaits like a library call; the first cancellation that lands in it is swallowed and the call returns."""

    def __init__(self) -> None:
        self.swallowed = 0

    async def call(self) -> None:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if self.swallowed:
                raise
            self.swallowed += 1


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again_until_it_ends() -> None:
    library = SwallowsOnce()

    async def work() -> None:
        while True:
            await library.call()

    task = asyncio.create_task(work())
    await asyncio.sleep(0.05)
    task.cancel()  # what stopping did before: one cancellation, then a wait that never ended
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), 0.3)
    assert library.swallowed == 1 and not task.done()
    await asyncio.wait_for(cancel_and_wait(task, recancel_s=0.05), 5)
    assert task.cancelled()


async def test_a_task_that_ends_at_the_first_cancellation_is_not_waited_for() -> None:
    task = asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0)
    started = time.monotonic()
    await cancel_and_wait(task, recancel_s=5.0)
    assert task.cancelled() and time.monotonic() - started < 1.0


async def test_what_a_task_raises_on_the_way_out_is_not_raised_by_the_stop() -> None:
    async def fails_when_stopped() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    task = asyncio.create_task(fails_when_stopped())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert isinstance(task.exception(), RuntimeError)


class EndlessStream:
    async def stream(self) -> AsyncIterator[Sequence[Quote]]:
        while True:
            yield [Quote("SIMX", datetime(2026, 11, 20, 15, 0, tzinfo=UTC), Decimal("10.00"), volume=1)]


class SwallowingBus:
    """A bus whose publish swallows the first cancellation that lands in it."""

    def __init__(self) -> None:
        self.library = SwallowsOnce()
        self.published = 0
        self.flowing = asyncio.Event()

    async def publish(self, channel: str, data: Any) -> None:
        await self.library.call()
        self.published += 1
        if self.published >= 3:
            self.flowing.set()


async def test_the_quote_hub_stops_though_its_bus_swallowed_a_cancellation() -> None:
    bus = SwallowingBus()
    hub = QuoteHub(bus, EndlessStream())  # type: ignore[arg-type]
    await hub.start()
    await asyncio.wait_for(bus.flowing.wait(), 10)
    await asyncio.wait_for(hub.stop(), 10)
    assert bus.library.swallowed == 1  # the first cancellation landed in a publish and was lost there
    assert not hub.running
