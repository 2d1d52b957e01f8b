"""Alpaca accounts and live (real-money) trading over the real API: an Alpaca paper account opens with the owner's
vault keys; a live one needs the desk setting `allow_live_trading`, and places nothing until its owner types the
phrase at POST /api/v1/accounts/{id}/live (owner only, traders and admins only, audited); then its orders go to
Alpaca's live API. Alpaca answers from recorded responses (`replay_requests_with_bodies`): nothing leaves the
process. The kill switch is pushed on the owner's `orders` WebSocket channel. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contract.recorded import BodyRouter, Reply, Request, recorded_json, replay_requests_with_bodies
from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.desk import Desk
from marketdesk.trading.adapters.alpaca import LIVE_CONFIRMATION_PHRASE, LIVE_SETTING_ENV, AlpacaBroker
from marketdesk.trading.repository import TradingRepository
from support.auth import SignedIn, api_desk, create_user, login, register_admin

VENDOR = "alpaca_trading"
LIVE_API = r"https://api\.alpaca\.markets/v2"
PAPER_API = r"https://paper-api\.alpaca\.markets/v2"
LIVE_KEY, PAPER_KEY = "AKLIVEKEY00000000001", "PKPAPERKEY0000000001"  # made up, the vault's format
SECRET = "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b"  # noqa: S105 (made up)


@pytest.fixture
def router() -> Iterator[BodyRouter]:
    with replay_requests_with_bodies() as router:
        yield router
    assert router.unplanned == []


def serve_alpaca(router: BodyRouter, base: str) -> None:
    """Alpaca's account and order placement at `base`, from the recorded payloads."""

    def place(request: Request, match: re.Match[str]) -> Reply:
        body = router.body_json()
        order = recorded_json(VENDOR, "order_market_day_accepted.json")
        order.update(client_order_id=body["client_order_id"], symbol=body["symbol"], qty=body["qty"], side=body["side"])
        return Reply.json(order)

    router.route(f"account {base}", "GET", base + "/account", lambda request, match: Reply.file(VENDOR, "account.json"))
    router.route(f"orders {base}", "POST", base + "/orders", place)


def make_client(tmp_path: Path, clock: SimClock, database: Database, **settings: Any) -> Iterator[TestClient]:
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url, **settings)
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        yield test_client


