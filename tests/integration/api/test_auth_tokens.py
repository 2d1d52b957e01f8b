"""Token attacks over HTTP, each refused: alg none, a wrong key, an unknown kid, an expired token, a tampered
payload, algorithm confusion, refresh-token reuse (which revokes the whole family), and cookie-authenticated
changes without the CSRF token. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.desk import Desk
from support.auth import PASSWORD, SignedIn, api_desk, create_user, register_admin

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
def desk(tmp_path: Path, clock: SimClock, database: Database) -> Desk:
    return api_desk(tmp_path / "desk", clock, database_url=database.url)


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> SignedIn:
    return register_admin(client)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A JWT built by hand (so any header is possible), HMAC-SHA256-signed with `key`, unsigned when None."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload))


def me(client: TestClient, token: str) -> Any:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def assert_refused(response: Any, needle: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert needle in response.json()["error"]["message"]


def test_a_valid_token_is_accepted(client: TestClient, admin: SignedIn) -> None:
    assert me(client, admin.access_token).json()["email"] == admin.email
    header, payload = parts(admin.access_token)
    assert header["alg"] == "HS256" and header["kid"]
    assert set(payload) == {"sub", "role", "sid", "iat", "exp", "jti", "typ"}
    assert payload["typ"] == "access" and payload["exp"] - payload["iat"] == 15 * 60


def test_alg_none_is_refused(client: TestClient, admin: SignedIn) -> None:
    header, payload = parts(admin.access_token)
    for alg in ("none", "None", "NONE"):
        token = forge({**header, "alg": alg}, payload, None)
        assert_refused(me(client, token), "must be HS256")


def test_algorithm_confusion_is_refused(client: TestClient, admin: SignedIn) -> None:
    header, payload = parts(admin.access_token)
    for alg in ("RS256", "HS512", "ES256"):
        assert_refused(me(client, forge({**header, "alg": alg}, payload, b"x" * 32)), "must be HS256")


def test_a_wrong_key_is_refused(client: TestClient, admin: SignedIn) -> None:
    header, payload = parts(admin.access_token)
    token = jwt.encode(payload, b"an attacker's own 32-byte secret", algorithm="HS256", headers={"kid": header["kid"]})
    assert_refused(me(client, token), "signature does not match")


def test_an_unknown_or_missing_kid_is_refused(client: TestClient, admin: SignedIn) -> None:
    header, payload = parts(admin.access_token)
    assert_refused(me(client, forge({**header, "kid": "k-unknown"}, payload, b"x" * 32)), "does not hold")
    without = {k: v for k, v in header.items() if k != "kid"}
    assert_refused(me(client, forge(without, payload, b"x" * 32)), "with a kid")


def test_a_tampered_payload_is_refused(client: TestClient, desk: Desk, admin: SignedIn) -> None:
    trader = create_user(client, admin, "trader@example.com", "trader")
    signing_input, signature = trader.access_token.rsplit(".", 1)
    header_part, payload_part = signing_input.split(".")
    payload = json.loads(unb64(payload_part))
    for change in ({"role": "admin"}, {"sub": admin.id}, {"exp": payload["exp"] + 86400}):
        tampered = f"{header_part}.{b64(json.dumps({**payload, **change}).encode())}.{signature}"
        assert_refused(me(client, tampered), "signature does not match")


def test_an_expired_token_is_refused_and_refresh_gives_a_new_one(
    client: TestClient, clock: SimClock, admin: SignedIn
) -> None:
    clock.advance(timedelta(minutes=15))
    assert_refused(me(client, admin.access_token), "expired")
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    assert me(client, refreshed.json()["access_token"]).status_code == 200


def test_malformed_tokens_and_schemes_are_refused(client: TestClient, admin: SignedIn) -> None:
    header, payload = parts(admin.access_token)
    key_less = {k: v for k, v in payload.items() if k != "sid"}
    cases = {
        "garbage": "not.a.jwt",
        "huge": "a" * 5000,
        "missing claim": forge(header, key_less, b"x" * 32),
    }
    for token in cases.values():
        assert me(client, token).status_code == 401
    basic = client.get("/api/v1/auth/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert_refused(basic, "Bearer")


def test_a_token_of_another_type_is_refused(client: TestClient, desk: Desk, admin: SignedIn) -> None:
    header, payload = parts(admin.access_token)
    key = desk.accounts.keys.cached(header["kid"])
    assert key is not None
    refresh_like = jwt.encode({**payload, "typ": "refresh"}, key.secret, algorithm="HS256", headers=header)
    assert_refused(me(client, refresh_like), "not an access token")
    # the same claims signed with the real key are accepted: the refusals above are about the changes
    assert me(client, jwt.encode(payload, key.secret, algorithm="HS256", headers=header)).status_code == 200


def test_refresh_reuse_revokes_the_whole_family(client: TestClient, desk: Desk, admin: SignedIn) -> None:
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert first.status_code == 200
    second = first.json()
    assert second["refresh_token"] != admin.refresh_token
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert_refused(reused, "already used")
    # everything of that sign-in is now dead: the newer refresh token and both access tokens
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
    assert me(client, second["access_token"]).status_code == 401
    assert me(client, admin.access_token).status_code == 401
    # the reuse is in the audit log, although the request that revealed it failed
    other = client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}).json()
    entries = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {other['access_token']}"}).json()
    assert "refresh.reused" in {entry["action"] for entry in entries["items"]}


def test_refresh_tokens_are_stored_only_as_hashes(client: TestClient, desk: Desk, admin: SignedIn) -> None:
    import asyncio

    from sqlalchemy import select

    from marketdesk.accounts.models import RefreshToken

    async def stored() -> list[str]:
        database = Database(desk.db.url)  # its own engine: the app's belongs to the test client's event loop
        try:
            async with database.session() as session:
                return list(await session.scalars(select(RefreshToken.token_hash)))
        finally:
            await database.dispose()

    hashes = asyncio.run(stored())
    assert hashlib.sha256(admin.refresh_token.encode()).hexdigest() in hashes
    assert admin.refresh_token not in hashes


def test_logout_revokes_the_access_and_refresh_tokens(client: TestClient, admin: SignedIn) -> None:
    out = client.post("/api/v1/auth/logout", json={"refresh_token": admin.refresh_token})
    assert out.status_code == 204
    assert_refused(me(client, admin.access_token), "signed out")
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token}).status_code == 401
    # logging out twice, or with nothing, is not an error and reveals nothing
    assert client.post("/api/v1/auth/logout", json={"refresh_token": admin.refresh_token}).status_code == 204
    assert client.post("/api/v1/auth/logout").status_code == 204


def test_logout_by_bearer_alone_ends_that_session(client: TestClient, admin: SignedIn) -> None:
    assert (
        client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {admin.access_token}"}).status_code == 204
    )
    assert me(client, admin.access_token).status_code == 401


# ---- the web desk's cookie and CSRF ---------------------------------------------------------------------------


def cookie_login(client: TestClient, admin: SignedIn) -> str:
    """Sign in the way the web desk does (cookies kept by the client); return the CSRF cookie's value."""
    response = client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 200
    return str(client.cookies["md_csrf"])


