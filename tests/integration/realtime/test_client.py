"""The Python client: backoff, addresses, and reconnecting (with its subscriptions) after a server restart."""

import asyncio
import contextlib
from pathlib import Path

import pytest

from marketdesk.client import Backoff, DeskClient, ws_url
from marketdesk.errors import Temporary
from support.servers import first_admin_token, free_port, running_desk

SETTINGS = {
    "MARKETDESK_SIM_SYMBOLS": "30",
    "MARKETDESK_SIM_HISTORY_YEARS": "1",
    "MARKETDESK_TICK_INTERVAL_S": "0.2",
    "MARKETDESK_LOG_LEVEL": "WARNING",
}


def test_backoff_grows_exponentially_within_its_cap_and_jitter() -> None:
    backoff = Backoff(base_s=0.5, cap_s=8.0)
    assert [backoff.delay(n, rng=lambda: 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff.delay(3, rng=lambda: 0.0) == 2.0  # jitter keeps at least half the delay


def test_addresses_map_http_to_ws() -> None:
    assert ws_url("http://127.0.0.1:8000/") == "ws://127.0.0.1:8000/api/v1/ws"
    assert ws_url("https://desk.example") == "wss://desk.example/api/v1/ws"


async def test_an_unreachable_desk_is_temporary_after_the_allowed_attempts() -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    client = DeskClient(f"http://127.0.0.1:{free_port()}", backoff=Backoff(max_attempts=3), sleep=no_wait)
    with pytest.raises(Temporary, match="cannot reach the desk"):
        await client.__aenter__()
    assert len(waits) == 2


@pytest.mark.slow
def test_the_client_reconnects_and_resubscribes_after_a_restart(tmp_path: Path) -> None:
    port = free_port()
    seen: list[str] = []

    async def listen(client: DeskClient, until: int) -> None:
        async for message in client.messages():
            seen.append(message["data"]["last"])
            if len(seen) >= until:
                return

    async def scenario() -> int:
        with running_desk(tmp_path, SETTINGS, port=port) as first:
            token = first_admin_token(first.url)  # the restarted desk keeps its users and signing keys
            client = DeskClient(first.url, token=token, backoff=Backoff(base_s=0.2, cap_s=1.0))
            await client.__aenter__()
            await client.subscribe("quotes:SIMX")
            await asyncio.wait_for(listen(client, 2), 20)
        # the server is gone; it comes back on the same port while the client keeps listening
        listening = asyncio.create_task(listen(client, 5))
        with running_desk(tmp_path, SETTINGS, log_name="second.log", port=port), contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(listening), 40)
        listening.cancel()
        await client.close()
        return client.connections

    connections = asyncio.run(scenario())
    assert connections >= 2, "the client opened a second connection"
    assert len(seen) >= 5, f"quotes after the restart: {len(seen) - 2}"
