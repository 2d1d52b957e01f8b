"""Who may call what, over every route the app has (so a new route cannot slip through): nobody anonymous
outside the sign-in endpoints, a viewer never changes anything, only an admin reaches /admin and /audit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.deps import authorize_api
from support.auth import SignedIn, api_desk, create_user, register_admin

# the only /api/v1 routes a signed-out caller may reach, and the only ones outside the authorize_api guard
PUBLIC = {
    ("GET", "/api/v1/auth/status"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
}
SAFE = {"GET", "HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    clock = SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC))  # its own: the shared `clock` fixture is per test
    return create_app(desk=api_desk(tmp_path_factory.mktemp("rbac"), clock), web=False)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def users(client: TestClient) -> dict[str, SignedIn]:
    admin = register_admin(client)
    return {
        "admin": admin,
        "trader": create_user(client, admin, "trader@example.com", "trader"),
        "viewer": create_user(client, admin, "viewer@example.com", "viewer"),
    }


def api_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, full path, route) of every HTTP route under /api/v1, as the app serves it (prefixes and the
    including router's dependencies applied)."""
    routes = []
    for route in iter_route_contexts(app.routes):
        path = str(getattr(route, "path", ""))
        methods = getattr(route, "methods", None) or set()
        if path.startswith("/api/v1") and getattr(route, "dependant", None) is not None:
            routes.extend((method, path, route) for method in sorted(methods))
    return routes


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def uses(dependant: Dependant, target: object) -> bool:
    return any(d.call is target or uses(d, target) for d in dependant.dependencies)


def test_every_api_route_outside_sign_in_is_guarded(app: FastAPI) -> None:
    routes = api_routes(app)
    assert len(routes) > 25  # market data, screener, watchlists, auth, admin, vault, audit
    unguarded = [
        (method, path)
        for method, path, route in routes
        if not path.startswith("/api/v1/auth/") and not uses(route.dependant, authorize_api)
    ]
    assert unguarded == []


def test_signed_out_callers_reach_only_the_sign_in_endpoints(app: FastAPI, client: TestClient) -> None:
    client.cookies.clear()
    for method, path, _ in api_routes(app):
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, concrete(path), json={})
        assert response.status_code == 401, (method, path, response.text)


def test_a_viewer_can_read_but_never_change_anything(
    app: FastAPI, client: TestClient, users: dict[str, SignedIn]
) -> None:
    viewer = users["viewer"]
    writes = [(m, p) for m, p, _ in api_routes(app) if m not in SAFE and not p.startswith("/api/v1/auth/")]
    assert len(writes) >= 6  # watchlists (3), vault (2), admin (3)
    for method, path in writes:
        response = client.request(method, concrete(path), json={}, headers=viewer.headers)
        assert response.status_code == 403, (method, path, response.text)
    assert client.get("/api/v1/symbols", headers=viewer.headers).status_code == 200
    assert client.get("/api/v1/watchlists", headers=viewer.headers).status_code == 200
    assert client.get("/api/v1/vault/secrets", headers=viewer.headers).status_code == 200


def test_a_viewer_may_still_manage_its_own_sign_in(client: TestClient, users: dict[str, SignedIn]) -> None:
    viewer = users["viewer"]
    assert client.get("/api/v1/auth/sessions", headers=viewer.headers).status_code == 200
    assert client.delete("/api/v1/auth/sessions/s-none", headers=viewer.headers).status_code == 404


@pytest.mark.parametrize("role", ["trader", "viewer"])
def test_only_admins_reach_users_settings_and_the_audit_log(
    app: FastAPI, client: TestClient, users: dict[str, SignedIn], role: str
) -> None:
    headers = users[role].headers
    admin_only = [(m, p) for m, p, _ in api_routes(app) if p.startswith(("/api/v1/admin", "/api/v1/audit"))]
    assert len(admin_only) >= 6
    for method, path in admin_only:
        response = client.request(method, concrete(path), json={}, headers=headers)
        assert response.status_code == 403, (role, method, path, response.text)
    assert client.get("/api/v1/admin/users", headers=users["admin"].headers).status_code == 200


def test_a_trader_changes_its_own_data(client: TestClient, users: dict[str, SignedIn]) -> None:
    trader = users["trader"]
    created = client.post("/api/v1/watchlists", json={"name": "Trades"}, headers=trader.headers)
    assert created.status_code == 201
    added = client.post("/api/v1/watchlists/Trades/symbols", json={"symbol": "AAA"}, headers=trader.headers)
    assert added.json()["symbols"] == ["AAA"]
