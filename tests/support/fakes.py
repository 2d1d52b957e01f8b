"""Small real implementations of ports for tests (not mocks): a deterministic in-memory data source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from marketdesk.clock import Clock
from marketdesk.errors import Temporary, UnknownSymbol
from marketdesk.marketdata.port import (
    AssetClass,
    CorporateAction,
    DataCapabilities,
    DataKind,
    EarningsEvent,
    Fundamentals,
    MarketDataBase,
    Quote,
    SymbolInfo,
    check_range,
)

SECTORS = {"AAA": "Information Technology", "BBB": "Health Care", "CCC": "Energy", "ETF1": None}


def bar_frame(days: list[date], closes: np.ndarray, volume: float = 1_000_000.0) -> pd.DataFrame:
    """A bar frame from closes: open = previous close, high/low 1% around, adj_close = close."""
    opens = np.concatenate([[closes[0]], closes[:-1]])
    frame = pd.DataFrame(
        {
            "open": opens,
            "high": np.maximum(opens, closes) * 1.01,
            "low": np.minimum(opens, closes) * 0.99,
            "close": closes,
            "adj_close": closes,
            "volume": np.full(len(closes), volume),
        },
        index=pd.DatetimeIndex(pd.to_datetime(days), name="date"),
    )
    return frame


@dataclass
class FakeSource(MarketDataBase):
    """Three stocks and an ETF on business days of 2024–2025, prices a seeded random walk."""

    clock: Clock
    name: str = "fake"
    fail_with: Exception | None = None
    calls: int = 0
    capabilities: DataCapabilities = field(
        default_factory=lambda: DataCapabilities(
            kinds=frozenset(
                {DataKind.SYMBOLS, DataKind.BARS, DataKind.QUOTES, DataKind.FUNDAMENTALS, DataKind.EARNINGS}
            )
        )
    )

    def __post_init__(self) -> None:
        rng = np.random.default_rng(3)
        self.days = [d.date() for d in pd.bdate_range("2024-01-02", "2025-12-31")]
        self.closes = {s: 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, len(self.days)))) for s in SECTORS}

    def _check(self, symbol: str) -> None:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        if symbol not in SECTORS:
            raise UnknownSymbol(symbol, source=self.name)

    def symbols(self) -> list[SymbolInfo]:
        return [
            SymbolInfo(s, f"{s} Corp", AssetClass.ETF if s.startswith("ETF") else AssetClass.EQUITY, sector=sector)
            for s, sector in SECTORS.items()
        ]

    def bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        check_range(start, end)
        self._check(symbol)
        frame = bar_frame(self.days, self.closes[symbol])
        return frame[(frame.index >= pd.Timestamp(start)) & (frame.index <= pd.Timestamp(end))]

    def quote(self, symbol: str) -> Quote:
        self._check(symbol)
        last = Decimal(str(round(float(self.closes[symbol][-1]) * 1.01, 2)))
        prev = Decimal(str(round(float(self.closes[symbol][-1]), 2)))
        return Quote(symbol, self.clock.now(), last, last - Decimal("0.01"), last + Decimal("0.01"), 1000, prev, "fake")

    def fundamentals(self, symbol: str) -> list[Fundamentals]:
        self._check(symbol)
        return [
            Fundamentals(symbol, date(2025, q * 3, 28), "Q", reported=date(2025, q * 3, 28).replace(day=28),
                         source="fake", eps=1.0 + q / 10, shares_outstanding=1e9, revenue=5e9)
            for q in (1, 2, 3, 4)
        ]  # fmt: skip

    def earnings(self, symbol: str, start: date, end: date) -> list[EarningsEvent]:
        self._check(symbol)
        events = [EarningsEvent(symbol, date(2025, 10, 28), 1.3, 1.4, 7.7, source="fake")]
        return [e for e in events if start <= e.report_date <= end]


class FailingSource(FakeSource):
    """A source whose every call fails with a `Temporary` error (a dead provider)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.fail_with = Temporary("provider is down")


def aware(year: int, month: int, day: int, hour: int = 15) -> datetime:
    from datetime import UTC

    return datetime(year, month, day, hour, tzinfo=UTC)


def corporate_split(symbol: str, day: date, ratio: str) -> CorporateAction:
    from marketdesk.marketdata.port import CorporateActionKind

    return CorporateAction(symbol, day, CorporateActionKind.SPLIT, Decimal(ratio), "test")


class CountingStream:
    """A QuoteStream that emits a batch for `symbols` every `interval_s`, the price rising a cent each time."""

    def __init__(self, clock: Clock, symbols: list[str], interval_s: float = 0.02, batches: int | None = None) -> None:
        self.clock = clock
        self.symbols = symbols
        self.interval_s = interval_s
        self.batches = batches

    async def stream(self, symbols: object = None):  # type: ignore[no-untyped-def]
        import asyncio

        step = 0
        while self.batches is None or step < self.batches:
            step += 1
            yield [
                Quote(s, self.clock.now(), Decimal("100.00") + Decimal(step) / 100, prev_close=Decimal("100.00"))
                for s in self.symbols
            ]
            await asyncio.sleep(self.interval_s)
