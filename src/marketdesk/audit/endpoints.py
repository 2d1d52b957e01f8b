"""REST routes of the audit log, for admins only: list, verify, export as CSV.

The app binds the guard and the service: `make_router(require_admin=…, audit_service=…)`, where `require_admin`
is a FastAPI dependency that refuses anyone but an admin (401/403) and `audit_service` returns the desk's
`AuditService`.

    GET /audit              entries, newest first (filters: actor_id, action or a family "vault.*")
    GET /audit/verify       walk the hash chain; the first bad entry when it is broken
    GET /audit/export.csv   the log as CSV, oldest first (start <= ts < end)
"""

# no `from __future__ import annotations`: FastAPI must see the dependencies built inside `make_router`

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from marketdesk.audit.models import AuditEntry
from marketdesk.audit.service import AuditService, VerifyResult
from marketdesk.deps import SessionDep, refusals
from marketdesk.errors import Rejected

MAX_OFFSET = 2**63 - 1  # the largest OFFSET SQLite and PostgreSQL take (a signed 64-bit integer)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditEntryOut(Strict):
    seq: int
    ts: datetime
    actor_id: str | None
    action: str
    target: str
    detail: dict[str, Any]
    ip: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditEntryOut":
        try:
            detail = json.loads(entry.detail)
        except ValueError:
            detail = None
        if not isinstance(detail, dict):  # a damaged entry is still shown; `verify` says what is wrong
            detail = {"unparsed": entry.detail}
        return cls(
            seq=entry.seq,
            ts=entry.ts,
            actor_id=entry.actor_id,
            action=entry.action,
            target=entry.target,
            detail=detail,
            ip=entry.ip,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )


class AuditPage(Strict):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


class VerifyOut(Strict):
    ok: bool
    checked: int = Field(description="entries found intact before the first problem (all of them when ok)")
    first_bad_seq: int | None
    problem: str | None
    last_seq: int | None = Field(description="with head_hash: keep them elsewhere to detect a truncated log")
    head_hash: str | None

    @classmethod
    def of(cls, result: VerifyResult) -> "VerifyOut":
        return cls(
            ok=result.ok,
            checked=result.checked,
            first_bad_seq=result.first_bad_seq,
            problem=result.problem,
            last_seq=result.last_seq,
            head_hash=result.head_hash,
        )


def make_router(require_admin: Callable[..., Any], audit_service: Callable[..., Any]) -> APIRouter:
    """The audit log's routes, every one behind `require_admin`."""
    router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(require_admin)], responses=refusals(403))
    audit_dep = Annotated[AuditService, Depends(audit_service)]

    @router.get("", response_model=AuditPage)
    async def list_entries(
        audit: audit_dep,
        session: SessionDep,
        actor_id: Annotated[str | None, Query(max_length=40)] = None,
        action: Annotated[str | None, Query(max_length=64, description='e.g. "login.failed" or "vault.*"')] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> AuditPage:
        """Audit entries, newest first."""
        entries = await audit.entries(session, actor_id=actor_id, action=action, limit=limit, offset=offset)
        total = await audit.count(session, actor_id=actor_id, action=action)
        return AuditPage(items=[AuditEntryOut.of(e) for e in entries], total=total, limit=limit, offset=offset)

    @router.get("/verify", response_model=VerifyOut)
    async def verify(audit: audit_dep, session: SessionDep) -> VerifyOut:
        """Walk the hash chain; `ok` is false with the first edited, missing or reordered entry."""
        return VerifyOut.of(await audit.verify(session))

    @router.get(
        "/export.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    async def export_csv(
        audit: audit_dep,
        session: SessionDep,
        start: Annotated[datetime | None, Query(description="from this instant (ISO 8601; UTC when no zone)")] = None,
        end: Annotated[datetime | None, Query(description="before this instant (ISO 8601; UTC when no zone)")] = None,
    ) -> Response:
        """The audit log as CSV, oldest first, with each entry's hashes."""
        start, end = _utc(start, "start"), _utc(end, "end")
        if start is not None and end is not None and end <= start:
            raise Rejected("end must be after start", hint="Swap them, or leave one out.")
        buffer = io.StringIO()
        await audit.export_csv(session, buffer, start=start, end=end)
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
        )

    return router


def _utc(instant: datetime | None, name: str) -> datetime | None:
    """`instant` in UTC (UTC when it names no zone); a `Rejected` when UTC has no such instant."""
    if instant is None:
        return None
    try:
        return (instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise Rejected(
            f"{name} {instant.isoformat()} is out of range", hint="Give an instant from year 1 to 9999 in UTC."
        ) from None
