"""Alpha Vantage through the alpha_vantage library: news with sentiment, and treasury yields.

Needs an API key (`alphavantage_api_key`); without one every call raises `Rejected` saying what to set.

- **News**: `NEWS_SENTIMENT` (`AlphaIntelligence.get_news_sentiment`) → `NewsItem`. The sentiment is the
  score Alpha Vantage gives the asked-for ticker in that article (`ticker_sentiment_score`), else the
  article's `overall_sentiment_score`; both lie in [-1, 1]. `time_published` carries no zone; it is read
  as UTC.
- **Rates**: `TREASURY_YIELD` (`EconIndicators.get_treasury_yield`, daily) for the six maturities Alpha
  Vantage offers (3 months; 2, 5, 7, 10 and 30 years), one request each → columns 3m, 2y, 5y, 7y, 10y, 30y
  of the port's yields frame, in percent, with "." (no observation) as NaN.

The library builds the requests; `_AlphaVantageClient` replaces its transport hook (`_handle_api_call`),
because the stock one calls `requests.get` without a timeout and without looking at the HTTP status.
The replacement also reads Alpha Vantage's notices, which arrive as HTTP 200 JSON: `Note` and
`Information` (rate limits, premium endpoints, invalid inputs) and `Error Message` (bad key, bad call).
The library turns a JSON list (the news `feed`) into a DataFrame by position, so the hook gives every
feed item the same keys in the same order first, and the adapter reads the rows back as dicts.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict, cast

import numpy as np
import pandas as pd
import requests
from alpha_vantage.alphaintelligence import AlphaIntelligence
from alpha_vantage.econindicators import EconIndicators

from marketdesk.clock import Clock
from marketdesk.errors import MarketdeskError, Operational, RateLimited, Rejected, UnknownSymbol
from marketdesk.kit.retry import RetryPolicy, Sleep
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.adapters._common import (
    DEFAULT_TIMEOUT_S,
    OnlineSource,
    key_hint,
    optional_float,
    require_key,
    scrub,
    unexpected_format,
    with_timeout,
)
from marketdesk.marketdata.port import TREASURY_TENORS, DataCapabilities, DataKind, NewsItem, check_range

MATURITIES: dict[str, str] = {
    "3month": "3m",
    "2year": "2y",
    "5year": "5y",
    "7year": "7y",
    "10year": "10y",
    "30year": "30y",
}
"""Alpha Vantage `maturity` → our tenor column."""

_NEWS_KEYS = (
    "title",
    "url",
    "time_published",
    "authors",
    "summary",
    "banner_image",
    "source",
    "category_within_source",
    "source_domain",
    "topics",
    "overall_sentiment_score",
    "overall_sentiment_label",
    "ticker_sentiment",
)


class AlphaVantageTickerSentiment(TypedDict, total=False):
    """How one article scores one ticker; Alpha Vantage sends the numbers as text."""

    ticker: str
    relevance_score: str
    ticker_sentiment_score: str
    ticker_sentiment_label: str


class AlphaVantageNewsItem(TypedDict, total=False):
    """One item of `NEWS_SENTIMENT` → `feed`, with Alpha Vantage's field names."""

    title: str
    url: str
    time_published: str
    authors: list[str]
    summary: str
    source: str
    source_domain: str
    overall_sentiment_score: float
    overall_sentiment_label: str
    ticker_sentiment: list[AlphaVantageTickerSentiment]


class AlphaVantageObservation(TypedDict):
    """One row of `TREASURY_YIELD` → `data`: an ISO date and a percent as text ("." when missing)."""

    date: str
    value: str


