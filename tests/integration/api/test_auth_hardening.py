"""HTTP hardening: security headers everywhere (HSTS only over https), strict CORS, request size limits (also
for chunked bodies), and no stack trace in any answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from support.auth import PASSWORD, api_desk, register_admin


def build(tmp_path: Path, clock: SimClock, **settings: object) -> FastAPI:
    return create_app(desk=api_desk(tmp_path / "desk", clock, **settings), web=False)


@pytest.fixture
def client(tmp_path: Path, clock: SimClock) -> Iterator[TestClient]:
    with TestClient(build(tmp_path, clock, max_request_bytes=2000)) as test_client:
        yield test_client


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for response in (
        client.get("/healthz"),
        client.get("/api/v1/symbols"),  # 401
        client.get("/api/v1/nothing-here"),  # 404
        client.post("/api/v1/auth/login", json={"email": 1}),  # 422
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", response.url
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in headers  # plain http: HSTS would be ignored, and wrong


def test_hsts_is_sent_over_https(tmp_path: Path, clock: SimClock) -> None:
    with TestClient(build(tmp_path, clock), base_url="https://desk.example") as secure:
        assert secure.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"


def test_no_cross_origin_caller_is_allowed_by_default(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/symbols",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_configured_origins_and_only_those_may_call(tmp_path: Path, clock: SimClock) -> None:
    app = build(tmp_path, clock, cors_origins=["https://app.example"])
    with TestClient(app) as client:
        allowed = client.options(
            "/api/v1/symbols",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-credentials" not in allowed.headers  # bearer tokens, never cookies
        other = client.options(
            "/api/v1/symbols", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


def test_a_body_over_the_limit_is_refused_with_413(client: TestClient) -> None:
    big = {"email": "ann@example.com", "password": "x" * 5000}
    response = client.post("/api/v1/auth/login", json=big)
    assert response.status_code == 413
    error = response.json()["error"]
    assert "larger than 2,000 bytes" in error["message"] and "max_request_bytes" in error["hint"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_chunked_body_over_the_limit_is_refused_with_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email": "ann@example.com", "password": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    response = client.post("/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text
    assert "larger than" in response.json()["error"]["message"]


def test_a_body_within_the_limit_goes_through(client: TestClient) -> None:
    admin = register_admin(client)
    response = client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 200


def test_an_unexpected_failure_shows_no_stack_trace(tmp_path: Path, clock: SimClock) -> None:
    app = build(tmp_path, clock)

    async def explode() -> None:
        raise RuntimeError("secret internals: /srv/marketdesk/db password=hunter2")

    app.add_api_route("/api/v1/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/explode")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"type": "InternalError", "message": "internal error; the server log has the details"}
    }
    assert "Traceback" not in response.text and "hunter2" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_openapi_documents_the_auth_contract(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/me"):
        assert path in spec["paths"], path
    tokens = spec["components"]["schemas"]["Tokens"]["properties"]
    assert {"access_token", "refresh_token", "token_type"} <= set(tokens)
