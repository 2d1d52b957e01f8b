"""Quotes fan out across server processes through Redis: a client on worker B receives the quotes that only
worker A's stream publishes (B runs no stream of its own). With the in-process bus, B would get nothing."""

import asyncio
import contextlib
from pathlib import Path

import pytest

from marketdesk.client import Backoff, DeskClient
from support.servers import first_admin_token, running_desk

# On the browser tests' worker, one after another with them: run beside them, this test's two desk servers
# started while the browser tests' own desks were generating their markets, and took minutes to come up in CI.
pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.xdist_group("browser")]
REDIS_DB = "redis://127.0.0.1:6379/14"
COMMON = {
    "MARKETDESK_SIM_SYMBOLS": "30",
    "MARKETDESK_SIM_HISTORY_YEARS": "1",
    "MARKETDESK_TICK_INTERVAL_S": "0.2",
    "MARKETDESK_LOG_LEVEL": "WARNING",
}


async def collect(url: str, channel: str, count: int, timeout_s: float) -> list[dict[str, object]]:
    received: list[dict[str, object]] = []
    token = first_admin_token(url)

    async def run() -> None:
        async with DeskClient(url, token=token, backoff=Backoff(max_attempts=5)) as client:
            await client.subscribe(channel)
            async for message in client.messages():
                received.append(message)
                if len(received) >= count:
                    return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run(), timeout_s)
    return received


def test_a_quote_published_by_one_worker_reaches_a_client_of_the_other(redis_url: str, tmp_path: Path) -> None:
    shared = {**COMMON, "MARKETDESK_BUS": "redis", "MARKETDESK_REDIS_URL": REDIS_DB}
    with (
        running_desk(tmp_path / "a", {**shared, "MARKETDESK_QUOTE_STREAM": "true"}) as worker_a,
        running_desk(tmp_path / "b", {**shared, "MARKETDESK_QUOTE_STREAM": "false"}) as worker_b,
    ):
        got = asyncio.run(collect(worker_b.url, "quotes:SIMX", count=15, timeout_s=60))
    assert worker_a.url != worker_b.url
    assert len(got) == 15, f"worker B relayed {len(got)} quotes"
    prices = [m["data"]["last"] for m in got]  # type: ignore[index]
    assert all(m["channel"] == "quotes:SIMX" for m in got)
    assert len(set(prices)) > 1, "the quotes move (15 ticks of 0.2 s span 3 simulated seconds)"


def test_without_redis_a_worker_that_runs_no_stream_relays_nothing(tmp_path: Path) -> None:
    settings = {**COMMON, "MARKETDESK_BUS": "memory", "MARKETDESK_QUOTE_STREAM": "false"}
    with running_desk(tmp_path / "solo", settings) as worker:
        got = asyncio.run(collect(worker.url, "quotes:SIMX", count=1, timeout_s=3))
    assert got == []
