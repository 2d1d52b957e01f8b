"""The alpaca adapter (alpaca-py) against the MarketData contract, replaying recorded Alpaca responses.

Recorded formats (tests/fixtures/recorded/alpaca/README.md): market-data v2 `/v2/stocks/bars` (raw and
all adjustments), `/v2/stocks/snapshots` and `/v2/stocks/bars/latest`, as alpaca-py 0.44 requests them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from contract.marketdata_contract import ContractSample, MarketDataContract
from contract.recorded import Router, install_alpaca, replay_requests
from marketdesk.clock import SimClock
from marketdesk.marketdata.adapters.alpaca import AlpacaSource


@pytest.fixture
def router() -> Iterator[Router]:
    with replay_requests() as router:
        install_alpaca(router)
        yield router
    assert router.unplanned == []


@pytest.fixture
def source(router: Router) -> AlpacaSource:
    return AlpacaSource(
        clock=SimClock(datetime(2020, 10, 1, 14, 0, tzinfo=UTC)),
        key_id="PKTEST0000000000000",
        secret_key="test-secret",  # noqa: S106 - a fake key; every response is replayed
        sleep=lambda seconds: None,
    )


@pytest.fixture
def sample() -> ContractSample:
    return ContractSample(symbol="AAPL", start=date(2020, 7, 1), end=date(2020, 9, 30))


class TestAlpacaContract(MarketDataContract):
    """Every contract test, on the alpaca adapter."""
