"""Online market-data adapters, and the factory that builds one by its provider name.

| name           | library          | kinds                                                  | key |
|----------------|------------------|--------------------------------------------------------|-----|
| `yahoo`        | yfinance         | bars, quotes, fundamentals, earnings, corporate actions | no  |
| `alpaca`       | alpaca-py        | bars, quotes                                           | yes |
| `finnhub`      | finnhub-python   | earnings                                               | yes |
| `alphavantage` | alpha_vantage    | news, rates                                            | yes |
| `fred`         | fredapi          | rates (and `FredSource.risk_free_rate`)                | yes |

>>> from datetime import UTC, datetime
>>> from marketdesk.clock import SimClock
>>> source = build_online_source("finnhub", clock=SimClock(datetime(2026, 1, 5, tzinfo=UTC)), keys={})
>>> source.name, sorted(k.value for k in source.capabilities.kinds)
('finnhub', ['earnings'])
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from marketdesk.clock import Clock
from marketdesk.config import Settings
from marketdesk.errors import ConfigError
from marketdesk.kit.retry import RetryPolicy, Sleep
from marketdesk.marketdata.adapters._common import DEFAULT_TIMEOUT_S, OnlineSource
from marketdesk.marketdata.adapters.alpaca import AlpacaSource
from marketdesk.marketdata.adapters.alphavantage import AlphaVantageSource
from marketdesk.marketdata.adapters.finnhub import FinnhubSource
from marketdesk.marketdata.adapters.fred import FredSource
from marketdesk.marketdata.adapters.yahoo import YahooSource

ONLINE_SOURCES: tuple[str, ...] = ("yahoo", "alpaca", "finnhub", "alphavantage", "fred")
"""The provider names `build_online_source` knows (the other `market_data` names, sim and files, are offline)."""

KEY_SETTINGS: tuple[str, ...] = (
    "alpaca_key_id",
    "alpaca_secret_key",
    "finnhub_api_key",
    "alphavantage_api_key",
    "fred_api_key",
)
"""The Settings fields holding provider credentials; the only names `keys` may use."""


def keys_from_settings(settings: Settings) -> dict[str, str | None]:
    """The provider credentials in `settings`, unwrapped for `build_online_source(keys=…)`."""
    keys: dict[str, str | None] = {}
    for name in KEY_SETTINGS:
        secret = getattr(settings, name)
        keys[name] = secret.get_secret_value() if secret is not None else None
    return keys


def build_online_source(
    name: str,
    *,
    clock: Clock,
    keys: Mapping[str, str | None],
    retry: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cache_dir: Path | None = None,
) -> OnlineSource:
    """Build the online source called `name` with its credentials from `keys` (Settings field names).

    A missing key does not fail here: the source raises `Rejected` on its first call, naming the setting
    to fill in, so a fallback chain can move on. `cache_dir` is where yfinance keeps its small caches.
    """
    unknown = sorted(set(keys) - set(KEY_SETTINGS))
    if unknown:
        raise ConfigError(f"unknown credential name {unknown[0]!r}", hint=f"Valid names: {', '.join(KEY_SETTINGS)}.")
    provider = name.strip().lower()
    if provider == "yahoo":
        return YahooSource(clock=clock, retry=retry, sleep=sleep, timeout_s=timeout_s, cache_dir=cache_dir)
    if provider == "alpaca":
        return AlpacaSource(
            clock=clock,
            retry=retry,
            sleep=sleep,
            timeout_s=timeout_s,
            key_id=keys.get("alpaca_key_id"),
            secret_key=keys.get("alpaca_secret_key"),
        )
    if provider == "finnhub":
        return FinnhubSource(
            clock=clock, retry=retry, sleep=sleep, timeout_s=timeout_s, api_key=keys.get("finnhub_api_key")
        )
    if provider == "alphavantage":
        return AlphaVantageSource(
            clock=clock, retry=retry, sleep=sleep, timeout_s=timeout_s, api_key=keys.get("alphavantage_api_key")
        )
    if provider == "fred":
        return FredSource(clock=clock, retry=retry, sleep=sleep, api_key=keys.get("fred_api_key"))
    if provider in {"sim", "files"}:
        raise ConfigError(
            f"{provider!r} is not an online source", hint="Build it with its own module; it needs no network."
        )
    raise ConfigError(f"unknown market data source {name!r}", hint=f"Online sources: {', '.join(ONLINE_SOURCES)}.")


__all__ = [
    "KEY_SETTINGS",
    "ONLINE_SOURCES",
    "AlpacaSource",
    "AlphaVantageSource",
    "FinnhubSource",
    "FredSource",
    "OnlineSource",
    "YahooSource",
    "build_online_source",
    "keys_from_settings",
]
