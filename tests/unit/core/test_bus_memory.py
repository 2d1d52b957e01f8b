import asyncio

from marketdesk.bus import InMemoryBus


async def test_subscribers_get_exact_and_pattern_channels_only() -> None:
    bus = InMemoryBus()
    exact = await bus.subscribe("quotes:AAA")
    pattern = await bus.subscribe("quotes:*")
    await bus.publish("quotes:AAA", {"last": "1.5"})
    await bus.publish("quotes:BBB", {"last": "2"})
    await bus.publish("orders", {"id": 1})
    first = await exact.get(timeout_s=1)
    assert first is not None and first.data == {"last": "1.5"}
    assert await exact.get(timeout_s=0.05) is None
    got = [await pattern.get(timeout_s=1), await pattern.get(timeout_s=1)]
    assert [m.channel for m in got if m] == ["quotes:AAA", "quotes:BBB"]
    await bus.close()


async def test_a_slow_subscriber_loses_oldest_messages_and_never_blocks_the_publisher() -> None:
    bus = InMemoryBus()
    slow = await bus.subscribe("t", queue_size=3)
    for i in range(10):
        await asyncio.wait_for(bus.publish("t", {"i": i}), timeout=0.5)
    received = [(await slow.get(timeout_s=0.1)) for _ in range(3)]
    assert [m.data["i"] for m in received if m] == [7, 8, 9]
    assert slow.dropped == 7


async def test_closing_a_subscription_unregisters_it_and_ends_iteration() -> None:
    bus = InMemoryBus()
    sub = await bus.subscribe("t")
    assert bus.subscriber_count == 1

    async def collect() -> list[int]:
        return [m.data["i"] async for m in sub]

    task = asyncio.create_task(collect())
    await bus.publish("t", {"i": 1})
    await asyncio.sleep(0)
    await sub.close()
    assert await asyncio.wait_for(task, 1) == [1]
    assert bus.subscriber_count == 0


async def test_decimals_and_datetimes_are_published_as_json_data() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    bus = InMemoryBus()
    sub = await bus.subscribe("t")
    await bus.publish("t", {"price": Decimal("1.10"), "ts": datetime(2026, 1, 2, tzinfo=UTC), "nan": float("nan")})
    message = await sub.get(timeout_s=1)
    assert message is not None
    assert message.data == {"price": "1.10", "ts": "2026-01-02T00:00:00+00:00", "nan": None}
