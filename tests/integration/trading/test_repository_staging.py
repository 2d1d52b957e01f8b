"""In a unit of work the trading repository stages new orders and order events and writes them as the unit
commits (SQLite and PostgreSQL): an order saved again before then is inserted once, as it is at the commit; a
statement of the repository in between writes the staged orders first, so it sees them and may refer to them
(a lookup by client id finds the staged row itself);
a rollback writes nothing."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

import pytest

from marketdesk.trading.repository import OrderRow, TradingRepository
from support.books import Books

D = Decimal


def new_order(books: Books, client_order_id: str) -> OrderRow:
    now = books.clock.now()
    return OrderRow(
        id=uuid.uuid4().hex, account_id=books.account_id, owner_id=books.me.id, client_order_id=client_order_id,
        symbol="AAA", side="buy", qty=D(5), order_type="market", time_in_force="day", limit_price=None,
        stop_price=None, extended_hours=False, take_profit=None, stop_loss=None, tag=None, status="new",
        filled_qty=D(0), average_fill_price=None, broker_order_id=None, reason=None, parent_id=None,
        created_at=now, updated_at=now, order_class="simple",
    )  # fmt: skip


def event(order: OrderRow, kind: str) -> dict[str, object]:
    at = order.created_at
    return {"order_id": order.id, "account_id": order.account_id, "kind": kind, "status": order.status,
            "detail": "", "data_json": "{}", "ts_event": at, "ts_init": at}  # fmt: skip


async def stored(books: Books, client_order_id: str) -> OrderRow | None:
    async with books.desk.db.session() as session:
        return await TradingRepository(session).order_for_account(books.account_id, client_order_id=client_order_id)


async def event_kinds(books: Books, order: OrderRow) -> list[str]:
    async with books.desk.db.session() as session:
        return [e.kind for e in await TradingRepository(session).events(order.id, owner_id=books.me.id)]


async def test_an_order_saved_before_the_commit_is_inserted_once_as_it_ends(books: Books) -> None:
    order = new_order(books, "staged-1")
    async with books.desk.db.unit() as unit:
        repo = TradingRepository(unit)
        await repo.insert_order(order)
        await repo.add_events([event(order, "intent")])
        order.status, order.broker_order_id = "accepted", "venue-1"
        await repo.save_order(order)
        await repo.add_events([event(order, "accepted")])
        assert await stored(books, "staged-1") is None  # another connection sees nothing before the commit
    row = await stored(books, "staged-1")
    assert row is not None and (row.status, row.broker_order_id) == ("accepted", "venue-1")
    assert await event_kinds(books, order) == ["intent", "accepted"]  # after their order, in the order added


async def test_the_staged_order_is_found_by_its_client_id_as_it_is(books: Books) -> None:
    order = new_order(books, "staged-2")
    async with books.desk.db.unit() as unit:
        repo = TradingRepository(unit)
        await repo.insert_order(order)
        assert await repo.order_for_account(books.account_id, client_order_id="staged-2") is order
        assert await repo.order_for_account("another-account", client_order_id="staged-2") is None
    row = await stored(books, "staged-2")
    assert row is not None and row.id == order.id


async def test_a_statement_after_the_insert_writes_it_first_and_a_later_save_updates_it(books: Books) -> None:
    order = new_order(books, "staged-3")
    async with books.desk.db.unit() as unit:
        repo = TradingRepository(unit)
        before = await repo.count_orders(books.account_id)
        await repo.insert_order(order)
        assert await repo.count_orders(books.account_id) == before + 1  # written before the count ran
        changed = dataclasses.replace(order, status="canceled")
        await repo.save_order(changed)  # an update now: the row is in the table
        await repo.add_events([event(changed, "canceled")])
    row = await stored(books, "staged-3")
    assert row is not None and row.status == "canceled"
    assert await event_kinds(books, order) == ["canceled"]


async def test_a_unit_that_rolls_back_writes_no_staged_order_or_event(books: Books) -> None:
    order = new_order(books, "staged-4")
    with pytest.raises(RuntimeError, match="after staging"):
        async with books.desk.db.unit() as unit:
            repo = TradingRepository(unit)
            await repo.insert_order(order)
            await repo.add_events([event(order, "intent")])
            raise RuntimeError("failed after staging")
    assert await stored(books, "staged-4") is None
    assert await event_kinds(books, order) == []


async def test_in_a_session_an_order_is_inserted_at_once(books: Books) -> None:
    order = new_order(books, "session-1")
    async with books.desk.db.session() as session:
        repo = TradingRepository(session)
        await repo.insert_order(order)
        found = await repo.order_for_account(books.account_id, client_order_id="session-1")
        assert found is not None and found.status == "new"
    assert await stored(books, "session-1") is not None
