"""The paper broker on a real database: state that survives a restart (SQLite and PostgreSQL), no half fill
after a failed write, market hours, refusals, cash settlement, corporate actions, the previous close's mark,
bars for backtests and the quote-hub feed. The clock starts Friday 2026-11-20 15:00 UTC (10:00 New York)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from marketdesk.bus import InMemoryBus
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import ConfigError, Rejected
from marketdesk.marketdata.port import Quote
from marketdesk.realtime.quotes import QuoteHub
from marketdesk.trading.activity import Side
from marketdesk.trading.matching import Bar, Commission, FillModel
from marketdesk.trading.orders import OrderStatus, OrderType, SubmitOrder, TimeInForce
from marketdesk.trading.paper import PaperBroker
from marketdesk.trading.paper_feed import QuoteFeed, follow_quotes
from marketdesk.trading.paper_ledger import AccountType
from marketdesk.trading.paper_models import PaperFill, PaperOrder

D = Decimal
ACCOUNT = "paper-it"
FRIDAY_CLOSE = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 16:00 New York
MONDAY_OPEN = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 09:30 New York


def broker_on(db: Database, clock: SimClock, **options: Any) -> PaperBroker:
    return PaperBroker(db, clock, account_id=ACCOUNT, **options)


def order(
    client_order_id: str,
    symbol: str = "XYZ",
    side: str = "buy",
    qty: str = "100",
    kind: str = "market",
    *,
    tif: str = "day",
    limit: str | None = None,
    **extra: Any,
) -> SubmitOrder:
    return SubmitOrder(
        client_order_id=client_order_id, account_id=ACCOUNT, symbol=symbol, side=Side(side), qty=D(qty),
        order_type=OrderType(kind), time_in_force=TimeInForce(tif), limit_price=None if limit is None else D(limit),
        **extra,
    )  # fmt: skip


async def tick(
    broker: PaperBroker, clock: SimClock, symbol: str, price: str, when: datetime | None = None, **extra: Any
) -> list[Any]:
    """Move the clock (a second, or to `when`) and show the broker a price there."""
    if when is None:
        clock.advance(timedelta(seconds=1))
    else:
        clock.set(when)
    return await broker.on_tick(symbol, D(price), clock.now(), **extra)


async def status_of(broker: PaperBroker, client_order_id: str) -> OrderStatus:
    found = await broker.order(client_order_id=client_order_id)
    assert found is not None
    return found.status


# persistence -------------------------------------------------------------------------------------------------


async def test_a_new_broker_over_the_same_database_sees_the_same_orders_positions_and_cash(
    database: Database, clock: SimClock
) -> None:
    model = FillModel(participation_rate=D("0.1"), commission=Commission.per_share_rate(D("0.01"), minimum=D(1)))
    first = broker_on(database, clock, fill_model=model)
    await tick(first, clock, "XYZ", "50.00")
    await tick(first, clock, "ABC", "20.00")
    await first.submit(order("buy-xyz"))
    await first.submit(order("rest-xyz", qty="10", kind="limit", tif="gtc", limit="40.00"))
    await first.submit(order("short-abc", symbol="ABC", side="sell", qty="20"))
    await first.submit(order("partial-xyz", qty="100", kind="limit", tif="gtc", limit="51.00"))
    await tick(first, clock, "XYZ", "50.10", volume=D(1_500))  # 150 of room: buy-xyz 100, then 50 of partial-xyz
    await tick(first, clock, "ABC", "19.90")
    assert await status_of(first, "partial-xyz") is OrderStatus.PARTIALLY_FILLED

    before = (
        await first.orders(open_only=False), await first.positions(), await first.account(), await first.fills()
    )  # fmt: skip
    second = broker_on(database, clock, fill_model=model)
    after = (
        await second.orders(open_only=False), await second.positions(), await second.account(), await second.fills()
    )  # fmt: skip
    assert after == before
    orders, positions, account, fills = after
    assert {p.symbol: (p.qty, p.average_price) for p in positions} == {
        "XYZ": (D(150), D("50.10")), "ABC": (D(-20), D("19.90"))
    }  # fmt: skip
    # 100,000 − 150 × 50.10 + 20 × 19.90 − commissions (1.00, 1.00, 1.00: each order's minimum)
    assert account.cash == D(100_000) - D("7515.00") + D("398.00") - D(3)
    assert len(fills) == 3
    assert {o.client_order_id for o in orders if o.status.working} == {"rest-xyz", "partial-xyz"}

    # the restarted broker keeps working where the first left off, and still knows its client order ids
    again = await second.submit(order("buy-xyz"))
    assert again.broker_order_id == next(o.broker_order_id for o in before[0] if o.client_order_id == "buy-xyz")
    await tick(second, clock, "XYZ", "39.90")
    assert await status_of(second, "rest-xyz") is OrderStatus.FILLED
    assert await status_of(second, "partial-xyz") is OrderStatus.FILLED
    assert {p.symbol: p.qty for p in await second.positions()} == {"XYZ": D(210), "ABC": D(-20)}


async def test_a_failed_write_leaves_no_half_fill_in_memory_or_in_the_database(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "XYZ", "50")
    placed = await broker.submit(order("crash-1"))
    async with sqlite_db.engine.begin() as connection:  # the position write (after the order and the fill) fails
        await connection.execute(
            text("CREATE TRIGGER fail_position BEFORE INSERT ON paper_positions BEGIN SELECT RAISE(ABORT, 'disk'); END")
        )
    with pytest.raises(IntegrityError):
        await tick(broker, clock, "XYZ", "50.25")

    assert await broker.fills() == []
    assert await broker.positions() == []
    assert (await broker.account()).cash == D(100_000)
    assert await status_of(broker, "crash-1") is OrderStatus.ACCEPTED
    async with sqlite_db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PaperFill)) == 0
        stored = await session.scalar(select(PaperOrder.status).where(PaperOrder.id == placed.broker_order_id))
        assert stored == "accepted"
    reloaded = broker_on(sqlite_db, clock)
    assert (await reloaded.account()).cash == D(100_000)
    assert await reloaded.fills() == []

    async with sqlite_db.engine.begin() as connection:
        await connection.execute(text("DROP TRIGGER fail_position"))
    await tick(broker, clock, "XYZ", "50.30")
    assert await status_of(broker, "crash-1") is OrderStatus.FILLED
    assert [(f.qty, f.price) for f in await broker.fills()] == [(D(100), D("50.30"))]


async def test_corporate_actions_apply_once_and_survive_a_restart(database: Database, clock: SimClock) -> None:
    broker = broker_on(database, clock)
    await tick(broker, clock, "XYZ", "30")
    await broker.submit(order("buy-30"))
    await tick(broker, clock, "XYZ", "30")
    await broker.submit(order("exit-40", side="sell", kind="limit", tif="gtc", limit="40"))
    effective = clock.now()

    position = await broker.apply_split("XYZ", D(2), effective)
    assert position is not None
    assert (position.qty, position.average_price, position.market_price) == (D(200), D(15), D(15))
    exit_order = await broker.order(client_order_id="exit-40")
    assert exit_order is not None
    assert exit_order.status is OrderStatus.CANCELED
    assert "split" in (exit_order.reason or "")
    assert await broker.apply_split("XYZ", D(2), effective) == position  # the same split again: no change

    assert await broker.apply_dividend("XYZ", D("0.10"), effective) == D(20)
    assert await broker.apply_dividend("XYZ", D("0.10"), effective) == D(20)
    expected_cash = D(100_000) - D(3_000) + D(20)
    assert (await broker.account()).cash == expected_cash

    restarted = broker_on(database, clock)
    assert await restarted.apply_split("XYZ", D(2), effective) == position
    assert await restarted.apply_dividend("XYZ", D("0.10"), effective) == D(20)
    assert (await restarted.account()).cash == expected_cash
    assert [(p.qty, p.average_price) for p in await restarted.positions()] == [(D(200), D(15))]


async def test_the_previous_close_is_marked_at_the_close_and_kept_across_a_restart(
    database: Database, clock: SimClock
) -> None:
    broker = broker_on(database, clock)
    opening = await broker.account()
    assert opening.last_equity == D(100_000)
    await tick(broker, clock, "XYZ", "50")
    await broker.submit(order("buy-xyz"))
    await tick(broker, clock, "XYZ", "50")
    await tick(broker, clock, "XYZ", "60", when=FRIDAY_CLOSE - timedelta(minutes=1))  # the last price before the close
    await tick(broker, clock, "XYZ", "70", when=MONDAY_OPEN + timedelta(minutes=1))

    account = await broker.account()
    assert account.equity == D(100_000) + 100 * D(20)
    assert account.last_equity == D(100_000) + 100 * D(10)  # marked at Friday's 60
    assert account.last_maintenance_margin == D("0.25") * 100 * D(60)
    assert account.extra["marked_session"] == "2026-11-20"
    restarted = await broker_on(database, clock).account()
    assert (restarted.last_equity, restarted.last_maintenance_margin) == (D(101_000), D(1_500))


# market hours ------------------------------------------------------------------------------------------------


async def test_a_day_market_order_after_the_close_is_queued_and_fills_at_the_first_regular_tick(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock)
    clock.set(FRIDAY_CLOSE + timedelta(minutes=30))
    placed = await broker.submit(order("queued"))
    assert placed.status is OrderStatus.ACCEPTED
    assert await tick(broker, clock, "XYZ", "50", when=FRIDAY_CLOSE + timedelta(minutes=31)) == []  # after hours
    assert await tick(broker, clock, "XYZ", "51", when=MONDAY_OPEN - timedelta(minutes=1)) == []  # pre-market
    fills = await tick(broker, clock, "XYZ", "52", when=MONDAY_OPEN + timedelta(seconds=1))
    assert [(f.client_order_id, f.price) for f in fills] == [("queued", D(52))]


async def test_immediate_orders_outside_regular_hours_are_refused(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    clock.set(FRIDAY_CLOSE + timedelta(minutes=30))
    for tif in ("ioc", "fok"):
        with pytest.raises(Rejected, match="only in regular hours"):
            await broker.submit(order(f"now-{tif}", tif=tif))
    assert await broker.orders(open_only=False) == []


async def test_an_extended_hours_day_limit_fills_after_the_close_and_a_regular_one_waits(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock)
    clock.set(FRIDAY_CLOSE + timedelta(minutes=30))
    await broker.submit(order("late", kind="limit", limit="50", extended_hours=True))
    await broker.submit(order("regular", kind="limit", tif="gtc", limit="50"))
    fills = await tick(broker, clock, "XYZ", "49.50")
    assert [f.client_order_id for f in fills] == ["late"]
    assert await status_of(broker, "regular") is OrderStatus.ACCEPTED


async def test_a_day_order_expires_at_the_close_and_a_gtc_order_does_not(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await broker.submit(order("day-rest", kind="limit", limit="10"))
    await broker.submit(order("gtc-rest", kind="limit", tif="gtc", limit="10"))
    clock.set(FRIDAY_CLOSE)
    assert [o.client_order_id for o in await broker.orders()] == ["gtc-rest"]
    expired = await broker.order(client_order_id="day-rest")
    assert expired is not None
    assert expired.status is OrderStatus.EXPIRED
    assert expired.reason == "expired unfilled at the session close"
    assert await broker.waiting_symbols() == ["XYZ"]
    assert [f.client_order_id for f in await tick(broker, clock, "XYZ", "9.50", when=MONDAY_OPEN)] == ["gtc-rest"]
    assert await broker.waiting_symbols() == []


# refusals ----------------------------------------------------------------------------------------------------


async def test_an_order_beyond_buying_power_is_refused_and_not_kept(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "XYZ", "100")
    with pytest.raises(Rejected, match=r"needs \$200,100.00 of buying power; the account has \$200,000.00"):
        await broker.submit(order("too-big", qty="2001"))
    assert await broker.order(client_order_id="too-big") is None


async def test_open_orders_hold_buying_power(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await broker.submit(order("first", qty="1500", kind="limit", tif="gtc", limit="100"))  # 150,000 of 200,000
    with pytest.raises(Rejected, match=r"less \$150,000.00 held by open orders"):
        await broker.submit(order("second", qty="600", kind="limit", tif="gtc", limit="100"))
    await broker.cancel((await broker.orders())[0].broker_order_id)
    assert (await broker.submit(order("second", qty="600", kind="limit", tif="gtc", limit="100"))).status.working


async def test_shorting_a_hard_to_borrow_name_is_refused_but_selling_a_holding_is_not(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock, hard_to_borrow={"GME"})
    await tick(broker, clock, "GME", "20")
    await broker.submit(order("own", symbol="GME", qty="40"))
    await tick(broker, clock, "GME", "20")
    with pytest.raises(Rejected, match=r"GME is hard to borrow.*sell at most 40"):
        await broker.submit(order("short", symbol="GME", side="sell", qty="100"))
    assert (await broker.submit(order("sell-held", symbol="GME", side="sell", qty="40"))).status.working


async def test_an_order_the_account_cannot_carry_when_it_comes_to_fill_is_canceled_with_the_reason(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock)
    placed = await broker.submit(order("blind", qty="10000"))  # no price seen yet: judged when it fills
    assert placed.status is OrderStatus.ACCEPTED
    assert await tick(broker, clock, "XYZ", "100") == []
    found = await broker.order(client_order_id="blind")
    assert found is not None
    assert found.status is OrderStatus.CANCELED
    assert (found.reason or "").startswith("canceled when it came to fill: BUY 10000 XYZ @ 100 needs $1,000,000.00")
    assert await broker.positions() == []


async def test_orders_for_another_account_are_refused_and_brackets_only_where_the_capabilities_say(
    sqlite_db: Database, clock: SimClock
) -> None:
    from dataclasses import replace

    from marketdesk.errors import Unsupported
    from marketdesk.trading.orders import Bracket

    broker = broker_on(sqlite_db, clock)
    stranger = SubmitOrder(client_order_id="x", account_id="someone-else", symbol="XYZ", side=Side.BUY, qty=D(1))
    with pytest.raises(Rejected, match="this paper broker keeps account"):
        await broker.submit(stranger)
    assert broker.capabilities.brackets is True
    broker.capabilities = replace(broker.capabilities, brackets=False)  # a venue configured without them
    with pytest.raises(Unsupported, match="bracket"):
        await broker.submit(order("b", kind="limit", limit="10", bracket=Bracket(take_profit=D(12))))


async def test_replace_is_refused_below_the_filled_quantity_and_on_a_final_order(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock, fill_model=FillModel(participation_rate=D("0.1")))
    await tick(broker, clock, "XYZ", "10")
    placed = await broker.submit(order("part", qty="100", kind="limit", tif="gtc", limit="10"))
    await tick(broker, clock, "XYZ", "10", volume=D(400))  # 40 fill
    with pytest.raises(Rejected, match="must exceed the 40 already filled"):
        await broker.replace(placed.broker_order_id, qty=D(40))
    bigger = await broker.replace(placed.broker_order_id, qty=D(120))
    assert (bigger.qty, bigger.filled_qty, bigger.status) == (D(120), D(40), OrderStatus.PARTIALLY_FILLED)
    canceled = await broker.cancel(placed.broker_order_id)
    assert await broker.cancel(placed.broker_order_id) == canceled  # a final order is returned as it is
    with pytest.raises(Rejected, match="is canceled; only a working order"):
        await broker.replace(placed.broker_order_id, limit_price=D(9))


async def test_fills_since_keeps_those_at_or_after_the_instant(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock)
    await tick(broker, clock, "XYZ", "10")
    await broker.submit(order("a", qty="1"))
    await tick(broker, clock, "XYZ", "10")
    middle = clock.now() + timedelta(seconds=1)
    await broker.submit(order("b", qty="1"))
    await tick(broker, clock, "XYZ", "11")
    assert [f.client_order_id for f in await broker.fills(since=middle)] == ["b"]
    assert [f.client_order_id for f in await broker.fills()] == ["a", "b"]


async def test_a_stored_account_opened_with_another_type_is_refused(sqlite_db: Database, clock: SimClock) -> None:
    await broker_on(sqlite_db, clock).account()
    with pytest.raises(ConfigError, match="is a margin account"):
        await broker_on(sqlite_db, clock, account_type=AccountType.CASH).account()


# cash account ------------------------------------------------------------------------------------------------


async def test_cash_account_sale_proceeds_settle_the_next_session_and_shorts_are_refused(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock, account_type=AccountType.CASH)
    await tick(broker, clock, "XYZ", "50")
    await broker.submit(order("buy"))
    await tick(broker, clock, "XYZ", "50")
    with pytest.raises(Rejected, match="cash account cannot sell short"):
        await broker.submit(order("too-many", side="sell", qty="101"))
    await broker.submit(order("sell", side="sell"))
    await tick(broker, clock, "XYZ", "55")
    friday = await broker.account()
    assert (friday.cash, friday.settled_cash, D(friday.extra["unsettled_cash"])) == (D(100_500), D(95_000), D(5_500))
    assert friday.buying_power == D(100_500)
    clock.set(MONDAY_OPEN)
    monday = await broker.account()
    assert (monday.settled_cash, D(monday.extra["unsettled_cash"])) == (D(100_500), D(0))


# prices from bars and from the quote hub ---------------------------------------------------------------------


async def test_a_backtest_order_placed_at_the_close_fills_at_the_next_bars_open(
    sqlite_db: Database, clock: SimClock
) -> None:
    broker = broker_on(sqlite_db, clock, fill_model=FillModel(slippage_bps=D(10)))
    clock.set(FRIDAY_CLOSE)
    await broker.on_bar("XYZ", Bar(FRIDAY_CLOSE - timedelta(hours=6, minutes=30), D(99), D(101), D(98), D(100)))
    await broker.submit(order("next-open"))
    assert await broker.on_bar("XYZ", Bar(FRIDAY_CLOSE, D(100), D(100), D(100), D(100))) == []  # before the open
    clock.set(MONDAY_OPEN)
    fills = await broker.on_bar("XYZ", Bar(MONDAY_OPEN, D(102), D(104), D(101), D(103)))
    assert [(f.qty, f.price) for f in fills] == [(D(100), D("102.1020"))]  # 102 × 1.001
    assert (await broker.positions())[0].market_price == D(103)  # marked at the bar's close


async def test_quotes_published_on_the_hub_fill_orders_through_follow_quotes(
    sqlite_db: Database, clock: SimClock
) -> None:
    bus = InMemoryBus()
    hub = QuoteHub(bus, None)
    broker = broker_on(sqlite_db, clock)
    follower = asyncio.create_task(follow_quotes(broker, bus, ["XYZ"]))
    for _ in range(100):  # let the follower subscribe
        if bus.subscriber_count:
            break
        await asyncio.sleep(0)
    assert bus.subscriber_count == 1
    await broker.submit(order("via-hub"))
    clock.advance(timedelta(seconds=1))
    await hub.publish([Quote("XYZ", clock.now(), D("10.00"), D("9.99"), D("10.01"), volume=5_000)])
    for _ in range(1000):
        if await status_of(broker, "via-hub") is OrderStatus.FILLED:
            break
        await asyncio.sleep(0)
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    assert [(f.qty, f.price) for f in await broker.fills()] == [(D(100), D("10.01"))]  # a buy pays the ask


async def test_the_feed_passes_the_volume_since_the_last_quote(sqlite_db: Database, clock: SimClock) -> None:
    broker = broker_on(sqlite_db, clock, fill_model=FillModel(participation_rate=D("0.1")))
    feed = QuoteFeed(broker)

    def payload(price: str, total: int) -> dict[str, Any]:
        clock.advance(timedelta(seconds=1))
        return {"symbol": "XYZ", "ts": clock.now().isoformat(), "last": price, "volume": total, "stale": False}

    await feed.handle(payload("10", 100_000))  # the session's running total so far: no cap can be read from it
    await broker.submit(order("capped"))
    fills = await feed.handle(payload("10", 100_500))
    assert [f.qty for f in fills] == [D(50)]  # 10% of the 500 traded since the last quote
    assert await feed.handle({**payload("10", 100_900), "stale": True}) == []
