"""Every request to a broker and its answer is a `broker.exchange` entry of the hash-chained audit log, recorded
with the outcome it brought (SQLite and PostgreSQL):

- the paper broker: a market order placed through `OrderService` and canceled leaves the submit and the cancel,
  each with the `SubmitOrder` or the ids asked for and the `BrokerOrder` as data; the chain verifies, and the
  entries show in `marketdesk audit export`;
- Alpaca (recorded responses, `contract.alpaca_venue`): an order placed and one canceled over the REST API leave
  Alpaca's requests (method, path, JSON body) and its JSON answers in its own field names, listed by
  GET /api/v1/audit and exported by GET /api/v1/audit/export.csv, with no key anywhere in the log.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from contract.alpaca_venue import AlpacaPaperVenue
from contract.recorded import BodyRouter, replay_requests_with_bodies
from marketdesk.app import create_app
from marketdesk.audit.cli import audit_app
from marketdesk.audit.models import AuditEntry
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.trading.activity import Side
from marketdesk.trading.broker import BrokerExchange
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.orders import OrderType, SubmitOrder
from marketdesk.trading.paper import PaperBroker
from support.auth import SignedIn, api_desk, create_user, register_admin
from support.books import Books, lose_the_brokers_answers

D = Decimal
KEY_ID = "PKEXCHANGEKEY0000001"  # made up, the vault's format
SECRET = "zY9xW7vU5tS3rQ1pO9nM7lK5jI3hG1fE9dC7bA5z"  # noqa: S105 (made up)


# -- the paper broker, through OrderService ---------------------------------------------------------------------


async def chain(books: Books) -> list[AuditEntry]:
    async with books.desk.db.session() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


async def test_a_paper_order_and_its_cancel_are_audited_as_broker_exchanges_in_the_chain(
    books: Books, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await books.tick("100.00")
    order = SubmitOrder("exchange-1", books.account_id, "AAA", Side.BUY, D(10))
    placed = await books.desk.orders.submit(books.me, order)
    assert placed.status == "accepted"
    canceled = await books.desk.orders.cancel(books.me, placed.id)
    assert canceled.status == "canceled"

    entries = await chain(books)
    exchanges = [e for e in entries if e.action == "broker.exchange"]
    assert [(e.target, e.actor_id) for e in exchanges] == [(placed.id, books.me.id)] * 2
    submit, cancel = (json.loads(e.detail) for e in exchanges)
    assert (submit["operation"], submit["venue"], submit["error"]) == ("submit", "paper", None)
    assert submit["request"]["client_order_id"] == "exchange-1"
    assert (submit["request"]["symbol"], submit["request"]["qty"], submit["request"]["order_type"]) == (
        "AAA", "10", "market",
    )  # fmt: skip
    assert submit["response"]["client_order_id"] == "exchange-1"
    assert submit["response"]["broker_order_id"] == placed.broker_order_id
    assert submit["response"]["status"] in {"new", "accepted"}
    assert (cancel["operation"], cancel["request"]) == ("cancel", {"broker_order_id": placed.broker_order_id})
    assert cancel["response"]["status"] == "canceled"
    # recorded with the outcome each brought: the submit in the unit of work that records the acceptance, whose
    # own entry it makes unnecessary (the response holds the broker's order id and status)
    actions = [e.action for e in entries]
    first = actions.index("broker.exchange")
    assert actions[first - 1 : first + 1] == ["order.submitted", "broker.exchange"]
    assert "order.broker_accepted" not in actions
    assert actions.index("order.cancel_requested") < entries.index(exchanges[1])

    async with books.desk.db.session() as session:
        verified = await books.desk.audit.verify(session)
    assert verified.ok and verified.checked == len(entries)

    # `marketdesk audit export` (run in a thread: the CLI runs its own event loop)
    monkeypatch.setenv("MARKETDESK_DATABASE_URL", database.url)
    exported = tmp_path / "audit.csv"
    args = ["export", "--csv", str(exported), "--data-dir", str(tmp_path), "--json"]
    result = await asyncio.to_thread(CliRunner().invoke, audit_app, args)
    assert result.exit_code == 0, result.output
    with exported.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["action"] == "broker.exchange"]
    assert [json.loads(row["detail"])["operation"] for row in rows] == ["submit", "cancel"]
    assert {row["target"] for row in rows} == {placed.id}


async def test_an_acceptance_learned_without_an_exchange_is_audited_on_its_own(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker's answer lost on the wire, and the order's state then brought by a stream (no request of ours):
    with no `broker.exchange` to hold the broker's order id, `order.broker_accepted` records it."""
    await books.tick("100.00")
    broker = await books.broker()
    lose_the_brokers_answers(monkeypatch)
    order = SubmitOrder("streamed-1", books.account_id, "AAA", Side.BUY, D(5), OrderType.LIMIT, limit_price=D(90))
    left = await books.desk.orders.submit(books.me, order)
    assert (left.status, left.broker_order_id) == ("new", None)
    update = await broker.order(client_order_id="streamed-1")
    assert update is not None
    async with books.desk.db.session() as session:
        account = await session.get(TradingAccount, books.account_id)
    assert account is not None
    view = await books.desk.orders.apply_update(account, update, [], actor=None)
    assert (view.status, view.broker_order_id) == ("accepted", update.broker_order_id)
    accepted = [e for e in await chain(books) if e.action == "order.broker_accepted"]
    assert [(e.target, json.loads(e.detail)) for e in accepted] == [
        (view.id, {"broker_order_id": update.broker_order_id, "status": "accepted"})
    ]


