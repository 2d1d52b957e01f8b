"""The Broker contract: every broker adapter's test module subclasses `BrokerContract`
(`from contract.broker_contract import BrokerContract, BrokerSample`).

A subclass provides two fixtures:
- `broker`: the adapter with an account holding cash, ready for the sample (online adapters replay recorded
  responses in the vendor's real format; nothing touches the network);
- `sample`: a `BrokerSample`: a symbol it trades, a quantity, a limit price far enough from the market that a
  buy rests unfilled, and `advance`, an async callable that lets the venue work (the paper broker sees the
  next price; a recorded venue moves to its next recorded state).

No `BrokerContract` test is skipped: each checks one promise of the port that `OrderService` relies on.

`BracketContract` holds the promises about brackets and OCO, guarded by `capabilities.brackets`: a venue that
declares them places the exits the desk records (found by their own client order ids and in their parent's
`legs`); one that does not must refuse a bracket and an OCO, not drop the exits. A venue's test module mixes it
in once its venue models brackets (`order_class` bracket/oco): the paper broker and Alpaca's replay do. A promise
a replayed venue cannot honestly model is named in the subclass's `unreplayable` with the reason, and the test
skips there saying so (after checking everything before it); the paper broker names none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import pytest

from marketdesk.errors import MarketdeskError, NotFound
from marketdesk.trading.activity import Side
from marketdesk.trading.broker import Broker, BrokerAccount, BrokerOrder
from marketdesk.trading.orders import Bracket, OrderStatus, OrderType, SubmitOrder, TimeInForce, oco_order


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


# brackets and OCO ------------------------------------------------------------------------------------------------


def market_bracket(sample: BrokerSample, client_order_id: str) -> SubmitOrder:
    """A market buy whose exits rest: a take-profit far above any price the sample reaches, and a stop-loss at
    the resting limit (the market stays above it)."""
    return SubmitOrder(
        client_order_id=client_order_id, account_id=sample.account_id, symbol=sample.symbol, side=Side.BUY,
        qty=sample.qty, order_type=OrderType.MARKET, time_in_force=TimeInForce.GTC,
        bracket=Bracket(take_profit=sample.resting_limit * 100, stop_loss=sample.resting_limit),
    )  # fmt: skip


def resting_bracket(sample: BrokerSample, client_order_id: str) -> SubmitOrder:
    limit = sample.resting_limit
    return SubmitOrder(
        client_order_id=client_order_id, account_id=sample.account_id, symbol=sample.symbol, side=Side.BUY,
        qty=sample.qty, order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, limit_price=limit,
        bracket=Bracket(take_profit=limit * 2, stop_loss=(limit / 2).quantize(Decimal("0.01"))),
    )  # fmt: skip


def open_ids(orders: list[BrokerOrder]) -> set[str]:
    """The broker ids of working orders, legs nested in their parent included (some venues list them so)."""
    ids = set()
    for order in orders:
        ids |= {o.broker_order_id for o in (order, *order.legs) if o.status.working}
    return ids


class BracketContract:
    unreplayable: ClassVar[dict[str, str]] = {}
    """Promises the venue's replay cannot model, by name, with the reason (see the module docstring)."""

    def check_replayable(self, promise: str) -> None:
        """Skip the rest of the test, printing the reason, when the venue's replay cannot model `promise`."""
        reason = self.unreplayable.get(promise)
        if reason is not None:
            pytest.skip(f"{type(self).__name__}: {promise} is not replayed: {reason}")

    async def test_a_bracket_is_placed_where_the_capabilities_say_so_and_refused_where_not(
        self, broker: Broker, sample: BrokerSample
    ) -> None:
        if broker.capabilities.brackets:
            placed = await broker.submit(resting_bracket(sample, "contract-bracket-taken"))
            assert_sound(placed)
            assert placed.status.working
            assert placed.legs == () or all(leg.qty == placed.qty for leg in placed.legs)  # held until it fills
            return
        oco = oco_order(
            "contract-oco-refused", sample.account_id, sample.symbol, Side.SELL, sample.qty,
            take_profit=sample.resting_limit * 100, stop_loss=sample.resting_limit,
        )  # fmt: skip
        with pytest.raises(MarketdeskError):
            await broker.submit(resting_bracket(sample, "contract-bracket-refused"))
        with pytest.raises(MarketdeskError):
            await broker.submit(oco)
        assert await broker.order(client_order_id="contract-bracket-refused") is None
        assert await broker.order(client_order_id="contract-oco-refused") is None

    async def test_a_filled_bracket_entry_reports_its_exits_as_legs_and_as_orders(
        self, broker: Broker, sample: BrokerSample
    ) -> None:
        if not broker.capabilities.brackets:
            with pytest.raises(MarketdeskError):
                await broker.submit(market_bracket(sample, "contract-bracket-1"))
            return
        await broker.submit(market_bracket(sample, "contract-bracket-1"))
        await sample.advance()
        entry = await broker.order(client_order_id="contract-bracket-1")
        assert entry is not None
        assert entry.status is OrderStatus.FILLED
        assert len(entry.legs) == 2
        kinds = {leg.order_type: leg for leg in entry.legs}
        assert kinds[OrderType.LIMIT].limit_price == sample.resting_limit * 100
        assert kinds[OrderType.STOP].stop_price == sample.resting_limit
        for leg in entry.legs:
            assert_sound(leg)
            assert leg.side is Side.SELL
            assert leg.qty == entry.filled_qty  # the exits sell what the entry bought, no more
            assert leg.status.working
            alone = await broker.order(client_order_id=leg.client_order_id)
            assert alone is not None
            assert alone.broker_order_id == leg.broker_order_id
        self.check_replayable("open exits of a filled entry are listed as open orders")
        assert {leg.broker_order_id for leg in entry.legs} <= open_ids(await broker.orders(open_only=True))

    async def test_canceling_a_bracket_entry_before_it_fills_leaves_no_working_exit(
        self, broker: Broker, sample: BrokerSample
    ) -> None:
        if not broker.capabilities.brackets:
            with pytest.raises(MarketdeskError):
                await broker.submit(resting_bracket(sample, "contract-bracket-2"))
            return
        placed = await broker.submit(resting_bracket(sample, "contract-bracket-2"))
        canceled = await broker.cancel(placed.broker_order_id)
        assert canceled.status is OrderStatus.CANCELED
        assert all(not leg.status.working for leg in canceled.legs)
        assert not open_ids([canceled]) & open_ids(await broker.orders(open_only=True))

    async def test_an_oco_exits_a_position_with_a_take_profit_and_a_linked_stop_loss(
        self, broker: Broker, sample: BrokerSample
    ) -> None:
        oco = oco_order(
            "contract-oco-1", sample.account_id, sample.symbol, Side.SELL, sample.qty,
            take_profit=sample.resting_limit * 100, stop_loss=sample.resting_limit,
        )  # fmt: skip
        if not broker.capabilities.brackets:
            with pytest.raises(MarketdeskError):
                await broker.submit(oco)
            return
        await broker.submit(market_buy(sample, "contract-oco-entry"))
        await sample.advance()
        placed = await broker.submit(oco)
        assert_sound(placed)
        assert (placed.order_type, placed.limit_price, placed.side) == (OrderType.LIMIT, oco.limit_price, Side.SELL)
        assert placed.status.working
        (stop,) = placed.legs
        assert (stop.order_type, stop.stop_price, stop.side, stop.qty) == (
            OrderType.STOP, sample.resting_limit, Side.SELL, sample.qty,
        )  # fmt: skip
        found = await broker.order(client_order_id=stop.client_order_id)
        assert found is not None
        assert found.broker_order_id == stop.broker_order_id
