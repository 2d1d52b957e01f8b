"""The vault's REST routes, mounted as the app will mount them, with a stand-in for authentication."""

from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from marketdesk.app import error_body
from marketdesk.db import Database
from marketdesk.errors import MarketdeskError, Rejected
from marketdesk.vault.endpoints import make_router
from marketdesk.vault.service import VaultService

FRED = "0123456789abcdef0123456789abcdef"


class Forbidden(Rejected):
    http_status = 403


def signed_in(x_user: str = Header()) -> str:
    """The stand-in for the app's authentication: the caller's id in a header, `role:id`."""
    return x_user.split(":")[-1]


def may_write(x_user: str = Header()) -> str:
    role, _, user_id = x_user.partition(":")
    if role == "viewer":
        raise Forbidden("a viewer changes nothing")
    return user_id


@pytest.fixture
async def client(database: Database, vault: VaultService, users: tuple[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.desk = SimpleNamespace(db=database)  # the session dependency needs only the database
    app.include_router(
        make_router(current_user_id=signed_in, vault_service=lambda: vault, writer_user_id=may_write),
        prefix="/api/v1",
    )

    @app.exception_handler(MarketdeskError)
    async def on_error(request: Request, exc: MarketdeskError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=exc.http_status)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk") as http:
        yield http


async def test_a_secret_is_stored_and_only_ever_shown_masked(client: httpx.AsyncClient) -> None:
    alice = {"X-User": "trader:usr_alice"}
    put = await client.put("/api/v1/vault/secrets/fred_api_key", json={"value": FRED}, headers=alice)
    assert put.status_code == 200, put.text
    assert put.json()["hint"] == "••••••ef"
    listed = await client.get("/api/v1/vault/secrets", headers=alice)
    assert [(s["name"], s["provider"], s["hint"]) for s in listed.json()] == [("fred_api_key", "fred", "••••••ef")]
    assert FRED not in put.text + listed.text


async def test_each_user_sees_and_deletes_only_their_own(client: httpx.AsyncClient) -> None:
    await client.put("/api/v1/vault/secrets/fred_api_key", json={"value": FRED}, headers={"X-User": "trader:usr_alice"})
    bob = {"X-User": "trader:usr_bob"}
    assert (await client.get("/api/v1/vault/secrets", headers=bob)).json() == []
    deleted = await client.delete("/api/v1/vault/secrets/fred_api_key", headers=bob)
    assert deleted.status_code == 404
    mine = await client.delete("/api/v1/vault/secrets/fred_api_key", headers={"X-User": "trader:usr_alice"})
    assert mine.status_code == 204


async def test_a_malformed_key_is_422_without_the_value(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/api/v1/vault/secrets/fred_api_key", json={"value": "my-fred-key-123"}, headers={"X-User": "trader:usr_alice"}
    )
    assert response.status_code == 422
    assert "32 lower-case hexadecimal" in response.json()["error"]["message"]
    assert "my-fred-key-123" not in response.text


async def test_an_unknown_name_and_unknown_fields_are_refused(client: httpx.AsyncClient) -> None:
    alice = {"X-User": "trader:usr_alice"}
    unknown = await client.put("/api/v1/vault/secrets/binance_key", json={"value": "x" * 20}, headers=alice)
    assert unknown.status_code == 422
    assert "alpaca_key_id" in unknown.json()["error"]["hint"]
    extra = await client.put("/api/v1/vault/secrets/fred_api_key", json={"value": FRED, "reveal": True}, headers=alice)
    assert extra.status_code == 422


async def test_a_read_only_user_cannot_write(client: httpx.AsyncClient) -> None:
    viewer = {"X-User": "viewer:usr_bob"}
    assert (
        await client.put("/api/v1/vault/secrets/fred_api_key", json={"value": FRED}, headers=viewer)
    ).status_code == 403
    assert (await client.delete("/api/v1/vault/secrets/fred_api_key", headers=viewer)).status_code == 403
    assert (await client.get("/api/v1/vault/secrets", headers=viewer)).status_code == 200


async def test_the_kinds_say_what_each_key_looks_like(client: httpx.AsyncClient) -> None:
    kinds = (await client.get("/api/v1/vault/kinds", headers={"X-User": "viewer:usr_bob"})).json()
    by_name = {kind["name"]: kind for kind in kinds}
    assert by_name["alpaca_key_id"]["provider"] == "alpaca"
    assert "PK" in by_name["alpaca_key_id"]["expected"]


async def test_no_route_reveals_a_value(client: httpx.AsyncClient) -> None:
    alice = {"X-User": "trader:usr_alice"}
    await client.put("/api/v1/vault/secrets/fred_api_key", json={"value": FRED}, headers=alice)
    one = await client.get("/api/v1/vault/secrets/fred_api_key", headers=alice)
    assert one.status_code == 405
    spec = (await client.get("/openapi.json")).json()
    assert set(spec["paths"]) == {"/api/v1/vault/kinds", "/api/v1/vault/secrets", "/api/v1/vault/secrets/{name}"}
    assert set(spec["paths"]["/api/v1/vault/secrets/{name}"]) == {"put", "delete"}
