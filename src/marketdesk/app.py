"""The FastAPI application: REST under /api/v1, the WebSocket, health, metrics, and the web desk.

Every /api/v1 router outside /auth is included with `include_api`, which puts `authorize_api` in front of
it: signed in to read, trader or admin to change anything. A route that skips it is a bug, and
tests/integration/api/test_auth_rbac.py checks every route of the app for it.

Hardening (see `marketdesk.middleware`): security headers on every response, strict CORS (only
`settings.cors_origins`, none by default), a request size limit, a global per-client rate limit on /api,
and no stack trace in any response.

The OpenAPI document at /api/openapi.json lists every answer a route can give: what its router declares, and
what the app answers for every route (see `_document_app_refusals`). tests/integration/api/test_openapi_fuzz.py
fuzzes every operation as each role and holds the answers to the document.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException
from starlette.routing import Match

from marketdesk import __version__
from marketdesk.accounts.cookies import CSRF_HEADER
from marketdesk.accounts.endpoints import admin_router
from marketdesk.accounts.endpoints import router as auth_router
from marketdesk.accounts.errors import Unauthorized
from marketdesk.accounts.roles import CurrentUser
from marketdesk.analytics.compare_endpoints import router as compare_router
from marketdesk.audit.endpoints import make_router as make_audit_router
from marketdesk.audit.service import AuditService
from marketdesk.bus import RedisBus
from marketdesk.clock import Clock
from marketdesk.config import Settings, load_settings
from marketdesk.decisions.endpoints import router as decisions_router
from marketdesk.deps import (
    ErrorOut,
    authorize_api,
    current_user,
    get_desk,
    refusal,
    refusals,
    require_admin,
    require_trader,
)
from marketdesk.desk import Desk, build_desk
from marketdesk.errors import MarketdeskError, Temporary
from marketdesk.journal.endpoints import router as journal_router
from marketdesk.logs import get_logger
from marketdesk.marketdata.endpoints import router as marketdata_router
from marketdesk.middleware import GlobalRateLimit, RefuseNul, RequestSizeLimit, SecurityHeaders, security_headers
from marketdesk.portfolio.endpoints import router as portfolio_router
from marketdesk.portfolio.sizing_endpoints import router as sizing_router
from marketdesk.realtime.endpoints import router as realtime_router
from marketdesk.scheduler import Scheduler, daily_jobs
from marketdesk.screener.endpoints import router as screener_router
from marketdesk.telemetry import HTTP_LATENCY, HTTP_REQUESTS, REGISTRY
from marketdesk.trading.endpoints import router as trading_router
from marketdesk.vault.endpoints import make_router as make_vault_router
from marketdesk.vault.service import VaultService

log = get_logger(__name__)
API_PREFIX = "/api/v1"
REF_TEMPLATE = "#/components/schemas/{model}"  # where the OpenAPI document keeps its schemas
GUARD = Depends(authorize_api)


def error_body(exc: MarketdeskError) -> dict[str, Any]:
    return {"error": {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}}


def create_app(
    settings: Settings | None = None,
    *,
    desk: Desk | None = None,
    clock: Clock | None = None,
    web: bool = True,
) -> FastAPI:
    """Build the app. The desk starts in the lifespan (migrations, the simulated market, live quotes)."""
    settings = settings or (desk.settings if desk is not None else load_settings())
    the_desk = desk or build_desk(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not the_desk.started:
            await the_desk.start()
        scheduler = Scheduler(the_desk.clock, daily_jobs(the_desk))  # the serving desk's end-of-day jobs
        app.state.scheduler = scheduler
        scheduler.start()
        yield
        await scheduler.stop()
        await the_desk.stop()

    app = FastAPI(
        title="marketdesk",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.desk = the_desk
    app.include_router(auth_router, prefix=API_PREFIX)  # sign-in is public; its own routes say who may call
    include_api(app, admin_router)
    include_api(app, marketdata_router)
    include_api(app, screener_router)
    include_api(app, trading_router)
    include_api(app, portfolio_router)
    include_api(app, sizing_router)
    include_api(app, decisions_router)
    include_api(app, journal_router)
    include_api(app, compare_router)
    include_api(app, make_vault_router(_user_id, _vault, writer_user_id=_writer_id))
    include_api(app, make_audit_router(require_admin, _audit))
    # HTTP dependencies do not run on a websocket route: the WebSocket checks its token in its own handshake
    app.include_router(realtime_router, prefix=API_PREFIX)
    _install_error_handlers(app)
    _install_middleware(app, settings)
    _install_health(app)
    _install_openapi(app)
    if web:
        from marketdesk.web import mount

        mount(app, the_desk)
    return app


def include_api(app: FastAPI, router: APIRouter) -> None:
    """Include an /api/v1 router behind `authorize_api` (signed in to read; trader or admin to write)."""
    app.include_router(router, prefix=API_PREFIX, dependencies=[GUARD], responses=refusals(401))


async def _user_id(user: Annotated[CurrentUser, Depends(current_user)]) -> str:
    return user.id


async def _writer_id(user: Annotated[CurrentUser, Depends(require_trader)]) -> str:
    return user.id


def _vault(desk: Annotated[Desk, Depends(get_desk)]) -> VaultService:
    return desk.vault


def _audit(desk: Annotated[Desk, Depends(get_desk)]) -> AuditService:
    return desk.audit


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MarketdeskError)
    async def on_marketdesk_error(request: Request, exc: MarketdeskError) -> JSONResponse:
        headers = {}
        if isinstance(exc, Temporary) and exc.retry_after_s is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        if exc.http_status >= 500:
            log.warning("request failed", path=request.url.path, error=exc.one_line())
        return JSONResponse(error_body(exc), status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'query', 'path'))}: {e['msg']}"
            for e in exc.errors()
        ]
        body = {"error": {"type": "Rejected", "message": "; ".join(problems), "hint": "Fix the fields named above."}}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, exc: HTTPException) -> Response:
        # FastAPI's own refusals (a body it cannot read, no such route): the desk's error shape under /api
        if not request.url.path.startswith("/api/"):
            return await http_exception_handler(request, exc)
        kind = "NotFound" if exc.status_code == 404 else "Rejected" if exc.status_code < 500 else "Temporary"
        body = {"error": {"type": kind, "message": str(exc.detail), "hint": None}}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", path=request.url.path)
        body = {"error": {"type": "InternalError", "message": "internal error; the server log has the details"}}
        # this answer leaves from outside every middleware: give it the security headers here
        headers = security_headers(request.url.path, https=request.url.scheme == "https")
        return JSONResponse(body, status_code=500, headers=headers)


def _route_name(request: Request) -> str:
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL:
            return str(getattr(route, "path", request.url.path))
    return "unmatched"


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    # added innermost first; a request meets `observe` (below), SecurityHeaders, CORS, the size limit, the rate
    # limit, then the NUL check, so refusals are measured, carry the headers and answer preflights before counting
    app.add_middleware(RefuseNul)
    app.add_middleware(GlobalRateLimit, limiter=lambda: app.state.desk.limiter)
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", CSRF_HEADER],
        expose_headers=["Retry-After"],
        allow_credentials=False,  # cross-origin clients use bearer tokens; the desk's cookies stay first-party
    )
    app.add_middleware(SecurityHeaders)

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_name(request)
        if route.startswith(("/api", "/healthz", "/readyz", "/metrics")):
            HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
            HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response


class Readiness(BaseModel):
    status: str  # "ready" or "not ready"
    checks: dict[str, str]  # each part ("database", "bus", "startup", "quotes"): "ok", or what is wrong


def _install_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready: `checks` says which part is not."}},
    )
    async def readyz(request: Request) -> JSONResponse:
        """The desk can serve: database reachable and migrated, bus reachable, live quotes running."""
        desk: Desk = request.app.state.desk
        checks: dict[str, str] = {}
        try:
            await desk.db.ping()
            checks["database"] = "ok"
        except MarketdeskError as exc:
            checks["database"] = exc.one_line()
        if isinstance(desk.bus, RedisBus):
            try:
                await desk.bus.ping()
                checks["bus"] = "ok"
            except MarketdeskError as exc:
                checks["bus"] = exc.one_line()
        else:
            checks["bus"] = "ok"
        checks["startup"] = "ok" if desk.started else "starting"
        if desk.quotes.stream is not None:
            checks["quotes"] = "ok" if desk.quotes.running else "stopped"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def _install_openapi(app: FastAPI) -> None:
    """Serve the OpenAPI document with the refusals every route can meet (`_document_app_refusals`)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document_app_refusals(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document


def _document_app_refusals(document: dict[str, Any]) -> dict[str, Any]:
    """Add to each operation the refusals the app answers whatever the route: 422 in the desk's error shape
    (FastAPI documents its own), 400 and 413 where a body is read, 429 under /api (the global rate limit)."""
    _, definitions = models_json_schema([(ErrorOut, "serialization")], ref_template=REF_TEMPLATE)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in definitions["$defs"].items():
        schemas.setdefault(name, definition)
    error_body = {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=ErrorOut.__name__)}}}
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = _refusal_response(422, error_body)
            if "requestBody" in operation:
                responses.setdefault("400", _refusal_response(400, error_body))
                responses.setdefault("413", _refusal_response(413, error_body))
            if path.startswith(API_PREFIX):
                responses.setdefault("429", _refusal_response(429, error_body))
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, unless still named elsewhere
        if REF_TEMPLATE.format(model=name) not in json.dumps(document):
            schemas.pop(name, None)
    return document


def _refusal_response(status: int, content: dict[str, Any]) -> dict[str, Any]:
    declared = refusal(status)
    response = {"description": declared["description"], "content": content}
    if "headers" in declared:
        response["headers"] = declared["headers"]
    return response
