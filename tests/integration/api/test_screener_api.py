"""The screener's REST routes on a desk over a small simulated market."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.desk import build_desk
from support.auth import SignedIn, create_user, sign_in_as_admin


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("screener-api"), sim_symbols=60, sim_history_years=2)
    desk = build_desk(settings, SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC)))
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        admin = sign_in_as_admin(test_client)
        test_client.app.state.admin = admin  # type: ignore[attr-defined]
        yield test_client


def test_screen_returns_rows_with_verdicts_metrics_gates_and_reasons(client: TestClient) -> None:
    response = client.get("/api/v1/screener", params={"preset": "value", "asset": "stock", "limit": 5})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["preset"] == "value"
    assert len(page["rows"]) == 5
    assert page["total"] >= 5
    row = page["rows"][0]
    assert {"symbol", "name", "verdict", "score", "metrics", "gates", "reasons", "flags", "dcf"} <= set(row)
    assert row["reasons"]["for"]
    assert page["regime"]["state"] in {"risk-on", "neutral", "risk-off"}


def test_filters_and_pagination_over_http(client: TestClient) -> None:
    params = {"where": "pe < 30", "asset": "stock", "sort": "score", "limit": 3, "offset": 3}
    page = client.get("/api/v1/screener", params=params).json()
    assert page["offset"] == 3
    assert all(r["metrics"]["pe"] < 30 for r in page["rows"])


def test_options_list_presets_fields_and_operators(client: TestClient) -> None:
    options = client.get("/api/v1/screener/options").json()
    assert {"balanced", "momentum", "value", "value-trap", "growth-at-fair-price", "dip-opportunity"} <= {
        p["id"] for p in options["presets"]
    }
    assert "pe" in options["fields"]
    assert "<=" in options["operators"]


def test_research_regime_and_dips(client: TestClient) -> None:
    top = client.get("/api/v1/screener", params={"asset": "stock", "limit": 1}).json()["rows"][0]["symbol"]
    sheet = client.get(f"/api/v1/research/{top}").json()
    assert len(sheet["sections"]) == 7
    regime = client.get("/api/v1/regime").json()
    assert regime["reason"]
    assert len(regime["signals"]) == 4
    dips = client.get("/api/v1/dips", params={"universe": "all", "threshold": 5}).json()
    assert dips["threshold_pct"] == 5
    assert all(r["dip_pct"] >= 5 for r in dips["rows"])


@pytest.mark.parametrize(
    ("path", "params", "status", "needle"),
    [
        ("/api/v1/screener", {"preset": "yolo"}, 422, "Valid presets"),
        ("/api/v1/screener", {"where": "pe <"}, 422, "expected"),
        ("/api/v1/screener", {"where": "moon > 1"}, 422, "Valid fields"),
        ("/api/v1/screener", {"limit": 5000}, 422, "limit"),
        ("/api/v1/dips", {"threshold": 50}, 422, "5, 10, 15"),
        ("/api/v1/research/NOPE", {}, 404, "unknown symbol"),
        ("/api/v1/screener", {"universe": "watchlist:Nope"}, 404, "no watchlist"),
    ],
)
def test_bad_input_gets_one_clear_error(
    client: TestClient, path: str, params: dict[str, object], status: int, needle: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert needle in f"{error['message']} {error.get('hint') or ''}"


def _watchlist(client: TestClient, user: SignedIn, name: str, symbols: list[str]) -> None:
    response = client.post("/api/v1/watchlists", json={"name": name, "symbols": symbols}, headers=user.headers)
    assert response.status_code == 201, response.text


def test_a_watchlist_universe_is_the_callers_own_list(client: TestClient) -> None:
    admin: SignedIn = client.app.state.admin  # type: ignore[attr-defined]
    alice = create_user(client, admin, "alice@example.com", "trader")
    bob = create_user(client, admin, "bob@example.com", "viewer")
    stocks = [r["symbol"] for r in client.get("/api/v1/screener", params={"asset": "stock", "limit": 6}).json()["rows"]]
    _watchlist(client, alice, "core", stocks[:2])
    _watchlist(client, admin, "core", stocks[2:5])  # the same name, another owner, other symbols

    def screened(user: SignedIn) -> set[str]:
        response = client.get(
            "/api/v1/screener", params={"universe": "watchlist:core", "limit": 50}, headers=user.headers
        )
        assert response.status_code == 200, response.text
        return {r["symbol"] for r in response.json()["rows"]}

    assert screened(alice) == set(stocks[:2])
    assert screened(admin) == set(stocks[2:5])
    # bob has no list of that name: he gets a 404, never alice's or the admin's list
    for path in ("/api/v1/screener", "/api/v1/dips", "/api/v1/regime"):
        response = client.get(path, params={"universe": "watchlist:core"}, headers=bob.headers)
        assert response.status_code == 404, (path, response.text)
        assert "no watchlist" in response.json()["error"]["message"]

    def dipped(user: SignedIn) -> tuple[str, set[str]]:
        response = client.get(
            "/api/v1/dips", params={"universe": "watchlist:core", "threshold": 5, "min_verdict": "Avoid"},
            headers=user.headers,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
        return body["universe"], {r["symbol"] for r in body["rows"]}

    # the dips cache is per owner: the admin's cached report never answers alice
    universe, admin_dips = dipped(admin)
    assert universe == "watchlist:core"
    assert admin_dips <= set(stocks[2:5])
    assert dipped(alice)[1] <= set(stocks[:2])
