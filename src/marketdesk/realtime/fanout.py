"""The WebSocket fan-out: one bus subscription per channel for the whole process, shared by its clients.

A `Relay` reads one bus channel, turns each message into the client's JSON text once, and hands that text
to every member's outbox. With 1,000 clients on `quotes:AAPL`, the bus sees one subscriber (one Redis
subscription), and each quote is serialized once rather than 1,000 times. The `Hub` also beats the
heartbeat for all its clients at once and closes the ones that have gone quiet.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Protocol

from marketdesk.bus import Bus, Subscription
from marketdesk.clock import Clock
from marketdesk.errors import Temporary
from marketdesk.kit.jsonutil import dumps
from marketdesk.kit.tasks import cancel_and_wait
from marketdesk.logs import get_logger

log = get_logger(__name__)


class Member(Protocol):
    """A client of the hub: takes ready JSON text without waiting, and can be told to go.

    `unanswered` counts the heartbeats sent since the client last said anything; the client resets it to 0
    whenever a message arrives from it.
    """

    unanswered: int

    def deliver(self, text: str) -> None: ...

    def shut(self, code: int, reason: str) -> None: ...


def envelope(public: str, ts: str, data_json: str) -> str:
    """The JSON text of `{"type": "message", "channel", "ts", "data"}`, with `data` already serialized."""
    return f'{{"type":"message","channel":{json.dumps(public)},"ts":"{ts}","data":{data_json}}}'


@dataclass(eq=False)
class Relay:
    """One bus channel relayed to the members that subscribed to it under one public name."""

    bus_channel: str
    public: str
    clock: Clock
    members: set[Member] = field(default_factory=set)
    subscription: Subscription | None = None
    task: asyncio.Task[None] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    failure: BaseException | None = None

    async def start(self, bus: Bus, queue_size: int) -> None:
        try:
            self.subscription = await bus.subscribe(self.bus_channel, queue_size=queue_size)
        except BaseException as exc:
            self.failure = exc
            raise
        finally:
            self.ready.set()
        self.task = asyncio.create_task(self._run(self.subscription), name=f"ws-relay:{self.bus_channel}")

    async def _run(self, subscription: Subscription) -> None:
        async for message in subscription:
            try:
                # the relay instant on the desk's clock, stamped once for every client of this message
                text = envelope(self.public, self.clock.now().isoformat(), dumps(message.data))
            except (TypeError, ValueError):
                log.exception("a message could not be relayed", channel=self.bus_channel)
                continue
            for member in list(self.members):
                member.deliver(text)

    async def stop(self) -> None:
        if self.subscription is not None:
            await self.subscription.close()
        if self.task is not None:
            await cancel_and_wait(self.task)


class Hub:
    """The relays and clients of one app on one event loop."""

    def __init__(
        self,
        bus: Bus,
        clock: Clock,
        *,
        heartbeat_s: float,
        missed_heartbeats: int,
        queue_size: int,
        close_unresponsive: int,
    ) -> None:
        self.bus = bus
        self.clock = clock
        self.heartbeat_s = heartbeat_s
        self.missed_heartbeats = missed_heartbeats
        self.queue_size = queue_size
        self.close_unresponsive = close_unresponsive
        self.loop = asyncio.get_running_loop()
        self.relays: dict[tuple[str, str], Relay] = {}
        self.members: set[Member] = set()
        self._pulse: asyncio.Task[None] | None = None

    # ---- clients ------------------------------------------------------------------------------------------

    def connect(self, member: Member) -> None:
        """Count `member` in for heartbeats."""
        self.members.add(member)
        if not self.beating:
            self._pulse = asyncio.create_task(self._beat(), name="ws-heartbeat")

    def disconnect(self, member: Member) -> None:
        self.members.discard(member)

    @property
    def beating(self) -> bool:
        """True while the heartbeat task runs (it stops with the last client)."""
        return self._pulse is not None and not self._pulse.done()

    async def _beat(self) -> None:
        # counting heartbeats rather than seconds: a server that stalls does not take it out on its clients
        reply_within_s = self.heartbeat_s * self.missed_heartbeats
        while self.members:
            await asyncio.sleep(self.heartbeat_s)
            text = dumps({"type": "heartbeat", "ts": self.clock.now(), "reply_within_s": reply_within_s})
            for member in list(self.members):
                if member.unanswered >= self.missed_heartbeats:
                    member.shut(self.close_unresponsive, f"no reply to {self.missed_heartbeats} heartbeats")
                else:
                    member.unanswered += 1
                    member.deliver(text)

    # ---- channels -----------------------------------------------------------------------------------------

    async def join(self, bus_channel: str, public: str, member: Member) -> None:
        """Relay `bus_channel` to `member` under the name `public`, subscribing on the bus if no one has yet."""
        key = (bus_channel, public)
        relay = self.relays.get(key)
        if relay is None:
            relay = Relay(bus_channel, public, self.clock)
            self.relays[key] = relay
            relay.members.add(member)
            try:
                await relay.start(self.bus, self.queue_size)
            except BaseException:
                self.relays.pop(key, None)
                raise
            if not relay.members:  # everyone left while the bus was subscribing
                await self._drop(key, relay)
            return
        relay.members.add(member)
        await relay.ready.wait()
        if relay.failure is not None:
            relay.members.discard(member)
            raise Temporary(f"cannot subscribe to {public} now", hint="Try again in a moment.")

    async def leave(self, bus_channel: str, public: str, member: Member) -> None:
        """Stop relaying `bus_channel` to `member`; the last member out closes the bus subscription."""
        key = (bus_channel, public)
        relay = self.relays.get(key)
        if relay is None:
            return
        relay.members.discard(member)
        if not relay.members and relay.ready.is_set():
            await self._drop(key, relay)

    async def _drop(self, key: tuple[str, str], relay: Relay) -> None:
        if self.relays.get(key) is relay:
            del self.relays[key]
        await relay.stop()

    def audience(self, bus_channel: str, public: str) -> int:
        """How many clients receive `bus_channel` as `public`."""
        relay = self.relays.get((bus_channel, public))
        return 0 if relay is None else len(relay.members)
