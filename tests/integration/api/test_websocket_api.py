"""The live quote stream over the WebSocket API."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from test_rest_api import prepared_desk

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from support.auth import sign_in_as_admin


@pytest.fixture
def client(tmp_path: Path, clock: SimClock) -> Iterator[TestClient]:
    """A client whose WebSocket connections carry the desk admin's bearer token."""
    app = create_app(desk=prepared_desk(tmp_path, clock), web=False)
    app.state.ws_heartbeat_s = 0.2
    with TestClient(app) as test_client:
        sign_in_as_admin(test_client)
        yield test_client


def next_of(ws: WebSocketTestSession, kind: str, limit: int = 200) -> dict[str, Any]:
    for _ in range(limit):
        message = json.loads(ws.receive_text())
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message in {limit}")


def test_subscribed_quotes_stream_and_rise(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/ws", headers=dict(client.headers)) as ws:
        ws.send_text(json.dumps({"op": "subscribe", "channels": ["quotes:aaa"]}))
        assert next_of(ws, "subscribed")["channels"] == ["quotes:AAA"]
        prices = []
        while len(prices) < 3:
            message = next_of(ws, "message")
            assert message["channel"] == "quotes:AAA"
            prices.append(float(message["data"]["last"]))
        assert prices == sorted(prices) and prices[0] < prices[-1]


def test_unsubscribe_ping_heartbeat_and_errors(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/ws", headers=dict(client.headers)) as ws:
        ws.send_text("not json")
        assert "JSON" in next_of(ws, "error")["message"]
        ws.send_text(json.dumps({"op": "subscribe", "channels": ["portfolio:1"]}))
        assert "unknown channel" in next_of(ws, "error")["message"]
        ws.send_text(json.dumps({"op": "dance"}))
        assert "unknown op" in next_of(ws, "error")["message"]
        ws.send_text(json.dumps({"op": "ping"}))
        next_of(ws, "pong")
        assert next_of(ws, "heartbeat")["ts"]
        ws.send_text(json.dumps({"op": "subscribe", "channels": ["quotes:BBB"]}))
        next_of(ws, "subscribed")
        ws.send_text(json.dumps({"op": "unsubscribe", "channels": ["quotes:BBB"]}))
        assert next_of(ws, "unsubscribed")["channels"] == []


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ({}, "sign in first"),
        ({"headers": {"Authorization": "Bearer not-a-jwt"}}, ""),
        ({"query": "?token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}, ""),
    ],
)
def test_connections_without_a_valid_token_are_closed_with_4401(
    client: TestClient, how: dict[str, Any], reason: str
) -> None:
    from starlette.websockets import WebSocketDisconnect

    url = "/api/v1/ws" + how.get("query", "")
    del client.headers["Authorization"]  # this connection presents only what `how` gives
    with (
        client.websocket_connect(url, headers=how.get("headers", {})) as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_text()
    assert closed.value.code == 4401
    assert reason in (closed.value.reason or "")


def test_a_token_in_the_query_string_is_accepted(client: TestClient) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/v1/ws?token={token}") as ws:
        ws.send_text(json.dumps({"op": "ping"}))
        assert next_of(ws, "pong")["type"] == "pong"
