"""The paper venue and the desk write in one unit of work (`OrderService.with_venue`, SQLite and PostgreSQL):
placing an order (the order, the venue's acceptance, the desk's record of it) commits as one, and so do a
tick's fills at the venue and on the desk's books. When the desk's part fails, the venue's is undone too, in
its tables and in its memory, and the next attempt (the client's retry, the next quote) makes both. What the desk publishes goes out only
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


async def test_when_the_desk_cannot_record_the_acceptance_nothing_of_the_order_is_stored(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = await books.broker()
    real_save = TradingRepository.save_order

    async def failing_save(self: TradingRepository, order: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(TradingRepository, "save_order", failing_save)
    with pytest.raises(RuntimeError, match="disk is full"):
        await books.desk.orders.submit(books.me, buy("joint-1", books.account_id))
    monkeypatch.setattr(TradingRepository, "save_order", real_save)
    assert await broker.order(client_order_id="joint-1") is None  # memory was put back
    assert await (await from_tables(books)).order(client_order_id="joint-1") is None  # nothing was stored
    assert "joint-1" not in await books.orders()  # not even the intent: placing it was one unit of work
    assert "order.submitted" not in await books.audit_actions()
    sent = await books.desk.orders.submit(books.me, buy("joint-1", books.account_id))  # the client's retry
    assert sent.status == "accepted" and sent.broker_order_id is not None
    at_venue = await broker.order(client_order_id="joint-1")
    assert at_venue is not None and at_venue.broker_order_id == sent.broker_order_id
    assert [o.client_order_id for o in await books.desk.orders.orders(books.me)] == ["joint-1"]


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


async def test_cancels_fills_and_orders_of_two_busy_accounts_interleave_and_end_consistent(books: Books) -> None:
    other = (await books.desk.trading_accounts.open(books.me, "Second"))["id"]
    limit = SubmitOrder("race-1", books.account_id, "AAA", Side.BUY, D(5), OrderType.LIMIT, limit_price=D(90))

    def busy(prefix: str) -> list[Any]:
        return [
            books.desk.orders.submit(books.me, buy(f"{prefix}-{account[:4]}-{n}", account, 1))
            for n in range(3)
            for account in (books.account_id, other)
        ]

    first = await asyncio.wait_for(asyncio.gather(books.desk.orders.submit(books.me, limit), *busy("one")), 30)
    assert [p.status for p in first] == ["accepted"] * 7
    # a cancel, a quote that fills the market orders, and more orders, all at once
    cancel = books.desk.orders.cancel(books.me, first[0].id)
    second = await asyncio.wait_for(asyncio.gather(cancel, books.tick("100.25"), *busy("two")), 30)
    assert second[0].status == "canceled"
    assert [p.status for p in second[2:]] == ["accepted"] * 6
    assert (await books.orders())["race-1"].status == "canceled"
    at_venue = await (await books.broker()).order(client_order_id="race-1")
    assert at_venue is not None and at_venue.status.value == "canceled"
    for account_id in (books.account_id, other):  # the venue's books are the desk's, order by order
        async with books.desk.db.session() as session:
            account = await session.get(TradingAccount, account_id)
        assert account is not None
        venue = {
            o.client_order_id: (o.status.value, o.filled_qty)
            for o in await (await books.desk.brokers(account)).orders(open_only=False)
        }
        desk = {
            o.client_order_id: (o.status, o.filled_qty)
            for o in await books.desk.orders.orders(books.me, account_id=account_id)
        }
        assert venue == desk and len(desk) == (7 if account_id == books.account_id else 6)
