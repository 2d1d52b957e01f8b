"""/api/v1/journal over the real API, on SQLite and PostgreSQL, on a desk over the small fake market: a thesis
written on the screener's metrics and checked in on a month later, round trips of a paper account's fills with
their tag and notes, calls judged from the stored closes; another user answered 404 on every route, a viewer 403
on every write, and bad input refused with what to fix and nothing written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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

API = "/api/v1/journal"
START = datetime(2025, 2, 3, 15, tzinfo=UTC)  # a Monday, 10:00 in New York; the fake market has closes to March


@pytest.fixture
def desk(tmp_path: Path, database: Database) -> Desk:
    return api_desk(tmp_path / "desk", SimClock(START), database_url=database.url)


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        test_client.portal.call(desk.paper_feed.stop)  # type: ignore[union-attr]  # the tests feed the quotes
        yield test_client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def tick(client: TestClient, desk: Desk, symbol: str, price: str) -> int:
    """Show the paper venue a quote one second on; the number of fills made."""
    desk.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    quote = Quote(symbol=symbol, ts=desk.clock.now(), last=Decimal(price), volume=1_000_000)
    client.portal.call(desk.quotes.publish, [quote])  # type: ignore[union-attr]
    return int(client.portal.call(desk.paper_feed.step))  # type: ignore[union-attr]


def trade(client: TestClient, desk: Desk, user: SignedIn, account: str, side: str, qty: str, price: str,
          tag: str | None = None) -> dict[str, Any]:  # fmt: skip
    order = {"account_id": account, "symbol": "AAA", "side": side, "qty": qty, **({"tag": tag} if tag else {})}
    placed = ok(client.post("/api/v1/orders", json=order, headers=user.headers), 201)
    assert tick(client, desk, "AAA", price) == 1
    return dict(ok(client.get(f"/api/v1/orders/{placed['id']}", headers=user.headers))["order"])


def closes(client: TestClient, user: SignedIn, start: str, end: str) -> dict[str, Decimal]:
    bars = ok(client.get("/api/v1/symbols/AAA/bars", params={"start": start, "end": end}, headers=user.headers))
    return {day: Decimal(repr(close)) for day, close in zip(bars["dates"], bars["close"], strict=True)}


def test_a_thesis_is_written_on_todays_metrics_and_checked_in_on_when_due(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    rules = ok(client.get(f"{API}/rules", headers=trader.headers))
    assert {r["id"] for r in rules["reasons"]} >= {"undervalued", "growth", "quality", "momentum", "dividend"}
    assert rules["status_rules"][0]["description"] == "broken: a watched metric moved more than 25% against the thesis"
    screened = ok(client.get("/api/v1/screener", params={"limit": 10}, headers=trader.headers))
    entry = next(r["metrics"] for r in screened["rows"] if r["symbol"] == "AAA")

    body = {"symbol": "aaa", "reason": "momentum", "metrics": [{"metric": "price"}, {"metric": "return_1m_pct"}],
            "note": "breaking out"}  # fmt: skip
    thesis = ok(client.post(f"{API}/theses", json=body, headers=trader.headers), 201)
    assert (thesis["symbol"], thesis["review_on"], thesis["due"], thesis["status"]) == (
        "AAA",
        "2025-03-05",
        False,
        None,
    )
    assert [(m["metric"], m["direction"], m["entry_value"]) for m in thesis["metrics"]] == [
        ("price", "up", pytest.approx(entry["price"])), ("return_1m_pct", "up", pytest.approx(entry["return_1m_pct"])),
    ]  # fmt: skip
    assert ok(client.get(f"{API}/theses/due", headers=trader.headers)) == []

    desk.clock.set(datetime(2025, 3, 10, 15, tzinfo=UTC))  # type: ignore[attr-defined]
    trader = login(client, trader.email, "admin")  # a month on, the access token has expired
    (due,) = ok(client.get(f"{API}/theses/due", headers=trader.headers))
    assert (due["id"], due["due"]) == (thesis["id"], True)
    preview = ok(client.get(f"{API}/theses/{thesis['id']}/checkin", headers=trader.headers))
    now = next(r["metrics"] for r in ok(client.get("/api/v1/screener", params={"limit": 10},
                                                   headers=trader.headers))["rows"] if r["symbol"] == "AAA")  # fmt: skip
    price = preview["readings"][0]
    assert (price["then"], price["now"]) == (pytest.approx(entry["price"]), pytest.approx(now["price"]))
    assert price["change_pct"] == pytest.approx((now["price"] - entry["price"]) / entry["price"] * 100, abs=1e-5)
    worst = max(preview["readings"], key=lambda r: ["working", "shaken", "broken"].index(r["status"]))
    assert preview["derived_status"] == worst["status"]
    assert len(preview["rules"]) == 4

    result = ok(client.post(f"{API}/theses/{thesis['id']}/checkins", json={"action": "hold", "note": "still fine"},
                            headers=trader.headers), 201)  # fmt: skip
    assert (result["checkin"]["status"], result["checkin"]["derived_status"]) == (worst["status"], worst["status"])
    assert (result["thesis"]["review_on"], result["thesis"]["last_action"]) == ("2025-04-09", "hold")
    detail = ok(client.get(f"{API}/theses/{thesis['id']}", headers=trader.headers))
    assert [c["action"] for c in detail["checkins"]] == ["hold"]
    assert detail["checkins"][0]["readings"] == result["checkin"]["readings"]
    assert ok(client.get(f"{API}/theses/due", headers=trader.headers)) == []


def test_round_trips_of_a_paper_account_carry_the_order_tag_and_the_users_notes(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    account = ok(client.post("/api/v1/accounts", json={"name": "Paper"}, headers=trader.headers), 201)["id"]
    tick(client, desk, "AAA", "100.00")
    bought = trade(client, desk, trader, account, "buy", "3", "100.50", tag="breakout")
    sold = trade(client, desk, trader, account, "sell", "3", "101.25")
    trade(client, desk, trader, account, "buy", "2", "101.00", tag="dip")

    trips = ok(client.get(f"{API}/trades", headers=trader.headers))
    assert [(t["id"], t["status"], t["tag"]) for t in trips] == [(trips[0]["id"], "open", "dip"),
                                                                 (bought["id"], "closed", "breakout")]  # fmt: skip
    closed = trips[1]
    entry, exit_ = Decimal(bought["average_fill_price"]), Decimal(sold["average_fill_price"])
    assert (Decimal(closed["entry_price"]), Decimal(closed["exit_price"])) == (entry, exit_)
    assert Decimal(closed["pnl"]) == 3 * (exit_ - entry) - Decimal(closed["commission"])
    assert closed["exit_order_ids"] == [sold["id"]]

    noted = ok(client.patch(f"{API}/trades/{bought['id']}", json={"reason": "52-week high", "notes": "held well"},
                            headers=trader.headers))  # fmt: skip
    assert (noted["reason"], noted["notes"]) == ("52-week high", "held well")
    assert ok(client.get(f"{API}/trades/{bought['id']}", headers=trader.headers))["notes"] == "held well"
    stats = ok(client.get(f"{API}/trades/stats", headers=trader.headers))
    assert (stats["count"], stats["open_round_trips"], Decimal(stats["pnl"])) == (1, 1, Decimal(closed["pnl"]))
    assert stats["profit_factor"] is None or stats["losses"] == 1
    only_dip = ok(client.get(f"{API}/trades", params={"tag": "dip", "account_id": account}, headers=trader.headers))
    assert [t["tag"] for t in only_dip] == ["dip"]
    today = START.date().isoformat()
    dated = ok(client.get(f"{API}/trades", params={"status": "closed", "start": today, "end": today},
                          headers=trader.headers))  # fmt: skip
    assert [t["id"] for t in dated] == [bought["id"]]
    assert ok(client.get(f"{API}/trades", params={"symbol": "BBB"}, headers=trader.headers)) == []


def test_calls_are_judged_from_the_closes_once_they_come_due(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    made = closes(client, trader, "2025-01-27", "2025-02-03")
    reference = made[max(made)]
    level = str(reference.quantize(Decimal("0.01")))  # the fake market's closes carry a float's digits
    at_date = ok(client.post(f"{API}/calls", json={"symbol": "AAA", "direction": "above", "level": level,
                                                   "due_on": "2025-02-14", "note": "up by Valentine's"},
                             headers=trader.headers), 201)  # fmt: skip
    assert (at_date["reference_close"], at_date["outcome"]) == (format(reference, "f"), "open")
    assert at_date["statement"] == f"AAA closes above {level} on 2025-02-14"
    far = str((reference * Decimal("1.5")).quantize(Decimal("0.01")))
    touch = ok(client.post(f"{API}/calls", json={"symbol": "AAA", "direction": "above", "level": far,
                                                 "due_on": "2025-03-14", "mode": "any_time"},
                           headers=trader.headers), 201)  # fmt: skip
    assert [c["outcome"] for c in ok(client.get(f"{API}/calls", headers=trader.headers))] == ["open", "open"]

    desk.clock.set(datetime(2025, 3, 20, 15, tzinfo=UTC))  # type: ignore[attr-defined]
    trader = login(client, trader.email, "admin")  # weeks on, the access token has expired
    history = closes(client, trader, "2025-02-04", "2025-03-14")
    listed = {c["id"]: c for c in ok(client.get(f"{API}/calls", headers=trader.headers))}
    judged = listed[at_date["id"]]
    on_due = history["2025-02-14"]
    assert (judged["decided_on"], Decimal(judged["decided_close"])) == ("2025-02-14", on_due)
    assert judged["outcome"] == ("hit" if on_due > Decimal(level) else "miss")
    reached = any(close > Decimal(far) for close in history.values())
    assert listed[touch["id"]]["outcome"] == ("hit" if reached else "miss")

    months = ok(client.get(f"{API}/calls/calendar", headers=trader.headers))
    assert [(m["month"], [d["date"] for d in m["days"]]) for m in months] == [
        ("2025-02", ["2025-02-14"]), ("2025-03", ["2025-03-14"]),
    ]  # fmt: skip
    assert ok(client.get(f"{API}/calls/calendar", params={"start": "2025-03-01"}, headers=trader.headers))[0][
        "month"] == "2025-03"  # fmt: skip
    stats = ok(client.get(f"{API}/calls/stats", headers=trader.headers))
    assert stats["total"]["calls"] == 2
    assert stats["total"]["hits"] + stats["total"]["misses"] == 2
    assert ok(client.get(f"{API}/calls", params={"outcome": "open"}, headers=trader.headers)) == []
    assert ok(client.get(f"{API}/calls/{at_date['id']}", headers=trader.headers)) == judged


# ---- scoping -----------------------------------------------------------------------------------------


def owners_journal(client: TestClient, desk: Desk) -> tuple[SignedIn, dict[str, str]]:
    admin = register_admin(client)
    owner = create_user(client, admin, "owner@example.com", "trader")
    thesis = ok(client.post(f"{API}/theses", json={"symbol": "AAA", "reason": "growth", "metrics": [{"metric": "price"}]},
                            headers=owner.headers), 201)  # fmt: skip
    call = ok(client.post(f"{API}/calls", json={"symbol": "AAA", "direction": "below", "level": "50",
                                                "due_on": "2025-06-30"}, headers=owner.headers), 201)  # fmt: skip
    account = ok(client.post("/api/v1/accounts", json={"name": "Paper"}, headers=owner.headers), 201)["id"]
    tick(client, desk, "AAA", "100.00")
    order = trade(client, desk, owner, account, "buy", "1", "100.10", tag="mine")
    return owner, {"thesis": thesis["id"], "call": call["id"], "trip": order["id"], "account": account}


def every_call(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation on one user's journal entries: (method, path, request keywords)."""
    return [
        ("GET", f"{API}/theses/{ids['thesis']}", {}),
        ("GET", f"{API}/theses/{ids['thesis']}/checkin", {}),
        ("POST", f"{API}/theses/{ids['thesis']}/checkins", {"json": {"action": "sell"}}),
        ("GET", f"{API}/trades/{ids['trip']}", {}),
        ("PATCH", f"{API}/trades/{ids['trip']}", {"json": {"reason": "theirs"}}),
        ("GET", f"{API}/trades?account_id={ids['account']}", {}),
        ("GET", f"{API}/trades/stats?account_id={ids['account']}", {}),
        ("GET", f"{API}/calls/{ids['call']}", {}),
    ]