def test_sign_in_sets_httponly_samesite_cookies(client: TestClient, admin: SignedIn) -> None:
    response = client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
    assert (
        "httponly" in cookies["md_access"]
        and "samesite=lax" in cookies["md_access"]
        and "path=/;" in cookies["md_access"]
    )
    assert "httponly" in cookies["md_refresh"] and "path=/api/v1/auth" in cookies["md_refresh"]
    assert "httponly" not in cookies["md_csrf"]  # the page's script echoes it
    assert all("secure" not in value for value in cookies.values())  # plain http here
    assert response.headers["cache-control"] == "no-store"


def test_cookies_are_secure_over_https(desk: Desk) -> None:
    with TestClient(create_app(desk=desk, web=False), base_url="https://desk.example") as secure_client:
        admin = register_admin(secure_client)
        response = secure_client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
        assert all("; secure" in c.lower() for c in response.headers.get_list("set-cookie"))
        assert response.headers["strict-transport-security"].startswith("max-age=")


def test_cookie_reads_need_no_csrf_token_but_changes_do(client: TestClient, admin: SignedIn) -> None:
    csrf = cookie_login(client, admin)
    assert client.get("/api/v1/watchlists").status_code == 200
    body = {"name": "Cookie list", "symbols": ["AAA"]}
    missing = client.post("/api/v1/watchlists", json=body)
    assert missing.status_code == 403 and "CSRF" in missing.json()["error"]["message"]
    wrong = client.post("/api/v1/watchlists", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    right = client.post("/api/v1/watchlists", json=body, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 201, right.text


def test_a_planted_csrf_cookie_does_not_match(client: TestClient, admin: SignedIn) -> None:
    cookie_login(client, admin)
    client.cookies.set("md_csrf", "planted-by-a-sibling-site", domain="testserver.local")
    planted = client.post(
        "/api/v1/watchlists", json={"name": "X"}, headers={"X-CSRF-Token": "planted-by-a-sibling-site"}
    )
    assert planted.status_code == 403


def test_bearer_requests_need_no_csrf_token(client: TestClient, admin: SignedIn) -> None:
    response = client.post("/api/v1/watchlists", json={"name": "Bearer list"}, headers=admin.headers)
    assert response.status_code == 201


def test_refresh_by_cookie_needs_the_csrf_header(client: TestClient, admin: SignedIn) -> None:
    csrf = cookie_login(client, admin)
    refused = client.post("/api/v1/auth/refresh")
    assert refused.status_code == 403
    refreshed = client.post("/api/v1/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert refreshed.status_code == 200, refreshed.text
    new_csrf = client.cookies["md_csrf"]
    assert client.get("/api/v1/auth/me").status_code == 200
    assert (
        client.post("/api/v1/watchlists", json={"name": "After"}, headers={"X-CSRF-Token": new_csrf}).status_code == 201
    )
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": new_csrf})
    assert out.status_code == 204
    assert "md_access" not in client.cookies


def test_logout_with_an_expired_access_token_is_still_a_clean_204(
    client: TestClient, clock: SimClock, admin: SignedIn
) -> None:
    clock.advance(timedelta(minutes=20))
    out = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {admin.access_token}"})
    assert out.status_code == 204
