"""The finnhub adapter (finnhub-python) against the MarketData contract, replaying recorded responses.

Recorded formats (tests/fixtures/recorded/finnhub/README.md): `/api/v1/calendar/earnings`,
`/api/v1/stock/earnings` and `/api/v1/stock/profile2`, as finnhub-python 2.4 requests them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from contract.marketdata_contract import ContractSample, MarketDataContract
from contract.recorded import Router, install_finnhub, replay_requests
from marketdesk.clock import SimClock
from marketdesk.marketdata.adapters.finnhub import FinnhubSource


@pytest.fixture
def router() -> Iterator[Router]:
    with replay_requests() as router:
        install_finnhub(router)
        yield router
    assert router.unplanned == []


@pytest.fixture
def source(router: Router) -> FinnhubSource:
    return FinnhubSource(
        clock=SimClock(datetime(2020, 10, 1, 14, 0, tzinfo=UTC)), api_key="test-finnhub-key", sleep=lambda seconds: None
    )


@pytest.fixture
def sample() -> ContractSample:
    return ContractSample(symbol="AAPL", start=date(2020, 7, 1), end=date(2020, 9, 30))


class TestFinnhubContract(MarketDataContract):
    """Every contract test, on the finnhub adapter."""
