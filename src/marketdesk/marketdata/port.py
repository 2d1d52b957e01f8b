"""The MarketData port: what every data source speaks, whatever the vendor.

A source declares what it can do in `capabilities`; asking for anything else raises `Unsupported`.
Daily bars are a pandas DataFrame (floats in numpy vectors are fine for statistics); quotes that may feed
orders carry Decimal prices.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from marketdesk.errors import Rejected, Unsupported


class AssetClass(StrEnum):
    EQUITY = "equity"
    ETF = "etf"
    BOND = "bond"
    INDEX = "index"


class DataKind(StrEnum):
    """What a source can provide."""

    SYMBOLS = "symbols"
    BARS = "bars"
    QUOTES = "quotes"
    FUNDAMENTALS = "fundamentals"
    CORPORATE_ACTIONS = "corporate_actions"
    EARNINGS = "earnings"
    NEWS = "news"
    RATES = "rates"


GICS_SECTORS: tuple[str, ...] = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)

BAR_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume")
"""Columns of a daily bar frame, indexed by a `date` DatetimeIndex (naive, midnight, ascending, unique).

`open/high/low/close` are the prices as traded (raw); `adj_close` is adjusted for splits and dividends.
"""

TREASURY_TENORS: tuple[str, ...] = ("1m", "3m", "6m", "1y", "2y", "3y", "5y", "7y", "10y", "20y", "30y")
"""Columns of a yields frame (percent), indexed by date."""


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """One instrument a source knows."""

    symbol: str
    name: str
    asset_class: AssetClass = AssetClass.EQUITY
    exchange: str | None = None
    sector: str | None = None
    industry: str | None = None
    currency: str = "USD"
    # bonds and treasuries
    maturity_years: float | None = None
    coupon_pct: float | None = None
    credit_rating: str | None = None
    # ETFs
    expense_ratio_pct: float | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest price of one symbol."""

    symbol: str
    ts: datetime
    last: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None
    volume: int | None = None
    prev_close: Decimal | None = None
    source: str = ""
    stale: bool = False

    @property
    def change_pct(self) -> float | None:
        if self.prev_close is None or self.prev_close == 0:
            return None
        return float((self.last - self.prev_close) / self.prev_close * 100)


@dataclass(frozen=True, slots=True)
class Fundamentals:
    """What a company reported for one period (or a dated snapshot). Values in USD; any may be missing.

    `period_end` is the end of the fiscal period (or the snapshot date); `reported` is when the numbers
    became public, which point-in-time screens must respect.
    """

    symbol: str
    period_end: date
    period: str  # "Q" quarterly, "FY" annual, "TTM", "snapshot"
    reported: date | None = None
    source: str = ""
    revenue: float | None = None
    gross_profit: float | None = None
    operating_income: float | None = None
    net_income: float | None = None
    ebitda: float | None = None
    eps: float | None = None
    operating_cash_flow: float | None = None
    capex: float | None = None
    free_cash_flow: float | None = None
    total_assets: float | None = None
    total_liabilities: float | None = None
    total_equity: float | None = None
    total_debt: float | None = None
    cash: float | None = None
    current_assets: float | None = None
    current_liabilities: float | None = None
    interest_expense: float | None = None
    shares_outstanding: float | None = None
    dividends_per_share: float | None = None
    # snapshot-style figures from vendors that publish ratios rather than statements
    price: float | None = None
    market_cap: float | None = None
    pe: float | None = None
    pb: float | None = None
    ps: float | None = None
    dividend_yield: float | None = None  # a fraction: 0.0135 = 1.35%
    week52_high: float | None = None
    week52_low: float | None = None


FUNDAMENTAL_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Fundamentals) if f.name not in {"symbol", "period_end", "period", "reported", "source"}
)


class CorporateActionKind(StrEnum):
    SPLIT = "split"
    DIVIDEND = "dividend"


@dataclass(frozen=True, slots=True)
class CorporateAction:
    """A split (value = new shares per old share, e.g. 4 for 4:1) or a cash dividend per share."""

    symbol: str
    ex_date: date
    kind: CorporateActionKind
    value: Decimal
    source: str = ""


@dataclass(frozen=True, slots=True)
class EarningsEvent:
    """A quarterly report date, with the consensus estimate and, once reported, the actual EPS."""

    symbol: str
    report_date: date
    eps_estimate: float | None = None
    eps_actual: float | None = None
    surprise_pct: float | None = None
    revenue_estimate: float | None = None
    revenue_actual: float | None = None
    time_of_day: str | None = None  # "bmo", "amc" or None
    source: str = ""


