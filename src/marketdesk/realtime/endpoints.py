"""The WebSocket API at /api/v1/ws: subscribe to channels, receive what is published on them.

Authentication: a bearer token (`Authorization: Bearer …`), a `?token=` query parameter (browsers cannot set
headers on a WebSocket) or the web desk's session cookie. A missing, bad, expired or signed-out token gets
the connection closed with code 4401 and the reason.

Client messages: `{"op": "subscribe" | "unsubscribe", "channels": ["quotes:AAPL", ...]}` and `{"op": "ping"}`.
Server messages: `{"type": "message", "channel", "data"}`, `subscribed`, `unsubscribed`, `pong`, `heartbeat`,
and `error` with a message that says what to fix. A client that cannot keep up is closed with code 4008
instead of slowing everyone else. Authorization per channel arrives with user accounts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from marketdesk.accounts.cookies import ACCESS_COOKIE
from marketdesk.accounts.errors import Unauthorized
from marketdesk.accounts.roles import CurrentUser
from marketdesk.bus import Subscription
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError, Rejected
from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.metrics import WEBSOCKET_CLIENTS
from marketdesk.realtime.quotes import CHANNEL_PREFIX, quote_payload

router = APIRouter()
HEARTBEAT_S = 30.0
OUTBOX_SIZE = 2000
MAX_CHANNELS = 500
CLOSE_SLOW_CONSUMER = 4008
CLOSE_UNAUTHORIZED = 4401


def parse_channel(channel: str) -> str:
    """Check a channel name; only quote channels exist until accounts add private ones."""
    if not isinstance(channel, str) or not channel.startswith(CHANNEL_PREFIX):
        raise Rejected(f"unknown channel {channel!r}", hint="Subscribe to quotes:SYMBOL, e.g. quotes:AAPL.")
    return CHANNEL_PREFIX + normalize_symbol(channel.removeprefix(CHANNEL_PREFIX))


class Connection:
    """One client: its bus subscriptions and a bounded outbox drained by a single sender."""

    def __init__(self, websocket: WebSocket, desk: Desk, heartbeat_s: float) -> None:
        self.websocket = websocket
        self.desk = desk
        self.heartbeat_s = heartbeat_s
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=OUTBOX_SIZE)
        self.subscriptions: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}
        self.slow = asyncio.Event()

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            self.slow.set()

    async def sender(self) -> None:
        while True:
            message = await self.outbox.get()
            await self.websocket.send_text(json.dumps(to_jsonable(message)))

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            self.send({"type": "heartbeat", "ts": self.desk.clock.now().isoformat()})

    async def subscribe(self, channels: list[str]) -> None:
        fresh = [c for c in dict.fromkeys(parse_channel(c) for c in channels) if c not in self.subscriptions]
        if len(self.subscriptions) + len(fresh) > MAX_CHANNELS:
            raise Rejected(f"at most {MAX_CHANNELS} channels per connection")
        for channel in fresh:
            subscription = await self.desk.bus.subscribe(channel)
            task = asyncio.create_task(self._forward(subscription))
            self.subscriptions[channel] = (subscription, task)
        self.send({"type": "subscribed", "channels": sorted(self.subscriptions)})
        for channel in fresh:  # start each quote channel with the latest known price
            latest = self.desk.quotes.get(channel.removeprefix(CHANNEL_PREFIX))
            if latest is not None:
                self.send({"type": "message", "channel": channel, "data": quote_payload(latest)})

    async def _forward(self, subscription: Subscription) -> None:
        async for message in subscription:
            self.send({"type": "message", "channel": message.channel, "data": message.data})

    async def unsubscribe(self, channels: list[str]) -> None:
        for channel in channels:
            entry = self.subscriptions.pop(parse_channel(channel), None)
            if entry is not None:
                await entry[0].close()
                entry[1].cancel()
        self.send({"type": "unsubscribed", "channels": sorted(self.subscriptions)})

    async def handle(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            self.send({"type": "error", "message": 'messages must be JSON objects, e.g. {"op": "ping"}'})
            return
        op = message.get("op") if isinstance(message, dict) else None
        channels = message.get("channels", []) if isinstance(message, dict) else []
        try:
            if op == "ping":
                self.send({"type": "pong"})
            elif op in {"subscribe", "unsubscribe"}:
                if not isinstance(channels, list) or not channels:
                    raise Rejected(f"{op} needs a non-empty list of channels")
                await (self.subscribe(channels) if op == "subscribe" else self.unsubscribe(channels))
            else:
                raise Rejected(f"unknown op {op!r}", hint="Use subscribe, unsubscribe or ping.")
        except Rejected as exc:
            self.send({"type": "error", "message": exc.one_line()})

    async def close(self) -> None:
        for subscription, task in self.subscriptions.values():
            await subscription.close()
            task.cancel()
        self.subscriptions.clear()


def _presented_token(websocket: WebSocket) -> tuple[str, str]:
    header = websocket.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), "bearer"
    if websocket.query_params.get("token"):
        return websocket.query_params["token"], "bearer"
    return websocket.cookies.get(ACCESS_COOKIE, ""), "cookie"


async def _authenticate(websocket: WebSocket, desk: Desk) -> CurrentUser:
    token, via = _presented_token(websocket)
    if not token:
        raise Unauthorized("sign in first", hint="Connect with Authorization: Bearer <access token> or ?token=.")
    async with desk.db.session() as session:
        return await desk.accounts.authenticate(session, token, via=via)


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    desk: Desk = websocket.app.state.desk
    heartbeat_s = float(getattr(websocket.app.state, "ws_heartbeat_s", HEARTBEAT_S))
    await websocket.accept()
    try:
        await _authenticate(websocket, desk)
    except MarketdeskError as exc:
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason=exc.message[:120])
        return
    connection = Connection(websocket, desk, heartbeat_s)
    WEBSOCKET_CLIENTS.inc()
    sender = asyncio.create_task(connection.sender())
    beat = asyncio.create_task(connection.heartbeat())
    slow = asyncio.create_task(connection.slow.wait())

    async def receive() -> None:
        while True:
            await connection.handle(await websocket.receive_text())

    reader = asyncio.create_task(receive())
    try:
        done, _ = await asyncio.wait({reader, sender, slow}, return_when=asyncio.FIRST_COMPLETED)
        if slow in done:
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_SLOW_CONSUMER, reason="too slow: messages were piling up")
        for task in done:
            failure = None if task is slow or task.cancelled() else task.exception()
            if failure is not None and not isinstance(failure, WebSocketDisconnect | RuntimeError | ConnectionError):
                raise failure
    finally:
        for task in (reader, sender, beat, slow):
            task.cancel()
        await connection.close()
        WEBSOCKET_CLIENTS.dec()
