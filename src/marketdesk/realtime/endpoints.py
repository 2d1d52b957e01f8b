"""The WebSocket API at /api/v1/ws: subscribe to channels, receive what is published on them.

Authentication: a bearer token (`Authorization: Bearer …`), a `?token=` query parameter (browsers cannot set
headers on a WebSocket) or the web desk's session cookie. A missing, bad, expired or signed-out token gets
the connection closed with code 4401 and the reason.

Channels (see `marketdesk.realtime.channels`): `quotes:SYMBOL` for any signed-in user; `orders` and `alerts`,
which carry only the caller's own orders and alerts; `portfolio:ID`, only for the portfolio's owner. A
refused channel is answered with an `error` message naming it; the connection stays open and keeps the
channels it has.

Client messages: `{"op": "subscribe" | "unsubscribe", "channels": ["quotes:AAPL", "orders", ...]}`,
`{"op": "ping"}` (answered with `pong`) and `{"op": "pong"}` (the answer to a heartbeat; no reply).

Server messages:
- `{"type": "message", "channel", "ts", "data"}`: `channel` is the name the client subscribed to (`orders`,
  never the bus's per-user name); `ts` is when the desk relayed it (ISO 8601, the desk's clock), so a client
  on the same clock can measure delivery latency. A quote's own `data.ts` is the instant it was priced.
- `subscribed` and `unsubscribed` with every channel the connection now has; `pong`;
  `error` with a `message` that says what to fix (and the `channel` it is about, when it is about one);
- `heartbeat` every 30 s (`app.state.ws_heartbeat_s`) with `reply_within_s`.

Liveness: every message from the client counts as a sign of life. A client that sends nothing for
`ws_missed_heartbeats` (3) heartbeats is closed with code 4009; answer each heartbeat with `{"op": "pong"}`
(`marketdesk.client.DeskClient` does). A client that cannot keep up, its outbox of `ws_outbox_size` (2000)
messages full, is closed with code 4008 instead of slowing everyone else. Either way its subscriptions are
released at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect

from marketdesk.accounts.cookies import ACCESS_COOKIE
from marketdesk.accounts.errors import Unauthorized
from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError, Rejected
from marketdesk.kit.jsonutil import dumps
from marketdesk.realtime.channels import CHANNELS, ChannelRegistry, Route
from marketdesk.realtime.fanout import Hub, envelope
from marketdesk.telemetry import WEBSOCKET_CLIENTS

router = APIRouter()
HEARTBEAT_S = 30.0
MISSED_HEARTBEATS = 3
OUTBOX_SIZE = 2000
MAX_CHANNELS = 500
CLOSE_TIMEOUT_S = 10.0
CLOSE_SLOW_CONSUMER = 4008
CLOSE_UNRESPONSIVE = 4009
CLOSE_UNAUTHORIZED = 4401
CLIENT_FIELDS = frozenset({"op", "channels"})


@dataclass(frozen=True, slots=True)
class WsSettings:
    """The WebSocket API's tuning, read from `app.state` (tests shorten the heartbeat and the outbox)."""

    heartbeat_s: float = HEARTBEAT_S
    missed_heartbeats: int = MISSED_HEARTBEATS
    outbox_size: int = OUTBOX_SIZE

    @classmethod
    def of(cls, app: FastAPI) -> WsSettings:
        state = app.state
        settings = cls(
            heartbeat_s=float(getattr(state, "ws_heartbeat_s", HEARTBEAT_S)),
            missed_heartbeats=int(getattr(state, "ws_missed_heartbeats", MISSED_HEARTBEATS)),
            outbox_size=int(getattr(state, "ws_outbox_size", OUTBOX_SIZE)),
        )
        if settings.heartbeat_s <= 0 or settings.missed_heartbeats < 1 or settings.outbox_size < 1:
            raise ValueError(f"WebSocket settings must be positive, got {settings}")
        return settings


