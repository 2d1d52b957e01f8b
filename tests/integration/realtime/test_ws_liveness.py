"""Dead connections are found and released, against a real uvicorn server: a client that goes silent is closed
after the allowed heartbeats (code 4009), one that vanishes is released at once, and one that answers the
heartbeats (the Python client) stays connected. Released means no relay for it, no bus subscription kept
alive by it, and the open-clients gauge back down."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosedError
from wsserver import Served, eventually, open_clients

from marketdesk.client import Backoff, DeskClient

HEARTBEAT_S = 0.1
MISSED = 3


@pytest.fixture
def ws_options() -> dict[str, Any]:
    return {"ws_heartbeat_s": HEARTBEAT_S, "ws_missed_heartbeats": MISSED}


async def next_of(ws: ClientConnection, kind: str, timeout_s: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout_s):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return dict(message)


async def subscribed(served: Served, channel: str = "quotes:AAA") -> ClientConnection:
    ws = await served.connect(ping_interval=None)  # no protocol pings from this client either
    await ws.send(json.dumps({"op": "subscribe", "channels": [channel]}))
    assert (await next_of(ws, "subscribed"))["channels"] == [channel]
    return ws


async def test_a_silent_client_is_closed_with_4009_and_everything_it_held_is_released(served: Served) -> None:
    clients, subscribers = open_clients(), served.bus.subscriber_count
    started = time.monotonic()  # the subscribe request is the last thing the client says
    ws = await subscribed(served)
    assert open_clients() == clients + 1
    assert served.bus.subscriber_count == subscribers + 1
    assert served.hub.audience("quotes:AAA", "quotes:AAA") == 1
    # the client keeps its TCP connection and keeps reading (heartbeats arrive), but never says anything
    heartbeats = 0
    with pytest.raises(ConnectionClosedError):
        async with asyncio.timeout(10):
            while True:
                heartbeats += json.loads(await ws.recv())["type"] == "heartbeat"
    silent_s = time.monotonic() - started
    assert ws.close_code == 4009, (ws.close_code, ws.close_reason)
    assert f"no reply to {MISSED} heartbeats" in (ws.close_reason or "")
    assert heartbeats == MISSED, "the server sent the heartbeats it allows to go unanswered, then closed"
    assert silent_s >= HEARTBEAT_S * MISSED, "not closed before the allowed silence"
    await eventually(lambda: open_clients() == clients, what="the gauge going back down")
    assert served.bus.subscriber_count == subscribers, "its bus subscription is closed"
    assert served.hub.audience("quotes:AAA", "quotes:AAA") == 0
    assert not served.hub.members


async def test_a_client_that_vanishes_without_a_close_is_released(served: Served) -> None:
    clients, subscribers = open_clients(), served.bus.subscriber_count
    ws = await subscribed(served)
    assert open_clients() == clients + 1
    ws.transport.abort()  # a reset, no closing handshake: what a killed process or a dropped link leaves
    await eventually(lambda: open_clients() == clients, what="the gauge going back down")
    assert served.bus.subscriber_count == subscribers
    assert served.hub.audience("quotes:AAA", "quotes:AAA") == 0


async def test_a_client_that_answers_heartbeats_stays_connected_and_keeps_receiving(served: Served) -> None:
    clients = open_clients()
    received: list[int] = []
    client = DeskClient(served.url, token=served.token, backoff=Backoff(max_attempts=1))
    await client.__aenter__()
    await client.subscribe("quotes:AAA")
    await eventually(lambda: served.hub.audience("quotes:AAA", "quotes:AAA") == 1, what="the subscription")

    async def publish() -> None:
        for step in range(40):  # 2 s: twenty heartbeats, six times the silence the server allows
            await served.bus.publish("quotes:AAA", {"symbol": "AAA", "step": step})
            await asyncio.sleep(0.05)

    async def listen() -> None:
        async for message in client.messages():
            received.append(message["data"]["step"])
            if message["data"]["step"] == 39:
                return

    try:
        async with asyncio.timeout(20):
            await asyncio.gather(publish(), listen())
        assert open_clients() == clients + 1, "the server still holds the connection"
    finally:
        await client.close()
    assert client.connections == 1, "never closed for silence, never reconnected"
    assert received == list(range(40))
    await eventually(lambda: open_clients() == clients, what="the gauge going back down after close")
