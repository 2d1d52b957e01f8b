"""The journal's ports: daily closes of a symbol, and the screener's metrics of a symbol today. The desk wires them
to the bar store and the screener; tests pass small real ones."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.errors import NotFound
from marketdesk.screener.catalog import METRICS

if TYPE_CHECKING:
    from marketdesk.marketdata.barstore import BarStore
    from marketdesk.screener.service import ScreenerService

Closes = Callable[[str, date, date], Awaitable[list[tuple[date, Decimal]]]]
"""Daily closes (as traded) of one symbol from `start` to `end`, date ascending; empty when none are stored."""


@dataclass(frozen=True, slots=True)
class MetricValues:
    """The screener's metrics of one symbol on `as_of` (None where a metric has no value)."""

    symbol: str
    as_of: date
    values: dict[str, float | None]


MetricsReader = Callable[[AsyncSession, str], Awaitable[MetricValues]]
"""Today's screener metrics of one symbol; raises NotFound when the screener does not know it."""


def closes_from_store(store: BarStore) -> Closes:
    """Closes from the Parquet bar store (as traded, not adjusted: a level is a price someone saw)."""

    async def closes(symbol: str, start: date, end: date) -> list[tuple[date, Decimal]]:
        if start > end:
            return []
        frame = await asyncio.to_thread(store.read, symbol, start, end)
        return [
            (stamp.date(), Decimal(repr(float(close))))
            for stamp, close in zip(frame.index, frame["close"], strict=True)
            if math.isfinite(float(close))
        ]

    return closes


def screener_metrics(screener: ScreenerService) -> MetricsReader:
    """Read one symbol's metrics from the screener's snapshot of today (the `all` universe)."""

    async def read(session: AsyncSession, symbol: str) -> MetricValues:
        snap = await screener.snapshot(session, "all")
        if symbol not in snap.metrics.index:
            raise NotFound(
                f"the screener has no metrics for {symbol}",
                hint="Import its prices and fundamentals (`marketdesk data import …`), or check the symbol.",
            )
        row = snap.metrics.loc[symbol]
        values: dict[str, float | None] = {}
        for name in METRICS:
            value = row.get(name) if name in row.index else None
            number = None if value is None else float(cast(float, value))
            values[name] = number if number is not None and math.isfinite(number) else None
        return MetricValues(symbol, snap.data.as_of, values)

    return read
