"""The fallback chain against the MarketData contract, over real adapters replaying recorded responses.

The chain asks yahoo, alpaca, finnhub and fred (in that order) through their vendor libraries, each fed
from tests/fixtures/recorded/: every kind the chain declares is answered by a real adapter's parsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import requests

from contract.marketdata_contract import ContractSample, MarketDataContract
from contract.recorded import (
    LoopbackServer,
    Router,
    install_alpaca,
    install_finnhub,
    install_fred,
    install_yahoo,
    replay_requests,
)
from marketdesk.clock import SimClock
from marketdesk.marketdata.adapters import AlpacaSource, FinnhubSource, FredSource, YahooSource
from marketdesk.marketdata.chain import FallbackChain

# yfinance 1.7 calls pandas methods with `inplace=`, which pandas 3.1 deprecates; not our code.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning:yfinance")


@pytest.fixture
def router() -> Iterator[Router]:
    with replay_requests() as router:
        install_yahoo(router)
        install_alpaca(router)
        install_finnhub(router)
        yield router
    assert router.unplanned == []


@pytest.fixture
def fred_server() -> Iterator[LoopbackServer]:
    router = Router()
    with LoopbackServer(router) as server:
        install_fred(router, server.base_url)
        yield server
    assert router.unplanned == []


@pytest.fixture
def source(router: Router, fred_server: LoopbackServer, tmp_path_factory: pytest.TempPathFactory) -> FallbackChain:
    clock = SimClock(datetime(2020, 10, 1, 14, 0, tzinfo=UTC))

    def no_wait(seconds: float) -> None:
        return None

    sources = [
        YahooSource(
            clock=clock,
            session=requests.Session(),
            cache_dir=tmp_path_factory.getbasetemp() / "yfinance-cache",
            sleep=no_wait,
        ),
        AlpacaSource(clock=clock, key_id="PKTEST0000000000000", secret_key="test-secret", sleep=no_wait),  # noqa: S106 - fake
        FinnhubSource(clock=clock, api_key="test-finnhub-key", sleep=no_wait),
        FredSource(
            clock=clock,
            api_key="abcdef0123456789abcdef0123456789",
            root_url=f"{fred_server.base_url}/fred",
            sleep=no_wait,
        ),
    ]
    return FallbackChain(sources, clock, ttl_s=60)


@pytest.fixture
def sample() -> ContractSample:
    return ContractSample(symbol="AAPL", start=date(2020, 7, 1), end=date(2020, 9, 30))


class TestChainContract(MarketDataContract):
    """Every contract test, on a chain of recorded online adapters."""