class AlphaVantageNotice(Exception):
    """Alpha Vantage answered with a `Note`, `Information` or `Error Message` instead of data."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(f"{field}: {text}")
        self.field = field
        self.text = text


def parse_published(text: str) -> datetime:
    """Read `time_published` ("20240502T210614", no zone given) as UTC."""
    return datetime.strptime(text.strip(), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def _clamp(score: float | None) -> float | None:
    return None if score is None else max(-1.0, min(1.0, score))


def parse_to_news_item(item: AlphaVantageNewsItem, symbol: str) -> NewsItem:
    """Map one `feed` item to a `NewsItem`, scored for `symbol` where Alpha Vantage scored it."""
    mentions = [entry for entry in item.get("ticker_sentiment") or [] if entry.get("ticker")]
    own = next((entry for entry in mentions if entry.get("ticker") == symbol), None)
    score = optional_float(own.get("ticker_sentiment_score")) if own else None
    label = own.get("ticker_sentiment_label") if own else None
    if score is None:
        score = optional_float(item.get("overall_sentiment_score"))
        label = item.get("overall_sentiment_label")
    tickers = [symbol] + [str(entry["ticker"]) for entry in mentions if entry["ticker"] != symbol]
    return NewsItem(
        published=parse_published(str(item["time_published"])),
        title=str(item["title"]).strip(),
        url=str(item.get("url") or ""),
        source=str(item.get("source") or "alphavantage"),
        symbols=tuple(tickers),
        summary=str(item.get("summary") or ""),
        sentiment=_clamp(score),
        sentiment_label=label or None,
    )


def parse_to_yields(series: dict[str, list[AlphaVantageObservation]], start: date, end: date) -> pd.DataFrame:
    """Combine `TREASURY_YIELD` answers (tenor → observations) into a yields frame for [start, end]."""
    columns: dict[str, pd.Series] = {}
    for tenor, observations in series.items():
        values = {
            pd.Timestamp(row["date"]): (np.nan if (number := optional_float(row["value"])) is None else number)
            for row in observations
            if start <= date.fromisoformat(row["date"]) <= end
        }
        columns[tenor] = pd.Series(values, dtype="float64")
    ordered = [tenor for tenor in TREASURY_TENORS if tenor in columns]
    frame = pd.DataFrame({tenor: columns[tenor] for tenor in ordered}).sort_index()
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return frame


class _AlphaVantageClient(AlphaIntelligence, EconIndicators):
    """The library's request builders over our session: a timeout, HTTP status checks and notice parsing."""

    def __init__(self, *, key: str, session: requests.Session, timeout_s: float) -> None:
        super().__init__(key=key, output_format="json")
        self._session = session
        self._timeout_s = timeout_s

    def _handle_api_call(self, url: str) -> dict[str, Any]:
        response = self._session.get(url, timeout=self._timeout_s)
        response.raise_for_status()
        payload = response.json()
        if not isinstance(payload, dict) or not payload:
            raise AlphaVantageNotice("Empty", "Alpha Vantage returned no data")
        for field in ("Error Message", "Information", "Note"):
            if field in payload:
                raise AlphaVantageNotice(field, str(payload[field]))
        feed = payload.get("feed")
        if isinstance(feed, list):
            payload["feed"] = [{key: item.get(key) for key in _NEWS_KEYS} for item in feed if isinstance(item, dict)]
        return payload