async def test_a_key_naming_a_secret_in_a_venues_answer_is_dropped_and_listed(books: Books) -> None:
    """The audit log refuses a key that names a secret; a broker's answer holding one is recorded without it."""
    answer = {"status": "accepted", "session": {"api_key": "not-for-the-log", "region": "us"}, "legs": [{"token": 1}]}
    exchange = BrokerExchange("order", {"client_order_id": "secretive-1"}, answer, None, "paper")
    async with books.desk.db.session() as session:
        account = await session.get(TradingAccount, books.account_id)
    assert account is not None
    await books.desk.orders.record_exchanges(account, "secretive-1", [exchange])
    (entry,) = [e for e in await chain(books) if e.action == "broker.exchange"]
    assert "not-for-the-log" not in entry.detail
    detail = json.loads(entry.detail)
    assert detail["response"] == {"status": "accepted", "session": {"region": "us"}, "legs": [{}]}
    assert detail["stripped"] == ["response.session.api_key", "response.legs.token"]
    assert detail["request"] == {"client_order_id": "secretive-1"}


async def test_reconciling_audits_the_positions_read_against_the_account(books: Books) -> None:
    await books.tick("100.00")
    placed = await books.desk.orders.submit(
        books.me, SubmitOrder("exchange-r", books.account_id, "AAA", Side.BUY, D(4))
    )
    await books.tick("100.00")  # the fill
    findings = await books.desk.reconciler.reconcile(await books.account())
    assert findings == []  # the books agree; the read is audited all the same
    positions_read = [
        json.loads(e.detail)
        for e in await chain(books)
        if e.action == "broker.exchange" and e.target == books.account_id
    ]
    assert [(d["operation"], d["venue"]) for d in positions_read] == [("positions", "paper")]
    assert [(p["symbol"], p["qty"]) for p in positions_read[0]["response"]] == [("AAA", "4")]
    assert placed.status == "accepted"


async def test_a_status_poll_is_audited_when_it_changes_the_books_and_not_when_it_changes_nothing(
    books: Books,
) -> None:
    await books.tick("100.00")
    placed = await books.desk.orders.submit(
        books.me,
        SubmitOrder("exchange-poll", books.account_id, "AAA", Side.BUY, D(3), OrderType.LIMIT, limit_price=D(99)),
    )
    account = await books.account()

    async def exchanges() -> list[AuditEntry]:
        return [e for e in await chain(books) if e.action == "broker.exchange"]

    before = len(await exchanges())
    assert await books.desk.reconciler.sync(account) == 1  # polled: the venue has nothing new
    assert len(await exchanges()) == before
    books.clock.advance(timedelta(seconds=1))
    await (await books.broker()).on_tick("AAA", D("98.50"), books.clock.now())  # filled; the desk is not told
    assert await books.desk.reconciler.sync(account) == 1
    assert (await books.orders())["exchange-poll"].status == "filled"
    polled = [json.loads(e.detail) | {"target": e.target} for e in (await exchanges())[before:]]
    assert [(d["operation"], d["target"]) for d in polled] == [("fills", placed.id), ("orders", placed.id)]
    (fill,) = polled[0]["response"]
    assert (fill["client_order_id"], fill["qty"], fill["price"]) == ("exchange-poll", "3", "98.50")
    actions = [e.action for e in await chain(books)]
    assert actions[-3:] == ["broker.exchange", "broker.exchange", "order.fill"]  # one unit of work, in order
    assert await books.desk.reconciler.sync(account) == 0  # nothing works any more: nothing is asked


async def test_a_refused_paper_order_audits_the_exchange_with_the_refusal(books: Books) -> None:
    # a short sale of a hard-to-borrow name passes risk (shorts allowed) and is refused by the venue
    books.desk.brokers._brokers[books.account_id] = PaperBroker(
        books.desk.db, books.clock, account_id=books.account_id, calendar=books.desk.brokers.paper_calendar,
        hard_to_borrow={"AAA"},
    )  # fmt: skip
    await books.desk.trading_accounts.update_risk(books.me, books.account_id, {"allow_short": True})
    await books.tick("100.00")
    refused = await books.desk.orders.submit(
        books.me, SubmitOrder("exchange-refused", books.account_id, "AAA", Side.SELL, D(5))
    )
    assert refused.status == "rejected"
    entries = await chain(books)
    (exchange,) = [json.loads(e.detail) for e in entries if e.action == "broker.exchange"]
    assert (exchange["operation"], exchange["response"]) == ("submit", None)
    assert exchange["error"] and exchange["error"] in (refused.reason or "")
    actions = [e.action for e in entries]
    assert actions[-2:] == ["order.broker_rejected", "broker.exchange"]


