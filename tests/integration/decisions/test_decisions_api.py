"""/api/v1/decisions over the real API and the real screener, on SQLite and PostgreSQL: a trader logs the desk's
verdicts, sees them pending, then measured against the benchmark once the prices come in; the stats follow;
another user gets 404 and an empty log; a viewer reads but cannot log."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marketdesk.accounts.passwords import Argon2Parameters, PasswordHasher
from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.desk import Desk
from support.auth import SignedIn, api_desk, create_user, login, register_admin

API = "/api/v1/decisions"
SYMBOLS = ["AAA", "BBB", "CCC", "ETF1"]


async def fetch(desk: Desk, start: date, end: date) -> None:
    async with desk.db.session() as session:
        await desk.market.fetch(session, desk.source, SYMBOLS, start=start, end=end)


def fetch_before_start(desk: Desk, start: date, end: date) -> None:
    async def run() -> None:
        await fetch(desk, start, end)
        await desk.db.dispose()

    asyncio.run(run())


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime(2025, 4, 1, 15, tzinfo=UTC))  # the morning after the 2025-03-31 close


@pytest.fixture
def desk(tmp_path: Path, clock: SimClock, database: Database) -> Desk:
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url)
    fetch_before_start(
        desk, date(2024, 1, 2), date(2024, 12, 31)
    )  # a year and a quarter of history: enough for a verdict
    desk.screener.loader.benchmark_symbol = "ETF1"  # the small fake market's broad fund
    desk.accounts.hasher = PasswordHasher(Argon2Parameters(memory_kib=8, time_cost=1, parallelism=1))
    return desk


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        yield test_client


def log(client: TestClient, user: SignedIn, **body: object) -> dict[str, object]:
    response = client.post(API, json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_trader_logs_verdicts_and_sees_them_measured_against_the_benchmark(
    client: TestClient, desk: Desk, clock: SimClock
) -> None:
    trader = register_admin(client)
    screen = client.get("/api/v1/screener", params={"limit": 10}, headers=trader.headers).json()
    shown = {row["symbol"]: row for row in screen["rows"]}
    logged = log(client, trader, symbol="aaa", signals=["breakout"], note="cheap after the dip")
    # the log holds what the screen said: verdict, score, preset, version, flags as signals
    assert (logged["symbol"], logged["verdict"], logged["preset"]) == ("AAA", shown["AAA"]["verdict"], "balanced")
    assert logged["score"] == pytest.approx(shown["AAA"]["score"])
    assert logged["scoring_version"] == screen["version"]
    assert "breakout" in logged["signals"]
    assert (logged["price_date"], logged["benchmark"], logged["regime"]) == (
        "2025-03-31",
        "ETF1",
        screen["regime"]["state"],
    )
    bars = client.get("/api/v1/symbols/AAA/bars", params={"start": "2025-03-31"}, headers=trader.headers).json()
    assert float(logged["price"]) == bars["close"][0]
    assert [o["status"] for o in logged["outcomes"]] == ["pending"] * 3  # type: ignore[attr-defined]
    acted = log(client, trader, symbol="CCC", action="acted", side="buy", preset="momentum")
    assert (acted["action"], acted["side"], acted["preset"]) == ("acted", "buy", "momentum")
    assert acted["config_hash"] != logged["config_hash"]  # another preset, another fingerprint

    # a quarter later, with the prices in: 30 and 60 days measured, 90 not due
    client.portal.call(fetch, desk, date(2025, 4, 1), date(2025, 12, 31))  # type: ignore[union-attr]
    clock.set(datetime(2025, 6, 10, 22, tzinfo=UTC))
    trader = login(client, "admin@example.com", "admin")  # the old access token has long expired
    listed = client.get(API, headers=trader.headers).json()
    assert {d["id"] for d in listed} == {logged["id"], acted["id"]}
    one = client.get(f"{API}/{logged['id']}", headers=trader.headers).json()
    thirty, sixty, ninety = one["outcomes"]
    assert [thirty["status"], sixty["status"], ninety["status"]] == ["measured", "measured", "pending"]
    assert ninety["due_on"] == "2025-06-29"
    # 30 days from 2025-03-31 is Wed 2025-04-30: adjusted closes (the fake market has no dividends)
    window = {"start": "2025-03-31", "end": "2025-04-30"}
    aaa = client.get("/api/v1/symbols/AAA/bars", params=window, headers=trader.headers).json()
    bench = client.get("/api/v1/symbols/ETF1/bars", params=window, headers=trader.headers).json()
    assert thirty["end_date"] == aaa["dates"][-1] == "2025-04-30"
    expected = (aaa["close"][-1] / aaa["close"][0] - 1) - (bench["close"][-1] / bench["close"][0] - 1)
    assert thirty["excess_return"] == pytest.approx(expected, abs=1e-12)
    assert thirty["win"] is (expected > 0)

    stats = client.get(f"{API}/stats", headers=trader.headers).json()
    assert (stats["total"], stats["horizons"]) == (2, [30, 60, 90])
    assert {g["key"] for g in stats["by_preset"]} == {"balanced", "momentum"}
    total_30 = sum(h["measured"] for g in stats["by_verdict"] for h in g["horizons"] if h["horizon_days"] == 30)
    pending_90 = sum(h["pending"] for g in stats["by_verdict"] for h in g["horizons"] if h["horizon_days"] == 90)
    assert (total_30, pending_90) == (2, 2)
    assert any(g["key"] == "breakout" for g in stats["by_signal"])


def test_another_user_gets_404_and_an_empty_log_and_a_viewer_cannot_log(client: TestClient) -> None:
    owner = register_admin(client)
    decision = log(client, owner, symbol="AAA")
    other = create_user(client, owner, "other@example.com", "trader")
    viewer = create_user(client, owner, "viewer@example.com", "viewer")
    for intruder in (other, viewer):
        assert client.get(f"{API}/{decision['id']}", headers=intruder.headers).status_code == 404
        assert client.get(API, headers=intruder.headers).json() == []
        assert client.get(f"{API}/stats", headers=intruder.headers).json()["total"] == 0
    refused = client.post(API, json={"symbol": "AAA"}, headers=viewer.headers)
    assert refused.status_code == 403
    assert client.get(API, headers=viewer.headers).json() == []
    own = log(client, other, symbol="BBB")
    assert [d["id"] for d in client.get(API, headers=other.headers).json()] == [own["id"]]
    assert [d["id"] for d in client.get(API, headers=owner.headers).json()] == [decision["id"]]


def test_bad_input_is_refused_with_what_to_fix(client: TestClient) -> None:
    trader = register_admin(client)
    cases = [
        ({"symbol": "AAA", "verdict": "Strong Buy"}, 422, "verdict: Extra inputs are not permitted"),
        ({"symbol": "AAA", "side": "buy"}, 422, "a side goes with an acted-on decision"),
        ({"symbol": "AAA", "signals": ["two words"]}, 422, "signals.0"),
        ({"symbol": "AAA", "preset": "yolo"}, 422, "unknown preset 'yolo'"),
        ({"symbol": "ZZZ"}, 404, "ZZZ is not in the 'all' universe"),
    ]
    for body, status, message in cases:
        response = client.post(API, json=body, headers=trader.headers)
        assert response.status_code == status, (body, response.text)
        assert message in response.json()["error"]["message"], response.text
    assert client.get(f"{API}/dec_nothing", headers=trader.headers).status_code == 404
