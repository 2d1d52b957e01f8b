"""The paper broker against the Broker contract, on a migrated database (SQLite, and PostgreSQL where it runs).

`advance` moves the clock a second and shows the venue the next price, as the live quote feed would.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contract.broker_contract import BrokerContract, BrokerSample
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.trading.paper import PaperBroker

SYMBOL = "SIMA"


@pytest.fixture
async def broker(database: Database, clock: SimClock) -> PaperBroker:
    broker = PaperBroker(database, clock, account_id="contract", opening_cash=Decimal(100_000))
    await broker.on_tick(SYMBOL, Decimal("100.00"), clock.now())  # the venue has seen a price
    return broker


@pytest.fixture
def sample(broker: PaperBroker, clock: SimClock) -> BrokerSample:
    prices = iter(Decimal("100.00") + Decimal("0.05") * step for step in range(1, 1000))

    async def advance() -> None:
        clock.advance(timedelta(seconds=1))
        await broker.on_tick(SYMBOL, next(prices), clock.now())

    return BrokerSample(
        symbol=SYMBOL, qty=Decimal(10), resting_limit=Decimal("50.00"), advance=advance, account_id="contract"
    )


class TestPaperBrokerContract(BrokerContract):
    """Every contract test, on the paper broker."""
