"""Finnhub through finnhub-python: the earnings calendar, with estimates, actuals and surprises.

Needs an API key (`finnhub_api_key`); without one every call raises `Rejected` saying what to set.

`earnings` reads `/calendar/earnings` (report date, time of day, EPS and revenue estimate and actual) and
`/stock/earnings` (the surprise % Finnhub computes, keyed by fiscal year and quarter). The second call
only refines the surprise: if it fails the surprise is computed from the calendar's own figures. The
calendar answers an unknown symbol with an empty list, like a known symbol with no report in the range;
`/stock/profile2` (empty for an unknown symbol) tells the two apart.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date
from typing import Any, TypedDict, cast

import finnhub
from finnhub.exceptions import FinnhubAPIException, FinnhubRequestException

from marketdesk.clock import Clock
from marketdesk.errors import MarketdeskError, Rejected, UnknownSymbol
from marketdesk.kit.retry import RetryPolicy, Sleep
from marketdesk.kit.timeutil import parse_date
from marketdesk.logs import get_logger
from marketdesk.marketdata.adapters._common import (
    DEFAULT_TIMEOUT_S,
    OnlineSource,
    http_error,
    optional_float,
    require_key,
    retry_after_s,
    unexpected_format,
    unreadable,
)
from marketdesk.marketdata.port import DataCapabilities, DataKind, EarningsEvent, check_range

_log = get_logger(__name__)


class FinnhubCalendarEntry(TypedDict, total=False):
    """One row of `/calendar/earnings` → `earningsCalendar`."""

    date: str
    epsActual: float | None
    epsEstimate: float | None
    hour: str
    quarter: int
    revenueActual: float | None
    revenueEstimate: float | None
    symbol: str
    year: int


class FinnhubEarningsSurprise(TypedDict, total=False):
    """One row of `/stock/earnings`: a fiscal quarter's actual, estimate and surprise."""

    actual: float | None
    estimate: float | None
    period: str
    quarter: int
    surprise: float | None
    surprisePercent: float | None
    symbol: str
    year: int


_TIME_OF_DAY = {"bmo": "bmo", "amc": "amc"}  # Finnhub also sends "dmh" (during hours) and ""


def surprise_pct(actual: float | None, estimate: float | None) -> float | None:
    """(actual − estimate) / |estimate| × 100, or None when either is missing or the estimate is zero."""
    if actual is None or estimate is None or estimate == 0:
        return None
    return (actual - estimate) / abs(estimate) * 100.0


def parse_to_earnings_event(
    entry: FinnhubCalendarEntry, surprises: Mapping[tuple[int, int], FinnhubEarningsSurprise]
) -> EarningsEvent:
    """Map a Finnhub calendar entry (and the matching `/stock/earnings` row, if any) to an `EarningsEvent`."""
    actual, estimate = optional_float(entry.get("epsActual")), optional_float(entry.get("epsEstimate"))
    matched = surprises.get((int(entry.get("year") or 0), int(entry.get("quarter") or 0)))
    surprise = optional_float(matched.get("surprisePercent")) if matched and actual is not None else None
    return EarningsEvent(
        symbol=str(entry["symbol"]),
        report_date=parse_date(str(entry["date"]), field="finnhub earningsCalendar.date"),
        eps_estimate=estimate,
        eps_actual=actual,
        surprise_pct=surprise if surprise is not None else surprise_pct(actual, estimate),
        revenue_estimate=optional_float(entry.get("revenueEstimate")),
        revenue_actual=optional_float(entry.get("revenueActual")),
        time_of_day=_TIME_OF_DAY.get(str(entry.get("hour") or "").lower()),
        source="finnhub",
    )


class FinnhubSource(OnlineSource):
    """Finnhub: earnings dates with estimates, actuals and surprises. Needs a key."""

    name = "finnhub"
    capabilities = DataCapabilities(kinds=frozenset({DataKind.EARNINGS}), needs_key=True)
    key_settings = ("finnhub_api_key",)

    def __init__(
        self,
        *,
        clock: Clock,
        api_key: str | None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        """Build the adapter; the key is checked on the first call."""
        super().__init__(clock=clock, retry=retry, sleep=sleep)
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._client_instance: finnhub.Client | None = None

    def _client(self) -> finnhub.Client:
        if self._client_instance is None:
            key = require_key(self._api_key, source=self.name, setting="finnhub_api_key")
            client = finnhub.Client(api_key=key)
            client.DEFAULT_TIMEOUT = self._timeout_s
            self._client_instance = client
        return self._client_instance

    def _translate(self, exc: BaseException, *, what: str, symbol: str | None) -> MarketdeskError:
        if isinstance(exc, FinnhubAPIException):
            return http_error(
                self.name,
                int(exc.status_code),
                detail=str(exc.message),
                wait_s=retry_after_s(exc.response.headers, self._clock.now()),
                key_settings=self.key_settings,
            )
        if isinstance(exc, FinnhubRequestException):
            return unreadable(self.name, what, exc)
        return super()._translate(exc, what=what, symbol=symbol)

    def _calendar(self, symbol: str, start: date, end: date) -> list[FinnhubCalendarEntry]:
        def call() -> list[FinnhubCalendarEntry]:
            answer = self._client().earnings_calendar(_from=start.isoformat(), to=end.isoformat(), symbol=symbol)
            return cast(list[FinnhubCalendarEntry], answer["earningsCalendar"] or [])

        return self._fetch(f"earnings calendar of {symbol}", call, symbol=symbol)

    def _surprises(self, symbol: str) -> dict[tuple[int, int], FinnhubEarningsSurprise]:
        def call() -> dict[tuple[int, int], FinnhubEarningsSurprise]:
            rows = cast(list[FinnhubEarningsSurprise], self._client().company_earnings(symbol) or [])
            return {(int(row["year"]), int(row["quarter"])): row for row in rows}

        try:
            return self._fetch(f"earnings surprises of {symbol}", call, symbol=symbol)
        except Rejected:
            raise
        except MarketdeskError as exc:
            _log.warning("finnhub surprises unavailable; computing them", symbol=symbol, error=exc.message)
            return {}

    def _require_known(self, symbol: str) -> None:
        def call() -> dict[str, Any]:
            return cast(dict[str, Any], self._client().company_profile2(symbol=symbol) or {})

        if not self._fetch(f"profile of {symbol}", call, symbol=symbol):
            raise UnknownSymbol(symbol, source=self.name)

    def earnings(self, symbol: str, start: date, end: date) -> list[EarningsEvent]:
        """Report dates in [start, end] with EPS and revenue estimates, actuals and the surprise %."""
        check_range(start, end)
        entries = self._calendar(symbol, start, end)
        if not entries:
            self._require_known(symbol)
            return []
        surprises = self._surprises(symbol)
        try:
            events = [parse_to_earnings_event(entry, surprises) for entry in entries]
        except (KeyError, TypeError, ValueError) as exc:
            raise unexpected_format(self.name, f"earnings calendar of {symbol}", exc) from exc
        events = [e for e in events if e.symbol == symbol and start <= e.report_date <= end]
        events.sort(key=lambda e: e.report_date)
        return events