def test_another_user_is_answered_404_on_every_journal_route(client: TestClient, desk: Desk) -> None:
    owner, ids = owners_journal(client, desk)
    before = ok(client.get(f"{API}/theses/{ids['thesis']}", headers=owner.headers))
    intruder = create_user(client, login(client, "admin@example.com", "admin"), "intruder@example.com", "trader")
    for method, path, keywords in every_call(ids):
        response = client.request(method, path, headers=intruder.headers, **keywords)
        assert response.status_code == 404, (method, path, response.text)
    for path in ("/theses?state=all", "/theses/due", "/trades", "/calls", "/calls/calendar", "/calls/stats"):
        listed = json.dumps(ok(client.get(f"{API}{path}", headers=intruder.headers)))
        assert not any(value in listed for value in ids.values()), path
    assert ok(client.get(f"{API}/theses/{ids['thesis']}", headers=owner.headers)) == before
    assert ok(client.get(f"{API}/trades/{ids['trip']}", headers=owner.headers))["reason"] == ""


def test_a_viewer_reads_its_journal_and_is_answered_403_on_every_write(client: TestClient, desk: Desk) -> None:
    owner, ids = owners_journal(client, desk)
    admin = login(client, "admin@example.com", "admin")
    client.patch(f"/api/v1/admin/users/{owner.id}", json={"role": "viewer"}, headers=admin.headers)
    viewer = login(client, "owner@example.com", "viewer")
    for method, path, keywords in every_call(ids):
        response = client.request(method, path, headers=viewer.headers, **keywords)
        assert response.status_code == (200 if method == "GET" else 403), (method, path, response.text)
    writes = [
        (f"{API}/theses", {"symbol": "BBB", "reason": "growth", "metrics": [{"metric": "price"}]}),
        (f"{API}/calls", {"symbol": "AAA", "direction": "above", "level": "500", "due_on": "2025-06-30"}),
    ]
    for path, body in writes:
        assert client.post(path, json=body, headers=viewer.headers).status_code == 403
    assert len(ok(client.get(f"{API}/theses", headers=viewer.headers))) == 1
    assert len(ok(client.get(f"{API}/calls", headers=viewer.headers))) == 1


