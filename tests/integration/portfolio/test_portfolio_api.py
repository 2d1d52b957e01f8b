"""/api/v1/portfolios over the real API, on SQLite and PostgreSQL: a trader's whole round (create, transactions,
statement import, valuation, snapshots, returns, delete with confirmation), a portfolio following a paper
account's fills, another user answered 404 on every route, a viewer 403 on every write, and the WebSocket's
`portfolio:ID` channel for the owner only."""

from __future__ import annotations

import json
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
from support.auth import SignedIn, api_desk, create_user, login, register_admin

SAMPLE = Path(__file__).parents[2] / "unit" / "portfolio" / "data" / "alpaca_account_activities.csv"
API = "/api/v1/portfolios"


@pytest.fixture
def desk(tmp_path: Path, clock: SimClock, database: Database) -> Desk:
    return api_desk(tmp_path / "desk", clock, database_url=database.url)


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        test_client.portal.call(desk.paper_feed.stop)  # type: ignore[union-attr]  # the tests feed the quotes
        yield test_client


def create(client: TestClient, user: SignedIn, name: str = "Core", **fields: Any) -> dict[str, Any]:
    response = client.post(API, json={"name": name, **fields}, headers=user.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def add(client: TestClient, user: SignedIn, portfolio_id: str, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{API}/{portfolio_id}/transactions", json=fields, headers=user.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def upload(client: TestClient, user: SignedIn, portfolio_id: str, data: bytes, **params: Any) -> Any:
    files = {"file": ("statement.csv", data, "text/csv")}
    return client.post(f"{API}/{portfolio_id}/import", files=files, params=params, headers=user.headers)


def admin_of(client: TestClient) -> SignedIn:
    return login(client, "admin@example.com", "admin")


def test_a_trader_keeps_a_portfolio_over_the_api(client: TestClient) -> None:
    trader = register_admin(client)
    portfolio = create(client, trader, description="for the long run")
    assert (portfolio["kind"], portfolio["transactions"], portfolio["account_id"]) == ("manual", 0, None)
    pid = portfolio["id"]
    add(client, trader, pid, kind="deposit", date="2025-01-02", amount="10000")
    bought = add(client, trader, pid, kind="buy", date="2025-01-02", symbol="aaa", qty="10", price="100.5", fee="1")
    assert (bought["symbol"], bought["qty"], bought["price"], bought["source"]) == ("AAA", "10", "100.5", "manual")
    add(client, trader, pid, kind="dividend", date="2025-02-14", symbol="AAA", amount="2.50")
    oversold = {"kind": "sell", "date": "2025-03-03", "symbol": "AAA", "qty": "11", "price": "1"}
    refused = client.post(f"{API}/{pid}/transactions", json=oversold, headers=trader.headers)
    assert refused.status_code == 422
    assert "sells 11 AAA on 2025-03-03 but holds only 10 then" in refused.json()["error"]["message"]

    listed = client.get(f"{API}/{pid}/transactions", headers=trader.headers).json()
    assert [t["kind"] for t in listed] == ["deposit", "buy", "dividend"]
    only_aaa = client.get(f"{API}/{pid}/transactions", params={"symbol": "aaa"}, headers=trader.headers).json()
    assert [t["kind"] for t in only_aaa] == ["buy", "dividend"]

    march = {"start": "2025-03-01", "end": "2025-03-31"}
    bars = client.get("/api/v1/symbols/AAA/bars", params=march, headers=trader.headers).json()
    last_close = Decimal(repr(bars["close"][-1]))
    valuation = client.get(f"{API}/{pid}/valuation", headers=trader.headers)
    assert valuation.status_code == 200, valuation.text
    body = valuation.json()
    (holding,) = body["holdings"]
    assert (holding["symbol"], holding["qty"], holding["price_date"]) == ("AAA", "10", bars["dates"][-1])
    assert Decimal(holding["cost_basis"]) == Decimal("1006.00")  # 10 × 100.5 + 1 commission
    assert Decimal(holding["market_value"]) == (10 * last_close).quantize(Decimal("0.01"))
    assert Decimal(body["cash"]) == Decimal("10000") - Decimal("1006") + Decimal("2.50")
    assert (body["dividend_income"], body["simulated"]) == ("2.50", False)
    assert Decimal(body["total_value"]) == Decimal(body["net_contributions"]) + Decimal(body["total_return"])

    snapshots = client.get(f"{API}/{pid}/snapshots", headers=trader.headers).json()["snapshots"]
    assert snapshots[0]["date"] == "2025-01-02"
    assert snapshots[-1]["date"] == bars["dates"][-1]
    rebuilt = client.post(f"{API}/{pid}/snapshots", headers=trader.headers).json()
    assert rebuilt["days"] == len(snapshots)
    returns = client.get(f"{API}/{pid}/returns", headers=trader.headers).json()
    assert returns["end_value"] == snapshots[-1]["value"]
    # one external flow, at the very start: TWR is the simple return on it
    assert returns["twr"] == pytest.approx(float(Decimal(returns["gain"]) / Decimal(10000)), abs=1e-9)
    assert returns["xirr"] is not None
    assert returns["twr_annualized"] is None
    ranged = client.get(f"{API}/{pid}/returns", params={"start": "2025-02-01", "end": "2025-02-28"},
                        headers=trader.headers).json()  # fmt: skip
    assert (ranged["start"], ranged["end"], ranged["dividend_income"]) == ("2025-02-01", "2025-02-28", "2.50")

    unconfirmed = client.delete(f"{API}/{pid}", headers=trader.headers)
    assert unconfirmed.status_code == 422
    assert unconfirmed.json()["error"]["hint"] == "To go ahead, repeat its name: confirm=Core."
    assert client.delete(f"{API}/{pid}", params={"confirm": "Core"}, headers=trader.headers).status_code == 204
    assert client.get(f"{API}/{pid}", headers=trader.headers).status_code == 404


def test_a_statement_upload_answers_every_row_and_a_second_upload_adds_nothing(client: TestClient) -> None:
    trader = register_admin(client)
    pid = create(client, trader)["id"]
    first = upload(client, trader, pid, SAMPLE.read_bytes())
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["layout"], body["accepted"], body["duplicates"], body["rejected"]) == ("alpaca", 11, 0, 4)
    rows = {r["line"]: r for r in body["rows"]}
    assert rows[9]["reason"] == "a short sale is not kept in a hand-kept portfolio; link the Alpaca account instead"
    assert rows[15]["transaction"]["source"] == "alpaca"
    again = upload(client, trader, pid, SAMPLE.read_bytes()).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 11, 4)
    assert client.get(f"{API}/{pid}", headers=trader.headers).json()["transactions"] == 11

    generic = b"Trade Date,Ticker,Side,Qty,Price\n03/03/2025,AAA,buy,1,101\n"
    mapped = upload(client, trader, pid, generic, layout="generic", date_format="%m/%d/%Y",
                    column=["date=Trade Date", "symbol=Ticker"])  # fmt: skip
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["rows"][0]["transaction"]["date"] == "2025-03-03"
    broken = upload(client, trader, pid, b"when,what\n1,2\n")
    assert broken.status_code == 422
    assert "matches no statement layout" in broken.json()["error"]["message"]
    assert upload(client, trader, pid, b"\x00\x01binary").status_code == 422


