"""The simulated market passes the MarketData contract."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contract.marketdata_contract import ContractSample, MarketDataContract
from marketdesk.clock import SimClock
from marketdesk.marketdata.port import AssetClass
from marketdesk.marketdata.sim import SimMarketData


@pytest.fixture(scope="module")
def source() -> SimMarketData:
    return SimMarketData(SimClock(datetime(2026, 11, 20, 15, 0, tzinfo=UTC)), seed=42, n_symbols=40, history_years=2)


@pytest.fixture(scope="module")
def sample(source: SimMarketData) -> ContractSample:
    equity = next(i.symbol for i in source.symbols() if i.asset_class is AssetClass.EQUITY)
    return ContractSample(symbol=equity, start=date(2025, 1, 1), end=date(2025, 12, 31))


class TestSimMarketData(MarketDataContract):
    pass
