"""Refusals over the API: each in the desk's error shape, and each as the OpenAPI document declares it.

Regressions from fuzzing the API (test_openapi_fuzz.py): input that made a server error now gets a refusal that
says what to fix: a NUL character anywhere (PostgreSQL cannot hold one), an audit offset or instant beyond what
the database takes, a body that is not UTF-8. And the three 429s (global limit, sign-in limit, account lock),
which the fuzzer's generous limits never meet, are held to the document here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from support.auth import PASSWORD, api_desk, register_admin, sign_in_as_admin
from support.openapi import CHECKS, OPENAPI_PATH, load_schema, send

NUL_MESSAGE = "text in the request holds the NUL character (U+0000)"


@pytest.fixture
def client(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[TestClient]:
    """A client signed in as the admin of a desk on SQLite, then on PostgreSQL; a server error is answered."""
    app = create_app(desk=api_desk(tmp_path / "desk", clock, database_url=database.url), web=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        sign_in_as_admin(test_client)
        yield test_client


def assert_refused(response: Response, status: int, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"type", "message", "hint"}
    if message is not None:
        assert error["message"] == message


def assert_as_documented(app: FastAPI, response: Response, method: str, path: str) -> None:
    """`response` to `method path` (a path of the document, e.g. /api/v1/watchlists/{name}) is as declared."""
    operation = load_schema(app.openapi())[path][method]
    operation.Case().validate_response(response, checks=CHECKS)


@pytest.mark.parametrize(
    ("method", "path", "parts"),
    [
        ("GET", "/api/v1/watchlists/{name}", {"path_parameters": {"name": "a\x00b"}}),
        ("GET", "/api/v1/universes/{name}", {"path_parameters": {"name": "watchlist:\x00"}}),
        ("GET", "/api/v1/symbols", {"query": {"q": "\x00"}}),
        ("GET", "/api/v1/audit", {"query": {"actor_id": "a\x00"}}),
        ("PATCH", "/api/v1/admin/users/{user_id}", {"path_parameters": {"user_id": "u\x00"}, "body": {}}),
        ("DELETE", "/api/v1/auth/sessions/{session_id}", {"path_parameters": {"session_id": "s\x00"}}),
        ("POST", "/api/v1/watchlists", {"body": {"name": "a\x00b", "symbols": ["AAA"]}}),
        ("POST", "/api/v1/auth/login", {"body": {"email": "ann\x00@example.com", "password": PASSWORD}}),
    ],
    ids=["path", "watchlist-universe", "query", "audit-query", "path-and-body", "session", "body", "sign-in"],
)
def test_text_holding_a_nul_character_is_refused_not_a_server_error(
    client: TestClient, method: str, path: str, parts: dict[str, Any]
) -> None:
    case = load_schema(client.get(OPENAPI_PATH).json())[path][method].Case(**parts)
    response = send(client, case, headers={})  # the client's own headers carry the admin's token
    assert_refused(response, 422, NUL_MESSAGE)
    case.validate_response(response, checks=CHECKS)


def test_a_backslash_before_u0000_is_text_not_a_nul(client: TestClient) -> None:
    name = "a\\u0000b"  # a backslash, then "u0000": JSON sends it as "a\\\\u0000b"
    created = client.post("/api/v1/watchlists", json={"name": name, "symbols": ["AAA"]})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == name


def test_an_audit_offset_beyond_64_bits_is_refused(client: TestClient) -> None:
    assert client.get("/api/v1/audit", params={"offset": 2**63 - 1}).json()["items"] == []
    response = client.get("/api/v1/audit", params={"offset": 2**63})
    assert_refused(response, 422)
    assert response.json()["error"]["message"].startswith("offset: ")


@pytest.mark.parametrize(
    "params", [{"start": "0001-01-01T00:00:00+14:00"}, {"end": "9999-12-31T23:59:59-14:00"}], ids=["start", "end"]
)
def test_an_export_instant_with_no_utc_year_is_refused(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/v1/audit/export.csv", params=params)
    assert_refused(response, 422)
    assert response.json()["error"]["message"].endswith("is out of range")
    assert_as_documented(client.app, response, "GET", "/api/v1/audit/export.csv")


def test_a_body_that_is_not_utf8_gets_400_in_the_desk_error_shape(client: TestClient) -> None:
    response = client.post(
        "/api/v1/watchlists", content=b'{"name": "\xff"}', headers={"content-type": "application/json"}
    )
    assert_refused(response, 400)
    assert_as_documented(client.app, response, "POST", "/api/v1/watchlists")


def test_an_unknown_api_route_answers_in_the_desk_error_shape_other_paths_as_before(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert_refused(response, 404, "Not Found")
    assert response.json()["error"]["type"] == "NotFound"
    assert client.get("/no-such-page").json() == {"detail": "Not Found"}


def test_the_global_limit_answers_429_as_documented(tmp_path: Path, clock: SimClock) -> None:
    app = create_app(desk=api_desk(tmp_path / "desk", clock, rate_limit_global="3/minute"), web=False)
    with TestClient(app) as client:
        answers = [client.get("/api/v1/auth/status") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert_refused(answers[-1], 429)
    assert_as_documented(app, answers[-1], "GET", "/api/v1/auth/status")


def test_the_sign_in_limit_and_the_account_lock_answer_429_as_documented(tmp_path: Path, clock: SimClock) -> None:
    desk = api_desk(tmp_path / "desk", clock, rate_limit_auth="3/minute", login_max_failures=1)
    app = create_app(desk=desk, web=False)
    with TestClient(app) as client:
        admin = register_admin(client)  # the first of three sign-in calls a minute
        wrong = client.post("/api/v1/auth/login", json={"email": admin.email, "password": "not the password"})
        locked = client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
        limited = client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert (wrong.status_code, locked.status_code, limited.status_code) == (401, 429, 429)
    assert (locked.json()["error"]["type"], limited.json()["error"]["type"]) == ("SignInThrottled", "TooManyRequests")
    for answer in (locked, limited):
        assert int(answer.headers["retry-after"]) >= 1
        assert_as_documented(app, answer, "POST", "/api/v1/auth/login")


def test_the_document_declares_the_refusals_every_route_can_meet(client: TestClient) -> None:
    document = client.get(OPENAPI_PATH).json()
    assert "HTTPValidationError" not in document["components"]["schemas"]  # the desk answers 422 its own way
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path, item in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            assert "429" in responses, where  # the global rate limit
            assert all(r["content"] == error_body for s, r in responses.items() if int(s) >= 400), where
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(responses), where
            if not path.startswith("/api/v1/auth/"):
                assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True, where
