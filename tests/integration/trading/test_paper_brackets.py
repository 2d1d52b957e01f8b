"""Brackets and OCO at the paper broker, on a real database: legs placed as the entry fills, OCO partners that
shrink and cancel each other, the stop-loss first when one event reaches both, cancels, refusals, and groups
that survive a restart. The clock starts Friday 2026-11-20 15:00 UTC (10:00 New York)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import Rejected
from marketdesk.trading.activity import Side
from marketdesk.trading.broker import BrokerOrder
from marketdesk.trading.matching import Bar, FillModel
from marketdesk.trading.orders import Bracket, OrderStatus, OrderType, SubmitOrder, TimeInForce, oco_order
from marketdesk.trading.paper import PaperBroker
from marketdesk.trading.paper_ledger import AccountType
from support.databases import sqlite_copy

D = Decimal
ACCOUNT = "paper-brackets"
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # the `clock` fixture's start: Friday 10:00 New York
WORKING = {OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED}


def broker_on(db: Database, clock: SimClock, **options: Any) -> PaperBroker:
    return PaperBroker(db, clock, account_id=ACCOUNT, **options)


def bracket(
    client_order_id: str,
    qty: str = "100",
    *,
    limit: str | None = None,
    side: Side = Side.BUY,
    take_profit: str | None = "110",
    stop_loss: str | None = "95",
    tif: TimeInForce = TimeInForce.GTC,
) -> SubmitOrder:
    return SubmitOrder(
        client_order_id=client_order_id, account_id=ACCOUNT, symbol="XYZ", side=side, qty=D(qty),
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT, time_in_force=tif,
        limit_price=None if limit is None else D(limit),
        bracket=Bracket(
            take_profit=None if take_profit is None else D(take_profit),
            stop_loss=None if stop_loss is None else D(stop_loss),
        ),
    )  # fmt: skip


def plain(client_order_id: str, side: Side, qty: str) -> SubmitOrder:
    return SubmitOrder(client_order_id=client_order_id, account_id=ACCOUNT, symbol="XYZ", side=side, qty=D(qty))


async def tick(broker: PaperBroker, clock: SimClock, price: str, **extra: Any) -> list[Any]:
    clock.advance(timedelta(seconds=1))
    return await broker.on_tick("XYZ", D(price), clock.now(), **extra)


async def found(broker: PaperBroker, client_order_id: str) -> BrokerOrder:
    order = await broker.order(client_order_id=client_order_id)
    assert order is not None, client_order_id
    return order


async def held(broker: PaperBroker) -> Decimal:
    return {p.symbol: p.qty for p in await broker.positions()}.get("XYZ", D(0))


# legs ------------------------------------------------------------------------------------------------------------


async def test_a_filled_entry_places_its_exits_which_show_as_legs_and_as_orders_of_their_own(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "100.00")
    placed = await broker.submit(bracket("br-1"))
    assert (placed.status, placed.legs) == (OrderStatus.ACCEPTED, ())  # nothing to exit yet
    fills = await tick(broker, clock, "100.00")
    assert [(f.client_order_id, f.side, f.qty) for f in fills] == [("br-1", Side.BUY, D(100))]

    entry = await found(broker, "br-1")
    assert entry.status is OrderStatus.FILLED
    take_profit, stop_loss = entry.legs
    assert (take_profit.client_order_id, take_profit.side, take_profit.order_type, take_profit.limit_price) == (
        "br-1-tp", Side.SELL, OrderType.LIMIT, D(110),
    )  # fmt: skip
    assert (stop_loss.client_order_id, stop_loss.side, stop_loss.order_type, stop_loss.stop_price) == (
        "br-1-sl", Side.SELL, OrderType.STOP, D(95),
    )  # fmt: skip
    assert {(leg.qty, leg.status) for leg in entry.legs} == {(D(100), OrderStatus.ACCEPTED)}
    assert await found(broker, "br-1-tp") == take_profit
    assert {o.client_order_id for o in await broker.orders(open_only=True)} == {"br-1-tp", "br-1-sl"}
    assert sorted(await broker.waiting_symbols()) == ["XYZ"]


async def test_exits_follow_a_partly_filled_entry_and_shrink_each_other_until_one_completes(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock, fill_model=FillModel(participation_rate=D("0.1")))
    await tick(broker, clock, "100.00")
    await broker.submit(bracket("br-2", limit="100.00"))
    await tick(broker, clock, "100.00", volume=D(300))  # 30 of the entry fill
    entry = await found(broker, "br-2")
    assert (entry.status, entry.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D(30))
    assert [leg.qty for leg in entry.legs] == [D(30), D(30)]

    await tick(broker, clock, "99.50", volume=D(500))  # 50 more: the exits grow to 80
    assert [leg.qty for leg in (await found(broker, "br-2")).legs] == [D(80), D(80)]

    fills = await tick(broker, clock, "110.00", volume=D(200))  # the take-profit sells 20 of the 80 …
    assert [(f.client_order_id, f.qty, f.price) for f in fills] == [("br-2-tp", D(20), D(110))]
    take_profit, stop_loss = (await found(broker, "br-2")).legs
    assert (take_profit.status, take_profit.filled_qty, take_profit.qty) == (
        OrderStatus.PARTIALLY_FILLED, D(20), D(80),
    )  # fmt: skip
    assert (stop_loss.status, stop_loss.qty) == (OrderStatus.ACCEPTED, D(60))  # … and the stop-loss guards 60

    await tick(broker, clock, "110.50", volume=D(10_000))  # the rest: the exit is complete
    entry = await found(broker, "br-2")
    take_profit, stop_loss = entry.legs
    assert (take_profit.status, take_profit.filled_qty) == (OrderStatus.FILLED, D(80))
    assert (stop_loss.status, stop_loss.reason) == (OrderStatus.CANCELED, "canceled: its OCO partner br-2-tp filled")
    # the position is closed, so the 20 the entry never bought are not bought any more
    assert (entry.status, entry.reason) == (OrderStatus.CANCELED, "canceled: its exit br-2-tp closed the position")
    assert await held(broker) == 0
    assert await broker.orders(open_only=True) == []


async def test_a_bar_that_reaches_both_exits_fills_the_stop_loss(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await broker.on_bar("XYZ", Bar(clock.now(), D(100), D(100), D(100), D(100)))
    await broker.submit(bracket("br-3"))
    clock.advance(timedelta(minutes=1))
    await broker.on_bar("XYZ", Bar(clock.now(), D(100), D(101), D(99), D(100)))  # the entry fills at the open
    clock.advance(timedelta(minutes=1))
    fills = await broker.on_bar("XYZ", Bar(clock.now(), D(100), D(112), D(90), D(100)))  # through 110 and 95
    assert [(f.client_order_id, f.qty, f.price) for f in fills] == [("br-3-sl", D(100), D(95))]
    assert (await found(broker, "br-3-tp")).status is OrderStatus.CANCELED
    assert await held(broker) == 0


async def test_a_short_entry_is_guarded_by_buy_exits(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "100.00")
    await broker.submit(bracket("sh-1", "10", side=Side.SELL, take_profit="90", stop_loss="105"))
    await tick(broker, clock, "100.00")
    assert await held(broker) == D(-10)
    fills = await tick(broker, clock, "106.00")  # the buy stop covers
    assert [(f.client_order_id, f.side, f.qty) for f in fills] == [("sh-1-sl", Side.BUY, D(10))]
    assert (await found(broker, "sh-1-tp")).status is OrderStatus.CANCELED
    assert await held(broker) == 0


# cancels ---------------------------------------------------------------------------------------------------------


async def test_canceling_an_entry_before_it_fills_leaves_no_exits(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "100.00")
    placed = await broker.submit(bracket("br-4", limit="90.00", stop_loss="85"))
    canceled = await broker.cancel(placed.broker_order_id)
    assert (canceled.status, canceled.legs) == (OrderStatus.CANCELED, ())
    await tick(broker, clock, "89.00")
    assert await broker.orders(open_only=True) == []
    assert await broker.order(client_order_id="br-4-tp") is None
    assert await held(broker) == 0


async def test_canceling_one_exit_cancels_its_partner(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "100.00")
    await broker.submit(bracket("br-5"))
    await tick(broker, clock, "100.00")
    take_profit = await found(broker, "br-5-tp")
    assert (await broker.cancel(take_profit.broker_order_id)).status is OrderStatus.CANCELED
    stop_loss = await found(broker, "br-5-sl")
    assert (stop_loss.status, stop_loss.reason) == (
        OrderStatus.CANCELED, "canceled: its OCO partner br-5-tp was canceled",
    )  # fmt: skip
    assert await held(broker) == D(100)  # the position stays; only its exits are gone


async def test_an_exits_quantity_cannot_be_replaced_but_its_price_can(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "100.00")
    await broker.submit(bracket("br-6"))
    await tick(broker, clock, "100.00")
    stop_loss = await found(broker, "br-6-sl")
    with pytest.raises(Rejected, match="its quantity follows the entry"):
        await broker.replace(stop_loss.broker_order_id, qty=D(50))
    moved = await broker.replace(stop_loss.broker_order_id, stop_price=D(98))
    assert (moved.stop_price, moved.qty) == (D(98), D(100))
    fills = await tick(broker, clock, "97.90")
    assert [(f.client_order_id, f.price) for f in fills] == [("br-6-sl", D("97.90"))]


async def test_day_exits_expire_together_at_the_close(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "100.00")
    await broker.submit(bracket("br-9", tif=TimeInForce.DAY))
    await tick(broker, clock, "100.00")
    clock.set(datetime(2026, 11, 20, 21, 1, tzinfo=UTC))  # Friday 16:01 New York
    legs = (await found(broker, "br-9")).legs
    assert [(leg.client_order_id, leg.status) for leg in legs] == [
        ("br-9-tp", OrderStatus.EXPIRED), ("br-9-sl", OrderStatus.EXPIRED),
    ]  # fmt: skip


# restart ---------------------------------------------------------------------------------------------------------


async def test_a_restart_keeps_the_exits_and_their_link(database: Database, clock: SimClock) -> None:
    first = broker_on(database, clock, fill_model=FillModel(participation_rate=D("0.1")))
    await tick(first, clock, "100.00")
    await first.submit(bracket("br-7"))
    await tick(first, clock, "100.00")
    await tick(first, clock, "110.00", volume=D(400))  # the take-profit sells 40
    before = await first.orders(open_only=False)

    second = broker_on(database, clock, fill_model=FillModel(participation_rate=D("0.1")))
    assert await second.orders(open_only=False) == before
    entry = await found(second, "br-7")
    assert [(leg.client_order_id, leg.qty, leg.filled_qty) for leg in entry.legs] == [
        ("br-7-tp", D(100), D(40)), ("br-7-sl", D(60), D(0)),
    ]  # fmt: skip
    fills = await tick(second, clock, "94.00", volume=D(10_000))  # the link survived: the stop sells the 60 left
    assert [(f.client_order_id, f.qty) for f in fills] == [("br-7-sl", D(60))]
    assert (await found(second, "br-7-tp")).status is OrderStatus.CANCELED
    assert await held(second) == 0


# OCO -------------------------------------------------------------------------------------------------------------


async def oco_over_a_position(broker: PaperBroker, clock: SimClock, name: str) -> BrokerOrder:
    """Buy 100 XYZ at 100.00 (order `buy-NAME`), then place OCO `oco-NAME` over it: take-profit 110, stop 95."""
    await tick(broker, clock, "100.00")
    await broker.submit(plain(f"buy-{name}", Side.BUY, "100"))
    await tick(broker, clock, "100.00")
    return await broker.submit(
        oco_order(f"oco-{name}", ACCOUNT, "XYZ", Side.SELL, D(100), take_profit=D(110), stop_loss=D(95))
    )


async def test_an_oco_exits_a_held_position_by_whichever_price_comes_first(database: Database, clock: SimClock) -> None:
    broker = broker_on(database, clock)
    placed = await oco_over_a_position(broker, clock, "1")
    assert (placed.order_type, placed.limit_price, placed.status) == (OrderType.LIMIT, D(110), OrderStatus.ACCEPTED)
    (stop,) = placed.legs
    assert (stop.client_order_id, stop.side, stop.stop_price, stop.status) == (
        "oco-1-sl", Side.SELL, D(95), OrderStatus.ACCEPTED,
    )  # fmt: skip

    again = broker_on(database, clock)  # a restart in between
    fills = await tick(again, clock, "111.00")
    assert [(f.client_order_id, f.qty, f.price) for f in fills] == [("oco-1", D(100), D(111))]
    assert (await found(again, "oco-1-sl")).status is OrderStatus.CANCELED
    assert await held(again) == 0


async def test_an_ocos_new_limit_is_stored_as_its_take_profit_and_survives_a_restart(
    database: Database, clock: SimClock
) -> None:
    broker = broker_on(database, clock)
    placed = await oco_over_a_position(broker, clock, "2")
    await broker.replace(placed.broker_order_id, limit_price=D(112))
    again = broker_on(database, clock)  # a restart reads the stored exits: the limit and its take-profit agree
    assert (await found(again, "oco-2")).limit_price == D(112)
    assert await tick(again, clock, "111.00") == []  # below the new limit: nothing fills
    fills = await tick(again, clock, "112.50")
    assert [(f.client_order_id, f.qty) for f in fills] == [("oco-2", D(100))]
    assert (await found(again, "oco-2-sl")).status is OrderStatus.CANCELED


async def test_an_oco_is_refused_beyond_the_position_or_on_the_wrong_side_of_the_market(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "100.00")
    with pytest.raises(Rejected, match="you hold no XYZ, so this one can sell at most 0"):
        await broker.submit(oco_order("o-1", ACCOUNT, "XYZ", Side.SELL, D(10), take_profit=D(110), stop_loss=D(95)))
    await broker.submit(plain("buy-2", Side.BUY, "10"))
    await tick(broker, clock, "100.00")
    with pytest.raises(Rejected, match="the stop-loss 101 must be below the last price 100"):
        await broker.submit(oco_order("o-2", ACCOUNT, "XYZ", Side.SELL, D(10), take_profit=D(110), stop_loss=D(101)))
    assert {o.client_order_id for o in await broker.orders(open_only=False)} == {"buy-2"}


async def test_an_oco_pair_holds_its_shares_once_against_other_sales(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock, account_type=AccountType.CASH)
    await tick(broker, clock, "100.00")
    await broker.submit(plain("buy-3", Side.BUY, "200"))
    await tick(broker, clock, "100.00")
    await broker.submit(oco_order("o-3", ACCOUNT, "XYZ", Side.SELL, D(100), take_profit=D(110), stop_loss=D(95)))
    # 200 held, the OCO will deliver 100 (either leg, not both): another 100 may be sold, but not 101
    await broker.submit(plain("sell-100", Side.SELL, "100"))
    with pytest.raises(Rejected, match="cash account cannot sell short"):
        await broker.submit(plain("sell-1", Side.SELL, "1"))


# the invariant ---------------------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.lists(
        st.tuples(st.integers(90, 115), st.integers(0, 2_000)),  # a price in whole dollars, the tick's volume
        min_size=1,
        max_size=12,
    )
)
def test_exits_never_sell_more_than_the_entry_bought(
    sqlite_template: Path, tmp_path: Path, path: list[tuple[int, int]]
) -> None:
    async def run() -> None:
        clock = SimClock(START)
        async with sqlite_copy(sqlite_template, tmp_path / f"prop-{abs(hash(tuple(path)))}.db") as db:
            broker = broker_on(db, clock, fill_model=FillModel(participation_rate=D("0.1")))
            await tick(broker, clock, "100.00")
            await broker.submit(bracket("prop", limit="101.00"))
            for price, volume in path:
                await tick(broker, clock, f"{price}.00", volume=D(volume))
                fills = await broker.fills()
                bought = sum((f.qty for f in fills if f.client_order_id == "prop"), D(0))
                sold = sum((f.qty for f in fills if f.client_order_id.startswith("prop-")), D(0))
                assert sold <= bought
                assert await held(broker) == bought - sold >= 0  # never short
                for leg in (await found(broker, "prop")).legs:
                    if leg.status in WORKING:
                        assert leg.qty - leg.filled_qty == bought - sold  # each exit guards what is held

    asyncio.run(run())
