"""The yahoo adapter (yfinance) against the MarketData contract, replaying recorded Yahoo responses.

Recorded formats (tests/fixtures/recorded/yahoo/README.md): the v8 chart, v10 quoteSummary, v7 quote and
fundamentals-timeseries JSON APIs and the earnings-calendar page, as yfinance 1.7 requests them. yfinance is
given a `requests.Session`, which it supports; `responses` answers every request from those files.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import requests

from contract.marketdata_contract import ContractSample, MarketDataContract
from contract.recorded import Router, install_yahoo, replay_requests
from marketdesk.clock import SimClock
from marketdesk.marketdata.adapters.yahoo import YahooSource

# yfinance 1.7 calls pandas methods with `inplace=`, which pandas 3.1 deprecates; not our code.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning:yfinance")


@pytest.fixture
def router() -> Iterator[Router]:
    with replay_requests() as router:
        install_yahoo(router)
        yield router
    assert router.unplanned == []


@pytest.fixture
def source(router: Router, tmp_path_factory: pytest.TempPathFactory) -> YahooSource:
    return YahooSource(
        clock=SimClock(datetime(2020, 10, 1, 14, 0, tzinfo=UTC)),
        session=requests.Session(),
        cache_dir=tmp_path_factory.getbasetemp() / "yfinance-cache",
        sleep=lambda seconds: None,
    )


@pytest.fixture
def sample() -> ContractSample:
    return ContractSample(symbol="AAPL", start=date(2020, 7, 1), end=date(2020, 9, 30))


class TestYahooContract(MarketDataContract):
    """Every contract test, on the yahoo adapter."""
