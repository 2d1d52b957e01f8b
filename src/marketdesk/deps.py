"""FastAPI dependencies shared by every router: the desk, a unit-of-work session, and who is calling.

Authentication: an `Authorization: Bearer <access token>` header (API clients), else the web desk's
httpOnly `md_access` cookie. A cookie-authenticated request that changes something (POST, PUT, PATCH,
DELETE) must also carry the sign-in's CSRF token in `X-CSRF-Token` (the same value as the `md_csrf` cookie,
which the page's script can read and a foreign site cannot); a bearer request needs none, since a browser
never adds that header by itself.

Authorization: `current_user` for any signed-in user, `require_role(Role.TRADER)` and friends for more.
`authorize_api` is what every /api/v1 router outside /auth gets (see `marketdesk.app.include_api`): a
signed-in user to read, and trader or admin to change anything, so a viewer can never write.

Refusals: every one has the body `ErrorOut`. A route declares the refusals its own code can answer with
`responses=refusals(403, 404)`; `marketdesk.app` adds the ones the app answers for every route (401 behind the
guard, 422 for bad input, 400 and 413 for an unreadable or too large body, 429 for the rate limit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.cookies import ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER
from marketdesk.accounts.errors import CsrfRefused, Forbidden, TooManyRequests, Unauthorized
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.accounts.tokens import same_secret
from marketdesk.accounts.views import ClientInfo
from marketdesk.desk import Desk

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str  # the error's class, e.g. "NotFound", "Forbidden", "Rejected"
    message: str
    hint: str | None = None


class ErrorOut(BaseModel):
    """The body of every refusal: `{"error": {"type", "message", "hint"}}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    error: ErrorDetail


REFUSALS = {
    400: "The body could not be read, or the desk cannot do what was asked.",
    401: "Not signed in, or the token has expired or been signed out.",
    403: "Signed in, but not allowed: the role may not do this, or a cookie request came without its CSRF token.",
    404: "Not found (another user's things are not found either).",
    413: "The request body is larger than the desk accepts (max_request_bytes).",
    422: "The input is not valid; the message names what to fix.",
    429: "Too many requests from this address; Retry-After says how many seconds to wait.",
    503: "A market data source or the database is unavailable for now; retry later.",
}
REFUSAL_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "required": True, "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}},
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for refusals a route answers with, each with the `ErrorOut` body.

    >>> sorted(refusals(403, 404))
    [403, 404]
    """
    return {status: refusal(status) for status in statuses}


def refusal(status: int) -> dict[str, Any]:
    """The OpenAPI response of one refusal (FastAPI turns `model` into its JSON body)."""
    response: dict[str, Any] = {"model": ErrorOut, "description": REFUSALS[status]}
    if status in REFUSAL_HEADERS:
        response["headers"] = REFUSAL_HEADERS[status]
    return response


def get_desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def get_desk_ws(websocket: WebSocket) -> Desk:
    desk: Desk = websocket.app.state.desk
    return desk


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, rolled back when it raises.

    A refusal that is itself a record (`keeps_changes`: a failed sign-in counted, a token family revoked) is
    committed before it travels on.
    """
    desk: Desk = request.app.state.desk
    async with desk.db.session() as session:  # commits a refusal that `keeps_changes` (see Database.session)
        yield session


DeskDep = Annotated[Desk, Depends(get_desk)]
# scope="function": the unit of work commits when the handler returns, before the response is sent, so a
# client that reads right after a write sees it (the default scope would commit after sending)
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def client_info(request: Request) -> ClientInfo:
    """The caller's address and user agent, for sessions and the audit log."""
    host = request.client.host if request.client is not None else ""
    return ClientInfo(ip=host[:64], user_agent=request.headers.get("user-agent", "")[:255])


ClientDep = Annotated[ClientInfo, Depends(client_info)]


async def optional_user(request: Request, desk: DeskDep, session: SessionDep) -> CurrentUser | None:
    """The signed-in caller, or None when the request carries no credentials (bad credentials are refused)."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be `Bearer <access token>`")
        user = await desk.accounts.authenticate(session, token.strip(), via="bearer")
    else:
        token = request.cookies.get(ACCESS_COOKIE, "")
        if not token:
            return None
        user = await desk.accounts.authenticate(session, token, via="cookie")
        if request.method not in SAFE_METHODS:
            check_csrf(request, desk, token, user)
    request.state.user = user
    return user


def check_csrf(request: Request, desk: Desk, access_token: str, user: CurrentUser) -> None:
    """Refuse a cookie-authenticated change without the sign-in's CSRF token in the header and the cookie."""
    presented = request.headers.get(CSRF_HEADER)
    if not same_secret(presented, request.cookies.get(CSRF_COOKIE)) or not desk.accounts.csrf_matches(
        access_token, user.session_id, presented
    ):
        raise CsrfRefused(
            "this change came without the page's CSRF token",
            hint=f"Send the {CSRF_COOKIE} cookie's value in the {CSRF_HEADER} header, or use a bearer token.",
        )


async def current_user(
    request: Request, desk: DeskDep, session: SessionDep, user: Annotated[CurrentUser | None, Depends(optional_user)]
) -> CurrentUser:
    """The signed-in caller; 401 when there is none."""
    if user is not None:
        return user
    if not await desk.accounts.has_users(session):
        raise Unauthorized(
            "this desk has no users yet",
            hint="Create its admin: POST /api/v1/auth/register, or `marketdesk users create --role admin`.",
        )
    raise Unauthorized("sign in first", hint="POST /api/v1/auth/login, then send Authorization: Bearer <token>.")


CurrentUserDep = Annotated[CurrentUser, Depends(current_user)]


def require_role(role: Role) -> Callable[[CurrentUser], Awaitable[CurrentUser]]:
    """A dependency admitting `role` and the roles above it (admin ⊃ trader ⊃ viewer)."""

    async def admitted(user: CurrentUserDep) -> CurrentUser:
        if not user.can(role):
            raise Forbidden(f"this needs the {role} role", hint=f"You are signed in as a {user.role}.")
        return user

    admitted.__name__ = f"require_{role}"
    return admitted


require_trader = require_role(Role.TRADER)
require_admin = require_role(Role.ADMIN)
TraderDep = Annotated[CurrentUser, Depends(require_trader)]
AdminDep = Annotated[CurrentUser, Depends(require_admin)]


async def authorize_api(request: Request, user: CurrentUserDep) -> CurrentUser:
    """Every /api/v1 route outside /auth: signed in to read; trader or admin to change anything."""
    if request.method not in SAFE_METHODS and not user.can_write:
        raise Forbidden("viewers can read but not change anything", hint="Ask an admin for the trader role.")
    return user


async def limit_auth(request: Request, desk: DeskDep) -> None:
    """The per-client budget of the sign-in endpoints (settings.rate_limit_auth)."""
    wait = await desk.limiter.check_auth(client_info(request).ip or "unknown")
    if wait is not None:
        raise TooManyRequests(
            "too many sign-in requests from this address", hint=f"Wait {wait:.0f} s.", retry_after_s=wait
        )