# -- Alpaca, on its recorded responses, over the REST API ------------------------------------------------------


@pytest.fixture
def router() -> Iterator[BodyRouter]:
    with replay_requests_with_bodies() as router:
        yield router
    assert router.unplanned == []


@pytest.fixture
def client(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[TestClient]:
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url)
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        yield test_client


def alpaca_trader(client: TestClient, admin: SignedIn) -> tuple[SignedIn, str]:
    """A trader with Alpaca paper keys in the vault and an Alpaca paper account; the account's id."""
    trader = create_user(client, admin, "trader@example.com", "trader")
    for name, value in (("alpaca_key_id", KEY_ID), ("alpaca_secret_key", SECRET)):
        put = client.put(f"/api/v1/vault/secrets/{name}", json={"value": value}, headers=trader.headers)
        assert put.status_code == 200, put.text
    opened = client.post("/api/v1/accounts", json={"name": "Alpaca", "broker": "alpaca"}, headers=trader.headers)
    assert opened.status_code == 201, opened.text
    return trader, str(opened.json()["id"])


def exchanges_of(client: TestClient, admin: SignedIn, order_id: str) -> list[dict[str, Any]]:
    page = client.get("/api/v1/audit", params={"action": "broker.exchange", "limit": 100}, headers=admin.headers)
    assert page.status_code == 200, page.text
    return [item for item in reversed(page.json()["items"]) if item["target"] == order_id]  # oldest first


def test_alpaca_exchanges_keep_alpacas_own_json_and_never_a_key(client: TestClient, router: BodyRouter) -> None:
    AlpacaPaperVenue(router)
    admin = register_admin(client)
    trader, account_id = alpaca_trader(client, admin)
    order = {"account_id": account_id, "symbol": "AAA", "side": "buy", "qty": "1", "client_order_id": "alpaca-x-1"}
    placed = client.post("/api/v1/orders", json=order, headers=trader.headers)
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "accepted"

    (submit,) = exchanges_of(client, admin, placed.json()["id"])
    assert submit["actor_id"] == trader.id
    detail = submit["detail"]
    assert (detail["operation"], detail["venue"], detail["error"]) == ("submit", "alpaca-paper", None)
    assert (detail["request"]["method"], detail["request"]["path"]) == ("POST", "/v2/orders")
    assert detail["request"]["body"] == {
        "symbol": "AAA", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day",
        "client_order_id": "alpaca-x-1",
    }  # fmt: skip
    response = detail["response"]  # Alpaca's order as it sent it, in its own field names
    assert {"client_order_id", "filled_avg_price", "order_class", "position_intent", "asset_class"} <= set(response)
    assert (response["client_order_id"], response["status"], response["order_class"]) == ("alpaca-x-1", "accepted", "")
    assert response["id"] == placed.json()["broker_order_id"]

    price = D(client.post("/api/v1/orders/preview", json=order, headers=trader.headers).json()["estimated_price"])
    below = str((price * D("0.98")).quantize(D("0.01")))
    resting = {**order, "client_order_id": "alpaca-x-2", "type": "limit", "time_in_force": "gtc", "limit_price": below}
    working = client.post("/api/v1/orders", json=resting, headers=trader.headers).json()
    canceled = client.delete(f"/api/v1/orders/{working['id']}", headers=trader.headers)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    _, delete, read = exchanges_of(client, admin, working["id"])
    alpaca_id = working["broker_order_id"]
    assert (delete["detail"]["request"], delete["detail"]["response"], delete["detail"]["error"]) == (
        {"method": "DELETE", "path": f"/v2/orders/{alpaca_id}"}, None, None,
    )  # fmt: skip
    assert read["detail"]["request"] == {
        "method": "GET",
        "path": f"/v2/orders/{alpaca_id}",
        "query": {"nested": "true"},
    }
    assert read["detail"]["response"]["status"] == "canceled"
    assert read["detail"]["response"]["canceled_at"]

    everything = client.get("/api/v1/audit", params={"limit": 500}, headers=admin.headers).json()["items"]
    exported = client.get("/api/v1/audit/export.csv", headers=admin.headers)
    assert exported.status_code == 200, exported.text
    for text in (json.dumps([e["detail"] for e in everything]), exported.text):
        assert SECRET not in text
        assert KEY_ID not in text
        assert "apca-api" not in text.lower()  # Alpaca's key headers
    assert exported.text.count("broker.exchange") == 4
    assert client.get("/api/v1/audit/verify", headers=admin.headers).json()["ok"] is True