@dataclass(frozen=True, slots=True)
class NewsItem:
    """A headline with its sentiment in [-1, 1] where the source scores it."""

    published: datetime
    title: str
    url: str
    source: str
    symbols: tuple[str, ...] = ()
    summary: str = ""
    sentiment: float | None = None
    sentiment_label: str | None = None


@dataclass(frozen=True, slots=True)
class DataCapabilities:
    """What a source can provide, declared as data."""

    kinds: frozenset[DataKind] = field(default_factory=frozenset)
    needs_key: bool = False
    simulated: bool = False

    def require(self, kind: DataKind, source: str) -> None:
        if kind not in self.kinds:
            offered = ", ".join(sorted(k.value for k in self.kinds)) or "nothing"
            raise Unsupported(f"{source} does not provide {kind.value}", hint=f"It provides: {offered}.")


@runtime_checkable
class MarketData(Protocol):
    """A source of market data. Unknown symbols raise `UnknownSymbol`; rate limits raise `RateLimited`."""

    name: str
    capabilities: DataCapabilities

    def symbols(self) -> list[SymbolInfo]: ...

    def bars(self, symbol: str, start: date, end: date) -> pd.DataFrame: ...

    def quote(self, symbol: str) -> Quote: ...

    def fundamentals(self, symbol: str) -> list[Fundamentals]: ...

    def corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]: ...

    def earnings(self, symbol: str, start: date, end: date) -> list[EarningsEvent]: ...

    def news(self, symbol: str, start: date, end: date) -> list[NewsItem]: ...

    def yields(self, start: date, end: date) -> pd.DataFrame: ...


class QuoteStream(Protocol):
    """A live stream of quotes (the simulated market's ticker, a vendor's websocket)."""

    def stream(self, symbols: Sequence[str] | None = None) -> AsyncIterator[list[Quote]]: ...


class MarketDataBase:
    """Convenience base: every kind raises `Unsupported` until a subclass provides it."""

    name: str = "base"
    capabilities: DataCapabilities = DataCapabilities()

    def _unsupported(self, kind: DataKind) -> Unsupported:
        try:
            self.capabilities.require(kind, self.name)
        except Unsupported as exc:
            return exc
        return Unsupported(f"{self.name} declares {kind.value} but does not implement it")

    def symbols(self) -> list[SymbolInfo]:
        raise self._unsupported(DataKind.SYMBOLS)

    def bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        raise self._unsupported(DataKind.BARS)

    def quote(self, symbol: str) -> Quote:
        raise self._unsupported(DataKind.QUOTES)

    def fundamentals(self, symbol: str) -> list[Fundamentals]:
        raise self._unsupported(DataKind.FUNDAMENTALS)

    def corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        raise self._unsupported(DataKind.CORPORATE_ACTIONS)

    def earnings(self, symbol: str, start: date, end: date) -> list[EarningsEvent]:
        raise self._unsupported(DataKind.EARNINGS)

    def news(self, symbol: str, start: date, end: date) -> list[NewsItem]:
        raise self._unsupported(DataKind.NEWS)

    def yields(self, start: date, end: date) -> pd.DataFrame:
        raise self._unsupported(DataKind.RATES)


def empty_bars() -> pd.DataFrame:
    """A bar frame with no rows and the right columns and index."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in BAR_COLUMNS})
    frame.index = pd.DatetimeIndex([], name="date")
    return frame


def check_range(start: date, end: date) -> None:
    """Refuse an inverted date range with a message that says so."""
    if start > end:
        raise Rejected(f"start {start} is after end {end}", hint="Swap the dates.")


def validate_bars(frame: pd.DataFrame) -> list[str]:
    """Return what is wrong with a bar frame (empty list when it is sound). Used by the contract suite."""
    problems: list[str] = []
    if tuple(frame.columns) != BAR_COLUMNS:
        problems.append(f"columns {tuple(frame.columns)} != {BAR_COLUMNS}")
        return problems
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.name != "date":
        problems.append("index must be a DatetimeIndex named 'date'")
        return problems
    if frame.index.tz is not None:
        problems.append("index must be naive session dates")
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        problems.append("dates must be ascending and unique")
    if len(frame):
        values = frame[["open", "high", "low", "close", "adj_close"]].to_numpy()
        if not np.isfinite(values).all() or (values <= 0).any():
            problems.append("prices must be finite and positive")
        if (frame["high"] < frame["low"]).any():
            problems.append("high < low on some rows")
        if (frame["volume"] < 0).any():
            problems.append("negative volume")
    return problems
