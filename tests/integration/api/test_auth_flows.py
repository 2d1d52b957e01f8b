"""Accounts over HTTP: the first admin, registration open and closed, sign-in, me, password change, sessions,
and the admin's users and desk settings. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from support.auth import PASSWORD, api_desk, create_user, login, register_admin

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
def client(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(desk=api_desk(tmp_path / "desk", clock, database_url=database.url), web=False)) as c:
        yield c


def test_a_fresh_desk_asks_for_its_admin_and_refuses_anonymous_calls(client: TestClient) -> None:
    assert client.get("/api/v1/auth/status").json() == {"has_users": False, "registration_open": True}
    anonymous = client.get("/api/v1/symbols")
    assert anonymous.status_code == 401
    assert "no users yet" in anonymous.json()["error"]["message"]
    assert "register" in anonymous.json()["error"]["hint"]


def test_the_first_registration_becomes_admin_and_then_registration_closes(client: TestClient) -> None:
    admin = register_admin(client)
    assert client.get("/api/v1/auth/status").json() == {"has_users": True, "registration_open": False}
    closed = client.post("/api/v1/auth/register", json={"email": "bo@example.com", "password": PASSWORD})
    assert closed.status_code == 403 and "closed" in closed.json()["error"]["message"]
    assert client.get("/api/v1/symbols").status_code == 401  # still nobody signed in on this client
    assert client.get("/api/v1/symbols", headers=admin.headers).status_code == 200


def test_an_admin_opens_registration_and_chooses_the_newcomers_role(client: TestClient) -> None:
    admin = register_admin(client)
    settings = client.get("/api/v1/admin/settings", headers=admin.headers).json()
    assert settings == {"open_registration": False, "registration_role": "viewer"}
    opened = client.patch(
        "/api/v1/admin/settings", json={"open_registration": True, "registration_role": "trader"}, headers=admin.headers
    )
    assert opened.json() == {"open_registration": True, "registration_role": "trader"}
    joined = client.post("/api/v1/auth/register", json={"email": "Bo@Example.com ", "password": PASSWORD})
    assert joined.status_code == 201, joined.text
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {joined.json()['access_token']}"}).json()
    assert me["email"] == "bo@example.com" and me["role"] == "trader"
    no_admins = client.patch("/api/v1/admin/settings", json={"registration_role": "admin"}, headers=admin.headers)
    assert no_admins.status_code == 422


def test_registration_refuses_weak_passwords_duplicates_and_bad_emails(client: TestClient) -> None:
    weak = client.post("/api/v1/auth/register", json={"email": "ann@example.com", "password": "Password2024!"})
    assert weak.status_code == 422 and "common" in weak.json()["error"]["message"]
    short = client.post("/api/v1/auth/register", json={"email": "ann@example.com", "password": "short"})
    assert "at least 12" in short.json()["error"]["message"]
    mine = client.post(
        "/api/v1/auth/register", json={"email": "ann.smith@example.com", "password": "annsmith-rules-ok"}
    )
    assert "email" in mine.json()["error"]["message"]
    bad = client.post("/api/v1/auth/register", json={"email": "not an email", "password": PASSWORD})
    assert bad.status_code == 422 and "email" in bad.json()["error"]["message"]
    unknown = client.post("/api/v1/auth/register", json={"email": "a@b.c", "password": PASSWORD, "role": "admin"})
    assert unknown.status_code == 422 and "role" in unknown.json()["error"]["message"]
    admin = register_admin(client)
    client.patch("/api/v1/admin/settings", json={"open_registration": True}, headers=admin.headers)
    again = client.post("/api/v1/auth/register", json={"email": admin.email.upper(), "password": PASSWORD})
    assert again.status_code == 422 and "already exists" in again.json()["error"]["message"]


def test_login_refuses_wrong_passwords_and_unknown_emails_alike(client: TestClient) -> None:
    admin = register_admin(client)
    wrong = client.post("/api/v1/auth/login", json={"email": admin.email, "password": "wrong " + PASSWORD})
    unknown = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"] == unknown.json()["error"]
    assert login(client, admin.email, "admin").id == admin.id


def test_me_reads_the_role_as_stored_now(client: TestClient) -> None:
    admin = register_admin(client)
    trader = create_user(client, admin, "trader@example.com", "trader")
    assert client.get("/api/v1/auth/me", headers=trader.headers).json()["role"] == "trader"
    client.patch(f"/api/v1/admin/users/{trader.id}", json={"role": "viewer"}, headers=admin.headers)
    assert client.get("/api/v1/auth/me", headers=trader.headers).json()["role"] == "viewer"
    refused = client.post("/api/v1/watchlists", json={"name": "Mine"}, headers=trader.headers)
    assert refused.status_code == 403  # the old token's "trader" claim does not count


def test_password_change_signs_out_the_other_sessions(client: TestClient) -> None:
    admin = register_admin(client)
    laptop = login(client, admin.email, "admin")
    new = "a brand new passphrase 7"
    wrong = client.post(
        "/api/v1/auth/password", json={"current_password": "nope", "new_password": new}, headers=admin.headers
    )
    assert wrong.status_code == 403
    weak = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "qwerty123456"},
        headers=admin.headers,
    )
    assert weak.status_code == 422
    changed = client.post(
        "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": new}, headers=admin.headers
    )
    assert changed.status_code == 204
    assert client.get("/api/v1/auth/me", headers=admin.headers).status_code == 200  # this session stays
    assert client.get("/api/v1/auth/me", headers=laptop.headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": laptop.refresh_token}).status_code == 401
    assert client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}).status_code == 401
    assert login(client, admin.email, "admin", password=new).id == admin.id


def test_sessions_are_listed_and_revoked_one_or_all(client: TestClient) -> None:
    admin = register_admin(client)
    phone = login(client, admin.email, "admin")
    tablet = login(client, admin.email, "admin")
    sessions = client.get("/api/v1/auth/sessions", headers=admin.headers).json()
    assert len(sessions) == 3 and sum(s["current"] for s in sessions) == 1
    phone_id = client.get("/api/v1/auth/me", headers=phone.headers).json()["session_id"]
    assert client.delete(f"/api/v1/auth/sessions/{phone_id}", headers=admin.headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=phone.headers).status_code == 401
    assert client.delete(f"/api/v1/auth/sessions/{phone_id}", headers=admin.headers).status_code == 404
    assert client.delete("/api/v1/auth/sessions", headers=admin.headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=tablet.headers).status_code == 401
    remaining = client.get("/api/v1/auth/sessions", headers=admin.headers).json()
    assert [s["current"] for s in remaining] == [True]


def test_the_admin_lists_disables_and_re_roles_users(client: TestClient) -> None:
    admin = register_admin(client)
    viewer = create_user(client, admin, "viewer@example.com", "viewer")
    users = client.get("/api/v1/admin/users", headers=admin.headers).json()
    assert {u["email"]: u["role"] for u in users} == {admin.email: "admin", viewer.email: "viewer"}
    disabled = client.patch(f"/api/v1/admin/users/{viewer.id}", json={"disabled": True}, headers=admin.headers)
    assert disabled.json()["disabled"] is True
    assert client.get("/api/v1/auth/me", headers=viewer.headers).status_code == 401
    refused = client.post("/api/v1/auth/login", json={"email": viewer.email, "password": PASSWORD})
    assert refused.status_code == 401 and "disabled" in refused.json()["error"]["message"]
    client.patch(f"/api/v1/admin/users/{viewer.id}", json={"disabled": False, "role": "admin"}, headers=admin.headers)
    promoted = login(client, viewer.email, "admin")
    assert client.get("/api/v1/admin/users", headers=promoted.headers).status_code == 200
    missing = client.patch("/api/v1/admin/users/u-nobody", json={"role": "viewer"}, headers=admin.headers)
    assert missing.status_code == 404
    extra = client.patch(f"/api/v1/admin/users/{viewer.id}", json={"colour": "red"}, headers=admin.headers)
    assert extra.status_code == 422


def test_the_last_admin_cannot_be_demoted_or_disabled(client: TestClient) -> None:
    admin = register_admin(client)
    for change in ({"role": "trader"}, {"disabled": True}, {"role": "viewer", "disabled": True}):
        refused = client.patch(f"/api/v1/admin/users/{admin.id}", json=change, headers=admin.headers)
        assert refused.status_code == 422 and "last admin" in refused.json()["error"]["message"], change
    second = create_user(client, admin, "second@example.com", "admin")
    demoted = client.patch(f"/api/v1/admin/users/{admin.id}", json={"role": "trader"}, headers=second.headers)
    assert demoted.json()["role"] == "trader"
    refused = client.patch(f"/api/v1/admin/users/{second.id}", json={"role": "viewer"}, headers=second.headers)
    assert refused.status_code == 422


def test_security_events_reach_the_audit_log(client: TestClient) -> None:
    admin = register_admin(client)
    client.post("/api/v1/auth/login", json={"email": admin.email, "password": "not it at all"})
    viewer = create_user(client, admin, "viewer@example.com", "viewer")
    client.patch(f"/api/v1/admin/users/{viewer.id}", json={"role": "trader"}, headers=admin.headers)
    client.post("/api/v1/auth/logout", json={"refresh_token": viewer.refresh_token})
    entries = client.get("/api/v1/audit", params={"limit": 500}, headers=admin.headers).json()["items"]
    actions = [e["action"] for e in entries]
    for action in ("user.created", "login.succeeded", "login.failed", "user.role_changed", "logout"):
        assert action in actions, action
    failed = next(e for e in entries if e["action"] == "login.failed")
    assert failed["target"] == admin.email and failed["ip"]
    assert PASSWORD not in str(entries) and "not it at all" not in str(entries)
    assert client.get("/api/v1/audit/verify", headers=admin.headers).json()["ok"] is True
