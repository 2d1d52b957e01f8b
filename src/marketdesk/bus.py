"""Publish/subscribe: in-process by default, Redis pub/sub when the desk runs on several processes.

Channels are strings such as `quotes:AAPL`. A subscription takes exact channels or glob patterns
(`quotes:*`). Messages are JSON-able dicts. A slow subscriber never slows the publisher: its queue is
bounded, and when it is full the oldest message is dropped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from marketdesk.errors import Temporary
from marketdesk.kit.jsonutil import dumps, to_jsonable
from marketdesk.kit.tasks import cancel_and_wait

DEFAULT_QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Message:
    """One published message."""

    channel: str
    data: dict[str, Any]


class Subscription:
    """A live subscription. Iterate it, or `await get()`; close it (or leave its `async with`) when done."""

    def __init__(self, patterns: tuple[str, ...], queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if not patterns:
            raise ValueError("subscribe to at least one channel or pattern")
        self.patterns = patterns
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=queue_size)
        self.dropped = 0
        self.closed = False
        self._on_close: list[Any] = []

    def matches(self, channel: str) -> bool:
        return any(p == channel or fnmatch.fnmatchcase(channel, p) for p in self.patterns)

    def deliver(self, message: Message) -> None:
        """Queue a message without waiting; drop the oldest when full."""
        if self.closed:
            return
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(message)

    async def get(self, timeout_s: float | None = None) -> Message | None:
        """The next message, or None on timeout or when closed."""
        if self.closed and self._queue.empty():
            return None
        try:
            return await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            message = await self._queue.get()
            if message is None:
                return
            yield message

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)
        for callback in self._on_close:
            await callback(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Bus(Protocol):
    """The pub/sub port."""

    async def publish(self, channel: str, data: Mapping[str, Any]) -> None: ...

    async def subscribe(self, *patterns: str, queue_size: int = DEFAULT_QUEUE_SIZE) -> Subscription: ...

    async def close(self) -> None: ...


@dataclass
class InMemoryBus:
    """Pub/sub inside one process."""

    _subscriptions: list[Subscription] = field(default_factory=list)

    async def publish(self, channel: str, data: Mapping[str, Any]) -> None:
        listening = [subscription for subscription in self._subscriptions if subscription.matches(channel)]
        if not listening:  # nobody to tell: the data is not turned into JSON (an order's views cost 2% of it)
            return
        message = Message(channel, to_jsonable(dict(data)))
        for subscription in listening:
            subscription.deliver(message)

    async def subscribe(self, *patterns: str, queue_size: int = DEFAULT_QUEUE_SIZE) -> Subscription:
        subscription = Subscription(patterns, queue_size)
        self._subscriptions.append(subscription)

        async def _forget(sub: Subscription) -> None:
            with contextlib.suppress(ValueError):
                self._subscriptions.remove(sub)

        subscription._on_close.append(_forget)
        return subscription

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    async def close(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.close()


class RedisBus:
    """Pub/sub across processes through Redis. One reader task per subscription."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._readers: dict[Subscription, asyncio.Task[None]] = {}

    @property
    def _redis(self) -> Any:
        # a redis.asyncio client belongs to the event loop it first ran on; the desk may be prepared on one
        # loop (`marketdesk up` before serving) and served on another, so make one client per loop
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = aioredis.from_url(self.url, decode_responses=True)
            self._loop = loop
        return self._client

    async def ping(self) -> None:
        """Check the server answers; raise `Temporary` with the fix when it does not."""
        import redis.exceptions

        try:
            await self._redis.ping()
        except (redis.exceptions.ConnectionError, OSError) as exc:
            raise Temporary(
                f"Redis at {self.url} does not answer ({exc})",
                hint="Start Redis, or set MARKETDESK_BUS=memory for a single process.",
            ) from None

    async def publish(self, channel: str, data: Mapping[str, Any]) -> None:
        await self._redis.publish(channel, dumps(dict(data)))

    async def subscribe(self, *patterns: str, queue_size: int = DEFAULT_QUEUE_SIZE) -> Subscription:
        subscription = Subscription(patterns, queue_size)
        pubsub = self._redis.pubsub()
        exact = [p for p in patterns if not _is_pattern(p)]
        globs = [p for p in patterns if _is_pattern(p)]
        if exact:
            await pubsub.subscribe(*exact)
        if globs:
            await pubsub.psubscribe(*globs)
        await _await_confirmations(pubsub, len(exact) + len(globs))

        async def _read() -> None:
            async for raw in pubsub.listen():
                if raw.get("type") not in {"message", "pmessage"}:
                    continue
                try:
                    data = json.loads(raw["data"])
                except (TypeError, ValueError):
                    continue  # not ours: another publisher on the same channel
                subscription.deliver(Message(raw["channel"], data))

        task = asyncio.create_task(_read(), name=f"redisbus:{','.join(patterns)}")
        self._readers[subscription] = task

        async def _stop(sub: Subscription) -> None:
            reader = self._readers.pop(sub, None)
            if reader is not None:
                await cancel_and_wait(reader)  # redis-py may swallow one cancellation (see there)
            with contextlib.suppress(Exception):
                await pubsub.aclose()

        subscription._on_close.append(_stop)
        return subscription

    async def close(self) -> None:
        for subscription in list(self._readers):
            await subscription.close()
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None
        self._loop = None


async def _await_confirmations(pubsub: Any, expected: int, timeout_s: float = 5.0) -> None:
    # Redis confirms each (p)subscribe; waiting for them means a publish made after subscribe() returns
    # is delivered, with no race.
    confirmed = 0
    deadline = asyncio.get_running_loop().time() + timeout_s
    while confirmed < expected:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise Temporary("Redis did not confirm the subscription in time", hint="Check the Redis server.")
        raw = await pubsub.get_message(timeout=remaining)
        if raw and raw.get("type") in {"subscribe", "psubscribe"}:
            confirmed += 1


def _is_pattern(channel: str) -> bool:
    return any(ch in channel for ch in "*?[")
