"""The quote hub: runs the live quote stream, keeps the latest quote per symbol, and publishes every quote on
the bus as `quotes:SYMBOL`, which the WebSocket API and the web desk subscribe to (server push, no polling)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from marketdesk.bus import Bus, Subscription
from marketdesk.kit.tasks import cancel_and_wait
from marketdesk.logs import get_logger
from marketdesk.marketdata.port import Quote, QuoteStream
from marketdesk.telemetry import QUOTE_STREAM_ERRORS, QUOTES_PUBLISHED

log = get_logger(__name__)
CHANNEL_PREFIX = "quotes:"
RESTART_DELAY_S = 2.0


def quote_channel(symbol: str) -> str:
    return f"{CHANNEL_PREFIX}{symbol}"


def quote_payload(quote: Quote) -> dict[str, Any]:
    """A quote as bus/WebSocket data: prices as exact decimal strings."""
    return {
        "symbol": quote.symbol,
        "ts": quote.ts.isoformat(),
        "last": str(quote.last),
        "bid": None if quote.bid is None else str(quote.bid),
        "ask": None if quote.ask is None else str(quote.ask),
        "prev_close": None if quote.prev_close is None else str(quote.prev_close),
        "change_pct": quote.change_pct,
        "volume": quote.volume,
        "source": quote.source,
        "stale": quote.stale,
    }


def payload_last(data: dict[str, Any]) -> Decimal:
    """The last price of a quote payload."""
    return Decimal(data["last"])


class QuoteHub:
    """Consumes a `QuoteStream` and fans quotes out on the bus."""

    def __init__(self, bus: Bus, stream: QuoteStream | None) -> None:
        self.bus = bus
        self.stream = stream
        self._latest: dict[str, Quote] = {}
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def get(self, symbol: str) -> Quote | None:
        """The latest streamed quote of `symbol`, if any."""
        return self._latest.get(symbol)

    def snapshot(self, symbols: Sequence[str]) -> list[Quote]:
        return [q for s in symbols if (q := self._latest.get(s)) is not None]

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.stream is None or self.running:
            return
        self._task = asyncio.create_task(self._run(), name="quote-hub")

    async def _run(self) -> None:
        stream = self.stream
        if stream is None:
            return
        while True:
            try:
                async for batch in stream.stream():
                    await self.publish(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                QUOTE_STREAM_ERRORS.inc()
                log.exception("quote stream failed; restarting", delay_s=RESTART_DELAY_S)
                await asyncio.sleep(RESTART_DELAY_S)
            else:
                return  # the stream ended on its own

    async def publish(self, batch: Sequence[Quote]) -> None:
        """Record and publish a batch of quotes."""
        for quote in batch:
            self._latest[quote.symbol] = quote
            await self.bus.publish(quote_channel(quote.symbol), quote_payload(quote))
        QUOTES_PUBLISHED.inc(len(batch))
        self.batches += 1

    async def subscribe(self, symbols: Sequence[str], queue_size: int = 1000) -> Subscription:
        """A bus subscription to the quotes of `symbols`."""
        return await self.bus.subscribe(*(quote_channel(s) for s in symbols), queue_size=queue_size)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)  # its publishes may swallow one cancellation (see there)
            self._task = None
