"""The paper broker against the bracket and OCO part of the Broker contract (SQLite, and PostgreSQL where it
runs): as it is (brackets taken), and configured without brackets (refused, as the contract demands).

`advance` moves the clock a second and shows the venue the next price, as the live quote feed would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from contract.broker_contract import BracketContract, BrokerSample
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.trading.paper import PaperBroker

SYMBOL = "SIMB"


@pytest.fixture
def sample(broker: PaperBroker, clock: SimClock) -> BrokerSample:
    prices = iter(Decimal("100.00") + Decimal("0.05") * step for step in range(1, 1000))

    async def advance() -> None:
        clock.advance(timedelta(seconds=1))
        await broker.on_tick(SYMBOL, next(prices), clock.now())

    return BrokerSample(
        symbol=SYMBOL, qty=Decimal(10), resting_limit=Decimal("50.00"), advance=advance, account_id="contract"
    )


class TestPaperBrokerBrackets(BracketContract):
    """The bracket contract on the paper broker, which places brackets and OCOs."""

    @pytest.fixture
    async def broker(self, database: Database, clock: SimClock) -> PaperBroker:
        broker = PaperBroker(database, clock, account_id="contract", opening_cash=Decimal(100_000))
        await broker.on_tick(SYMBOL, Decimal("100.00"), clock.now())
        assert broker.capabilities.brackets
        return broker


class TestPaperBrokerWithoutBrackets(BracketContract):
    """The bracket contract on a paper broker whose capabilities say it takes no brackets: it must refuse them."""

    @pytest.fixture
    async def broker(self, database: Database, clock: SimClock) -> PaperBroker:
        broker = PaperBroker(database, clock, account_id="contract", opening_cash=Decimal(100_000))
        broker.capabilities = replace(broker.capabilities, brackets=False)
        await broker.on_tick(SYMBOL, Decimal("100.00"), clock.now())
        return broker
