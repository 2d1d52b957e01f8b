"""The one road to the broker, over the real API: preview, submit, the paper fill, denials with reasons,
idempotency, the kill switch, viewers, ownership and the audit trail. On SQLite and PostgreSQL."""

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
from support.auth import SignedIn, api_desk, create_user, register_admin


@pytest.fixture
def desk(tmp_path: Path, clock: SimClock, database: Database) -> Desk:
    return api_desk(tmp_path / "desk", clock, database_url=database.url)


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        # the tests show the paper venue each quote themselves (`tick`), so the desk's own feed loop must not
        # race them for it
        test_client.portal.call(desk.paper_feed.stop)  # type: ignore[union-attr]
        yield test_client


def tick(client: TestClient, desk: Desk, symbol: str, price: str) -> int:
    """Publish a live quote one second on, then let the paper venue see it; the number of fills made."""
    desk.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    quote = Quote(symbol=symbol, ts=desk.clock.now(), last=Decimal(price), volume=1_000_000)
    client.portal.call(desk.quotes.publish, [quote])  # type: ignore[union-attr]
    return int(client.portal.call(desk.paper_feed.step))  # type: ignore[union-attr]


def open_account(client: TestClient, user: SignedIn, name: str = "Paper", **risk: Any) -> str:
    response = client.post("/api/v1/accounts", json={"name": name}, headers=user.headers)
    assert response.status_code == 201, response.text
    account_id = str(response.json()["id"])
    if risk:
        patched = client.patch(f"/api/v1/accounts/{account_id}/risk", json=risk, headers=user.headers)
        assert patched.status_code == 200, patched.text
    return account_id


def order(account_id: str, **fields: Any) -> dict[str, Any]:
    return {"account_id": account_id, "symbol": "AAA", "side": "buy", "qty": "10", **fields}


