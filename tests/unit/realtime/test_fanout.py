"""The fan-out hub with the in-memory bus and recording members: one bus subscription per channel, each message
serialized once for all its clients, heartbeats, and closing the clients that went quiet."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from marketdesk.bus import InMemoryBus
from marketdesk.clock import SimClock
from marketdesk.realtime.fanout import Hub

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@dataclass(eq=False)
class Recorder:
    """A member that keeps what it is given."""

    unanswered: int = 0
    texts: list[str] = field(default_factory=list)
    shut_with: tuple[int, str] | None = None

    def deliver(self, text: str) -> None:
        self.texts.append(text)

    def shut(self, code: int, reason: str) -> None:
        self.shut_with = (code, reason)


def make_hub(bus: InMemoryBus, heartbeat_s: float = 60.0) -> Hub:
    return Hub(
        bus, SimClock(NOW), heartbeat_s=heartbeat_s, missed_heartbeats=3, queue_size=100, close_unresponsive=4009
    )


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_many_clients_of_a_channel_share_one_bus_subscription_and_one_serialization() -> None:
    bus = InMemoryBus()
    hub = make_hub(bus)
    members = [Recorder() for _ in range(3)]
    await asyncio.gather(*(hub.join("orders:user:u1", "orders", m) for m in members))  # joining at once, too
    assert bus.subscriber_count == 1
    assert hub.audience("orders:user:u1", "orders") == 3
    await bus.publish("orders:user:u1", {"order": "o-1", "qty": 5})
    await settle()
    texts = [m.texts for m in members]
    assert all(len(t) == 1 for t in texts)
    assert texts[0][0] is texts[1][0] is texts[2][0], "one string for every client"
    assert json.loads(texts[0][0]) == {
        "type": "message",
        "channel": "orders",
        "ts": NOW.isoformat(),
        "data": {"order": "o-1", "qty": 5},
    }
    for member in members:
        await hub.leave("orders:user:u1", "orders", member)
    assert bus.subscriber_count == 0, "the last one out closes the bus subscription"
    assert not hub.relays


async def test_a_member_that_left_gets_nothing_more_and_the_others_carry_on() -> None:
    bus = InMemoryBus()
    hub = make_hub(bus)
    stays, goes = Recorder(), Recorder()
    await hub.join("quotes:AAA", "quotes:AAA", stays)
    await hub.join("quotes:AAA", "quotes:AAA", goes)
    await hub.leave("quotes:AAA", "quotes:AAA", goes)
    await bus.publish("quotes:AAA", {"last": "1.00"})
    await settle()
    assert (len(stays.texts), len(goes.texts)) == (1, 0)
    assert bus.subscriber_count == 1


async def test_a_client_that_leaves_the_allowed_heartbeats_unanswered_is_closed_and_one_that_answers_is_not() -> None:
    hub = make_hub(InMemoryBus(), heartbeat_s=0.01)
    live, quiet = Recorder(), Recorder()
    hub.connect(live)
    hub.connect(quiet)
    assert hub.beating
    for _ in range(10):
        await asyncio.sleep(0.01)
        live.unanswered = 0  # what the endpoint does when a message arrives from the client
    beats = [json.loads(t) for t in quiet.texts]
    assert len(beats) == 3, "exactly the heartbeats it was allowed to leave unanswered"
    assert all(b["type"] == "heartbeat" and b["reply_within_s"] == 0.03 for b in beats)
    assert quiet.shut_with == (4009, "no reply to 3 heartbeats")
    assert live.shut_with is None
    assert len(live.texts) > 3
    hub.disconnect(live)
    hub.disconnect(quiet)
    await asyncio.sleep(0.03)
    assert not hub.beating, "the heartbeat stops with its last client"
