"""build_online_source: every online provider by name, credentials by Settings field name."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import SecretStr

from marketdesk.clock import SimClock
from marketdesk.config import Settings
from marketdesk.errors import ConfigError, Rejected
from marketdesk.marketdata.adapters import (
    KEY_SETTINGS,
    ONLINE_SOURCES,
    AlpacaSource,
    AlphaVantageSource,
    FinnhubSource,
    FredSource,
    YahooSource,
    build_online_source,
    keys_from_settings,
)
from marketdesk.marketdata.port import DataKind, MarketData

CLOCK = SimClock(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("name", "cls", "kinds", "needs_key"),
    [
        (
            "yahoo",
            YahooSource,
            {DataKind.BARS, DataKind.QUOTES, DataKind.FUNDAMENTALS, DataKind.EARNINGS, DataKind.CORPORATE_ACTIONS},
            False,
        ),
        ("alpaca", AlpacaSource, {DataKind.BARS, DataKind.QUOTES}, True),
        ("finnhub", FinnhubSource, {DataKind.EARNINGS}, True),
        ("alphavantage", AlphaVantageSource, {DataKind.NEWS, DataKind.RATES}, True),
        ("fred", FredSource, {DataKind.RATES}, True),
    ],
)
def test_each_online_source_is_built_by_name_with_its_capabilities(
    name: str, cls: type, kinds: set[DataKind], needs_key: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = build_online_source(
        name, clock=CLOCK, keys={}, cache_dir=tmp_path_factory.getbasetemp() / "yfinance-cache"
    )
    assert isinstance(source, cls)
    assert isinstance(source, MarketData)
    assert source.name == name
    assert source.capabilities.kinds == frozenset(kinds)
    assert source.capabilities.needs_key is needs_key
    assert source.capabilities.simulated is False


def test_the_names_listed_are_the_names_built() -> None:
    assert set(ONLINE_SOURCES) == {"yahoo", "alpaca", "finnhub", "alphavantage", "fred"}


def test_a_source_built_without_its_key_says_what_to_set_on_first_use() -> None:
    source = build_online_source("fred", clock=CLOCK, keys={"fred_api_key": None})
    with pytest.raises(Rejected) as raised:
        source.yields(date(2026, 11, 2), date(2026, 11, 6))
    assert "MARKETDESK_FRED_API_KEY" in raised.value.one_line()


@pytest.mark.parametrize("name", ["sim", "files"])
def test_offline_sources_are_not_built_here(name: str) -> None:
    with pytest.raises(ConfigError, match="not an online source"):
        build_online_source(name, clock=CLOCK, keys={})


def test_an_unknown_source_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as raised:
        build_online_source("bloomberg", clock=CLOCK, keys={})
    assert "yahoo, alpaca, finnhub, alphavantage, fred" in raised.value.one_line()


def test_an_unknown_credential_name_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ConfigError, match="finhub_api_key"):
        build_online_source("finnhub", clock=CLOCK, keys={"finhub_api_key": "typo"})


def test_keys_from_settings_unwraps_the_secret_fields() -> None:
    settings = Settings(
        finnhub_api_key=SecretStr("fh-123"),
        alpaca_key_id=SecretStr("PK1"),
        alpaca_secret_key=None,
        alphavantage_api_key=None,
        fred_api_key=None,
    )
    keys = keys_from_settings(settings)
    assert set(keys) == set(KEY_SETTINGS)
    assert keys["finnhub_api_key"] == "fh-123"
    assert keys["alpaca_key_id"] == "PK1"
    assert keys["fred_api_key"] is None
