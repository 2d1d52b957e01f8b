"""Canceling an order before the broker has acknowledged it (SQLite and PostgreSQL).

- While the order is on its way (the broker call has not returned), the cancel waits for the broker's answer
  and then goes to the broker: the order ends canceled at the broker and at the desk, never working at one and
  canceled at the other.
- An order left `new` (the broker did not answer, the desk restarted) is looked up at the broker first: if the
  broker has it, the cancel goes there; if not, it is canceled at the desk and recovery never sends it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from marketdesk.errors import Temporary
from marketdesk.trading.activity import Side
from marketdesk.trading.broker import BrokerOrder
from marketdesk.trading.orders import OrderType, SubmitOrder
from marketdesk.trading.paper import PaperBroker
from support.books import Books, lose_the_brokers_answers

D = Decimal


@pytest.fixture
async def books(books: Books) -> Books:
    """The desk of conftest's `books`, with AAA's first trade at 100.00."""
    await books.tick("100.00")
    return books


def resting_buy(client_order_id: str, account_id: str) -> SubmitOrder:
    return SubmitOrder(client_order_id, account_id, "AAA", Side.BUY, D(5), OrderType.LIMIT, limit_price=D("90"))


async def test_a_cancel_while_the_order_is_on_its_way_goes_to_the_broker_when_it_answers(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = await books.broker()
    arrived, answer = asyncio.Event(), asyncio.Event()
    real_submit = PaperBroker.submit

    async def slow_submit(self: PaperBroker, order: SubmitOrder) -> BrokerOrder:
        placed = await real_submit(self, order)  # the venue has it...
        arrived.set()
        await answer.wait()  # ...but its answer is still on the wire
        return placed

    monkeypatch.setattr(PaperBroker, "submit", slow_submit)
    # a broker whose answer can be on the wire keeps its books elsewhere: the paper venue's acceptance would
    # otherwise be written in the desk's unit of work (`OrderService.with_venue`), which the cancel waits for
    monkeypatch.setattr(PaperBroker, "database", property(lambda self: None))
    submitting = asyncio.create_task(books.desk.orders.submit(books.me, resting_buy("fly-1", books.account_id)))
    await arrived.wait()
    order_id = (await books.orders())["fly-1"].id
    pending = await books.desk.orders.cancel(books.me, order_id)
    assert pending.status == "new"  # not canceled yet: the broker has not answered
    answer.set()
    final = await submitting
    assert final.status == "canceled"
    assert (await broker.order(client_order_id="fly-1")).status.value == "canceled"  # type: ignore[union-attr]
    view, events = await books.desk.orders.order(books.me, order_id)
    assert view.status == "canceled" and view.broker_order_id is not None
    assert [e["kind"] for e in events] == ["intent", "cancel_pending", "accepted", "canceled"]


async def test_an_unacknowledged_order_the_broker_has_is_canceled_at_the_broker(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = await books.broker()
    lose_the_brokers_answers(monkeypatch)
    left = await books.desk.orders.submit(books.me, resting_buy("lost-1", books.account_id))
    assert (left.status, left.broker_order_id) == ("new", None)
    monkeypatch.undo()
    canceled = await books.desk.orders.cancel(books.me, left.id)
    assert canceled.status == "canceled" and canceled.broker_order_id is not None
    assert (await broker.order(client_order_id="lost-1")).status.value == "canceled"  # type: ignore[union-attr]


async def test_an_order_the_broker_never_received_is_canceled_at_the_desk_and_never_sent(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = await books.broker()

    async def unreachable(self: PaperBroker, order: SubmitOrder) -> BrokerOrder:
        raise Temporary("connection refused")

    monkeypatch.setattr(PaperBroker, "submit", unreachable)
    left = await books.desk.orders.submit(books.me, resting_buy("never-1", books.account_id))
    monkeypatch.undo()
    canceled = await books.desk.orders.cancel(books.me, left.id)
    assert (canceled.status, canceled.broker_order_id) == ("canceled", None)
    account = await books.account()
    assert await books.desk.reconciler.recover(account) == 0  # a canceled order is not resent
    assert await broker.order(client_order_id="never-1") is None
