"""The audit log's REST routes, for admins only, mounted as the app will mount them."""

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import update

from marketdesk.app import error_body
from marketdesk.audit.endpoints import make_router
from marketdesk.audit.models import AuditEntry
from marketdesk.audit.service import AuditService
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import MarketdeskError, Rejected

ADMIN = {"X-Role": "admin"}


class Forbidden(Rejected):
    http_status = 403


def admin_only(x_role: str = Header()) -> None:
    if x_role != "admin":
        raise Forbidden("admins only")


@pytest.fixture
async def audit(database: Database, clock: SimClock) -> AuditService:
    service = AuditService(clock)
    async with database.session() as session:
        for number in range(5):
            clock.advance(timedelta(seconds=1))
            action = "login.failed" if number % 2 else "vault.write"
            await service.record(session, action, actor_id=f"usr_{number % 2}", detail={"n": number}, ip="192.0.2.1")
    return service


@pytest.fixture
async def client(database: Database, audit: AuditService) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.desk = SimpleNamespace(db=database)
    app.include_router(make_router(require_admin=admin_only, audit_service=lambda: audit), prefix="/api/v1")

    @app.exception_handler(MarketdeskError)
    async def on_error(request: Request, exc: MarketdeskError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=exc.http_status)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk") as http:
        yield http


async def test_only_an_admin_reaches_the_audit_routes(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/export.csv"):
        assert (await client.get(path, headers={"X-Role": "trader"})).status_code == 403
        assert (await client.get(path, headers=ADMIN)).status_code == 200


async def test_listing_filters_and_pages_newest_first(client: httpx.AsyncClient) -> None:
    page = (await client.get("/api/v1/audit", params={"limit": 2}, headers=ADMIN)).json()
    assert (page["total"], [e["seq"] for e in page["items"]]) == (5, [5, 4])
    assert page["items"][0]["detail"] == {"n": 4}
    failed = (await client.get("/api/v1/audit", params={"action": "login.failed"}, headers=ADMIN)).json()
    assert [e["seq"] for e in failed["items"]] == [4, 2]
    family = (
        await client.get("/api/v1/audit", params={"action": "vault.*", "actor_id": "usr_0"}, headers=ADMIN)
    ).json()
    assert family["total"] == 3


async def test_verify_reports_a_tampered_entry(client: httpx.AsyncClient, database: Database) -> None:
    intact = (await client.get("/api/v1/audit/verify", headers=ADMIN)).json()
    assert (intact["ok"], intact["checked"], intact["last_seq"]) == (True, 5, 5)
    async with database.session() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(detail="not json"))
    broken = (await client.get("/api/v1/audit/verify", headers=ADMIN)).json()
    assert (broken["ok"], broken["first_bad_seq"]) == (False, 2)
    listed = (await client.get("/api/v1/audit", headers=ADMIN)).json()
    assert listed["items"][3]["detail"] == {"unparsed": "not json"}  # a damaged entry is still shown


async def test_export_is_a_csv_download_within_the_range(client: httpx.AsyncClient, clock: SimClock) -> None:
    response = await client.get("/api/v1/audit/export.csv", headers=ADMIN)
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["seq"]) for r in rows] == [1, 2, 3, 4, 5]
    last_two = clock.now() - timedelta(seconds=1)
    ranged = await client.get("/api/v1/audit/export.csv", params={"start": last_two.isoformat()}, headers=ADMIN)
    assert [int(r["seq"]) for r in csv.DictReader(io.StringIO(ranged.text))] == [4, 5]
    naive = last_two.replace(tzinfo=None).isoformat()  # read as UTC
    same = await client.get("/api/v1/audit/export.csv", params={"start": naive}, headers=ADMIN)
    assert same.text == ranged.text
    backwards = await client.get(
        "/api/v1/audit/export.csv",
        params={"start": clock.now().isoformat(), "end": last_two.isoformat()},
        headers=ADMIN,
    )
    assert backwards.status_code == 422
