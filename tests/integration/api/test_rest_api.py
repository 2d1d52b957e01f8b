"""The REST API, health, metrics and OpenAPI, on a desk over a small real source, signed in as its admin (the
desk's first registration; tests/integration/api/test_auth_*.py cover signing in and who may do what)."""

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.db import upgrade
from marketdesk.desk import Desk, build_desk
from support.auth import sign_in_as_admin
from support.fakes import CountingStream, FakeSource


def prepared_desk(tmp_path: Path, clock: SimClock, stream_interval_s: float = 0.02) -> Desk:
    settings = load_settings(data_dir=tmp_path, market_data=["files"])
    desk = build_desk(
        settings, clock, source=FakeSource(clock), stream=CountingStream(clock, ["AAA", "BBB"], stream_interval_s)
    )

    async def prepare() -> None:
        upgrade(settings.effective_database_url)
        async with desk.db.session() as session:
            await desk.market.fetch(
                session, desk.source, ["AAA", "BBB", "CCC", "ETF1"], start=date(2024, 1, 1), end=date(2025, 12, 31)
            )
            await desk.market.create_watchlist(session, "Main", ["AAA", "BBB"], owner_id=None)  # the shared list
        await desk.db.dispose()

    asyncio.run(prepare())
    return desk


@pytest.fixture
def client(tmp_path: Path, clock: SimClock) -> Iterator[TestClient]:
    """A client signed in as the desk's admin, who got a copy of the desk's shared "Main" list on sign-up."""
    app = create_app(desk=prepared_desk(tmp_path, clock), web=False)
    with TestClient(app) as test_client:
        sign_in_as_admin(test_client)
        yield test_client


def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "bus": "ok", "startup": "ok", "quotes": "ok"}
    client.get("/api/v1/symbols")
    metrics = client.get("/metrics").text
    assert 'marketdesk_http_requests_total{method="GET",route="/api/v1/symbols",status="200"}' in metrics
    assert "marketdesk_quotes_published_total" in metrics


def test_openapi_lists_the_routes(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/v1/symbols", "/api/v1/symbols/{symbol}/bars", "/api/v1/quotes", "/api/v1/universes"):
        assert path in spec["paths"]


def test_symbols_search_and_detail(client: TestClient) -> None:
    listing = client.get("/api/v1/symbols", params={"q": "aa"}).json()
    assert [s["symbol"] for s in listing["items"]] == ["AAA"]
    detail = client.get("/api/v1/symbols/aaa").json()
    assert detail["symbol"]["symbol"] == "AAA" and detail["simulated"] is False
    assert detail["stats"]["bars"] == 522 and detail["stats"]["eps_ttm"] == pytest.approx(1.0 + 1.1 + 1.2 + 1.3 + 0.4)


def test_bars_are_columnar_and_bounded_by_the_range(client: TestClient) -> None:
    bars = client.get("/api/v1/symbols/AAA/bars", params={"start": "2025-01-01", "end": "2025-01-31"}).json()
    assert bars["dates"][0] == "2025-01-01" and bars["dates"][-1] == "2025-01-31"
    assert len(bars["close"]) == len(bars["dates"]) == 23


def test_quotes_are_exact_decimal_strings(client: TestClient) -> None:
    quotes = client.get("/api/v1/quotes", params={"symbols": "AAA,NOPE"}).json()
    assert [q["symbol"] for q in quotes] == ["AAA"]
    assert isinstance(quotes[0]["last"], str) and "." in quotes[0]["last"]


def test_universes_and_watchlists(client: TestClient) -> None:
    assert client.get("/api/v1/universes/all").json()["symbols"] == ["AAA", "BBB", "CCC", "ETF1"]
    created = client.post("/api/v1/watchlists", json={"name": "Energy", "symbols": ["CCC"]})
    assert created.status_code == 201 and created.json() == {"name": "Energy", "symbols": ["CCC"]}
    added = client.post("/api/v1/watchlists/Energy/symbols", json={"symbol": "aaa"}).json()
    assert added["symbols"] == ["CCC", "AAA"]
    removed = client.delete("/api/v1/watchlists/Energy/symbols/CCC").json()
    assert removed["symbols"] == ["AAA"]
    names = [w["name"] for w in client.get("/api/v1/watchlists").json()]
    assert names == ["Energy", "Main"]


def test_market_clock_reports_xnys_when_not_simulated(client: TestClient) -> None:
    clock = client.get("/api/v1/market/clock").json()
    assert clock["simulated_hours"] is False
    assert clock["is_open"] is True  # the test clock is Friday 2026-11-20 15:00 UTC, 10:00 in New York


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("get", "/api/v1/symbols/NOPE", None, 404, "unknown symbol"),
        ("get", "/api/v1/symbols/BAD%20SYM", None, 422, "not a ticker"),
        ("get", "/api/v1/symbols/AAA/bars?start=2025-02-01&end=2025-01-01", None, 422, "after end"),
        ("get", "/api/v1/symbols/AAA/bars?start=yesterday", None, 422, "start"),
        ("get", "/api/v1/quotes?symbols=", None, 422, "at least one symbol"),
        ("get", "/api/v1/universes/nasdaq9000", None, 404, "Known universes"),
        ("post", "/api/v1/watchlists", {"name": "Main"}, 422, "already exists"),
        ("post", "/api/v1/watchlists", {"name": "X", "surprise": 1}, 422, "surprise"),
        ("post", "/api/v1/watchlists/Main/symbols", {"symbol": "ZZZ"}, 404, "unknown symbol"),
    ],
)
def test_bad_requests_get_one_clear_error_and_no_stack_trace(
    client: TestClient, method: str, path: str, body: dict[str, object] | None, status: int, needle: str
) -> None:
    response = client.request(method.upper(), path, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert needle in f"{error['message']} {error.get('hint') or ''}"
    assert "Traceback" not in response.text
    assert client.get("/api/v1/watchlists/").status_code in {200, 307, 404}
