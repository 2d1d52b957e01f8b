"""Feed the paper broker from the live quotes the QuoteHub publishes on the bus (`quotes:SYMBOL`).

    task = asyncio.create_task(follow_quotes(broker, bus))   # all symbols; cancel the task to stop

Quote volumes are the session's running total (as the sim and most feeds report them); the feed passes the
broker the difference since the symbol's previous quote, and no volume (no cap) when that is unknown: the first
quote of a symbol, or a total that went down. Stale quotes are not traded on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from marketdesk.bus import Bus
from marketdesk.errors import MarketdeskError
from marketdesk.logs import get_logger
from marketdesk.realtime.quotes import quote_channel
from marketdesk.trading.broker import BrokerFill
from marketdesk.trading.paper import PaperBroker

log = get_logger(__name__)


class QuoteFeed:
    """Turns quote payloads into `PaperBroker.on_tick` calls."""

    def __init__(self, broker: PaperBroker) -> None:
        self.broker = broker
        self._volumes: dict[str, int] = {}

    async def handle(self, data: Mapping[str, Any]) -> list[BrokerFill]:
        """Show the broker one quote payload (`realtime.quotes.quote_payload`); return the fills it made."""
        if data.get("stale"):
            return []
        symbol = str(data["symbol"])
        total = data.get("volume")
        volume = None
        if total is not None:
            previous = self._volumes.get(symbol)
            self._volumes[symbol] = int(total)
            if previous is not None and int(total) >= previous:
                volume = Decimal(int(total) - previous)
        return await self.broker.on_tick(
            symbol,
            Decimal(str(data["last"])),
            datetime.fromisoformat(str(data["ts"])),
            volume,
            bid=None if data.get("bid") is None else Decimal(str(data["bid"])),
            ask=None if data.get("ask") is None else Decimal(str(data["ask"])),
        )


async def follow_quotes(broker: PaperBroker, bus: Bus, symbols: Sequence[str] | None = None) -> None:
    """Feed every quote of `symbols` (all by default) published on `bus` to `broker` until cancelled. A quote
    the broker cannot take (a bad payload, a database that is briefly locked) is logged and skipped; the next
    one is fed as usual."""
    patterns = [quote_channel(s) for s in symbols] if symbols else [quote_channel("*")]
    feed = QuoteFeed(broker)
    async with await bus.subscribe(*patterns) as subscription:
        async for message in subscription:
            try:
                await feed.handle(message.data)
            except asyncio.CancelledError:
                raise
            except (MarketdeskError, KeyError, ValueError, ArithmeticError) as exc:
                log.warning("paper broker skipped a quote", channel=message.channel, error=str(exc))
