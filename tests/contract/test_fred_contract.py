"""The fred adapter (fredapi) against the MarketData contract, replaying recorded FRED responses.

fredapi opens URLs with urllib, which `responses` cannot intercept, so a real HTTP server on 127.0.0.1
serves the recorded `series/observations` XML (tests/fixtures/recorded/fred/README.md) and the adapter's
`root_url` points at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from contract.marketdata_contract import ContractSample, MarketDataContract
from contract.recorded import LoopbackServer, Router, install_fred
from marketdesk.clock import SimClock
from marketdesk.marketdata.adapters.fred import FredSource


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    router = Router()
    with LoopbackServer(router) as server:
        install_fred(router, server.base_url)
        yield server
    assert router.unplanned == []


@pytest.fixture
def source(server: LoopbackServer) -> FredSource:
    return FredSource(
        clock=SimClock(datetime(2020, 10, 1, 14, 0, tzinfo=UTC)),
        api_key="abcdef0123456789abcdef0123456789",
        root_url=f"{server.base_url}/fred",
        sleep=lambda seconds: None,
    )


@pytest.fixture
def sample() -> ContractSample:
    return ContractSample(symbol="AAPL", start=date(2020, 7, 1), end=date(2020, 9, 30))


class TestFredContract(MarketDataContract):
    """Every contract test, on the fred adapter."""
