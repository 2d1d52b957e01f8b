"""`SimTicker`: the simulated market's live quote stream (a `QuoteStream`).

Every `tick_interval_s` real seconds it asks the source for quotes at the clock's instant. Simulated
intraday time is the source's business (see `live.py`): with speed `s` it advances `tick_interval_s × s`
simulated seconds per tick, and the price is a pure function of (seed, symbol, session, intraday time).

What it yields: the first batch at once, whatever the hour; then a batch on every tick on which the market
has moved. With `real_hours` the market is still outside XNYS sessions, so after the batch at the close
the stream yields nothing new until the next open (it keeps polling the clock quietly meanwhile).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from marketdesk.errors import Rejected
from marketdesk.marketdata.port import Quote
from marketdesk.marketdata.sim.adapter import SimMarketData

Sleep = Callable[[float], Awaitable[None]]


class SimTicker:
    """Live quotes of the simulated market, one batch per tick.

    `sleep` waits between ticks (`asyncio.sleep` by default); tests pass one that advances a `SimClock`.
    """

    def __init__(self, source: SimMarketData, *, tick_interval_s: float = 1.0, sleep: Sleep | None = None) -> None:
        if not tick_interval_s > 0:
            raise Rejected(f"tick_interval_s must be positive, got {tick_interval_s}")
        self.source = source
        self.tick_interval_s = float(tick_interval_s)
        self._sleep: Sleep = sleep if sleep is not None else asyncio.sleep

    async def stream(self, symbols: Sequence[str] | None = None) -> AsyncIterator[list[Quote]]:
        """Yield a batch of quotes of `symbols` (all by default) on each tick that brings new prices."""
        wanted = None if symbols is None else list(symbols)
        if wanted is not None:
            self.source.check_symbols(wanted)  # unknown symbols fail here, before the first tick
        last_position: tuple[int, float] | None = None
        while True:
            point = self.source.live_point()
            position = (point.row, point.second)
            if position != last_position:
                last_position = position
                yield self.source.quotes(wanted, point=point)
            await self._sleep(self.tick_interval_s)
