"""The WebSocket API through the ASGI app: the live quote stream, the protocol's errors, the token check, and
who may subscribe to which channel (quotes for everyone signed in; orders, alerts and portfolios only for
their owner). Dead and slow connections are tested against a real server in tests/integration/realtime."""

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
from marketdesk.realtime.channels import default_registry, private_channel
from support.auth import SignedIn, create_user, sign_in_as_admin

WS = "/api/v1/ws"


@pytest.fixture
def signed_in(tmp_path: Path, clock: SimClock) -> Iterator[tuple[TestClient, SignedIn]]:
    app = create_app(desk=prepared_desk(tmp_path, clock), web=False)
    app.state.ws_heartbeat_s = 0.2
    app.state.ws_missed_heartbeats = 100  # these tests may pause; silence is tested in tests/integration/realtime
    with TestClient(app) as test_client:
        admin = sign_in_as_admin(test_client)
        yield test_client, admin


@pytest.fixture
def client(signed_in: tuple[TestClient, SignedIn]) -> TestClient:
    """A client whose WebSocket connections carry the desk admin's bearer token."""
    return signed_in[0]


@pytest.fixture
def admin(signed_in: tuple[TestClient, SignedIn]) -> SignedIn:
    return signed_in[1]


def publish(client: TestClient, channel: str, data: dict[str, Any]) -> None:
    """Publish on the desk's bus, on the event loop the app runs on."""
    assert client.portal is not None
    client.portal.call(client.app.state.desk.bus.publish, channel, data)


def subscribe(ws: WebSocketTestSession, *channels: str) -> list[str]:
    """Subscribe; the channels the connection has now."""
    ws.send_text(json.dumps({"op": "subscribe", "channels": list(channels)}))
    return list(next_of(ws, "subscribed")["channels"])


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
        ws.send_text(json.dumps({"op": "subscribe", "channels": ["news:AAA"]}))
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


def test_every_signed_in_role_may_subscribe_to_quotes(client: TestClient, admin: SignedIn) -> None:
    viewer = create_user(client, admin, "vera@example.com", "viewer")
    with client.websocket_connect(WS, headers=viewer.headers) as ws:
        assert subscribe(ws, "quotes:aaa") == ["quotes:AAA"]
        message = next_of(ws, "message")
        assert message["channel"] == "quotes:AAA" and message["data"]["symbol"] == "AAA"
        assert message["ts"], "the envelope says when the desk relayed it"


def test_orders_and_alerts_reach_only_the_user_they_belong_to(client: TestClient, admin: SignedIn) -> None:
    bob = create_user(client, admin, "bob@example.com", "trader")
    with (
        client.websocket_connect(WS, headers=admin.headers) as ws_a,
        client.websocket_connect(WS, headers=bob.headers) as ws_b,
    ):
        assert subscribe(ws_a, "orders", "alerts") == ["alerts", "orders"]
        assert subscribe(ws_b, "orders", "alerts") == ["alerts", "orders"]
        publish(client, private_channel("orders", admin.id), {"order": "A-1"})
        publish(client, private_channel("alerts", admin.id), {"alert": "A-2"})
        first, second = next_of(ws_a, "message"), next_of(ws_a, "message")
        assert (first["channel"], first["data"]) == ("orders", {"order": "A-1"})  # the public name, not the bus's
        assert (second["channel"], second["data"]) == ("alerts", {"alert": "A-2"})
        # A's messages have been relayed; had B been given them they would sit in B's queue before this one
        publish(client, private_channel("orders", bob.id), {"order": "B-1"})
        mine = next_of(ws_b, "message")
        assert (mine["channel"], mine["data"]) == ("orders", {"order": "B-1"})


def test_private_channels_take_no_argument_so_no_one_can_name_another_users(
    client: TestClient, admin: SignedIn
) -> None:
    with client.websocket_connect(WS, headers=admin.headers) as ws:
        ws.send_text(json.dumps({"op": "subscribe", "channels": [f"orders:user:{admin.id}", "alerts:*"]}))
        refusals = [next_of(ws, "error"), next_of(ws, "error")]
        assert [r["channel"] for r in refusals] == [f"orders:user:{admin.id}", "alerts:*"]
        assert all("takes no argument" in r["message"] for r in refusals)
        assert next_of(ws, "subscribed")["channels"] == []


def test_a_portfolio_is_served_only_to_its_owner(client: TestClient, admin: SignedIn) -> None:
    bob = create_user(client, admin, "bob@example.com", "trader")
    owners = {"pA": admin.id}

    async def owner_of(desk: object, portfolio_id: str) -> str | None:
        return owners.get(portfolio_id)

    registry = default_registry()
    registry.register_owner_lookup("portfolio", owner_of)
    client.app.state.ws_channels = registry
    with (
        client.websocket_connect(WS, headers=admin.headers) as ws_a,
        client.websocket_connect(WS, headers=bob.headers) as ws_b,
    ):
        assert subscribe(ws_a, "portfolio:pA") == ["portfolio:pA"]
        ws_b.send_text(json.dumps({"op": "subscribe", "channels": ["portfolio:pA", "orders"]}))
        refused = next_of(ws_b, "error")
        assert refused["channel"] == "portfolio:pA"
        assert refused["message"].startswith("no such portfolio 'pA'")
        assert next_of(ws_b, "subscribed")["channels"] == ["orders"], "the allowed channel is still subscribed"
        ws_b.send_text(json.dumps({"op": "subscribe", "channels": ["portfolio:nope"]}))
        missing = next_of(ws_b, "error")["message"]
        assert missing == refused["message"].replace("'pA'", "'nope'"), "someone else's looks like a missing one"
        ws_b.send_text(json.dumps({"op": "ping"}))
        next_of(ws_b, "pong")  # refusals leave the connection open

        publish(client, "portfolio:pA", {"value": "1000.00"})
        got = next_of(ws_a, "message")
        assert (got["channel"], got["data"]) == ("portfolio:pA", {"value": "1000.00"})
        publish(client, private_channel("orders", bob.id), {"order": "B-1"})
        assert next_of(ws_b, "message")["data"] == {"order": "B-1"}, "B never saw A's portfolio"


def test_a_portfolio_is_refused_while_no_portfolio_domain_tells_who_owns_it(client: TestClient) -> None:
    with client.websocket_connect(WS) as ws:
        ws.send_text(json.dumps({"op": "subscribe", "channels": ["portfolio:1"]}))
        refused = next_of(ws, "error")
        assert refused["channel"] == "portfolio:1" and refused["message"].startswith("no such portfolio '1'")
        assert next_of(ws, "subscribed")["channels"] == []
        ws.send_text(json.dumps({"op": "ping"}))
        next_of(ws, "pong")