# ---- bad input ---------------------------------------------------------------------------------------


BAD_INPUT: list[tuple[str, str, dict[str, Any] | None, dict[str, str] | None, str]] = [
    ("POST", "/calls", {"symbol": "AAA", "direction": "above", "level": "600", "due_on": "2025-13-01"}, None, "due_on"),
    ("POST", "/calls", {"symbol": "AAA", "direction": "above", "level": "abc", "due_on": "2025-06-30"}, None, "level"),
    ("POST", "/calls", {"symbol": "AAA", "direction": "above", "level": "-1", "due_on": "2025-06-30"}, None, "level"),
    ("POST", "/calls", {"symbol": "AAA", "direction": "up", "level": "600", "due_on": "2025-06-30"}, None, "direction"),
    (
        "POST",
        "/calls",
        {"symbol": "AAA", "direction": "above", "level": "600", "due_on": "2025-02-01"},
        None,
        "is not after today",
    ),
    (
        "POST",
        "/calls",
        {"symbol": "NOPE", "direction": "above", "level": "600", "due_on": "2025-06-30"},
        None,
        "no prices of NOPE are stored",
    ),
    (
        "POST",
        "/theses",
        {"symbol": "AAA", "reason": "growth", "metrics": [{"metric": "moon"}]},
        None,
        "unknown metric 'moon'",
    ),
    ("POST", "/theses", {"symbol": "AAA", "reason": "hunch", "metrics": [{"metric": "price"}]}, None, "reason"),
    (
        "POST",
        "/theses",
        {"symbol": "AAA", "reason": "growth", "metrics": [{"metric": "pe"}]},
        None,
        "pe of AAA has no value",
    ),
    (
        "POST",
        "/theses",
        {"symbol": "AAA", "reason": "growth", "metrics": [{"metric": "price"}], "review_on": "2025-02-30"},
        None,
        "review_on",
    ),
    (
        "POST",
        "/theses",
        {"symbol": "AAA", "reason": "growth", "metrics": [{"metric": "price"}], "extra": 1},
        None,
        "extra",
    ),
    ("GET", "/trades", None, {"start": "2025-02-30"}, "start"),
    ("GET", "/trades/stats", None, {"start": "2025-03-01", "end": "2025-02-01"}, "start 2025-03-01 is after end"),
    ("GET", "/calls", None, {"outcome": "maybe"}, "outcome"),
]


def test_bad_input_is_refused_with_what_to_fix_and_nothing_is_written(client: TestClient) -> None:
    trader = register_admin(client)
    for method, path, body, params, needle in BAD_INPUT:
        response = client.request(method, f"{API}{path}", json=body, params=params, headers=trader.headers)
        assert response.status_code == 422, (path, body, params, response.text)
        error = response.json()["error"]
        assert needle in error["message"], error
        assert error["hint"], error
    assert ok(client.get(f"{API}/theses", params={"state": "all"}, headers=trader.headers)) == []
    assert ok(client.get(f"{API}/calls", headers=trader.headers)) == []
