"""The alphavantage adapter against the MarketData contract, replaying recorded Alpha Vantage responses.

Recorded formats (tests/fixtures/recorded/alphavantage/README.md): `NEWS_SENTIMENT` and `TREASURY_YIELD`
from the `/query` endpoint, as the alpha_vantage 3.0 library builds the requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from contract.marketdata_contract import ContractSample, MarketDataContract
from contract.recorded import Router, install_alphavantage, replay_requests
from marketdesk.clock import SimClock
from marketdesk.marketdata.adapters.alphavantage import AlphaVantageSource


@pytest.fixture
def router() -> Iterator[Router]:
    with replay_requests() as router:
        install_alphavantage(router)
        yield router
    assert router.unplanned == []


@pytest.fixture
def source(router: Router) -> AlphaVantageSource:
    return AlphaVantageSource(
        clock=SimClock(datetime(2024, 6, 3, 14, 0, tzinfo=UTC)), api_key="TESTKEY0000000", sleep=lambda seconds: None
    )


@pytest.fixture
def sample() -> ContractSample:
    return ContractSample(symbol="AAPL", start=date(2024, 5, 1), end=date(2024, 5, 31))


class TestAlphaVantageContract(MarketDataContract):
    """Every contract test, on the alphavantage adapter."""
