"""The IDOR matrix: every endpoint that touches user data × every role × two users. Nothing of user A can be
read or changed by user B, whatever either's role (an admin manages accounts, not other people's data).

User data today: trading accounts, orders and positions; watchlists (and the `watchlist:NAME` universes made
from them, which the screener, dips and regime also read); key-vault secrets; sign-in sessions; the decision
log; portfolios; journal theses, calls and round-trip notes. `OPERATIONS` places every operation of the API,
so a new endpoint cannot slip past this matrix. Each owner holds one of each; each intruder tries every read and
write on them, then the owner's data is checked unchanged. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.trading.adapters.alpaca import LIVE_CONFIRMATION_PHRASE
from support.auth import SignedIn, api_desk, create_user, login, register_admin
from support.fakes import bar_frame

ROLES = ("admin", "trader", "viewer")
# Alpaca key ids (20 capitals and digits starting with PK), told apart by their last two characters
OWNER_KEYS = {"admin": "PKOWNERADMIN00000011", "trader": "PKOWNERTRADER0000022", "viewer": "PKOWNERVIEWER0000033"}
INTRUDER_KEY = "PKINTRUDER0000000099"


@dataclass(frozen=True)
class Owner:
    user: SignedIn
    watchlist: str
    session_id: str
    key: str
    account_id: str
    order_id: str
    decision_id: str
    portfolio_id: str
    portfolio_transaction_id: str
    thesis_id: str
    call_id: str


@pytest.fixture
def client(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[TestClient]:
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url)
    # a name with a year and a half of prices up to the desk's today, so the screener has a verdict to log
    days = [d.date() for d in pd.bdate_range("2025-06-02", "2026-11-19")]
    closes = 100 * np.exp(np.cumsum(np.random.default_rng(5).normal(0.0004, 0.015, len(days))))
    desk.store.write(bar_frame(days, closes).reset_index().assign(symbol="DDD"))
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        yield test_client


def make_owner(client: TestClient, admin: SignedIn, role: str) -> Owner:
    """A user of `role` holding a watchlist, a vault secret and a session (data made while a trader, since a
    viewer cannot make any, then the role set)."""
    email = f"owner-{role}@example.com"
    user = (
        create_user(client, admin, email, "trader") if role != "admin" else create_user(client, admin, email, "admin")
    )
    name = f"Private {role}"
    assert (
        client.post("/api/v1/watchlists", json={"name": name, "symbols": ["AAA"]}, headers=user.headers).status_code
        == 201
    )
    put = client.put("/api/v1/vault/secrets/alpaca_key_id", json={"value": OWNER_KEYS[role]}, headers=user.headers)
    assert put.status_code == 200, put.text
    opened = client.post("/api/v1/accounts", json={"name": f"Paper {role}"}, headers=user.headers)
    assert opened.status_code == 201, opened.text
    account_id = opened.json()["id"]
    placed = client.post(
        "/api/v1/orders",
        json={"account_id": account_id, "symbol": "AAA", "side": "buy", "qty": "1"},
        headers=user.headers,
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "accepted", placed.text  # working: no quote has come to fill it
    order_id = placed.json()["id"]
    logged = client.post("/api/v1/decisions", json={"symbol": "DDD"}, headers=user.headers)
    assert logged.status_code == 201, logged.text
    decision_id = logged.json()["id"]
    thesis = client.post(
        "/api/v1/journal/theses",
        json={"symbol": "AAA", "reason": "quality", "metrics": [{"metric": "earnings_stability"}]},
        headers=user.headers,
    )
    assert thesis.status_code == 201, thesis.text
    call = client.post(
        "/api/v1/journal/calls",
        json={"symbol": "AAA", "direction": "above", "level": "150", "due_on": "2027-06-30"},
        headers=user.headers,
    )
    assert call.status_code == 201, call.text
    made = client.post("/api/v1/portfolios", json={"name": f"Book {role}"}, headers=user.headers)
    assert made.status_code == 201, made.text
    portfolio_id = made.json()["id"]
    recorded = client.post(f"/api/v1/portfolios/{portfolio_id}/transactions",
                           json={"kind": "deposit", "date": "2025-01-02", "amount": "100"}, headers=user.headers)  # fmt: skip
    assert recorded.status_code == 201, recorded.text
    if role == "viewer":
        client.patch(f"/api/v1/admin/users/{user.id}", json={"role": "viewer"}, headers=admin.headers)
        user = login(client, email, "viewer")
    session_id = client.get("/api/v1/auth/me", headers=user.headers).json()["session_id"]
    return Owner(
        user, name, session_id, OWNER_KEYS[role], account_id, order_id, decision_id, portfolio_id,
        recorded.json()["id"], thesis.json()["id"], call.json()["id"],
    )  # fmt: skip


def snapshot(client: TestClient, owner: Owner) -> tuple[object, ...]:
    headers = owner.user.headers
    watchlist = client.get(f"/api/v1/watchlists/{owner.watchlist}", headers=headers)
    secrets = client.get("/api/v1/vault/secrets", headers=headers)
    me = client.get("/api/v1/auth/me", headers=headers)
    account = client.get(f"/api/v1/accounts/{owner.account_id}/risk", headers=headers)
    order = client.get(f"/api/v1/orders/{owner.order_id}", headers=headers)
    decision = client.get(f"/api/v1/decisions/{owner.decision_id}", headers=headers)
    assert watchlist.status_code == secrets.status_code == me.status_code == account.status_code == 200
    assert order.status_code == decision.status_code == 200
    thesis = client.get(f"/api/v1/journal/theses/{owner.thesis_id}", headers=headers)
    call = client.get(f"/api/v1/journal/calls/{owner.call_id}", headers=headers)
    assert thesis.status_code == call.status_code == 200
    secret_rows = [(s["name"], s["hint"], s["updated_at"]) for s in secrets.json()]
    return (
        watchlist.json(),
        secret_rows,
        me.json(),
        account.json(),
        order.json(),
        client.get("/api/v1/orders", headers=headers).json(),
        decision.json(),
        client.get("/api/v1/decisions", headers=headers).json(),
        client.get(f"/api/v1/portfolios/{owner.portfolio_id}", headers=headers).json(),
        client.get(f"/api/v1/portfolios/{owner.portfolio_id}/transactions", headers=headers).json(),
        client.get(f"/api/v1/portfolios/{owner.portfolio_id}/targets", headers=headers).json(),
        thesis.json(),
        call.json(),
        client.get("/api/v1/journal/trades", headers=headers).json(),
    )


def attack(client: TestClient, owner: Owner, intruder: SignedIn) -> None:
    """Every read and write of `owner`'s data, as `intruder`: refused (404 for what they cannot see, 403 for
    what their role cannot do at all), or acting on the intruder's own data only."""
    headers = intruder.headers
    writes_refused = {404} if intruder.role != "viewer" else {403}
    name = owner.watchlist

    # reads: the owner's things are not listed and not found
    assert name not in {w["name"] for w in client.get("/api/v1/watchlists", headers=headers).json()}
    assert client.get(f"/api/v1/watchlists/{name}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/universes/watchlist:{name}", headers=headers).status_code == 404
    assert f"watchlist:{name}" not in {u["name"] for u in client.get("/api/v1/universes", headers=headers).json()}
    for path in ("/api/v1/screener", "/api/v1/dips", "/api/v1/regime"):  # screening a list is reading it
        screened = client.get(path, params={"universe": f"watchlist:{name}"}, headers=headers)
        assert screened.status_code == 404, (path, screened.text)
    assert f"••{owner.key[-2:]}" not in str(client.get("/api/v1/vault/secrets", headers=headers).json())
    assert owner.session_id not in str(client.get("/api/v1/auth/sessions", headers=headers).json())

    # writes on the owner's things: refused
    add = client.post(f"/api/v1/watchlists/{name}/symbols", json={"symbol": "BBB"}, headers=headers)
    assert add.status_code in writes_refused, add.text
    remove = client.delete(f"/api/v1/watchlists/{name}/symbols/AAA", headers=headers)
    assert remove.status_code in writes_refused, remove.text
    delete = client.delete("/api/v1/vault/secrets/alpaca_key_id", headers=headers)
    assert delete.status_code in writes_refused, delete.text
    revoke = client.delete(f"/api/v1/auth/sessions/{owner.session_id}", headers=headers)
    assert revoke.status_code == 404, revoke.text  # a viewer manages its own sessions, never another's

    # trading: the owner's account and order are not there for anyone else
    account, order = owner.account_id, owner.order_id
    for path in (f"/api/v1/accounts/{account}", f"/api/v1/accounts/{account}/risk",
                 f"/api/v1/accounts/{account}/compliance", f"/api/v1/accounts/{account}/reconciliation",
                 f"/api/v1/orders/{order}", f"/api/v1/positions?account_id={account}"):  # fmt: skip
        assert client.get(path, headers=headers).status_code == 404, path
    assert account not in str(client.get("/api/v1/accounts", headers=headers).json())
    assert order not in str(client.get("/api/v1/orders", headers=headers).json())
    assert account not in str(client.get("/api/v1/positions", headers=headers).json())
    new_order = {"account_id": account, "symbol": "AAA", "side": "sell", "qty": "1"}
    trading_writes = [
        client.post("/api/v1/orders", json=new_order, headers=headers),
        client.post("/api/v1/orders/preview", json=new_order, headers=headers),
        client.delete(f"/api/v1/orders/{order}", headers=headers),
        client.patch(f"/api/v1/orders/{order}", json={"qty": "2"}, headers=headers),
        client.patch(f"/api/v1/accounts/{account}/risk", json={"max_position_pct": 90}, headers=headers),
        client.patch(f"/api/v1/accounts/{account}/compliance", json={"policy": "off"}, headers=headers),
        client.post(f"/api/v1/accounts/{account}/kill-switch", json={"on": True}, headers=headers),
        client.post(
            f"/api/v1/accounts/{account}/live", json={"confirmation": LIVE_CONFIRMATION_PHRASE}, headers=headers
        ),
        client.post(f"/api/v1/accounts/{account}/reconcile", headers=headers),
        client.post(f"/api/v1/accounts/{account}/corporate-actions", headers=headers),
    ]
    for response in trading_writes:
        assert response.status_code in writes_refused, (response.request.url, response.text)

    # journals: the owner's theses, calls and round trips (keyed by the opening order) are not there for anyone else
    thesis, call = owner.thesis_id, owner.call_id
    for path in (f"/api/v1/journal/theses/{thesis}", f"/api/v1/journal/theses/{thesis}/checkin",
                 f"/api/v1/journal/calls/{call}", f"/api/v1/journal/trades/{order}",
                 f"/api/v1/journal/trades?account_id={account}",
                 f"/api/v1/journal/trades/stats?account_id={account}"):  # fmt: skip
        assert client.get(path, headers=headers).status_code == 404, path
    for path in ("/api/v1/journal/theses?state=all", "/api/v1/journal/theses/due", "/api/v1/journal/trades",
                 "/api/v1/journal/trades/stats", "/api/v1/journal/calls", "/api/v1/journal/calls/calendar",
                 "/api/v1/journal/calls/stats"):  # fmt: skip
        listed = client.get(path, headers=headers)
        assert listed.status_code == 200, (path, listed.text)
        assert thesis not in listed.text and call not in listed.text and order not in listed.text, path
    journal_writes = [
        client.post(f"/api/v1/journal/theses/{thesis}/checkins", json={"action": "sell"}, headers=headers),
        client.patch(f"/api/v1/journal/trades/{order}", json={"reason": "mine now"}, headers=headers),
    ]
    for response in journal_writes:
        assert response.status_code in writes_refused, (response.request.url, response.text)

    # decisions: the owner's log is not found, not listed and not counted; logging writes the intruder's own log
    decision = owner.decision_id
    assert client.get(f"/api/v1/decisions/{decision}", headers=headers).status_code == 404
    own_log = client.get("/api/v1/decisions", headers=headers).json()
    assert decision not in str(own_log)
    assert client.get("/api/v1/decisions/stats", headers=headers).json()["total"] == len(own_log)
    logged = client.post("/api/v1/decisions", json={"symbol": "DDD"}, headers=headers)
    assert logged.status_code == (201 if intruder.role != "viewer" else 403), logged.text

    # portfolios: the owner's portfolio is not there for anyone else
    portfolio, txn = owner.portfolio_id, owner.portfolio_transaction_id
    for path in (f"/api/v1/portfolios/{portfolio}", f"/api/v1/portfolios/{portfolio}/transactions",
                 f"/api/v1/portfolios/{portfolio}/valuation", f"/api/v1/portfolios/{portfolio}/snapshots",
                 f"/api/v1/portfolios/{portfolio}/returns", f"/api/v1/portfolios/{portfolio}/targets",
                 f"/api/v1/portfolios/{portfolio}/allocation", f"/api/v1/portfolios/{portfolio}/rebalance"):  # fmt: skip
        assert client.get(path, headers=headers).status_code == 404, path
    assert portfolio not in str(client.get("/api/v1/portfolios", headers=headers).json())
    statement = {"file": ("s.csv", b"date,symbol,side,qty,price\n2025-01-03,AAA,buy,1,1\n", "text/csv")}
    portfolio_writes = [
        client.post(f"/api/v1/portfolios/{portfolio}/transactions",
                    json={"kind": "deposit", "date": "2025-01-03", "amount": "1"}, headers=headers),
        client.delete(f"/api/v1/portfolios/{portfolio}/transactions/{txn}", headers=headers),
        client.post(f"/api/v1/portfolios/{portfolio}/import", files=statement, headers=headers),
        client.post(f"/api/v1/portfolios/{portfolio}/snapshots", headers=headers),
        client.put(f"/api/v1/portfolios/{portfolio}/targets", json={"symbol": {"AAA": 10}}, headers=headers),
        client.delete(f"/api/v1/portfolios/{portfolio}/targets", headers=headers),
        client.delete(f"/api/v1/portfolios/{portfolio}", params={"confirm": portfolio}, headers=headers),
        client.post("/api/v1/portfolios", json={"name": "Borrowed", "account_id": account}, headers=headers),
    ]  # fmt: skip
    for response in portfolio_writes:
        assert response.status_code in writes_refused, (response.request.url, response.text)

    # the comparison names the owner's portfolio: not found, alone or beside the intruder's own portfolios
    for path in ("/api/v1/analytics/compare", "/api/v1/analytics/compare.csv"):
        alone = client.get(path, params={"portfolio_id": portfolio}, headers=headers)
        assert alone.status_code == 404, (path, alone.text)
        mine = [p["id"] for p in client.get("/api/v1/portfolios", headers=headers).json()]
        beside = client.get(path, params={"portfolio_id": [*mine, portfolio]}, headers=headers)
        assert beside.status_code == 404, (path, beside.text)

    # sizing against the owner's account or portfolio: not found, like one that does not exist (the symbol itself
    # sizes, against the intruder's own money)
    assert client.get("/api/v1/sizing", params={"symbol": "DDD"}, headers=headers).status_code == 200
    for key, theirs in (("account_id", account), ("portfolio_id", portfolio)):
        sizing = client.get("/api/v1/sizing", params={"symbol": "DDD", key: theirs}, headers=headers)
        assert sizing.status_code == 404, (key, sizing.text)

    # the same names used by the intruder act on the intruder's own data
    own = client.post("/api/v1/watchlists", json={"name": name, "symbols": ["CCC"]}, headers=headers)
    assert own.status_code == (201 if intruder.role != "viewer" else 403), own.text
    put = client.put("/api/v1/vault/secrets/alpaca_key_id", json={"value": INTRUDER_KEY}, headers=headers)
    assert put.status_code == (200 if intruder.role != "viewer" else 403), put.text
    assert f"••{owner.key[-2:]}" not in str(client.get("/api/v1/vault/secrets", headers=headers).json())
    if put.status_code == 200:  # the intruder's own secret goes again, so the next round starts clean
        assert client.delete("/api/v1/vault/secrets/alpaca_key_id", headers=headers).status_code == 204