def tick(client: TestClient, desk: Desk, symbol: str, price: str) -> int:
    """Show the paper venue a quote one second on; the number of fills made."""
    desk.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    quote = Quote(symbol=symbol, ts=desk.clock.now(), last=Decimal(price), volume=1_000_000)
    client.portal.call(desk.quotes.publish, [quote])  # type: ignore[union-attr]
    return int(client.portal.call(desk.paper_feed.step))  # type: ignore[union-attr]


def test_a_linked_portfolio_follows_its_accounts_fills(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    other = create_user(client, trader, "other@example.com", "trader")
    account = client.post("/api/v1/accounts", json={"name": "Paper"}, headers=trader.headers).json()["id"]
    tick(client, desk, "AAA", "100.00")
    order = {"account_id": account, "symbol": "AAA", "side": "buy", "qty": "3"}
    placed = client.post("/api/v1/orders", json=order, headers=trader.headers)
    assert placed.status_code == 201, placed.text
    assert tick(client, desk, "AAA", "100.50") == 1

    assert client.post(API, json={"name": "Theirs", "account_id": account}, headers=other.headers).status_code == 404
    portfolio = create(client, trader, "Paper book", account_id=account)
    assert portfolio["kind"] == "linked"
    (fill,) = client.get(f"{API}/{portfolio['id']}/transactions", headers=trader.headers).json()
    assert (fill["kind"], fill["symbol"], fill["qty"], fill["source"]) == ("buy", "AAA", "3", "fill")
    assert fill["id"].startswith("fill-")
    deposit = {"kind": "deposit", "date": "2026-11-20", "amount": "1"}
    refused = client.post(f"{API}/{portfolio['id']}/transactions", json=deposit, headers=trader.headers)
    assert refused.status_code == 422
    assert "follows a trading account's fills" in refused.json()["error"]["message"]
    (holding,) = client.get(f"{API}/{portfolio['id']}/valuation", headers=trader.headers).json()["holdings"]
    assert (holding["symbol"], holding["qty"]) == ("AAA", "3")
    assert client.post(f"{API}/{portfolio['id']}/snapshots", headers=trader.headers).json()["days"] >= 1


def owners_portfolio(client: TestClient) -> tuple[SignedIn, str, str]:
    admin = register_admin(client)
    owner = create_user(client, admin, "owner@example.com", "trader")
    pid = create(client, owner, "Private")["id"]
    tid = add(client, owner, pid, kind="deposit", date="2025-01-02", amount="100")["id"]
    return owner, pid, tid


def every_call(pid: str, tid: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation on one portfolio: (method, path, request keywords)."""
    statement = {"files": {"file": ("s.csv", b"date,symbol,side,qty,price\n2025-01-03,AAA,buy,1,1\n", "text/csv")}}
    return [
        ("GET", f"{API}/{pid}", {}),
        ("DELETE", f"{API}/{pid}", {"params": {"confirm": "Private"}}),
        ("GET", f"{API}/{pid}/transactions", {}),
        ("POST", f"{API}/{pid}/transactions", {"json": {"kind": "deposit", "date": "2025-01-03", "amount": "1"}}),
        ("DELETE", f"{API}/{pid}/transactions/{tid}", {}),
        ("POST", f"{API}/{pid}/import", statement),
        ("GET", f"{API}/{pid}/valuation", {}),
        ("GET", f"{API}/{pid}/snapshots", {}),
        ("POST", f"{API}/{pid}/snapshots", {}),
        ("GET", f"{API}/{pid}/returns", {}),
    ]


def test_another_user_is_answered_404_on_every_portfolio_route(client: TestClient) -> None:
    owner, pid, tid = owners_portfolio(client)
    before = client.get(f"{API}/{pid}/transactions", headers=owner.headers).json()
    intruder = create_user(client, admin_of(client), "intruder@example.com", "trader")
    assert pid not in json.dumps(client.get(API, headers=intruder.headers).json())
    for method, path, keywords in every_call(pid, tid):
        response = client.request(method, path, headers=intruder.headers, **keywords)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["message"] == f"no portfolio '{pid}'"
    assert client.get(f"{API}/{pid}/transactions", headers=owner.headers).json() == before


def test_a_viewer_reads_its_portfolio_and_is_answered_403_on_every_write(client: TestClient) -> None:
    owner, pid, tid = owners_portfolio(client)
    client.patch(f"/api/v1/admin/users/{owner.id}", json={"role": "viewer"}, headers=admin_of(client).headers)
    viewer = login(client, "owner@example.com", "viewer")
    for method, path, keywords in every_call(pid, tid):
        response = client.request(method, path, headers=viewer.headers, **keywords)
        assert response.status_code == (200 if method == "GET" else 403), (method, path, response.text)
    assert client.post(API, json={"name": "New"}, headers=viewer.headers).status_code == 403
    assert len(client.get(f"{API}/{pid}/transactions", headers=viewer.headers).json()) == 1


def next_of(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(200):
        message = json.loads(ws.receive_text())
        if message["type"] == kind:
            return dict(message)
    raise AssertionError(f"no {kind} message")


def test_only_the_owner_hears_a_portfolios_channel(client: TestClient) -> None:
    owner, pid, _ = owners_portfolio(client)
    intruder = create_user(client, admin_of(client), "intruder@example.com", "trader")
    with (
        client.websocket_connect("/api/v1/ws", headers=owner.headers) as mine,
        client.websocket_connect("/api/v1/ws", headers=intruder.headers) as theirs,
    ):
        mine.send_text(json.dumps({"op": "subscribe", "channels": [f"portfolio:{pid}"]}))
        assert next_of(mine, "subscribed")["channels"] == [f"portfolio:{pid}"]
        theirs.send_text(json.dumps({"op": "subscribe", "channels": [f"portfolio:{pid}"]}))
        assert next_of(theirs, "error")["message"].startswith(f"no such portfolio '{pid}'")
        add(client, owner, pid, kind="deposit", date="2025-01-03", amount="5")
        message = next_of(mine, "message")
        assert message["channel"] == f"portfolio:{pid}"
        assert message["data"] == {"portfolio_id": pid, "event": "transactions_changed", "added": 1}