class AlphaVantageSource(OnlineSource):
    """Alpha Vantage: news with sentiment, and treasury yields. Needs a key."""

    name = "alphavantage"
    capabilities = DataCapabilities(kinds=frozenset({DataKind.NEWS, DataKind.RATES}), needs_key=True)
    key_settings = ("alphavantage_api_key",)

    def __init__(
        self,
        *,
        clock: Clock,
        api_key: str | None,
        news_limit: int = 50,
        session: requests.Session | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        """Build the adapter; the key is checked on the first call. `news_limit` is 50 or 1000."""
        super().__init__(clock=clock, retry=retry, sleep=sleep)
        if news_limit not in (50, 1000):
            raise Rejected(f"news_limit {news_limit} is not offered by Alpha Vantage", hint="Use 50 or 1000.")
        self._api_key = api_key
        self._news_limit = news_limit
        self._session = with_timeout(session or requests.Session(), timeout_s)
        self._timeout_s = timeout_s
        self._client_instance: _AlphaVantageClient | None = None

    def _client(self) -> _AlphaVantageClient:
        if self._client_instance is None:
            key = require_key(self._api_key, source=self.name, setting="alphavantage_api_key")
            self._client_instance = _AlphaVantageClient(key=key, session=self._session, timeout_s=self._timeout_s)
        return self._client_instance

    def _seconds_to_next_day(self) -> float:
        now = self._clock.now().astimezone(NEW_YORK)
        tomorrow = datetime(now.year, now.month, now.day, tzinfo=NEW_YORK) + timedelta(days=1)
        return (tomorrow - now).total_seconds()

    def _notice(self, notice: AlphaVantageNotice, *, what: str, symbol: str | None) -> MarketdeskError:
        text = scrub(notice.text)
        lowered = text.lower()
        if "apikey" in lowered or ("api key" in lowered and "invalid" in lowered):
            return Rejected(f"alphavantage refused the API key: {text[:160]}", hint=key_hint(self.key_settings))
        if "premium endpoint" in lowered:
            return Rejected(
                f"alphavantage: {what} needs a premium plan", hint="Upgrade the plan or use another source."
            )
        if "call frequency" in lowered or "per minute" in lowered:
            return RateLimited("alphavantage is rate limiting requests", hint="Wait a minute.", retry_after_s=60.0)
        if "per day" in lowered or "rate limit" in lowered:
            return RateLimited(
                "alphavantage's daily request allowance is used up",
                hint="It resets tomorrow; a premium key lifts it.",
                retry_after_s=self._seconds_to_next_day(),
            )
        if "invalid inputs" in lowered and symbol is not None:
            return UnknownSymbol(symbol, source=self.name)
        return Operational(
            f"alphavantage answered {what} with a notice: {text[:200]}",
            hint="The request or the vendor's API may have changed; report it with this message.",
        )

    def _translate(self, exc: BaseException, *, what: str, symbol: str | None) -> MarketdeskError:
        if isinstance(exc, AlphaVantageNotice):
            return self._notice(exc, what=what, symbol=symbol)
        if (
            isinstance(exc, requests.exceptions.HTTPError)
            and exc.response is not None
            and exc.response.status_code in (401, 403)
        ):
            return Rejected(
                f"alphavantage refused the API key (HTTP {exc.response.status_code})", hint=key_hint(self.key_settings)
            )
        return super()._translate(exc, what=what, symbol=symbol)

    def news(self, symbol: str, start: date, end: date) -> list[NewsItem]:
        """Articles about `symbol` published in [start, end] (UTC days), newest first."""
        check_range(start, end)

        def call() -> list[AlphaVantageNewsItem]:
            frame, _ = self._client().get_news_sentiment(
                tickers=symbol,
                time_from=f"{start:%Y%m%d}T0000",
                time_to=f"{end:%Y%m%d}T2359",
                sort="LATEST",
                limit=self._news_limit,
            )
            return cast(list[AlphaVantageNewsItem], frame.to_dict(orient="records"))

        rows = self._fetch(f"news about {symbol}", call, symbol=symbol)
        try:
            items = [parse_to_news_item(row, symbol) for row in rows]
        except (KeyError, TypeError, ValueError) as exc:
            raise unexpected_format(self.name, f"news about {symbol}", exc) from exc
        kept = [item for item in items if start <= item.published.date() <= end]
        kept.sort(key=lambda item: item.published, reverse=True)
        return kept

    def yields(self, start: date, end: date) -> pd.DataFrame:
        """Daily constant-maturity treasury yields (percent) for the six maturities Alpha Vantage offers."""
        check_range(start, end)
        series: dict[str, list[AlphaVantageObservation]] = {}
        for maturity, tenor in MATURITIES.items():

            def call(maturity: str = maturity) -> list[AlphaVantageObservation]:
                frame, _ = self._client().get_treasury_yield(interval="daily", maturity=maturity)
                return cast(list[AlphaVantageObservation], frame.to_dict(orient="records"))

            series[tenor] = self._fetch(f"{maturity} treasury yield", call)
        try:
            return parse_to_yields(series, start, end)
        except (KeyError, TypeError, ValueError) as exc:
            raise unexpected_format(self.name, "treasury yields", exc) from exc
