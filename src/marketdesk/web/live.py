"""Live quotes for one browser page, pushed from the server.

A page asks `LiveQuotes(desk, on_quote).follow(symbols)`. A background task waits for the browser's
websocket, subscribes to the quote hub (`quotes:SYMBOL` on the bus) and calls `on_quote(payload)` for every
quote; NiceGUI pushes the resulting element changes over its websocket. Nothing in the browser polls.

The subscription lives as long as the page: when NiceGUI deletes the client (the browser left and did not
reconnect within the reconnect timeout) the task is cancelled and the subscription closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from nicegui import background_tasks, ui
from prometheus_client import Gauge

from marketdesk.desk import Desk
from marketdesk.logs import get_logger
from marketdesk.telemetry import REGISTRY

log = get_logger(__name__)
QuoteHandler = Callable[[dict[str, Any]], None]

WEB_QUOTE_STREAMS = Gauge(
    "marketdesk_web_quote_streams", "Open live-quote subscriptions of web desk pages", registry=REGISTRY
)


class LiveQuotes:
    """The live quotes of a set of symbols, delivered to one page's handler. Create it inside a page."""

    def __init__(self, desk: Desk, on_quote: QuoteHandler) -> None:
        self._desk = desk
        self._on_quote = on_quote
        self._task: asyncio.Task[None] | None = None
        self.symbols: tuple[str, ...] = ()
        self.client = ui.context.client
        self.client.on_delete(self.stop)

    def follow(self, symbols: Sequence[str]) -> None:
        """Stream the quotes of `symbols` (replacing what was followed before); an empty list stops."""
        wanted = tuple(dict.fromkeys(symbols))
        if wanted == self.symbols and self._task is not None and not self._task.done():
            return
        self.stop()
        self.symbols = wanted
        if wanted and not self.client.is_deleted:
            self._task = background_tasks.create(self._run(wanted), name=f"web quotes {','.join(wanted)[:60]}")

    def stop(self) -> None:
        """Cancel the stream, if any; its subscription closes as the task ends."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self, symbols: tuple[str, ...]) -> None:
        await self.client.connected()
        if self.client.is_deleted:
            return
        subscription = await self._desk.quotes.subscribe(symbols)
        WEB_QUOTE_STREAMS.inc()
        try:
            async for message in subscription:
                if self.client.is_deleted:
                    return
                with self.client:
                    self._on_quote(message.data)
        finally:
            WEB_QUOTE_STREAMS.dec()
            await subscription.close()
