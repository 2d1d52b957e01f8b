"""The Redis bus on the real Redis server (skips, saying why, when Redis is not running)."""

import asyncio
import os
import sys
import textwrap

import pytest

from marketdesk.bus import RedisBus
from marketdesk.errors import Temporary

pytestmark = [pytest.mark.redis, pytest.mark.xdist_group("redis")]


async def test_published_messages_reach_exact_and_pattern_subscribers(redis_url: str) -> None:
    bus = RedisBus(redis_url)
    await bus.ping()
    exact = await bus.subscribe("md-test:quotes:AAA")
    pattern = await bus.subscribe("md-test:quotes:*")
    await bus.publish("md-test:quotes:AAA", {"last": "10.5"})
    await bus.publish("md-test:quotes:BBB", {"last": "11"})
    got = await exact.get(timeout_s=2)
    assert got is not None and got.channel == "md-test:quotes:AAA" and got.data == {"last": "10.5"}
    channels = [(await pattern.get(timeout_s=2)) for _ in range(2)]
    assert sorted(m.channel for m in channels if m) == ["md-test:quotes:AAA", "md-test:quotes:BBB"]
    await bus.close()


async def test_a_message_published_by_another_process_arrives(redis_url: str) -> None:
    bus = RedisBus(redis_url)
    sub = await bus.subscribe("md-test:cross")
    script = textwrap.dedent(
        f"""
        import asyncio
        from marketdesk.bus import RedisBus
        async def main():
            bus = RedisBus({redis_url!r})
            await bus.publish("md-test:cross", {{"from": "other process"}})
            await bus.close()
        asyncio.run(main())
        """
    )
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, env=dict(os.environ))
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    message = await sub.get(timeout_s=5)
    assert message is not None and message.data == {"from": "other process"}
    await bus.close()


async def test_unsubscribed_channels_stop_delivering(redis_url: str) -> None:
    bus = RedisBus(redis_url)
    sub = await bus.subscribe("md-test:gone")
    await sub.close()
    other = await bus.subscribe("md-test:gone")
    await bus.publish("md-test:gone", {"n": 1})
    assert await sub.get(timeout_s=0.2) is None
    assert (await other.get(timeout_s=2)) is not None
    await bus.close()


async def test_a_dead_redis_is_a_temporary_error_with_the_fix() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")
    with pytest.raises(Temporary, match="does not answer") as caught:
        await bus.ping()
    assert "MARKETDESK_BUS=memory" in caught.value.one_line()
    await bus.close()
