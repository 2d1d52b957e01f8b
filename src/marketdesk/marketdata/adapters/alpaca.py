"""Alpaca market data (v2) through alpaca-py's `StockHistoricalDataClient`: daily bars and quotes.

Needs an API key id and secret (`alpaca_key_id`, `alpaca_secret_key`); without them every call raises
`Rejected` saying what to set, so a fallback chain moves on to the next source.

- **Bars**: two requests, `adjustment=raw` (prices as traded) and `adjustment=all` (splits and
  dividends), whose close becomes `adj_close`. Bars are stamped at midnight New York time.
- **Quotes**: one snapshot (latest trade, latest quote, daily and previous daily bar).

The client runs with `raw_data=True`, so responses keep Alpaca's field names (`o`, `h`, `ap`, `bp` …) and
`parse_to_*` convert them explicitly. alpaca-py retries HTTP 429 and 504 itself with fixed 3-second
sleeps and sends requests without a timeout; `_StockDataClient` turns its retries off (kit/retry owns
backoff and honours Alpaca's `X-RateLimit-Reset`) and gives its session a default timeout.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict, cast

import pandas as pd
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestBarRequest, StockSnapshotRequest
from alpaca.data.timeframe import TimeFrame

from marketdesk.clock import Clock
from marketdesk.errors import ConfigError, MarketdeskError, UnknownSymbol
from marketdesk.kit.money import to_decimal
from marketdesk.kit.retry import RetryPolicy, Sleep
from marketdesk.marketdata.adapters._common import (
    DEFAULT_TIMEOUT_S,
    BarRow,
    OnlineSource,
    bars_frame,
    http_error,
    parse_utc,
    require_key,
    retry_after_s,
    session_date,
    unexpected_format,
    with_timeout,
)
from marketdesk.marketdata.port import DataCapabilities, DataKind, Quote, check_range, empty_bars


class AlpacaBar(TypedDict):
    """A bar as Alpaca sends it: t (RFC 3339), o/h/l/c prices, v volume, n trades, vw VWAP."""

    t: str
    o: float
    h: float
    l: float  # noqa: E741 - Alpaca's field name
    c: float
    v: float
    n: int
    vw: float


class AlpacaTrade(TypedDict, total=False):
    """A trade: t time, p price, s size, x exchange, c conditions, i id, z tape."""

    t: str
    p: float
    s: int
    x: str


AlpacaQuote = TypedDict(
    "AlpacaQuote",
    {"t": str, "ap": float, "as": int, "ax": str, "bp": float, "bs": int, "bx": str},
    total=False,
)
"""A quote: ap/bp ask and bid prices, as/bs sizes, ax/bx exchanges."""


class AlpacaSnapshot(TypedDict, total=False):
    """A snapshot: the latest trade and quote, the latest minute bar and the current and previous daily bars."""

    latestTrade: AlpacaTrade
    latestQuote: AlpacaQuote
    minuteBar: AlpacaBar
    dailyBar: AlpacaBar
    prevDailyBar: AlpacaBar


def parse_to_bar(bar: AlpacaBar) -> tuple[date, float, float, float, float, float]:
    """Map an Alpaca daily bar to (session date, open, high, low, close, volume)."""
    day = session_date(parse_utc(bar["t"]))
    return day, float(bar["o"]), float(bar["h"]), float(bar["l"]), float(bar["c"]), float(bar["v"])


def parse_to_bars(raw: list[AlpacaBar], adjusted: list[AlpacaBar], start: date, end: date) -> pd.DataFrame:
    """Combine raw bars with the close of the split- and dividend-adjusted bars of the same sessions."""
    adjusted_close = {parse_to_bar(bar)[0]: float(bar["c"]) for bar in adjusted}
    rows: list[BarRow] = []
    for bar in raw:
        day, open_, high, low, close, volume = parse_to_bar(bar)
        if day not in adjusted_close:
            raise KeyError(f"no adjusted bar for {day}")
        rows.append((day, open_, high, low, close, adjusted_close[day], volume))
    return bars_frame(rows, start, end)


def _price(value: object, field: str) -> Decimal | None:
    if value is None:
        return None
    price = to_decimal(value, field=field)
    return price if price > 0 else None


def parse_to_quote(symbol: str, snapshot: AlpacaSnapshot) -> Quote:
    """Map an Alpaca snapshot to a `Quote`: last trade, top of book, today's volume, previous close."""
    trade = snapshot.get("latestTrade") or {}
    book = snapshot.get("latestQuote") or {}
    daily = snapshot.get("dailyBar")
    previous = snapshot.get("prevDailyBar")
    last = _price(trade.get("p"), "latestTrade.p")
    if last is None:
        raise UnknownSymbol(symbol, source="alpaca")
    bid, ask = _price(book.get("bp"), "latestQuote.bp"), _price(book.get("ap"), "latestQuote.ap")
    if bid is not None and ask is not None and bid > ask:
        bid = ask = None  # a crossed book is not a market
    return Quote(
        symbol=symbol,
        ts=parse_utc(trade["t"]),
        last=last,
        bid=bid,
        ask=ask,
        volume=int(daily["v"]) if daily else None,
        prev_close=_price(previous["c"], "prevDailyBar.c") if previous else None,
        source="alpaca",
    )


