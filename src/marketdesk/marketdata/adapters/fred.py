"""FRED (Federal Reserve Bank of St. Louis) through fredapi: the treasury constant-maturity curve.

Needs an API key (`fred_api_key`); without one every call raises `Rejected` saying what to set.

`yields` reads the H.15 series DGS1MO … DGS30, one request each (`Fred.get_series`, XML observations),
into the port's columns 1m … 30y, in percent. FRED writes "." for a day without an observation (a bond
market holiday); fredapi turns it into NaN, and NaN it stays. `risk_free_rate(on)` is the 3-month bill
(DGS3MO) on the latest observation day at or before `on`, as a Decimal fraction (0.0009 = 0.09%).

fredapi reports an HTTP error as a `ValueError` carrying FRED's message (its status code is lost), so
errors are recognised by that message: an unregistered or malformed key, "Too Many Requests", a series
that does not exist. fredapi opens URLs with urllib and sets no timeout of its own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
from fredapi import Fred

from marketdesk.clock import Clock
from marketdesk.errors import MarketdeskError, NotFound, Operational, RateLimited, Rejected, Temporary
from marketdesk.kit.money import to_decimal
from marketdesk.kit.retry import RetryPolicy, Sleep
from marketdesk.marketdata.adapters._common import OnlineSource, key_hint, require_key, scrub, unexpected_format
from marketdesk.marketdata.port import TREASURY_TENORS, DataCapabilities, DataKind, check_range

SERIES: Mapping[str, str] = {
    "1m": "DGS1MO",
    "3m": "DGS3MO",
    "6m": "DGS6MO",
    "1y": "DGS1",
    "2y": "DGS2",
    "3y": "DGS3",
    "5y": "DGS5",
    "7y": "DGS7",
    "10y": "DGS10",
    "20y": "DGS20",
    "30y": "DGS30",
}
"""Our tenor column → FRED series id (Market Yield on U.S. Treasury Securities at Constant Maturity)."""

RISK_FREE_SERIES = "DGS3MO"


def parse_to_yields(series: Mapping[str, pd.Series], start: date, end: date) -> pd.DataFrame:
    """Combine fredapi series (tenor → values by date, NaN where FRED wrote ".") into a yields frame."""
    columns = {}
    for tenor in TREASURY_TENORS:
        if tenor not in series:
            continue
        values = series[tenor].astype("float64")
        values.index = pd.DatetimeIndex(pd.to_datetime(values.index)).normalize()
        columns[tenor] = values[(values.index >= pd.Timestamp(start)) & (values.index <= pd.Timestamp(end))]
    frame = pd.DataFrame(columns).sort_index()
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return frame


def parse_to_rate(values: pd.Series, on: date) -> tuple[date, Decimal] | None:
    """The last observation at or before `on` as (date, fraction), or None when there is none."""
    values = values.dropna()
    values = values[pd.DatetimeIndex(pd.to_datetime(values.index)) <= pd.Timestamp(on)]
    if values.empty:
        return None
    stamp = pd.Timestamp(values.index[-1])
    percent = to_decimal(float(values.iloc[-1]), field=RISK_FREE_SERIES)
    return stamp.date(), percent / Decimal(100)


class FredSource(OnlineSource):
    """FRED: the daily treasury curve and the 3-month risk-free rate. Needs a key."""

    name = "fred"
    capabilities = DataCapabilities(kinds=frozenset({DataKind.RATES}), needs_key=True)
    key_settings = ("fred_api_key",)

    def __init__(
        self,
        *,
        clock: Clock,
        api_key: str | None,
        root_url: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        """Build the adapter; the key is checked on the first call. `root_url` replaces FRED's API root."""
        super().__init__(clock=clock, retry=retry, sleep=sleep)
        self._api_key = api_key
        self._root_url = root_url
        self._client_instance: Fred | None = None

    def _client(self) -> Fred:
        if self._client_instance is None:
            key = require_key(self._api_key, source=self.name, setting="fred_api_key")
            client = Fred(api_key=key)
            if self._root_url is not None:
                client.root_url = self._root_url.rstrip("/")
            self._client_instance = client
        return self._client_instance

    def _translate(self, exc: BaseException, *, what: str, symbol: str | None) -> MarketdeskError:
        if type(exc) is ValueError:  # fredapi's way of reporting FRED's error message
            message = scrub(str(exc))
            lowered = message.lower()
            if "api_key" in lowered or "api key" in lowered:
                return Rejected(f"fred refused the API key: {message[:200]}", hint=key_hint(self.key_settings))
            if "too many requests" in lowered or "rate limit" in lowered:
                return RateLimited(f"fred is rate limiting requests: {message[:120]}", hint="Wait a minute and retry.")
            if "internal server error" in lowered or "service unavailable" in lowered or "timeout" in lowered:
                return Temporary(f"fred is failing: {message[:160]}", hint="Retry later.")
            if not message or message == "None":  # an error page without FRED's message: a gateway, a proxy
                return Temporary(f"fred answered {what} with an error page", hint="Retry later.")
            return Operational(
                f"fred refused {what}: {message[:200]}",
                hint="The series or FRED's API may have changed; report it with this message.",
            )
        return super()._translate(exc, what=what, symbol=symbol)

    def _series(self, series_id: str, start: date, end: date) -> pd.Series:
        def call() -> pd.Series:
            values: pd.Series = self._client().get_series(series_id, observation_start=start, observation_end=end)
            return values

        return self._fetch(f"series {series_id}", call)

    def yields(self, start: date, end: date) -> pd.DataFrame:
        """Daily constant-maturity treasury yields (percent), 1 month to 30 years; NaN on bond holidays."""
        check_range(start, end)
        series = {tenor: self._series(series_id, start, end) for tenor, series_id in SERIES.items()}
        try:
            return parse_to_yields(series, start, end)
        except (KeyError, TypeError, ValueError) as exc:
            raise unexpected_format(self.name, "treasury yields", exc) from exc

    def risk_free_rate(self, on: date, *, lookback_days: int = 14) -> Decimal:
        """The 3-month treasury bill yield on `on` (or the latest day before it) as a fraction.

        A 0.10% yield on 2020-09-30 gives Decimal('0.001').
        """
        values = self._series(RISK_FREE_SERIES, on - timedelta(days=lookback_days), on)
        try:
            found = parse_to_rate(values, on)
        except (KeyError, TypeError, ValueError) as exc:
            raise unexpected_format(self.name, RISK_FREE_SERIES, exc) from exc
        if found is None:
            raise NotFound(
                f"fred has no {RISK_FREE_SERIES} observation in the {lookback_days} days up to {on}",
                hint="Pick a date on which the bond market was open, or widen lookback_days.",
            )
        return found[1]
