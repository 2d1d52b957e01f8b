"""Brackets and OCO through the order service and the paper broker (SQLite and PostgreSQL): the entry fills, the
venue places the exits and the desk records them as orders of their own under their parent; the take-profit
fills, the stop-loss is canceled, the position is flat with the right realized P&L, across a restart of the
desk, and replaying the fills changes nothing. Over the API, a bracket placed with take_profit/stop_loss
reaches the paper broker and its legs are listed with the orders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.desk import Desk
from marketdesk.marketdata.port import Quote
from marketdesk.trading.activity import Side
from marketdesk.trading.orders import Bracket, OrderType, SubmitOrder, TimeInForce, oco_order
from support.auth import api_desk, register_admin
from support.books import Books

D = Decimal


async def test_entry_fill_opens_legs_take_profit_fills_stop_is_canceled_and_the_position_is_flat(
    books: Books,
) -> None:
    await books.tick("100.00")
    entry = SubmitOrder(
        "br-1", books.account_id, "AAA", Side.BUY, D(10), bracket=Bracket(take_profit=D(110), stop_loss=D(95))
    )
    placed = await books.desk.orders.submit(books.me, entry)
    assert (placed.status, placed.order_class) == ("accepted", "bracket")
    assert set(await books.orders()) == {"br-1"}  # no exits before the entry fills

    await books.tick("100.00")
    orders = await books.orders()
    assert set(orders) == {"br-1", "br-1-tp", "br-1-sl"}
    assert orders["br-1"].status == "filled"
    for leg in ("br-1-tp", "br-1-sl"):
        assert (orders[leg].status, orders[leg].side, orders[leg].qty) == ("accepted", "sell", D(10))
        assert orders[leg].parent_id == placed.id
        assert orders[leg].broker_order_id is not None
    assert (orders["br-1-tp"].order_type, orders["br-1-tp"].limit_price) == ("limit", D(110))
    assert (orders["br-1-sl"].order_type, orders["br-1-sl"].stop_price) == ("stop", D(95))

    await books.restart()  # the desk (and its paper venue) restarts with the exits working
    assert (await books.orders())["br-1-sl"].status == "accepted"
    fills = await books.tick("110.50")
    assert [(f.client_order_id, f.qty, f.price) for f in fills] == [("br-1-tp", D(10), D("110.50"))]

    orders = await books.orders()
    assert (orders["br-1-tp"].status, orders["br-1-tp"].filled_qty) == ("filled", D(10))
    assert orders["br-1-sl"].status == "canceled"
    assert orders["br-1-sl"].reason == "canceled: its OCO partner br-1-tp filled"
    position = await books.position()
    assert position is not None
    assert (position.qty, position.realized_pnl) == (D(0), D("105.00"))  # 10 × (110.50 − 100.00), no commission

    _, tp_events = await books.desk.orders.order(books.me, orders["br-1-tp"].id)
    assert [e["kind"] for e in tp_events] == ["leg", "accepted", "filled", "filled"]
    _, sl_events = await books.desk.orders.order(books.me, orders["br-1-sl"].id)
    assert [e["kind"] for e in sl_events] == ["leg", "accepted", "canceled"]
    actions = await books.audit_actions()
    assert actions.count("order.leg_recorded") == 2
    assert actions.count("order.fill") == 2  # the entry's and the take-profit's

    # the feed's fills again (a replay after a crash) change nothing
    await books.desk.reconciler.record_fills(books.account_id, await (await books.broker()).fills())
    assert await books.orders() == orders
    again = await books.position()
    assert again is not None
    assert (again.qty, again.realized_pnl) == (D(0), D("105.00"))


async def test_an_oco_exits_a_held_position_and_the_desk_records_the_stop_fill_and_the_canceled_take_profit(
    books: Books,
) -> None:
    await books.tick("100.00")
    await books.desk.orders.submit(books.me, SubmitOrder("buy-1", books.account_id, "AAA", Side.BUY, D(10)))
    await books.tick("100.00")
    exit_pair = oco_order("oco-1", books.account_id, "AAA", Side.SELL, D(10), take_profit=D(110), stop_loss=D(95))
    placed = await books.desk.orders.submit(books.me, exit_pair)
    assert (placed.status, placed.order_class, placed.order_type, placed.limit_price) == (
        "accepted", "oco", "limit", D(110),
    )  # fmt: skip
    stop = (await books.orders())["oco-1-sl"]  # recorded from the venue's answer
    assert (stop.status, stop.order_type, stop.stop_price, stop.parent_id) == ("accepted", "stop", D(95), placed.id)

    moved = await books.desk.orders.replace(
        books.me, placed.id, limit_price=D(108)
    )  # the take-profit moves (inside the 10% collar)
    assert (moved.limit_price, moved.status) == (D(108), "accepted")
    venue = await (await books.broker()).order(client_order_id="oco-1")
    assert venue is not None
    assert venue.limit_price == D(108)

    fills = await books.tick("94.00")
    assert [(f.client_order_id, f.price) for f in fills] == [("oco-1-sl", D("94.00"))]
    orders = await books.orders()
    assert orders["oco-1-sl"].status == "filled"
    assert (orders["oco-1"].status, orders["oco-1"].reason) == ("canceled", "canceled: its OCO partner oco-1-sl filled")
    position = await books.position()
    assert position is not None
    assert (position.qty, position.realized_pnl) == (D(0), D("-60.00"))  # 10 × (94 − 100)


async def test_the_desks_exits_grow_with_a_partly_filled_entry_and_shrink_with_their_partner(books: Books) -> None:
    books.cap_fills("0.1")
    await books.tick("100.00")
    entry = SubmitOrder(
        "br-4", books.account_id, "AAA", Side.BUY, D(10), order_type=OrderType.LIMIT, limit_price=D(100),
        time_in_force=TimeInForce.GTC, bracket=Bracket(D(110), D(95)),
    )  # fmt: skip
    await books.desk.orders.submit(books.me, entry)
    await books.tick("100.00", volume=40)  # 4 bought
    orders = await books.orders()
    assert (orders["br-4"].status, orders["br-4-tp"].qty, orders["br-4-sl"].qty) == ("partially_filled", D(4), D(4))
    await books.tick("100.00", volume=60)  # 6 more: the exits guard 10
    orders = await books.orders()
    assert (orders["br-4"].status, orders["br-4-tp"].qty, orders["br-4-sl"].qty) == ("filled", D(10), D(10))
    await books.tick("110.00", volume=30)  # the take-profit sells 3: the stop-loss guards the 7 left
    orders = await books.orders()
    assert (orders["br-4-tp"].status, orders["br-4-tp"].filled_qty) == ("partially_filled", D(3))
    assert (orders["br-4-sl"].status, orders["br-4-sl"].qty) == ("accepted", D(7))
    _, events = await books.desk.orders.order(books.me, orders["br-4-sl"].id)
    assert [e["kind"] for e in events] == ["leg", "accepted", "resized", "resized"]
    position = await books.position()
    assert position is not None
    assert position.qty == D(7)


async def test_canceling_a_leg_at_the_desk_cancels_its_partner_there_too(books: Books) -> None:
    await books.tick("100.00")
    entry = SubmitOrder("br-2", books.account_id, "AAA", Side.BUY, D(5), bracket=Bracket(D(110), D(95)))
    await books.desk.orders.submit(books.me, entry)
    await books.tick("100.00")
    canceled = await books.desk.orders.cancel(books.me, (await books.orders())["br-2-tp"].id)
    assert canceled.status == "canceled"
    assert (await books.orders())["br-2-sl"].status == "canceled"


async def test_risk_counts_a_pair_of_exits_once_beside_another_sale(books: Books) -> None:
    await books.tick("100.00")
    await books.desk.orders.submit(books.me, SubmitOrder("buy-20", books.account_id, "AAA", Side.BUY, D(10)))
    entry = SubmitOrder("br-3", books.account_id, "AAA", Side.BUY, D(10), bracket=Bracket(D(110), D(95)))
    await books.desk.orders.submit(books.me, entry)
    await books.tick("100.00")  # 20 held; the exits of 10 work, both selling the same 10
    sale = await books.desk.orders.submit(books.me, SubmitOrder("sell-10", books.account_id, "AAA", Side.SELL, D(10)))
    assert (sale.status, sale.reason) == ("accepted", None)
    too_much = await books.desk.orders.submit(books.me, SubmitOrder("sell-1", books.account_id, "AAA", Side.SELL, D(1)))
    assert too_much.status == "rejected"
    assert "would leave you short 1 AAA" in (too_much.reason or "")


# over the API ----------------------------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[tuple[TestClient, Desk]]:
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url)
    with TestClient(create_app(desk=desk, web=False)) as client:
        client.portal.call(desk.paper_feed.stop)  # type: ignore[union-attr]  # the test shows the venue each quote
        yield client, desk


def api_tick(client: TestClient, desk: Desk, price: str) -> int:
    desk.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    quote = Quote(symbol="AAA", ts=desk.clock.now(), last=D(price), volume=1_000_000)
    client.portal.call(desk.quotes.publish, [quote])  # type: ignore[union-attr]
    return int(client.portal.call(desk.paper_feed.step))  # type: ignore[union-attr]


def test_a_bracket_placed_over_the_api_reaches_the_paper_broker_and_its_legs_are_listed(
    api: tuple[TestClient, Desk],
) -> None:
    client, desk = api
    trader = register_admin(client)
    account = client.post("/api/v1/accounts", json={"name": "Paper"}, headers=trader.headers).json()["id"]
    api_tick(client, desk, "100.00")
    body: dict[str, Any] = {"account_id": account, "symbol": "AAA", "side": "buy", "qty": "10",
                            "take_profit": "110", "stop_loss": "95", "client_order_id": "api-br-1"}  # fmt: skip
    placed = client.post("/api/v1/orders", json=body, headers=trader.headers)
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "accepted"
    assert api_tick(client, desk, "100.00") == 1

    rows = {r["client_order_id"]: r for r in client.get("/api/v1/orders", headers=trader.headers).json()}
    assert set(rows) == {"api-br-1", "api-br-1-tp", "api-br-1-sl"}
    assert rows["api-br-1"]["status"] == "filled"
    assert {(rows[leg]["side"], rows[leg]["status"]) for leg in ("api-br-1-tp", "api-br-1-sl")} == {
        ("sell", "accepted")
    }
    assert api_tick(client, desk, "94.00") == 1  # the stop-loss
    rows = {r["client_order_id"]: r for r in client.get("/api/v1/orders", headers=trader.headers).json()}
    assert (rows["api-br-1-sl"]["status"], rows["api-br-1-tp"]["status"]) == ("filled", "canceled")
    assert client.get("/api/v1/positions", headers=trader.headers).json() == []
    assert rows["api-br-1"]["order_class"] == "bracket"
    assert rows["api-br-1-sl"]["parent_id"] == rows["api-br-1"]["id"]


def test_an_oco_placed_over_the_api_guards_a_held_position_and_one_exit_cancels_the_other(
    api: tuple[TestClient, Desk],
) -> None:
    client, desk = api
    trader = register_admin(client)
    account = client.post("/api/v1/accounts", json={"name": "Paper"}, headers=trader.headers).json()["id"]
    api_tick(client, desk, "100.00")
    bought = {"account_id": account, "symbol": "AAA", "side": "buy", "qty": "10", "client_order_id": "api-buy"}
    assert client.post("/api/v1/orders", json=bought, headers=trader.headers).status_code == 201
    assert api_tick(client, desk, "100.00") == 1
    oco = {"account_id": account, "symbol": "AAA", "side": "sell", "qty": "10", "order_class": "oco",
           "take_profit": "108", "stop_loss": "96", "time_in_force": "gtc", "client_order_id": "api-oco"}  # fmt: skip
    placed = client.post("/api/v1/orders", json=oco, headers=trader.headers)
    assert placed.status_code == 201, placed.text
    assert (placed.json()["order_class"], placed.json()["type"], placed.json()["limit_price"]) == (
        "oco",
        "limit",
        "108",
    )
    assert api_tick(client, desk, "109.00") == 1  # the take-profit
    rows = {r["client_order_id"]: r for r in client.get("/api/v1/orders", headers=trader.headers).json()}
    assert (rows["api-oco"]["status"], rows["api-oco-sl"]["status"]) == ("filled", "canceled")
    assert rows["api-oco-sl"]["parent_id"] == rows["api-oco"]["id"]
    assert client.get("/api/v1/positions", headers=trader.headers).json() == []
