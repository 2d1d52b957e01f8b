"""Targets, allocation and the rebalancing advisor over the real API, on SQLite and PostgreSQL: targets set,
validated, read and cleared; the allocation's weights and drift against the closes the market-data API gives; the
suggested trades, their preview links and the loss-first lot choice, checked against the arithmetic written
beside them; the screener's verdict on a holding against the last one logged; viewers read but may not write."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.decisions.models import Decision
from marketdesk.desk import Desk
from marketdesk.marketdata.repository import MarketDataRepository
from support.auth import SignedIn, api_desk, create_user, register_admin
from support.fakes import FakeSource, bar_frame

API = "/api/v1/portfolios"
D = Decimal


@pytest.fixture
def desk(tmp_path: Path, clock: SimClock, database: Database) -> Desk:
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url)
    # DDD trades up to the desk's today, so the screener has a verdict on it
    days = [d.date() for d in pd.bdate_range("2025-06-02", "2026-11-19")]
    closes = 100 * np.exp(np.cumsum(np.random.default_rng(5).normal(0.0004, 0.015, len(days))))
    desk.store.write(bar_frame(days, closes).reset_index().assign(symbol="DDD"))

    async def classify() -> None:  # the source's asset classes and sectors, as a provider's symbol list gives them
        async with desk.db.session() as session:
            await MarketDataRepository(session).upsert_instruments(
                FakeSource(clock).symbols(), source="fake", now=clock.now()
            )
        await desk.db.dispose()

    asyncio.run(classify())
    return desk


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        yield test_client


def record(client: TestClient, user: SignedIn, pid: str, **fields: Any) -> None:
    response = client.post(f"{API}/{pid}/transactions", json=fields, headers=user.headers)
    assert response.status_code == 201, response.text


def last_close(client: TestClient, user: SignedIn, symbol: str) -> Decimal:
    bars = client.get(f"/api/v1/symbols/{symbol}/bars", params={"start": "2025-03-01", "end": "2026-11-20"},
                      headers=user.headers).json()  # fmt: skip
    return D(repr(bars["close"][-1]))


def book(client: TestClient, user: SignedIn) -> str:
    """$10,000 in; 50 AAA at $100 and 10 more at $130, 10 BBB at $110: $2,600 left in cash."""
    pid = client.post(API, json={"name": "Core"}, headers=user.headers).json()["id"]
    record(client, user, pid, kind="deposit", date="2025-01-02", amount="10000")
    record(client, user, pid, kind="buy", date="2025-01-02", symbol="AAA", qty="50", price="100")
    record(client, user, pid, kind="buy", date="2025-02-03", symbol="AAA", qty="10", price="130")
    record(client, user, pid, kind="buy", date="2025-01-02", symbol="BBB", qty="10", price="110")
    return str(pid)


def test_targets_are_set_checked_read_and_cleared(client: TestClient) -> None:
    trader = register_admin(client)
    pid = book(client, trader)
    empty = client.get(f"{API}/{pid}/targets", headers=trader.headers).json()
    assert (empty["set"], empty["band_pp"], empty["min_trade"], empty["symbol"]) == (False, "5", "100.00", {})

    body = {"symbol": {"aaa": 50, "BBB": "30"}, "sector": {"health care": 20}, "asset_class": {"stocks": 90},
            "band_pp": 4, "band_relative_pct": 25, "min_trade": "150"}  # fmt: skip
    saved = client.put(f"{API}/{pid}/targets", json=body, headers=trader.headers)
    assert saved.status_code == 200, saved.text
    got = client.get(f"{API}/{pid}/targets", headers=trader.headers).json()
    assert got == saved.json()
    assert (got["set"], got["symbol"], got["sector"], got["asset_class"]) == (
        True, {"AAA": "50", "BBB": "30"}, {"Health Care": "20"}, {"equity": "90"}
    )  # fmt: skip
    assert (got["band_pp"], got["band_relative_pct"], got["min_trade"]) == ("4", "25", "150.00")

    refusals = [
        ({"symbol": {"AAA": 70, "BBB": 40}}, "the symbol targets sum to 110%"),
        ({"sector": {"Tech": 10}}, "unknown sector 'Tech'"),
        ({"asset_class": {"crypto": 10}}, "unknown asset class 'crypto'"),
        ({"symbol": {"not a ticker": 10}}, "is not a ticker symbol"),
        ({"symbol": {"AAA": 10, "aaa": 5}}, "AAA has two symbol targets"),
        ({"band_pp": 3}, "give at least one target weight"),
    ]
    for wrong, message in refusals:
        refused = client.put(f"{API}/{pid}/targets", json=wrong, headers=trader.headers)
        assert refused.status_code == 422, (wrong, refused.text)
        assert message in refused.json()["error"]["message"], refused.text
    for wrong in ({"symbol": {"AAA": 101}}, {"band_pp": -1}, {"colour": "red"}):
        assert client.put(f"{API}/{pid}/targets", json=wrong, headers=trader.headers).status_code == 422, wrong
    assert client.get(f"{API}/{pid}/targets", headers=trader.headers).json() == got  # refusals change nothing

    assert client.delete(f"{API}/{pid}/targets", headers=trader.headers).status_code == 204
    assert client.get(f"{API}/{pid}/targets", headers=trader.headers).json()["set"] is False
    client.put(f"{API}/{pid}/targets", json=body, headers=trader.headers)
    deleted = client.delete(f"{API}/{pid}", params={"confirm": "Core"}, headers=trader.headers)
    assert deleted.status_code == 204  # the targets go with their portfolio


def test_the_allocation_and_the_advice_match_the_arithmetic(client: TestClient) -> None:
    trader = register_admin(client)
    pid = book(client, trader)
    a, b, c = (last_close(client, trader, s) for s in ("AAA", "BBB", "CCC"))
    total = 60 * a + 10 * b + D(2600)
    targets = {"symbol": {"AAA": 50, "BBB": 30, "CCC": 10}, "band_pp": 5, "min_trade": 100}
    assert client.put(f"{API}/{pid}/targets", json=targets, headers=trader.headers).status_code == 200

    allocation = client.get(f"{API}/{pid}/allocation", headers=trader.headers).json()
    lines = {line["key"]: line for line in allocation["symbol"]}
    weight_a = 60 * a * 100 / total
    assert D(allocation["total_value"]) == total.quantize(D("0.01"))
    assert D(lines["AAA"]["weight_pct"]) == weight_a.quantize(D("0.01"))
    assert D(lines["AAA"]["drift_pp"]) == (weight_a - 50).quantize(D("0.01"))
    assert (lines["AAA"]["status"], lines["CCC"]["status"], lines["CCC"]["weight_pct"]) == (
        "out_of_band",
        "out_of_band",
        "0.00",
    )
    assert D(lines["Cash"]["weight_pct"]) == (D(2600) * 100 / total).quantize(D("0.01"))
    sectors = {line["key"]: line["status"] for line in allocation["sector"]}
    assert sectors == {"Information Technology": "untargeted", "Health Care": "untargeted", "Cash": "cash"}

    advice = client.get(f"{API}/{pid}/rebalance", headers=trader.headers)
    assert advice.status_code == 200, advice.text
    body = advice.json()
    trades = {t["symbol"]: t for t in body["trades"]}
    # each line back to its target: sells round up to whole shares, buys down
    sell_a = ((weight_a - 50) * total / 100 / a).quantize(D(1), rounding=ROUND_CEILING)
    buy_b = ((30 * total / 100 - 10 * b) / b).quantize(D(1), rounding=ROUND_FLOOR)
    buy_c = (10 * total / 100 / c).quantize(D(1), rounding=ROUND_FLOOR)
    assert [(t["symbol"], t["side"], D(t["qty"])) for t in body["trades"]] == [
        ("AAA", "sell", sell_a), ("BBB", "buy", buy_b), ("CCC", "buy", buy_c)
    ]  # fmt: skip
    assert trades["AAA"]["preview_url"] == f"/trade?symbol=AAA&side=sell&qty={sell_a}"
    assert trades["CCC"]["preview_url"] == f"/trade?symbol=CCC&side=buy&qty={buy_c}"
    assert D(trades["BBB"]["value"]) == (buy_b * b).quantize(D("0.01"))
    assert D(body["cash_after"]) == (D(2600) + sell_a * a - buy_b * b - buy_c * c).quantize(D("0.01"))
    # FIFO sells from the $100 lot; loss first takes the 10 bought at $130 first (above the close: a loss)
    assert D(trades["AAA"]["realized_pnl_fifo"]) == (sell_a * (a - 100)).quantize(D("0.01"))
    losses = client.get(f"{API}/{pid}/rebalance", params={"prefer_losses": True}, headers=trader.headers).json()
    sell = next(t for t in losses["trades"] if t["symbol"] == "AAA")
    assert [(lot["date"], lot["qty"]) for lot in sell["lots"]] == [
        ("2025-02-03", "10"),
        ("2025-01-02", str(sell_a - 10)),
    ]
    # the 10 loss-first shares cost $130 where FIFO's cost $100: $300 less realized
    assert D(sell["realized_pnl"]) - D(sell["realized_pnl_fifo"]) == D(-300)
    assert D(losses["realized_pnl"]) - D(losses["realized_pnl_fifo"]) == D(-300)
    fractional = client.get(f"{API}/{pid}/rebalance", params={"fractional": True}, headers=trader.headers).json()
    assert D(fractional["trades"][0]["qty"]) == ((weight_a - 50) * total / 100 / a).quantize(
        D("1e-9"), rounding=ROUND_CEILING
    )
    after = {line["key"]: line["status"] for line in body["after"] if line["key"] in {"AAA", "BBB", "CCC"}}
    assert after == {"AAA": "in_band", "BBB": "in_band", "CCC": "in_band"}


def test_a_holding_whose_verdict_changed_since_it_was_logged_gets_an_action(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    logged = client.post("/api/v1/decisions", json={"symbol": "DDD"}, headers=trader.headers)
    assert logged.status_code == 201, logged.text
    now = logged.json()["verdict"]
    pid = client.post(API, json={"name": "Signals"}, headers=trader.headers).json()["id"]
    record(client, trader, pid, kind="buy", date="2026-11-02", symbol="DDD", qty="5", price="100")

    unchanged = client.get(f"{API}/{pid}/rebalance", headers=trader.headers).json()
    (reading,) = unchanged["verdicts"]
    assert (reading["symbol"], reading["verdict"], reading["logged_verdict"], reading["change"]) == ("DDD", now, now, 0)
    assert unchanged["actions"] == [] if now != "Avoid" else unchanged["actions"][0]["kind"] == "review"
    assert unchanged["trades"] == []
    assert "No targets yet, so there is nothing to rebalance against." in unchanged["notes"]

    # an older entry of the log said otherwise: a verdict that fell since asks for a review, one that rose is noted
    earlier = "Strong Buy" if now != "Strong Buy" else "Avoid"

    async def log_earlier() -> None:
        async with desk.db.session() as session:
            session.add(Decision(
                id="dec_later", owner_id=trader.id, symbol="DDD", action="saved", verdict=earlier, score=9.0,
                preset="balanced", signals="", scoring_version="x", config_hash="0" * 16, regime=None, universe="all",
                benchmark="", price=D(100), price_date=date(2026, 11, 2), decided_at=datetime(2026, 11, 20, 16, tzinfo=UTC),
            ))  # fmt: skip

    client.portal.call(log_earlier)  # type: ignore[union-attr]
    changed = client.get(f"{API}/{pid}/rebalance", headers=trader.headers).json()
    (action,) = changed["actions"]
    as_of = changed["verdicts"][0]["as_of"]
    if earlier == "Strong Buy":
        assert action["kind"] == "review"
        assert (
            action["text"]
            == f"review DDD: its verdict fell from Strong Buy (logged on 2026-11-02) to {now} (as of {as_of})"
        )
    else:
        assert action["kind"] == "note"
        assert action["text"] == f"DDD: its verdict rose from Avoid (logged on 2026-11-02) to {now} (as of {as_of})"
    assert (action["preview_url"] is not None) == (now == "Avoid")


def test_a_viewer_reads_the_targets_and_the_advice_but_cannot_change_them(client: TestClient) -> None:
    admin = register_admin(client)
    trader = create_user(client, admin, "viewer-to-be@example.com", "trader")
    pid = book(client, trader)
    assert client.put(f"{API}/{pid}/targets", json={"symbol": {"AAA": 50}}, headers=trader.headers).status_code == 200
    client.patch(f"/api/v1/admin/users/{trader.id}", json={"role": "viewer"}, headers=admin.headers)
    viewer = create_user(client, admin, "second@example.com", "viewer")
    assert client.get(f"{API}/{pid}/targets", headers=viewer.headers).status_code == 404  # not theirs
    from support.auth import login

    demoted = login(client, "viewer-to-be@example.com", "viewer")
    for path in ("targets", "allocation", "rebalance"):
        assert client.get(f"{API}/{pid}/{path}", headers=demoted.headers).status_code == 200, path
    assert client.put(f"{API}/{pid}/targets", json={"symbol": {"AAA": 60}}, headers=demoted.headers).status_code == 403
    assert client.delete(f"{API}/{pid}/targets", headers=demoted.headers).status_code == 403
    assert client.get(f"{API}/{pid}/targets", headers=demoted.headers).json()["symbol"] == {"AAA": "50"}