@pytest.fixture
def live_client(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[TestClient]:
    """A desk that allows live trading."""
    yield from make_client(tmp_path, clock, database, allow_live_trading=True)


@pytest.fixture
def client(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[TestClient]:
    """A desk as it comes: live trading off."""
    yield from make_client(tmp_path, clock, database)


def trader_with_keys(client: TestClient, admin: SignedIn, email: str, key_id: str = LIVE_KEY) -> SignedIn:
    trader = create_user(client, admin, email, "trader")
    for name, value in (("alpaca_key_id", key_id), ("alpaca_secret_key", SECRET)):
        put = client.put(f"/api/v1/vault/secrets/{name}", json={"value": value}, headers=trader.headers)
        assert put.status_code == 200, put.text
    return trader


def open_live(client: TestClient, user: SignedIn, name: str = "Real") -> dict[str, Any]:
    opened = client.post(
        "/api/v1/accounts", json={"name": name, "broker": "alpaca", "live": True}, headers=user.headers
    )
    assert opened.status_code == 201, opened.text
    body: dict[str, Any] = opened.json()
    return body


def confirm(client: TestClient, user: SignedIn, account_id: str, phrase: str = LIVE_CONFIRMATION_PHRASE) -> Any:
    return client.post(f"/api/v1/accounts/{account_id}/live", json={"confirmation": phrase}, headers=user.headers)


def buy(client: TestClient, user: SignedIn, account_id: str) -> Any:
    order = {"account_id": account_id, "symbol": "AAA", "side": "buy", "qty": "1"}
    return client.post("/api/v1/orders", json=order, headers=user.headers)


def confirmations(client: TestClient, admin: SignedIn) -> list[dict[str, Any]]:
    page = client.get("/api/v1/audit", params={"action": "trading.live_confirmed"}, headers=admin.headers)
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


# -- the desk setting off (the default) -----------------------------------------------------------------------


def test_a_live_account_is_refused_while_the_desk_setting_is_off(client: TestClient) -> None:
    admin = register_admin(client)
    trader = trader_with_keys(client, admin, "trader@example.com")
    refused = client.post(
        "/api/v1/accounts", json={"name": "Real", "broker": "alpaca", "live": True}, headers=trader.headers
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert "live (real-money) trading is turned off on this desk" in error["message"]
    assert f"{LIVE_SETTING_ENV}=true" in error["hint"]
    assert client.get("/api/v1/accounts", headers=trader.headers).json() == []


def test_an_alpaca_paper_account_opens_with_the_owners_paper_keys(client: TestClient, router: BodyRouter) -> None:
    serve_alpaca(router, PAPER_API)
    admin = register_admin(client)
    trader = trader_with_keys(client, admin, "trader@example.com", key_id=PAPER_KEY)
    opened = client.post("/api/v1/accounts", json={"name": "Alpaca", "broker": "alpaca"}, headers=trader.headers)
    assert opened.status_code == 201, opened.text
    account = opened.json()
    assert (account["broker"], account["live"], account["live_confirmed"]) == ("alpaca", False, False)
    detail = client.get(f"/api/v1/accounts/{account['id']}", headers=trader.headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["balances"]["cash"] == "99471.26"  # the recorded paper account, as Alpaca sent it
    assert [c.host for c in router.calls] == ["paper-api.alpaca.markets"]


def test_an_alpaca_account_without_keys_is_refused_naming_them(client: TestClient) -> None:
    admin = register_admin(client)
    trader = create_user(client, admin, "trader@example.com", "trader")
    refused = client.post("/api/v1/accounts", json={"name": "Alpaca", "broker": "alpaca"}, headers=trader.headers)
    assert refused.status_code == 422, refused.text
    assert "no alpaca_key_id and no alpaca_secret_key" in refused.json()["error"]["message"]
    assert "Key vault" in refused.json()["error"]["hint"]


def test_a_live_key_cannot_open_an_alpaca_paper_account(client: TestClient) -> None:
    admin = register_admin(client)
    trader = trader_with_keys(client, admin, "trader@example.com", key_id=LIVE_KEY)
    refused = client.post("/api/v1/accounts", json={"name": "Alpaca", "broker": "alpaca"}, headers=trader.headers)
    assert refused.status_code == 422, refused.text
    assert "live key" in refused.json()["error"]["message"]


def test_confirming_is_refused_while_the_desk_setting_is_off(client: TestClient) -> None:
    admin = register_admin(client)
    paper = client.post("/api/v1/accounts", json={"name": "Paper"}, headers=admin.headers).json()
    refused = confirm(client, admin, paper["id"])
    assert refused.status_code == 422, refused.text
    assert "is not a live account" in refused.json()["error"]["message"]


# -- the desk setting on ------------------------------------------------------------------------------------


def test_a_live_account_opens_unconfirmed_and_places_nothing(live_client: TestClient, router: BodyRouter) -> None:
    client = live_client
    admin = register_admin(client)
    trader = trader_with_keys(client, admin, "trader@example.com")
    account = open_live(client, trader)
    assert (account["live"], account["live_confirmed"], account["live_confirmed_at"]) == (True, False, None)
    refused = buy(client, trader, account["id"])
    assert refused.status_code == 422, refused.text
    assert "until you confirm live trading" in refused.json()["error"]["message"]
    assert LIVE_CONFIRMATION_PHRASE in refused.json()["error"]["hint"]
    assert client.get(f"/api/v1/accounts/{account['id']}", headers=trader.headers).status_code == 422
    assert client.get("/api/v1/orders", headers=trader.headers).json() == []
    assert router.calls == [], "nothing went to Alpaca"


def test_a_paper_venue_account_cannot_be_live(live_client: TestClient) -> None:
    admin = register_admin(live_client)
    refused = live_client.post("/api/v1/accounts", json={"name": "P", "live": True}, headers=admin.headers)
    assert refused.status_code == 422, refused.text
    assert "cannot be live" in refused.json()["error"]["message"]


def test_a_paper_key_cannot_open_a_live_account(live_client: TestClient) -> None:
    admin = register_admin(live_client)
    trader = trader_with_keys(live_client, admin, "trader@example.com", key_id=PAPER_KEY)
    refused = live_client.post(
        "/api/v1/accounts", json={"name": "Real", "broker": "alpaca", "live": True}, headers=trader.headers
    )
    assert refused.status_code == 422, refused.text
    assert "paper key" in refused.json()["error"]["message"]


def test_a_wrong_phrase_is_refused_showing_the_phrase(live_client: TestClient) -> None:
    client = live_client
    admin = register_admin(client)
    trader = trader_with_keys(client, admin, "trader@example.com")
    account = open_live(client, trader)
    for typed in ("yes", LIVE_CONFIRMATION_PHRASE.lower(), LIVE_CONFIRMATION_PHRASE + "!"):
        refused = confirm(client, trader, account["id"], typed)
        assert refused.status_code == 422, refused.text
        assert "does not match" in refused.json()["error"]["message"]
        assert LIVE_CONFIRMATION_PHRASE in refused.json()["error"]["hint"]
    assert client.get("/api/v1/accounts", headers=trader.headers).json()[0]["live_confirmed"] is False
    assert confirmations(client, admin) == []


def test_another_users_live_account_is_not_found(live_client: TestClient) -> None:
    client = live_client
    admin = register_admin(client)
    owner = trader_with_keys(client, admin, "owner@example.com")
    account = open_live(client, owner)
    for intruder in (admin, create_user(client, admin, "other@example.com", "trader")):
        assert confirm(client, intruder, account["id"]).status_code == 404
    assert client.get("/api/v1/accounts", headers=owner.headers).json()[0]["live_confirmed"] is False


def test_a_viewer_cannot_confirm_even_their_own_live_account(live_client: TestClient) -> None:
    client = live_client
    admin = register_admin(client)
    owner = trader_with_keys(client, admin, "owner@example.com")
    account = open_live(client, owner)
    client.patch(f"/api/v1/admin/users/{owner.id}", json={"role": "viewer"}, headers=admin.headers)
    viewer = login(client, "owner@example.com", "viewer")
    refused = confirm(client, viewer, account["id"])
    assert refused.status_code == 403, refused.text
    assert client.get("/api/v1/accounts", headers=viewer.headers).json()[0]["live_confirmed"] is False


def test_the_typed_phrase_confirms_once_is_audited_and_routes_orders_to_the_live_api(
    live_client: TestClient, router: BodyRouter
) -> None:
    serve_alpaca(router, LIVE_API)
    client = live_client
    admin = register_admin(client)
    trader = trader_with_keys(client, admin, "trader@example.com")
    account = open_live(client, trader)

    confirmed = confirm(client, trader, account["id"], f"  {LIVE_CONFIRMATION_PHRASE} ")  # spaces around: fine
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert (body["live"], body["live_confirmed"]) == (True, True) and body["live_confirmed_at"]
    again = confirm(client, trader, account["id"])
    assert again.status_code == 200 and again.json()["live_confirmed_at"] == body["live_confirmed_at"]
    entries = confirmations(client, admin)
    assert [(e["actor_id"], e["target"], e["detail"]["name"]) for e in entries] == [(trader.id, account["id"], "Real")]
    listed = client.get("/api/v1/accounts", headers=trader.headers).json()
    assert [(a["id"], a["live_confirmed"]) for a in listed] == [(account["id"], True)]

    placed = buy(client, trader, account["id"])
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "accepted", order
    assert {c.host for c in router.calls} == {"api.alpaca.markets"}, "live, never the paper API"
    ((_, url, sent),) = [b for b in router.bodies if b[0] == "POST"]
    assert url == "https://api.alpaca.markets/v2/orders"
    assert json.loads(sent)["client_order_id"] == order["client_order_id"]

    desk: Desk = client.app.state.desk  # type: ignore[attr-defined]
    broker = client.portal.call(desk.brokers, _account_row(client, desk, account["id"], trader.id))  # type: ignore[union-attr]
    assert isinstance(broker, AlpacaBroker) and broker.paper is False


def _account_row(client: TestClient, desk: Desk, account_id: str, owner_id: str) -> Any:
    async def read() -> Any:
        async with desk.db.session() as session:
            return await TradingRepository(session).account(account_id, owner_id=owner_id)

    assert client.portal is not None
    return client.portal.call(read)


# -- the kill switch is pushed --------------------------------------------------------------------------------


def test_the_kill_switch_is_pushed_on_the_owners_orders_channel(client: TestClient) -> None:
    admin = register_admin(client)
    trader = create_user(client, admin, "trader@example.com", "trader")
    other = create_user(client, admin, "other@example.com", "trader")
    account = client.post("/api/v1/accounts", json={"name": "Paper"}, headers=trader.headers).json()
    with (
        client.websocket_connect("/api/v1/ws", headers=trader.headers) as mine,
        client.websocket_connect("/api/v1/ws", headers=other.headers) as theirs,
    ):
        for ws in (mine, theirs):
            ws.send_text(json.dumps({"op": "subscribe", "channels": ["orders"]}))
            assert _next_of(ws, "subscribed")["channels"] == ["orders"]
        halted = client.post(
            f"/api/v1/accounts/{account['id']}/kill-switch",
            json={"on": True, "reason": "lunch"},
            headers=trader.headers,
        )
        assert halted.status_code == 200, halted.text
        pushed = _next_of(mine, "message")
        assert pushed["channel"] == "orders"
        assert pushed["data"]["event"] == "kill_switch"
        assert {k: pushed["data"]["account"][k] for k in ("id", "state", "state_reason")} == {
            "id": account["id"], "state": "halted", "state_reason": "lunch",
        }  # fmt: skip
        client.post(f"/api/v1/accounts/{account['id']}/kill-switch", json={"on": False}, headers=trader.headers)
        resumed = _next_of(mine, "message")["data"]
        assert (resumed["event"], resumed["account"]["state"]) == ("kill_switch", "active")
        theirs.send_text(json.dumps({"op": "ping"}))
        assert _next_of(theirs, "pong")["type"] == "pong", "the other trader was sent nothing before the pong"


def _next_of(ws: Any, kind: str, limit: int = 50) -> dict[str, Any]:
    for _ in range(limit):
        message: dict[str, Any] = json.loads(ws.receive_text())
        if message["type"] == kind:
            return message
        assert message["type"] not in {"message"}, f"unexpected {message}"
    raise AssertionError(f"no {kind} message in {limit}")
