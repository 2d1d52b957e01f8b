"""Signing in over the real API, for tests: the desk's first admin, and users of each role made by that admin."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from marketdesk.clock import Clock
from marketdesk.config import load_settings
from marketdesk.db import upgrade
from marketdesk.desk import Desk, build_desk
from support.fakes import FakeSource

PASSWORD = "violet trombone harbour 42"  # noqa: S105 (a test password: long, uncommon, unrelated to any test email)


@dataclass(frozen=True)
class SignedIn:
    """A user signed in over the API: their id, role, tokens and the bearer header."""

    id: str
    email: str
    role: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def _signed_in(client: TestClient, tokens: dict[str, str], role: str) -> SignedIn:
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["role"] == role, body
    return SignedIn(body["id"], body["email"], role, tokens["access_token"], tokens["refresh_token"])


def register_admin(client: TestClient, email: str = "admin@example.com", password: str = PASSWORD) -> SignedIn:
    """Register the first account of a desk with no users: it becomes the admin."""
    response = client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    client.cookies.clear()  # tests speak bearer unless they test the cookie on purpose
    return _signed_in(client, response.json(), "admin")


def login(client: TestClient, email: str, role: str, password: str = PASSWORD) -> SignedIn:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return _signed_in(client, response.json(), role)


def create_user(client: TestClient, admin: SignedIn, email: str, role: str, password: str = PASSWORD) -> SignedIn:
    """Have the admin create a user with `role`, then sign that user in."""
    response = client.post(
        "/api/v1/admin/users", json={"email": email, "password": password, "role": role}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return login(client, email, role, password)


def sign_in_as_admin(client: TestClient) -> SignedIn:
    """Register the first admin and make every later request of `client` carry its bearer token."""
    admin = register_admin(client)
    client.headers.update(admin.headers)
    return admin


def api_desk(tmp_path: Path, clock: Clock, *, database_url: str | None = None, **overrides: Any) -> Desk:
    """A desk over the small fake market (AAA, BBB, CCC, ETF1 stored), migrated, with no users yet.

    The sign-in rate limit is generous unless a test sets `rate_limit_auth` itself: most tests sign in often.
    """
    overrides.setdefault("rate_limit_auth", "10000/minute")
    overrides.setdefault("rate_limit_global", "100000/minute")
    settings = load_settings(data_dir=tmp_path, market_data=["files"], database_url=database_url, **overrides)
    desk = build_desk(settings, clock, source=FakeSource(clock))

    async def prepare() -> None:
        upgrade(settings.effective_database_url)
        async with desk.db.session() as session:
            await desk.market.fetch(
                session, desk.source, ["AAA", "BBB", "CCC", "ETF1"], start=date(2025, 1, 1), end=date(2025, 3, 31)
            )
        await desk.db.dispose()

    asyncio.run(prepare())
    return desk