class _StockDataClient(StockHistoricalDataClient):
    """alpaca-py's client with its own 429/504 retries off and a default request timeout."""

    def __init__(self, *, api_key: str, secret_key: str, url_override: str | None, timeout_s: float) -> None:
        super().__init__(api_key=api_key, secret_key=secret_key, raw_data=True, url_override=url_override)
        # The constructor cannot turn them off (it treats 0 as "use the default of 3 retries").
        self._retry = 0
        with_timeout(self._session, timeout_s)


class AlpacaSource(OnlineSource):
    """Alpaca market data: daily bars (raw and adjusted) and quotes. Needs keys."""

    name = "alpaca"
    capabilities = DataCapabilities(kinds=frozenset({DataKind.BARS, DataKind.QUOTES}), needs_key=True)
    key_settings = ("alpaca_key_id", "alpaca_secret_key")

    def __init__(
        self,
        *,
        clock: Clock,
        key_id: str | None,
        secret_key: str | None,
        feed: str | None = None,
        url_override: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        """Build the adapter; keys are checked on the first call.

        `feed`: "iex", "sip" or "delayed_sip" (None lets Alpaca pick the best the subscription allows).
        `url_override`: another base URL for the data API (a proxy).
        """
        super().__init__(clock=clock, retry=retry, sleep=sleep)
        self._key_id = key_id
        self._secret_key = secret_key
        try:
            self._feed = DataFeed(feed) if feed is not None else None
        except ValueError:
            valid = ", ".join(f.value for f in DataFeed)
            raise ConfigError(f"alpaca has no data feed {feed!r}", hint=f"Use one of: {valid}.") from None
        self._url_override = url_override
        self._timeout_s = timeout_s
        self._client_instance: _StockDataClient | None = None

    def _client(self) -> _StockDataClient:
        if self._client_instance is None:
            key_id = require_key(
                self._key_id, source=self.name, setting="alpaca_key_id", all_settings=self.key_settings
            )
            secret = require_key(
                self._secret_key, source=self.name, setting="alpaca_secret_key", all_settings=self.key_settings
            )
            self._client_instance = _StockDataClient(
                api_key=key_id, secret_key=secret, url_override=self._url_override, timeout_s=self._timeout_s
            )
        return self._client_instance

    def _translate(self, exc: BaseException, *, what: str, symbol: str | None) -> MarketdeskError:
        if isinstance(exc, APIError) and exc.status_code is not None:
            detail = str(exc)
            if exc.status_code in (400, 422) and "symbol" in detail.lower() and symbol is not None:
                return UnknownSymbol(symbol, source=self.name)
            headers = exc.response.headers if exc.response is not None else {}
            return http_error(
                self.name,
                exc.status_code,
                detail=detail,
                symbol=symbol,
                wait_s=retry_after_s(headers, self._clock.now()),
                key_settings=self.key_settings,
            )
        if isinstance(exc, APIError):
            return unexpected_format(self.name, what, exc)
        return super()._translate(exc, what=what, symbol=symbol)

    def _bars(self, symbol: str, start: date, end: date, adjustment: Adjustment) -> list[AlpacaBar]:
        request = StockBarsRequest(
            symbol_or_symbols=symbol,
            timeframe=TimeFrame.Day,
            start=datetime(start.year, start.month, start.day, tzinfo=UTC),
            end=datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1),
            adjustment=adjustment,
            feed=self._feed,
        )

        def call() -> list[AlpacaBar]:
            raw = cast(dict[str, Any], self._client().get_stock_bars(request))
            return cast(list[AlpacaBar], raw.get(symbol) or [])

        return self._fetch(f"{adjustment.value} daily bars of {symbol}", call, symbol=symbol)

    def _require_known(self, symbol: str) -> None:
        request = StockLatestBarRequest(symbol_or_symbols=symbol, feed=self._feed)

        def call() -> bool:
            raw = cast(dict[str, Any], self._client().get_stock_latest_bar(request))
            return bool(raw.get(symbol))

        if not self._fetch(f"latest bar of {symbol}", call, symbol=symbol):
            raise UnknownSymbol(symbol, source=self.name)

    def bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        """Daily bars: raw OHLCV as traded, and the close adjusted for splits and dividends."""
        check_range(start, end)
        raw = self._bars(symbol, start, end, Adjustment.RAW)
        if not raw:
            self._require_known(symbol)  # an unknown symbol and an empty range look alike
            return empty_bars()
        adjusted = self._bars(symbol, start, end, Adjustment.ALL)
        try:
            return parse_to_bars(raw, adjusted, start, end)
        except (KeyError, TypeError, ValueError) as exc:
            raise unexpected_format(self.name, f"daily bars of {symbol}", exc) from exc

    def quote(self, symbol: str) -> Quote:
        """The latest trade with the top of book, today's volume and the previous close."""
        request = StockSnapshotRequest(symbol_or_symbols=symbol, feed=self._feed)

        def call() -> Quote:
            raw = cast(dict[str, Any], self._client().get_stock_snapshot(request))
            snapshot = raw.get(symbol)
            if not snapshot:
                raise UnknownSymbol(symbol, source=self.name)
            return parse_to_quote(symbol, cast(AlpacaSnapshot, snapshot))

        return self._fetch(f"snapshot of {symbol}", call, symbol=symbol)
