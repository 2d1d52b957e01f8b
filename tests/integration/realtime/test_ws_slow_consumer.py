"""A client that stops reading is closed with 4008 while another on the same channel keeps receiving, against a
real uvicorn server over TCP.

The slow client is a plain `websockets` client that never calls recv(): once its library holds a few
messages it stops reading the socket, whose receive buffer is made small, so the server's sends back up
for real (kernel buffers, then uvicorn's write buffer) until its outbox, made small here, overflows. The
messages carry random padding: permessage-deflate would shrink a repeated one to almost nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from wsserver import Served, eventually, open_clients

OUTBOX = 16
PAD_BYTES = 16_000  # 32 KB of hex a message: the buffers between server and client fill in a few hundred
CHANNEL = "quotes:AAA"
MOST_BEFORE = 3000  # ≈ 100 MB: far more than any socket buffer holds, so the slow client must be found


def padded(seq: int) -> dict[str, Any]:
    return {"seq": seq, "pad": os.urandom(PAD_BYTES).hex()}


@pytest.fixture
def ws_options() -> dict[str, Any]:
    return {"ws_outbox_size": OUTBOX}


def small_receive_buffer() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


async def subscribe(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"op": "subscribe", "channels": [CHANNEL]}))
    while json.loads(await ws.recv())["type"] != "subscribed":
        pass


async def test_a_client_that_stops_reading_is_closed_with_4008_and_the_other_keeps_receiving(served: Served) -> None:
    clients = open_clients()
    port = int(served.url.rsplit(":", 1)[1])
    sock = small_receive_buffer()
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    slow = await served.connect(sock=sock, max_queue=4, ping_interval=None)
    steady = await served.connect(ping_interval=None)
    received: list[int] = []

    async def read_steadily() -> None:
        async for raw in steady:
            message = json.loads(raw)
            if message["type"] == "message":
                received.append(message["data"]["seq"])

    reader: asyncio.Task[None] | None = None
    try:
        await subscribe(slow)
        await subscribe(steady)
        assert served.hub.audience(CHANNEL, CHANNEL) == 2
        reader = asyncio.create_task(read_steadily())
        seq = 0
        while served.hub.audience(CHANNEL, CHANNEL) == 2:  # until the server gives up on the slow client
            assert seq < MOST_BEFORE, f"{seq} messages of 32 KB and the client that reads nothing was not closed"
            await served.bus.publish(CHANNEL, padded(seq))
            seq += 1
            await asyncio.sleep(0.001)
        overflowed_at = seq
        await eventually(lambda: open_clients() == clients + 1, what="the slow client's release")
        for _ in range(50):  # the steady client is still served
            await served.bus.publish(CHANNEL, padded(seq))
            seq += 1
            await asyncio.sleep(0.001)
        await eventually(lambda: len(received) == seq, what=f"the steady client receiving all {seq} messages")
        assert received == list(range(seq)), "in order, none lost"
        assert served.hub.audience(CHANNEL, CHANNEL) == 1

        # the slow client reads again: what was already on its way, then the close frame with 4008
        behind = 0
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(20):
                while True:
                    behind += json.loads(await slow.recv())["type"] == "message"
        assert closed.value.rcvd is not None, closed.value
        assert closed.value.rcvd.code == 4008 and "too slow" in closed.value.rcvd.reason, closed.value
        assert behind < overflowed_at, "it missed what came after it was closed"
    finally:
        if reader is not None:
            reader.cancel()
        slow.transport.abort()  # if the test failed early, a client that never read must not hold the server
        await steady.close()
    await eventually(lambda: open_clients() == clients, what="the gauge going back down")
