"""A Python client for the desk's WebSocket API, with automatic reconnection.

>>> async with DeskClient("http://127.0.0.1:8000", token=access_token) as client:  # doctest: +SKIP
...     await client.subscribe("quotes:AAPL")
...     async for message in client.messages():
...         print(message["channel"], message["data"]["last"])

After a dropped connection the client reconnects with exponential backoff and jitter, resubscribes to its
channels, and carries on; a refusal (a bad token, close code 4401/4403) is not retried. While `messages()`
is being iterated it answers the desk's heartbeats, so the desk knows the client is alive (a client that
stays silent for three heartbeats is closed with 4009, and this one then reconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from marketdesk.errors import Rejected, Temporary

REFUSED_CODES = {4401, 4403, 1008}  # bad or expired token, forbidden channel, policy violation
HEARTBEAT_REPLY = json.dumps({"op": "pong"})


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: min(cap, base × 2^attempt) × random(0.5, 1)."""

    base_s: float = 0.5
    cap_s: float = 30.0
    max_attempts: int | None = None  # None: keep trying

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        return min(self.cap_s, self.base_s * 2**attempt) * (0.5 + rng() / 2)


def ws_url(base_url: str) -> str:
    """The WebSocket address of a desk from its http(s) address."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base.removeprefix("https://")
    elif base.startswith("http://"):
        base = "ws://" + base.removeprefix("http://")
    return f"{base}/api/v1/ws"


class DeskClient:
    """Subscribe to desk channels and receive their messages, reconnecting as needed."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.url = ws_url(base_url)
        self.token = token
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self.channels: set[str] = set()
        self.connections = 0
        self._connection: ClientConnection | None = None
        self._closed = False

    async def __aenter__(self) -> DeskClient:
        await self._connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._connection is not None:
            await self._connection.close()

    async def _connect(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        attempt = 0
        while True:
            try:
                self._connection = await connect(self.url, additional_headers=headers, open_timeout=10)
                self.connections += 1
                if self.channels:
                    await self._send({"op": "subscribe", "channels": sorted(self.channels)})
                return
            except InvalidStatus as exc:
                raise Rejected(f"the desk refused the connection ({exc.response.status_code})") from None
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                if self.backoff.max_attempts is not None and attempt + 1 >= self.backoff.max_attempts:
                    raise Temporary(f"cannot reach the desk at {self.url}: {exc}", hint="Is it running?") from None
                await self._sleep(self.backoff.delay(attempt))
                attempt += 1

    async def _send(self, message: dict[str, Any]) -> None:
        if self._connection is None:
            raise Temporary("not connected")
        await self._connection.send(json.dumps(message))

    async def subscribe(self, *channels: str) -> None:
        """Subscribe to channels, e.g. "quotes:AAPL"; kept across reconnections."""
        self.channels.update(channels)
        await self._send({"op": "subscribe", "channels": list(channels)})

    async def unsubscribe(self, *channels: str) -> None:
        self.channels.difference_update(channels)
        await self._send({"op": "unsubscribe", "channels": list(channels)})

    async def messages(self, *, kinds: frozenset[str] = frozenset({"message"})) -> AsyncIterator[dict[str, Any]]:
        """Yield messages of the given kinds forever (reconnecting on drops) until `close()`."""
        while not self._closed:
            connection = self._connection
            if connection is None:
                await self._connect()
                continue
            try:
                raw = await connection.recv()
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                if self._closed:
                    return
                if code in REFUSED_CODES:
                    reason = exc.rcvd.reason if exc.rcvd is not None else ""
                    raise Rejected(f"the desk closed the connection: {reason or code}") from None
                self._connection = None
                with contextlib.suppress(Exception):
                    await connection.close()
                continue
            message = json.loads(raw)
            if message.get("type") == "heartbeat":
                with contextlib.suppress(ConnectionClosed):  # a closed connection is noticed by the next recv()
                    await connection.send(HEARTBEAT_REPLY)
            if message.get("type") in kinds:
                yield message
