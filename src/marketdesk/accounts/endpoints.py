"""REST routes of accounts: /api/v1/auth (sign-in, sessions, the caller's account) and /api/v1/admin (users,
desk settings). Thin: parse, authorize, call the accounts service, render.

Sign-in answers carry the tokens in the body (API clients) and also set the web desk's cookies (a browser's
fetch keeps them; other clients ignore them). Refresh and logout take the refresh token from the body, or from
the `md_refresh` cookie together with the `X-CSRF-Token` header.
"""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Depends, Request, Response

from marketdesk.accounts.cookies import (
    CSRF_COOKIE,
    CSRF_HEADER,
    REFRESH_COOKIE,
    clear_session_cookies,
    set_session_cookies,
)
from marketdesk.accounts.errors import CsrfRefused, Unauthorized
from marketdesk.accounts.schemas import (
    Credentials,
    DeskSettings,
    DeskSettingsUpdate,
    Me,
    PasswordChange,
    RefreshRequest,
    Session,
    Status,
    Tokens,
    User,
    UserCreate,
    UserUpdate,
)
from marketdesk.accounts.tokens import same_secret
from marketdesk.deps import (
    AdminDep,
    ClientDep,
    CurrentUserDep,
    DeskDep,
    SessionDep,
    limit_auth,
    optional_user,
    refusals,
)

