"""New users of a running test desk, for the browser tests: the desk is shared by a worker's tests, so a test that
needs its own data (portfolios, accounts, theses) signs up a fresh user instead of using the shared admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx


@dataclass
class NewUser:
    email: str
    id: str
    client: httpx.Client  # the API, signed in as this user (close it when done)


def new_user(api: httpx.Client, desk_url: str, prefix: str, password: str, role: str = "trader") -> NewUser:
    """Create a user through the admin's `api` client and sign them in over the API."""
    email = f"{prefix}.{secrets.token_hex(4)}@example.com"
    created = api.post("/api/v1/admin/users", json={"email": email, "password": password, "role": role})
    assert created.status_code == 201, created.text
    signed_in = httpx.post(f"{desk_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    client = httpx.Client(base_url=desk_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0)
    return NewUser(email, str(created.json()["id"]), client)