# Every operation of the API, by what it touches. "owned": a user's own data, attacked in the matrix above;
# "self": the caller's own account or sessions (also attacked above where an id can name another's);
# "admin": accounts and the desk, admins only (test_auth_rbac); "market": shared market data, no user's.
# A new endpoint fails `test_every_endpoint_is_in_the_matrix` until it is placed here and, if it holds user
# data, attacked in `attack`.
OPERATIONS = {
    "GET /api/v1/auth/status": "public",
    "POST /api/v1/auth/register": "public",
    "POST /api/v1/auth/login": "public",
    "POST /api/v1/auth/refresh": "self",
    "POST /api/v1/auth/logout": "self",
    "GET /api/v1/auth/me": "self",
    "POST /api/v1/auth/password": "self",
    "GET /api/v1/auth/sessions": "owned",
    "DELETE /api/v1/auth/sessions": "self",
    "DELETE /api/v1/auth/sessions/{session_id}": "owned",
    "GET /api/v1/admin/users": "admin",
    "POST /api/v1/admin/users": "admin",
    "PATCH /api/v1/admin/users/{user_id}": "admin",
    "GET /api/v1/admin/settings": "admin",
    "PATCH /api/v1/admin/settings": "admin",
    "GET /api/v1/symbols": "market",
    "GET /api/v1/symbols/{symbol}": "market",
    "GET /api/v1/symbols/{symbol}/bars": "market",
    "GET /api/v1/quotes": "market",
    "GET /api/v1/quotes/{symbol}": "market",
    "GET /api/v1/universes": "owned",
    "GET /api/v1/universes/{name}": "owned",
    "GET /api/v1/market/clock": "market",
    "GET /api/v1/data/coverage": "market",
    "GET /api/v1/watchlists": "owned",
    "POST /api/v1/watchlists": "owned",
    "GET /api/v1/watchlists/{name}": "owned",
    "POST /api/v1/watchlists/{name}/symbols": "owned",
    "DELETE /api/v1/watchlists/{name}/symbols/{symbol}": "owned",
    "GET /api/v1/screener": "owned",
    "GET /api/v1/screener/options": "market",
    "GET /api/v1/research/{symbol}": "market",
    "GET /api/v1/dips": "owned",
    "GET /api/v1/regime": "owned",
    "GET /api/v1/vault/kinds": "market",
    "GET /api/v1/vault/secrets": "owned",
    "PUT /api/v1/vault/secrets/{name}": "owned",
    "DELETE /api/v1/vault/secrets/{name}": "owned",
    "GET /api/v1/audit": "admin",
    "GET /api/v1/audit/verify": "admin",
    "GET /api/v1/audit/export.csv": "admin",
    "POST /api/v1/orders": "owned",
    "POST /api/v1/orders/preview": "owned",
    "GET /api/v1/orders": "owned",
    "GET /api/v1/orders/{order_id}": "owned",
    "DELETE /api/v1/orders/{order_id}": "owned",
    "PATCH /api/v1/orders/{order_id}": "owned",
    "GET /api/v1/positions": "owned",
    "GET /api/v1/accounts": "owned",
    "POST /api/v1/accounts": "self",
    "GET /api/v1/accounts/{account_id}": "owned",
    "GET /api/v1/accounts/{account_id}/risk": "owned",
    "PATCH /api/v1/accounts/{account_id}/risk": "owned",
    "POST /api/v1/accounts/{account_id}/kill-switch": "owned",
    "POST /api/v1/accounts/{account_id}/live": "owned",
    "GET /api/v1/accounts/{account_id}/compliance": "owned",
    "PATCH /api/v1/accounts/{account_id}/compliance": "owned",
    "GET /api/v1/accounts/{account_id}/reconciliation": "owned",
    "POST /api/v1/accounts/{account_id}/reconcile": "owned",
    "POST /api/v1/accounts/{account_id}/corporate-actions": "owned",
    "GET /api/v1/decisions": "owned",
    "POST /api/v1/decisions": "owned",
    "GET /api/v1/decisions/stats": "owned",
    "GET /api/v1/decisions/{decision_id}": "owned",
    "GET /api/v1/journal/rules": "market",
    "GET /api/v1/journal/theses": "owned",
    "POST /api/v1/journal/theses": "owned",
    "GET /api/v1/journal/theses/due": "owned",
    "GET /api/v1/journal/theses/{thesis_id}": "owned",
    "GET /api/v1/journal/theses/{thesis_id}/checkin": "owned",
    "POST /api/v1/journal/theses/{thesis_id}/checkins": "owned",
    "GET /api/v1/journal/trades": "owned",
    "GET /api/v1/journal/trades/stats": "owned",
    "GET /api/v1/journal/trades/{round_trip_id}": "owned",
    "PATCH /api/v1/journal/trades/{round_trip_id}": "owned",
    "GET /api/v1/journal/calls": "owned",
    "POST /api/v1/journal/calls": "owned",
    "GET /api/v1/journal/calls/calendar": "owned",
    "GET /api/v1/journal/calls/stats": "owned",
    "GET /api/v1/journal/calls/{call_id}": "owned",
    "GET /api/v1/portfolios": "owned",
    "POST /api/v1/portfolios": "owned",  # may name another user's trading account (attacked)
    "GET /api/v1/portfolios/{portfolio_id}": "owned",
    "DELETE /api/v1/portfolios/{portfolio_id}": "owned",
    "GET /api/v1/portfolios/{portfolio_id}/transactions": "owned",
    "POST /api/v1/portfolios/{portfolio_id}/transactions": "owned",
    "DELETE /api/v1/portfolios/{portfolio_id}/transactions/{transaction_id}": "owned",
    "POST /api/v1/portfolios/{portfolio_id}/import": "owned",
    "GET /api/v1/portfolios/{portfolio_id}/valuation": "owned",
    "GET /api/v1/portfolios/{portfolio_id}/snapshots": "owned",
    "POST /api/v1/portfolios/{portfolio_id}/snapshots": "owned",
    "GET /api/v1/portfolios/{portfolio_id}/returns": "owned",
    "GET /api/v1/portfolios/{portfolio_id}/targets": "owned",
    "PUT /api/v1/portfolios/{portfolio_id}/targets": "owned",
    "DELETE /api/v1/portfolios/{portfolio_id}/targets": "owned",
    "GET /api/v1/portfolios/{portfolio_id}/allocation": "owned",
    "GET /api/v1/portfolios/{portfolio_id}/rebalance": "owned",
    "GET /api/v1/analytics/compare": "owned",
    "GET /api/v1/analytics/compare.csv": "owned",
    "GET /api/v1/sizing": "owned",  # may name another user's account or portfolio (attacked)
    "GET /healthz": "public",
    "GET /readyz": "public",
    "GET /metrics": "public",
}
ATTACK_SOURCE = Path(__file__).read_text()


