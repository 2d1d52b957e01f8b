"""The Broker contract: every broker adapter's test module subclasses `BrokerContract`
(`from contract.broker_contract import BrokerContract, BrokerSample`).

A subclass provides two fixtures:
- `broker`: the adapter with an account holding cash, ready for the sample (online adapters replay recorded
  responses in the vendor's real format; nothing touches the network);
- `sample`: a `BrokerSample`: a symbol it trades, a quantity, a limit price far enough from the market that a
  buy rests unfilled, and `advance`, an async callable that lets the venue work (the paper broker sees the
  next price; a recorded venue moves to its next recorded state).

No test here is skipped: each checks one promise of the port that `OrderService` relies on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from marketdesk.errors import MarketdeskError, NotFound
from marketdesk.trading.activity import Side
from marketdesk.trading.broker import Broker, BrokerAccount, BrokerOrder
from marketdesk.trading.orders import OrderStatus, OrderType, SubmitOrder, TimeInForce


@dataclass(frozen=True)
class BrokerSample:
    symbol: str
    qty: Decimal
    resting_limit: Decimal  # a buy limit this low rests unfilled
    advance: Callable[[], Awaitable[None]]
    account_id: str = "contract"


def resting_buy(sample: BrokerSample, client_order_id: str) -> SubmitOrder:
    return SubmitOrder(
        client_order_id=client_order_id, account_id=sample.account_id, symbol=sample.symbol, side=Side.BUY,
        qty=sample.qty, order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, limit_price=sample.resting_limit,
    )  # fmt: skip


def market_buy(sample: BrokerSample, client_order_id: str) -> SubmitOrder:
    return SubmitOrder(
        client_order_id=client_order_id, account_id=sample.account_id, symbol=sample.symbol, side=Side.BUY,
        qty=sample.qty, order_type=OrderType.MARKET, time_in_force=TimeInForce.DAY,
    )  # fmt: skip


def assert_sound(order: BrokerOrder) -> None:
    assert order.broker_order_id
    assert isinstance(order.qty, Decimal)
    assert isinstance(order.filled_qty, Decimal)
    assert order.submitted_at.tzinfo is not None
    assert Decimal(0) <= order.filled_qty <= order.qty
    if order.filled_qty > 0:
        assert isinstance(order.average_fill_price, Decimal)
        assert order.average_fill_price > 0


class BrokerContract:
    async def test_is_a_broker_with_capabilities(self, broker: Broker) -> None:
        assert isinstance(broker, Broker)
        assert broker.name
        assert OrderType.MARKET in broker.capabilities.order_types

    async def test_account_balances_are_decimal(self, broker: Broker) -> None:
        account = await broker.account()
        assert isinstance(account, BrokerAccount)
        for value in (account.cash, account.equity, account.buying_power, account.last_equity):
            assert isinstance(value, Decimal)
        assert account.equity > 0

    async def test_a_resting_limit_order_is_working_and_found_by_its_client_order_id(
        self, broker: Broker, sample: BrokerSample
    ) -> None:
        placed = await broker.submit(resting_buy(sample, "contract-rest-1"))
        assert_sound(placed)
        assert placed.client_order_id == "contract-rest-1"
        assert placed.status in {OrderStatus.NEW, OrderStatus.ACCEPTED}
        assert placed.limit_price == sample.resting_limit
        found = await broker.order(client_order_id="contract-rest-1")
        assert found is not None
        assert found.broker_order_id == placed.broker_order_id
        assert placed.broker_order_id in {o.broker_order_id for o in await broker.orders(open_only=True)}

    async def test_submitting_the_same_client_order_id_twice_places_one_order(
        self, broker: Broker, sample: BrokerSample
    ) -> None:
        first = await broker.submit(resting_buy(sample, "contract-idem-1"))
        second = await broker.submit(resting_buy(sample, "contract-idem-1"))
        assert second.broker_order_id == first.broker_order_id
        matching = [o for o in await broker.orders(open_only=False) if o.client_order_id == "contract-idem-1"]
        assert len(matching) == 1

    async def test_an_unknown_client_order_id_is_none(self, broker: Broker) -> None:
        assert await broker.order(client_order_id="contract-never-sent") is None

    async def test_cancel_ends_a_working_order(self, broker: Broker, sample: BrokerSample) -> None:
        placed = await broker.submit(resting_buy(sample, "contract-cancel-1"))
        canceled = await broker.cancel(placed.broker_order_id)
        assert canceled.broker_order_id == placed.broker_order_id
        assert canceled.status is OrderStatus.CANCELED
        assert placed.broker_order_id not in {o.broker_order_id for o in await broker.orders(open_only=True)}

    async def test_cancelling_an_unknown_order_is_not_found(self, broker: Broker) -> None:
        with pytest.raises(NotFound):
            await broker.cancel("00000000-0000-0000-0000-000000000000")

    async def test_replace_changes_a_working_orders_limit(self, broker: Broker, sample: BrokerSample) -> None:
        placed = await broker.submit(resting_buy(sample, "contract-replace-1"))
        lower = (sample.resting_limit * Decimal("0.9")).quantize(Decimal("0.01"))
        replaced = await broker.replace(placed.broker_order_id, limit_price=lower)
        assert_sound(replaced)
        assert replaced.limit_price == lower
        assert replaced.status.working

    async def test_a_market_order_fills_and_shows_in_fills_and_positions(
        self, broker: Broker, sample: BrokerSample
    ) -> None:
        before = {p.symbol: p.qty for p in await broker.positions()}.get(sample.symbol, Decimal(0))
        placed = await broker.submit(market_buy(sample, "contract-market-1"))
        assert_sound(placed)
        await sample.advance()
        filled = await broker.order(client_order_id="contract-market-1")
        assert filled is not None
        assert filled.status is OrderStatus.FILLED
        assert filled.filled_qty == sample.qty
        assert_sound(filled)
        fills = [f for f in await broker.fills() if f.client_order_id == "contract-market-1"]
        assert sum(f.qty for f in fills) == sample.qty
        assert all(isinstance(f.price, Decimal) and f.price > 0 for f in fills)
        after = {p.symbol: p.qty for p in await broker.positions()}.get(sample.symbol, Decimal(0))
        assert after - before == sample.qty

    async def test_an_order_the_venue_refuses_raises_a_marketdesk_error(
        self, broker: Broker, sample: BrokerSample
    ) -> None:
        huge = SubmitOrder(
            client_order_id="contract-huge-1", account_id=sample.account_id, symbol=sample.symbol, side=Side.BUY,
            qty=Decimal(10) ** 9, order_type=OrderType.MARKET,
        )  # fmt: skip
        with pytest.raises(MarketdeskError):
            await broker.submit(huge)