class Connection:
    """One client: its routes, and a bounded outbox of JSON text drained by a single sender."""

    def __init__(
        self, websocket: WebSocket, desk: Desk, user: CurrentUser, hub: Hub, channels: ChannelRegistry, outbox: int
    ) -> None:
        self.websocket = websocket
        self.desk = desk
        self.user = user
        self.hub = hub
        self.channels = channels
        self.outbox: deque[str] = deque()
        self.outbox_size = outbox
        self._waiting: asyncio.Future[None] | None = None  # the sender's, while the outbox is empty
        self.routes: dict[str, Route] = {}  # public name -> route
        self.unanswered = 0  # heartbeats since the client last sent anything
        self.closing: tuple[int, str] | None = None
        self.finished: asyncio.Future[None] = hub.loop.create_future()  # resolved when the connection must end

    # ---- what the hub calls -------------------------------------------------------------------------------

    def deliver(self, text: str) -> None:
        """Queue text for the client without waiting; a full outbox means the client cannot keep up."""
        if self.closing is not None:
            return
        if len(self.outbox) >= self.outbox_size:
            self.shut(CLOSE_SLOW_CONSUMER, "too slow: messages were piling up")
            return
        self.outbox.append(text)
        # a deque and one future rather than an asyncio.Queue: this runs once per client per message
        waiting, self._waiting = self._waiting, None
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    def shut(self, code: int, reason: str) -> None:
        """Ask the endpoint to release this client and close it with `code`."""
        if self.closing is None:
            self.closing = (code, reason)
            self.finish()

    def finish(self, _: object = None) -> None:
        if not self.finished.done():
            self.finished.set_result(None)

    # ---- the two loops ------------------------------------------------------------------------------------

    async def send_all(self) -> None:
        send, outbox = self.websocket.send_text, self.outbox
        while True:
            while outbox:
                await send(outbox.popleft())
            self._waiting = self.hub.loop.create_future()
            await self._waiting

    async def read_all(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            self.unanswered = 0
            text = message.get("text")
            if text is None:
                self.reply({"type": "error", "message": 'send text frames of JSON, e.g. {"op": "ping"}'})
            else:
                await self.handle(text)

    # ---- requests -----------------------------------------------------------------------------------------

    def reply(self, message: dict[str, Any]) -> None:
        self.deliver(dumps(message))

    async def handle(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self.reply({"type": "error", "message": 'messages must be JSON objects, e.g. {"op": "ping"}'})
            return
        op = message.get("op")
        try:
            unknown = sorted(set(message) - CLIENT_FIELDS)
            if unknown:
                raise Rejected(f"unknown field(s) {', '.join(unknown)}", hint='Send only "op" and "channels".')
            if op == "ping":
                self.reply({"type": "pong"})
            elif op == "pong":
                pass  # the answer to a heartbeat: receiving it was the point
            elif op in {"subscribe", "unsubscribe"}:
                channels = message.get("channels")
                if not isinstance(channels, list) or not channels:
                    raise Rejected(f"{op} needs a non-empty list of channels")
                await (self.subscribe(channels) if op == "subscribe" else self.unsubscribe(channels))
            else:
                raise Rejected(f"unknown op {op!r}", hint="Use subscribe, unsubscribe, ping or pong.")
        except MarketdeskError as exc:
            self.reply({"type": "error", "message": exc.one_line()})

    async def subscribe(self, names: list[Any]) -> None:
        """Authorize each channel on its own: refused ones get an error, the others are subscribed."""
        if len(names) > MAX_CHANNELS:
            raise Rejected(f"at most {MAX_CHANNELS} channels per connection")
        fresh: dict[str, Route] = {}
        for name in names:
            try:
                route = await self.channels.route(self.desk, self.user, name)
            except MarketdeskError as exc:
                self.reply({"type": "error", "channel": name, "message": exc.one_line()})
                continue
            if route.public not in self.routes:
                fresh[route.public] = route
        if len(self.routes) + len(fresh) > MAX_CHANNELS:
            raise Rejected(f"at most {MAX_CHANNELS} channels per connection")
        for route in fresh.values():
            self.routes[route.public] = route
            try:
                await self.hub.join(route.bus, route.public, self)
            except MarketdeskError:
                del self.routes[route.public]
                raise
        self.reply({"type": "subscribed", "channels": sorted(self.routes)})
        for route in fresh.values():  # start with the latest value where the channel has one (a quote)
            latest = route.family.latest(self.desk, route.argument) if route.family.latest else None
            if latest is not None:
                self.deliver(envelope(route.public, self.desk.clock.now().isoformat(), dumps(latest)))

    async def unsubscribe(self, names: list[Any]) -> None:
        for name in names:
            try:
                _, _, public = self.channels.parse(name)
            except MarketdeskError as exc:
                self.reply({"type": "error", "channel": name, "message": exc.one_line()})
                continue
            route = self.routes.pop(public, None)
            if route is not None:
                await self.hub.leave(route.bus, route.public, self)
        self.reply({"type": "unsubscribed", "channels": sorted(self.routes)})

    async def release(self) -> None:
        """Leave every channel and the heartbeat; nothing is relayed to this client any more."""
        self.hub.disconnect(self)
        routes, self.routes = list(self.routes.values()), {}
        for route in routes:
            await self.hub.leave(route.bus, route.public, self)


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


def hub_of(app: FastAPI) -> Hub:
    """The app's hub on the running event loop (made on first use; a new loop or bus gets a new one)."""
    desk: Desk = app.state.desk
    hub: Hub | None = getattr(app.state, "ws_hub", None)
    settings = WsSettings.of(app)
    if hub is None or hub.loop is not asyncio.get_running_loop() or hub.bus is not desk.bus:
        hub = Hub(
            desk.bus,
            desk.clock,
            heartbeat_s=settings.heartbeat_s,
            missed_heartbeats=settings.missed_heartbeats,
            queue_size=max(1000, settings.outbox_size),
            close_unresponsive=CLOSE_UNRESPONSIVE,
        )
        app.state.ws_hub = hub
    return hub


def _failure(task: asyncio.Task[None]) -> BaseException | None:
    """What a finished reader or sender raised, unless it is the normal end of a connection."""
    if task.cancelled():
        return None
    failure = task.exception()
    # the client went away, or the socket broke, while reading or sending
    return None if isinstance(failure, WebSocketDisconnect | RuntimeError | OSError) else failure


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    app: FastAPI = websocket.app
    desk: Desk = app.state.desk
    settings = WsSettings.of(app)
    await websocket.accept()
    try:
        user = await _authenticate(websocket, desk)
    except MarketdeskError as exc:
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason=exc.message[:120])
        return
    hub = hub_of(app)
    channels: ChannelRegistry = getattr(app.state, "ws_channels", CHANNELS)
    connection = Connection(websocket, desk, user, hub, channels, settings.outbox_size)
    hub.connect(connection)
    WEBSOCKET_CLIENTS.inc()
    reader = asyncio.create_task(connection.read_all())
    sender = asyncio.create_task(connection.send_all())
    for task in (reader, sender):
        task.add_done_callback(connection.finish)  # the client left, the socket failed, or a bug
    try:
        await connection.finished
    finally:
        for task in (reader, sender):
            task.cancel()
        WEBSOCKET_CLIENTS.dec()
        # released even when this handler is itself cancelled (server shutdown): shielded, it runs to the end
        await asyncio.shield(asyncio.ensure_future(connection.release()))
    failure = next((e for t in (reader, sender) if t.done() and (e := _failure(t)) is not None), None)
    if connection.closing is not None:
        code, reason = connection.closing
        # a client that stopped reading holds the close frame back too: give up on it after a while
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code=code, reason=reason), CLOSE_TIMEOUT_S)
    if failure is not None:
        raise failure  # a bug: let the server log it