def test_every_endpoint_is_in_the_matrix(client: TestClient) -> None:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    served = {f"{method.upper()} {path}" for path, operations in paths.items() for method in operations}
    assert served == set(OPERATIONS), f"unplaced: {served - set(OPERATIONS)}; gone: {set(OPERATIONS) - served}"
    # every owned path is exercised by `attack` (its fixed part appears in a request there)
    attack_source = ATTACK_SOURCE.split("def attack(", 1)[1].split("\ndef ", 1)[0]
    for operation, kind in OPERATIONS.items():
        if kind == "owned":
            stem = operation.split(" ", 1)[1].split("{", 1)[0].rstrip("/")
            assert stem in attack_source, f"{operation} holds user data but `attack` never calls it"


def test_nobody_reads_or_changes_another_users_data(client: TestClient) -> None:
    admin = register_admin(client)
    owners = {role: make_owner(client, admin, role) for role in ROLES}
    intruders = {role: create_user(client, admin, f"intruder-{role}@example.com", role) for role in ROLES}
    before = {role: snapshot(client, owner) for role, owner in owners.items()}
    for owner_role, intruder_role in itertools.product(ROLES, ROLES):  # A and B of every pair of roles
        attack(client, owners[owner_role], intruders[intruder_role])
    after = {role: snapshot(client, owner) for role, owner in owners.items()}
    assert after == before


def test_the_desk_admin_cannot_see_another_users_lists_or_secrets(client: TestClient) -> None:
    admin = register_admin(client)
    owner = make_owner(client, admin, "trader")
    assert client.get(f"/api/v1/watchlists/{owner.watchlist}", headers=admin.headers).status_code == 404
    assert client.get("/api/v1/vault/secrets", headers=admin.headers).json() == []
    assert client.delete(f"/api/v1/auth/sessions/{owner.session_id}", headers=admin.headers).status_code == 404
    # what an admin may do is manage the account itself: disabling it ends its sessions
    client.patch(f"/api/v1/admin/users/{owner.user.id}", json={"disabled": True}, headers=admin.headers)
    assert client.get("/api/v1/auth/me", headers=owner.user.headers).status_code == 401
