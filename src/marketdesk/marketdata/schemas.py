"""Pydantic in/out shapes of the market-data API. Prices are exact decimal strings; missing numbers are null."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from marketdesk.marketdata.calendar import MarketClock
from marketdesk.marketdata.port import Quote, SymbolInfo
from marketdesk.marketdata.service import SymbolCoverage, SymbolPage, WatchlistView
from marketdesk.marketdata.stats import KeyStats
from marketdesk.marketdata.universes import UniverseInfo


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Symbol(Strict):
    symbol: str
    name: str
    asset_class: str
    exchange: str | None = None
    sector: str | None = None
    industry: str | None = None
    currency: str = "USD"
    maturity_years: float | None = None
    coupon_pct: float | None = None
    credit_rating: str | None = None
    expense_ratio_pct: float | None = None

    @classmethod
    def of(cls, info: SymbolInfo) -> Symbol:
        return cls(
            symbol=info.symbol,
            name=info.name,
            asset_class=info.asset_class.value,
            exchange=info.exchange,
            sector=info.sector,
            industry=info.industry,
            currency=info.currency,
            maturity_years=info.maturity_years,
            coupon_pct=info.coupon_pct,
            credit_rating=info.credit_rating,
            expense_ratio_pct=info.expense_ratio_pct,
        )


class SymbolList(Strict):
    items: list[Symbol]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, page: SymbolPage) -> SymbolList:
        return cls(items=[Symbol.of(i) for i in page.items], total=page.total, limit=page.limit, offset=page.offset)


class SymbolDetail(Strict):
    symbol: Symbol
    stats: KeyStats  # the engine's frozen dataclass, rendered as is
    simulated: bool


class Bars(Strict):
    """Daily bars, column by column (compact for charts). `adj_close` is adjusted for splits and dividends."""

    symbol: str
    dates: list[date]
    open: list[float | None]
    high: list[float | None]
    low: list[float | None]
    close: list[float | None]
    adj_close: list[float | None]
    volume: list[float | None]

    @classmethod
    def of(cls, symbol: str, frame: pd.DataFrame) -> Bars:
        def column(name: str) -> list[float | None]:
            return [None if not math.isfinite(v) else float(v) for v in frame[name].to_numpy(dtype=float)]

        return cls(
            symbol=symbol,
            dates=[ts.date() for ts in frame.index],
            open=column("open"),
            high=column("high"),
            low=column("low"),
            close=column("close"),
            adj_close=column("adj_close"),
            volume=column("volume"),
        )


class QuoteOut(Strict):
    symbol: str
    ts: datetime
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    prev_close: Decimal | None
    change_pct: float | None
    volume: int | None
    source: str
    stale: bool

    @classmethod
    def of(cls, quote: Quote) -> QuoteOut:
        return cls(
            symbol=quote.symbol,
            ts=quote.ts,
            last=quote.last,
            bid=quote.bid,
            ask=quote.ask,
            prev_close=quote.prev_close,
            change_pct=quote.change_pct,
            volume=quote.volume,
            source=quote.source,
            stale=quote.stale,
        )


class Universe(Strict):
    name: str
    description: str
    size: int

    @classmethod
    def of(cls, info: UniverseInfo) -> Universe:
        return cls(name=info.name, description=info.description, size=info.size)


class UniverseMembers(Strict):
    name: str
    symbols: list[str]


class Watchlist(Strict):
    name: str
    symbols: list[str]

    @classmethod
    def of(cls, view: WatchlistView) -> Watchlist:
        return cls(name=view.name, symbols=view.symbols)


class WatchlistCreate(Strict):
    name: str = Field(min_length=1, max_length=64)
    symbols: list[str] = Field(default_factory=list, max_length=500)


class WatchlistSymbol(Strict):
    symbol: str = Field(min_length=1, max_length=15)


class MarketClockOut(Strict):
    is_open: bool
    now: datetime
    next_open: datetime
    next_close: datetime
    session: date | None
    half_day: bool
    simulated_hours: bool
    text: str

    @classmethod
    def of(cls, clock: MarketClock) -> MarketClockOut:
        return cls(
            is_open=clock.is_open,
            now=clock.now,
            next_open=clock.next_open,
            next_close=clock.next_close,
            session=clock.session,
            half_day=clock.half_day,
            simulated_hours=clock.simulated_hours,
            text=clock.describe(),
        )


class Coverage(Strict):
    symbol: str
    first: date
    last: date
    bars: int
    fundamentals: int
    earnings: int

    @classmethod
    def of(cls, coverage: SymbolCoverage) -> Coverage:
        return cls(**{name: getattr(coverage, name) for name in cls.model_fields})


def as_dict(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