router = APIRouter(prefix="/auth", tags=["auth"])
admin_router = APIRouter(prefix="/admin", tags=["admin"], responses=refusals(403))  # admins only
LIMITED = [Depends(limit_auth)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("/status", response_model=Status)
async def auth_status(desk: DeskDep, session: SessionDep) -> Status:
    """Whether the desk has users yet (a fresh desk's first registration becomes its admin) and can be joined."""
    return Status.of(await desk.accounts.status(session))


@router.post("/register", response_model=Tokens, status_code=201, dependencies=LIMITED, responses=refusals(403))
async def register(
    body: Credentials, request: Request, response: Response, desk: DeskDep, session: SessionDep, client: ClientDep
) -> Tokens:
    """Create an account and sign it in. On a desk with no users it becomes the admin; after that, only while an
    admin keeps registration open."""
    pair = await desk.accounts.register(session, body.email, body.password, client=client)
    set_session_cookies(response, request, pair)
    response.headers.update(NO_STORE)
    return Tokens.of(pair)


@router.post("/login", response_model=Tokens, dependencies=LIMITED, responses=refusals(401))
async def login(
    body: Credentials, request: Request, response: Response, desk: DeskDep, session: SessionDep, client: ClientDep
) -> Tokens:
    """Sign in with email and password."""
    pair = await desk.accounts.login(session, body.email, body.password, client=client)
    set_session_cookies(response, request, pair)
    response.headers.update(NO_STORE)
    return Tokens.of(pair)


def _refresh_token(request: Request, body: RefreshRequest | None) -> str | None:
    """The refresh token from the body, else from the cookie (which then needs the CSRF header)."""
    if body is not None and body.refresh_token:
        return body.refresh_token
    cookie = request.cookies.get(REFRESH_COOKIE)
    if cookie is None:
        return None
    if not same_secret(request.headers.get(CSRF_HEADER), request.cookies.get(CSRF_COOKIE)):
        raise CsrfRefused(
            "the refresh cookie came without the page's CSRF token",
            hint=f"Send the {CSRF_COOKIE} cookie's value in the {CSRF_HEADER} header.",
        )
    return cookie


@router.post("/refresh", response_model=Tokens, dependencies=LIMITED, responses=refusals(401, 403))
async def refresh(
    request: Request,
    response: Response,
    desk: DeskDep,
    session: SessionDep,
    client: ClientDep,
    body: RefreshRequest | None = None,
) -> Tokens:
    """Swap a refresh token for a new pair. Each refresh token works once: using one twice signs its session
    out everywhere."""
    token = _refresh_token(request, body)
    if token is None:
        raise Unauthorized("no refresh token", hint="Send {refresh_token} in the body, or sign in again.")
    pair = await desk.accounts.refresh(session, token, client=client)
    set_session_cookies(response, request, pair)
    response.headers.update(NO_STORE)
    return Tokens.of(pair)


@router.post("/logout", status_code=204, dependencies=LIMITED, responses=refusals(403))
async def logout(
    request: Request,
    desk: DeskDep,
    session: SessionDep,
    client: ClientDep,
    body: RefreshRequest | None = None,
) -> Response:
    """Sign out: the session named by the refresh token (body or cookie), else the caller's own. Always 204."""
    token = _refresh_token(request, body)
    user = None
    if not token:
        with contextlib.suppress(Unauthorized):  # an expired access token has nothing left to sign out
            user = await optional_user(request, desk, session)
    await desk.accounts.logout(session, refresh_token=token, user=user, client=client)
    response = Response(status_code=204, headers=NO_STORE)
    clear_session_cookies(response, request)
    return response


@router.get("/me", response_model=Me, responses=refusals(401))
async def me(user: CurrentUserDep) -> Me:
    """Who the token speaks for, with the role as stored now."""
    return Me(id=user.id, email=user.email, role=user.role, session_id=user.session_id)


@router.post("/password", status_code=204, dependencies=LIMITED, responses=refusals(401, 403))
async def change_password(
    body: PasswordChange, user: CurrentUserDep, desk: DeskDep, session: SessionDep, client: ClientDep
) -> Response:
    """Change your password. Every other session of yours is signed out; this one stays."""
    await desk.accounts.change_password(session, user, body.current_password, body.new_password, client=client)
    return Response(status_code=204)


@router.get("/sessions", response_model=list[Session], responses=refusals(401))
async def list_sessions(user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> list[Session]:
    """Your active sessions (one per sign-in), most recently used first; `current` is this one."""
    return [Session.of(view) for view in await desk.accounts.sessions(session, user)]


@router.delete("/sessions", status_code=204, responses=refusals(401, 403))
async def revoke_other_sessions(
    user: CurrentUserDep, desk: DeskDep, session: SessionDep, client: ClientDep
) -> Response:
    """Sign out all your other sessions (sign out this one with POST /auth/logout)."""
    await desk.accounts.revoke_other_sessions(session, user, client=client)
    return Response(status_code=204)


@router.delete("/sessions/{session_id}", status_code=204, responses=refusals(401, 403, 404))
async def revoke_session(
    session_id: str, user: CurrentUserDep, desk: DeskDep, session: SessionDep, client: ClientDep
) -> Response:
    """Sign out one of your sessions."""
    await desk.accounts.revoke_session(session, user, session_id, client=client)
    return Response(status_code=204)


# ---- admin ----------------------------------------------------------------------------------------------


@admin_router.get("/users", response_model=list[User])
async def list_users(admin: AdminDep, desk: DeskDep, session: SessionDep) -> list[User]:
    """Every user of the desk."""
    return [User.of(view) for view in await desk.accounts.users(session)]


@admin_router.post("/users", response_model=User, status_code=201)
async def create_user(body: UserCreate, admin: AdminDep, desk: DeskDep, session: SessionDep, client: ClientDep) -> User:
    """Create an account with a role (registration may be closed)."""
    view = await desk.accounts.create_user(
        session, body.email, body.password, body.role, actor_id=admin.id, client=client
    )
    return User.of(view)


@admin_router.patch("/users/{user_id}", response_model=User, responses=refusals(404))
async def update_user(
    user_id: str, body: UserUpdate, admin: AdminDep, desk: DeskDep, session: SessionDep, client: ClientDep
) -> User:
    """Re-role, disable or enable a user. The desk's last admin cannot be demoted or disabled."""
    view = await desk.accounts.update_user(
        session, admin, user_id, role=body.role, disabled=body.disabled, client=client
    )
    return User.of(view)


@admin_router.get("/settings", response_model=DeskSettings)
async def get_desk_settings(admin: AdminDep, desk: DeskDep, session: SessionDep) -> DeskSettings:
    """Desk-wide settings: whether people may register, and the role they get."""
    return DeskSettings.of(await desk.accounts.desk_settings(session))


@admin_router.patch("/settings", response_model=DeskSettings)
async def update_desk_settings(
    body: DeskSettingsUpdate, admin: AdminDep, desk: DeskDep, session: SessionDep, client: ClientDep
) -> DeskSettings:
    """Open or close registration, or change the role people who register get (viewer or trader)."""
    view = await desk.accounts.update_desk_settings(
        session,
        admin,
        open_registration=body.open_registration,
        registration_role=body.registration_role,
        client=client,
    )
    return DeskSettings.of(view)
