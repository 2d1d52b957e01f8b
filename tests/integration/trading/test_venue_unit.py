"""The paper venue and the desk write in one unit of work (`OrderService.with_venue`, SQLite and PostgreSQL):
the venue's acceptance of an order and the desk's record of it commit together, and so do a tick's fills at
the venue and on the desk's books. When the desk's part fails, the venue's is undone too, in its tables and in
its memory, and the next attempt (recovery, the next quote) makes both. What the desk publishes goes out only
after the commit. Concurrent accounts and a cancel racing an order neither deadlock nor disagree."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from marketdesk.trading.activity import Side
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.orders import OrderType, SubmitOrder
from marketdesk.trading.paper import PaperBroker
from marketdesk.trading.repository import TradingRepository
from marketdesk.trading.service import OrderService
from support.books import Books

D = Decimal


@pytest.fixture
async def books(books: Books) -> Books:
    """The desk of conftest's `books`, with AAA's first trade at 100.00."""
    await books.tick("100.00")
    return books


async def from_tables(books: Books) -> PaperBroker:
    """The account's paper venue as its tables hold it (a new broker reads them), not as memory says."""
    return PaperBroker(
        books.desk.db, books.clock, account_id=books.account_id, calendar=books.desk.brokers.paper_calendar
    )


def buy(client_order_id: str, account_id: str, qty: int = 5) -> SubmitOrder:
    return SubmitOrder(client_order_id, account_id, "AAA", Side.BUY, D(qty))


async def test_when_the_desk_cannot_record_the_acceptance_the_venue_has_no_order_either(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = await books.broker()
    cash = (await broker.account()).cash
    real_save = TradingRepository.save_order

    async def failing_save(self: TradingRepository, order: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(TradingRepository, "save_order", failing_save)
    with pytest.raises(RuntimeError, match="disk is full"):
        await books.desk.orders.submit(books.me, buy("joint-1", books.account_id))
    monkeypatch.setattr(TradingRepository, "save_order", real_save)
    assert await broker.order(client_order_id="joint-1") is None  # memory was put back
    assert await (await from_tables(books)).order(client_order_id="joint-1") is None  # nothing was stored
    left = (await books.orders())["joint-1"]
    assert (left.status, left.broker_order_id) == ("new", None)  # the outbox has it: recovery sends it
    assert await books.desk.reconciler.recover(await books.account()) == 1
    sent = (await books.orders())["joint-1"]
    assert sent.status == "accepted" and sent.broker_order_id is not None
    at_venue = await broker.order(client_order_id="joint-1")
    assert at_venue is not None and at_venue.broker_order_id == sent.broker_order_id
    assert (await broker.account()).cash == cash  # a market order waits for the next quote


async def test_when_the_desk_cannot_record_a_fill_the_venue_unfills_and_fills_at_the_next_quote(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = await books.broker()
    await books.desk.orders.submit(books.me, buy("joint-2", books.account_id))
    cash = (await broker.account()).cash
    real_record = OrderService._record_fill

    async def failing_record(self: OrderService, *args: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(OrderService, "_record_fill", failing_record)
    with pytest.raises(RuntimeError, match="disk is full"):
        await books.tick("101.00")
    monkeypatch.setattr(OrderService, "_record_fill", real_record)
    assert await broker.fills() == []  # memory was put back: no fill, the order works, cash untouched
    working = await broker.order(client_order_id="joint-2")
    assert working is not None and working.status.value == "accepted" and working.filled_qty == 0
    assert (await broker.account()).cash == cash
    assert await (await from_tables(books)).fills() == []
    assert (await books.orders())["joint-2"].status == "accepted"
    fills = await books.tick("102.00")
    assert [(f.client_order_id, f.qty, f.price) for f in fills] == [("joint-2", D(5), D("102.00"))]
    assert (await books.orders())["joint-2"].status == "filled"
    assert [f.fill_id for f in await (await from_tables(books)).fills()] == [fills[0].fill_id]
    position = await books.position()
    assert position is not None and position.qty == D(5)


async def test_what_the_desk_publishes_inside_the_unit_goes_out_after_its_commit(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[tuple[str, bool]] = []
    broker = await books.broker()

    async def publish(owner_id: str, family: str, payload: dict[str, Any]) -> None:
        published.append((payload["event"], inside))

    monkeypatch.setattr(books.desk.orders, "publish", publish)
    inside = False
    await books.desk.orders.submit(books.me, buy("joint-3", books.account_id))
    assert published == [("accepted", False)]
    async with books.desk.orders.with_venue(broker):
        inside = True
        fills = await broker.on_tick("AAA", D("100.50"), books.clock.now())
        await books.desk.reconciler.record_fills(books.account_id, fills)
        assert published == [("accepted", False)]  # the fill is not announced before it is stored
        inside = False
    assert published == [("accepted", False), ("filled", False)]
    with pytest.raises(RuntimeError):
        async with books.desk.orders.with_venue(broker):
            await books.desk.orders.submit(books.me, buy("joint-4", books.account_id))
            raise RuntimeError("rolled back")
    assert published == [("accepted", False), ("filled", False)]  # what rolled back is never announced


async def test_a_cancel_racing_a_paper_order_and_two_busy_accounts_end_consistent(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = (await books.desk.trading_accounts.open(books.me, "Second"))["id"]
    at_the_venue = asyncio.Event()
    real_submit = PaperBroker.submit

    async def noted_submit(self: PaperBroker, order: SubmitOrder) -> Any:
        if order.client_order_id == "race-1":
            at_the_venue.set()  # the outbox has committed it: a cancel now races the venue's answer
        return await real_submit(self, order)

    monkeypatch.setattr(PaperBroker, "submit", noted_submit)
    limit = SubmitOrder("race-1", books.account_id, "AAA", Side.BUY, D(5), OrderType.LIMIT, limit_price=D(90))
    submitting = asyncio.create_task(books.desk.orders.submit(books.me, limit))
    orders = [
        asyncio.create_task(books.desk.orders.submit(books.me, buy(f"busy-{account[:4]}-{n}", account, 1)))
        for n in range(3)
        for account in (books.account_id, other)
    ]
    await asyncio.wait_for(at_the_venue.wait(), 30)
    race_id = (await books.orders())["race-1"].id
    await asyncio.wait_for(books.desk.orders.cancel(books.me, race_id), 30)
    placed = await asyncio.wait_for(asyncio.gather(submitting, *orders), 30)
    assert (await books.orders())["race-1"].status == "canceled"
    at_venue = await (await books.broker()).order(client_order_id="race-1")
    assert at_venue is not None and at_venue.status.value == "canceled"
    assert [p.status for p in placed[1:]] == ["accepted"] * 6
    for account_id in (books.account_id, other):  # the venue works what the desk has open, and nothing else
        async with books.desk.db.session() as session:
            account = await session.get(TradingAccount, account_id)
        assert account is not None
        venue_open = {o.client_order_id for o in await (await books.desk.brokers(account)).orders(open_only=True)}
        desk_open = {o.client_order_id for o in await books.desk.orders.orders(books.me, account_id=account_id)}
        assert venue_open == desk_open - {"race-1"} and len(venue_open) == 3
