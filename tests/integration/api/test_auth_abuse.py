"""Abuse over HTTP: growing delays then a lock after failed sign-ins (429 with Retry-After, nobody sleeps),
the per-client limit of the sign-in endpoints and the global API limit (429 with Retry-After)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from support.auth import PASSWORD, SignedIn, api_desk, register_admin

WRONG = "definitely not the password"


def make_client(tmp_path: Path, clock: SimClock, database_url: str | None = None, **settings: object) -> TestClient:
    return TestClient(
        create_app(desk=api_desk(tmp_path / "desk", clock, database_url=database_url, **settings), web=False)
    )


@pytest.fixture
def client(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[TestClient]:
    with make_client(tmp_path, clock, database.url, login_max_failures=3, login_lock_minutes=15) as test_client:
        yield test_client


def attempt(client: TestClient, email: str, password: str) -> tuple[int, str | None]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code, response.headers.get("retry-after")


def test_failures_grow_a_delay_then_lock_the_account(client: TestClient, clock: SimClock) -> None:
    admin = register_admin(client)
    assert attempt(client, admin.email, WRONG) == (401, None)  # the first slip costs nothing
    assert attempt(client, admin.email, WRONG) == (401, None)  # the second makes the account wait 1 s
    assert attempt(client, admin.email, PASSWORD) == (429, "1")  # even the right password waits
    clock.advance(timedelta(seconds=1))
    assert attempt(client, admin.email, WRONG) == (401, None)  # the third failure locks it
    status, retry_after = attempt(client, admin.email, PASSWORD)
    assert status == 429 and retry_after == str(15 * 60)
    clock.advance(timedelta(minutes=14))
    assert attempt(client, admin.email, PASSWORD) == (429, "60")
    clock.advance(timedelta(minutes=1))
    assert attempt(client, admin.email, PASSWORD)[0] == 200
    assert attempt(client, admin.email, WRONG) == (401, None)  # a success clears the count


def test_the_lock_is_recorded_although_each_refusal_is_an_error(client: TestClient, clock: SimClock) -> None:
    admin = register_admin(client)
    for _ in range(3):
        attempt(client, admin.email, WRONG)
        clock.advance(timedelta(seconds=5))
    refused = client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert "too many failed sign-ins" in refused.json()["error"]["message"]
    users = client.get("/api/v1/admin/users", headers=admin.headers).json()
    assert users[0]["locked_until"] is not None
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=admin.headers).json()["items"]]
    assert actions.count("login.failed") == 2 and "login.locked" in actions and "login.throttled" in actions


def test_other_accounts_are_not_slowed_by_one_under_attack(client: TestClient, clock: SimClock) -> None:
    admin = register_admin(client)
    client.post(
        "/api/v1/admin/users",
        json={"email": "bo@example.com", "password": PASSWORD, "role": "viewer"},
        headers=admin.headers,
    )
    for _ in range(3):
        attempt(client, admin.email, WRONG)
        clock.advance(timedelta(seconds=5))
    assert attempt(client, admin.email, PASSWORD)[0] == 429
    assert attempt(client, "bo@example.com", PASSWORD)[0] == 200


def test_the_sign_in_endpoints_have_a_per_client_limit(tmp_path: Path, clock: SimClock) -> None:
    with make_client(tmp_path, clock, rate_limit_auth="3/minute") as client:
        statuses = [attempt(client, "nobody@example.com", WRONG)[0] for _ in range(3)]
        assert statuses == [401, 401, 401]
        status, retry_after = attempt(client, "nobody@example.com", WRONG)
        assert status == 429 and retry_after is not None and 1 <= int(retry_after) <= 60
        refused = client.post("/api/v1/auth/register", json={"email": "a@example.com", "password": PASSWORD})
        assert refused.status_code == 429 and "sign-in requests" in refused.json()["error"]["message"]
        assert client.get("/api/v1/auth/status").status_code == 200  # reading the status is not a sign-in


def test_every_api_call_counts_against_a_global_limit(tmp_path: Path, clock: SimClock) -> None:
    with make_client(tmp_path, clock, rate_limit_global="6/minute") as client:
        admin: SignedIn = register_admin(client)  # register + me: two calls
        statuses = [client.get("/api/v1/symbols", headers=admin.headers).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        refused = client.get("/api/v1/symbols", headers=admin.headers)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["hint"].startswith("Wait")
        assert refused.headers["x-content-type-options"] == "nosniff"
        assert client.get("/healthz").status_code == 200  # probes are never limited
        assert client.get("/metrics").status_code == 200