def test_preview_submit_fill_and_position(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    account = open_account(client, trader)
    tick(client, desk, "AAA", "100.00")

    preview = client.post("/api/v1/orders/preview", json=order(account), headers=trader.headers)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["allowed"] is True
    assert body["estimated_cost"] == "1000.00"
    assert {c["name"] for c in body["risk"]["checks"]} >= {"trading_state", "position_pct"}
    assert body["compliance"]["policy"] == "intraday-margin"  # auto, after 2026-06-04
    assert client.get("/api/v1/orders", headers=trader.headers).json() == []  # a preview places nothing

    placed = client.post("/api/v1/orders", json=order(account, client_order_id="buy-1"), headers=trader.headers)
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "accepted"
    assert tick(client, desk, "AAA", "100.50") == 1

    detail = client.get(f"/api/v1/orders/{placed.json()['id']}", headers=trader.headers).json()
    assert detail["order"]["status"] == "filled"
    assert detail["order"]["filled_qty"] == "10"
    assert [e["kind"] for e in detail["events"]] == ["intent", "accepted", "filled", "filled"]
    positions = client.get("/api/v1/positions", headers=trader.headers).json()
    assert [(p["symbol"], p["qty"]) for p in positions] == [("AAA", "10")]
    assert Decimal(positions[0]["average_price"]) >= Decimal("100.50")  # the paper fill's slippage is adverse


def test_the_same_client_order_id_places_one_order(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    account = open_account(client, trader)
    tick(client, desk, "AAA", "100.00")
    first = client.post("/api/v1/orders", json=order(account, client_order_id="dup-1"), headers=trader.headers)
    again = client.post("/api/v1/orders", json=order(account, client_order_id="dup-1"), headers=trader.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert len(client.get("/api/v1/orders", headers=trader.headers).json()) == 1


def test_a_risk_denial_is_stored_with_its_reason_and_never_reaches_the_broker(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    account = open_account(client, trader)
    tick(client, desk, "AAA", "100.00")
    denied = client.post("/api/v1/orders", json=order(account, qty="200"), headers=trader.headers)
    assert denied.status_code == 201, denied.text
    body = denied.json()
    assert body["status"] == "rejected"
    assert "would make AAA 20.0% of equity" in body["reason"]
    assert body["broker_order_id"] is None
    broker_orders = client.portal.call(desk.brokers.paper()[0].orders)  # type: ignore[union-attr]
    assert broker_orders == []
    audit = client.get("/api/v1/audit", params={"action": "order.denied"}, headers=trader.headers).json()
    assert audit["items"][0]["target"] == body["id"]


def test_the_kill_switch_lets_only_cancels_through(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    account = open_account(client, trader)
    tick(client, desk, "AAA", "100.00")
    resting = client.post(
        "/api/v1/orders",
        json=order(account, type="limit", limit_price="95", time_in_force="gtc"),
        headers=trader.headers,
    ).json()
    assert resting["status"] == "accepted"
    halted = client.post(f"/api/v1/accounts/{account}/kill-switch", json={"on": True}, headers=trader.headers)
    assert halted.json()["state"] == "halted"
    blocked = client.post("/api/v1/orders", json=order(account, side="sell"), headers=trader.headers).json()
    assert blocked["status"] == "rejected"
    assert "kill switch is on" in blocked["reason"]
    canceled = client.delete(f"/api/v1/orders/{resting['id']}", headers=trader.headers)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    client.post(f"/api/v1/accounts/{account}/kill-switch", json={"on": False}, headers=trader.headers)
    assert client.post("/api/v1/orders", json=order(account), headers=trader.headers).json()["status"] == "accepted"


def test_viewers_see_but_cannot_trade_and_nobody_sees_anothers_orders(client: TestClient, desk: Desk) -> None:
    admin = register_admin(client)
    account = open_account(client, admin)
    tick(client, desk, "AAA", "100.00")
    placed = client.post("/api/v1/orders", json=order(account), headers=admin.headers).json()
    viewer = create_user(client, admin, "viewer@example.com", "viewer")
    trader = create_user(client, admin, "trader@example.com", "trader")
    assert client.post("/api/v1/orders", json=order(account), headers=viewer.headers).status_code == 403
    assert client.post("/api/v1/accounts", json={"name": "Mine"}, headers=viewer.headers).status_code == 403
    for intruder in (viewer, trader):
        assert client.get(f"/api/v1/orders/{placed['id']}", headers=intruder.headers).status_code == 404
        assert client.get(f"/api/v1/accounts/{account}", headers=intruder.headers).status_code == 404
        assert client.get("/api/v1/orders", headers=intruder.headers).json() == []
    assert client.delete(f"/api/v1/orders/{placed['id']}", headers=trader.headers).status_code == 404
    # another trader placing into the admin's account finds no such account
    foreign = client.post("/api/v1/orders", json=order(account), headers=trader.headers)
    assert foreign.status_code == 404


def test_compliance_status_and_bad_input(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    account = open_account(client, trader)
    tick(client, desk, "AAA", "100.00")
    client.post("/api/v1/orders", json=order(account), headers=trader.headers)
    tick(client, desk, "AAA", "100.00")
    compliance = client.get(f"/api/v1/accounts/{account}/compliance", headers=trader.headers).json()
    assert compliance["status"]["policy"] == "intraday-margin"
    assert Decimal(compliance["status"]["requirement"]) > 0
    assert Decimal(compliance["status"]["headroom"]) > 0
    bad = [
        (order(account, qty="-5"), 422),
        (order(account, type="limit"), 422),  # a limit order needs a limit price
        (order(account, symbol="AAA; DROP"), 422),
        ({**order(account), "leverage": 100}, 422),  # unknown fields are refused
        (order("nope"), 404),
    ]
    for body, status in bad:
        response = client.post("/api/v1/orders", json=body, headers=trader.headers)
        assert response.status_code == status, (body, response.text)
    unknown_limit = client.patch(f"/api/v1/accounts/{account}/risk", json={"yolo": 1}, headers=trader.headers)
    assert unknown_limit.status_code == 422
    assert "max_position_pct" in unknown_limit.json()["error"]["hint"]
