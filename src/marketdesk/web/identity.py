"""Who a browser is, for the web desk's pages.

A page is built for the user its request's `md_access` cookie names (see `marketdesk.accounts.cookies`); the
identity is kept with the page (NiceGUI's per-client storage), because the page's event handlers run later
over NiceGUI's websocket, which carries no cookie of its own. A handler that changes something security-related
(the key vault, sessions, users) re-reads the user first with `current_user_now`, so a page left open after its
sign-in was revoked, or its user disabled or re-roled, can no longer act.

- A desk **with users**: a browser without a valid cookie is not served the desk. One that still holds the
  sign-in's CSRF cookie gets the refresh-through page (its access cookie expired: it is renewed with the refresh
  cookie and the page loads again); any other goes to `/login?next=…` (see `marketdesk.web.session`).
- A desk **with no users yet** (a fresh single-user desk): the browser is the desk's guest and works on the
  desk's shared lists (the first-run watchlist), so the desk is usable the moment `marketdesk up` prints its
  address; the header offers to create the admin account (`/register`). The first account, registered there,
  with POST /api/v1/auth/register or with `marketdesk users create --role admin`, becomes the admin and gets a
  copy of those lists. From then on every page needs a sign-in.

Roles: a viewer reads (pages hide their write controls when `can_write` is false, and every write handler
still refuses a viewer with `refuse_viewer`); traders and admins change things; only admins see /admin.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from nicegui import app, ui

from marketdesk.accounts.cookies import ACCESS_COOKIE
from marketdesk.accounts.errors import Unauthorized
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.accounts.views import ClientInfo
from marketdesk.deps import client_info
from marketdesk.desk import Desk

IDENTITY_KEY = "marketdesk_identity"
CLIENT_KEY = "marketdesk_client"


@dataclass(frozen=True, slots=True)
class WebIdentity:
    """The browser's user (None: not signed in) and whether the desk has any users."""

    user: CurrentUser | None
    desk_has_users: bool
    access_expires_in_s: float | None = None  # how long the page's access cookie still lives

    @property
    def allowed(self) -> bool:
        """May this browser see the desk? Signed in, or the guest of a desk that has no users yet."""
        return self.user is not None or not self.desk_has_users

    @property
    def guest(self) -> bool:
        """The browser of a desk with no users yet: it works on the desk's shared lists."""
        return self.user is None and not self.desk_has_users

    @property
    def owner_id(self) -> str | None:
        """Whose lists the pages show: the user's own, or the desk's shared lists for the guest."""
        return self.user.id if self.user is not None else None

    @property
    def can_write(self) -> bool:
        """Viewers read; traders, admins and the guest of a desk with no users change things."""
        return self.user.can_write if self.user is not None else not self.desk_has_users

    def can(self, role: Role) -> bool:
        """True for a signed-in user holding `role` or a higher one (the guest holds no role)."""
        return self.user is not None and self.user.can(role)


ANONYMOUS = WebIdentity(user=None, desk_has_users=True)


async def resolve_identity(desk: Desk, access_token: str | None) -> WebIdentity:
    """The identity a page request's access cookie gives (an invalid or expired one gives none)."""
    async with desk.db.session() as session:
        has_users = await desk.accounts.has_users(session)
        user = None
        if access_token:
            try:
                user = await desk.accounts.authenticate(session, access_token, via="cookie")
            except Unauthorized:
                user = None
    expires_in = _expires_in_s(desk, access_token) if user is not None and access_token else None
    return WebIdentity(user=user, desk_has_users=has_users, access_expires_in_s=expires_in)


def _expires_in_s(desk: Desk, verified_token: str) -> float | None:
    # the token was verified just above; only its expiry is read here
    expires = jwt.decode(verified_token, options={"verify_signature": False}).get("exp")
    if not isinstance(expires, int):
        return None
    return max(0.0, expires - desk.clock.now().timestamp())


async def identify_page(desk: Desk) -> WebIdentity:
    """Resolve the current page's identity from its request and keep it (and the client's address) with the page."""
    request = ui.context.client.request
    identity = await resolve_identity(desk, request.cookies.get(ACCESS_COOKIE))
    app.storage.client[IDENTITY_KEY] = identity
    app.storage.client[CLIENT_KEY] = client_info(request)
    return identity


def web_identity() -> WebIdentity:
    """The identity of the page whose code is running (inside a page or one of its event handlers)."""
    identity = app.storage.client.get(IDENTITY_KEY)
    return identity if isinstance(identity, WebIdentity) else ANONYMOUS


def web_client() -> ClientInfo:
    """The address and user agent of the page's browser, for sessions and the audit log."""
    client = app.storage.client.get(CLIENT_KEY)
    return client if isinstance(client, ClientInfo) else ClientInfo()


async def current_user_now(desk: Desk) -> CurrentUser:
    """The page's user as stored now: refused (`Unauthorized`) when its sign-in has ended or it was disabled.

    The role is the stored one, so a user re-roled since the page loaded acts with the new role.
    """
    user = web_identity().user
    if user is None:
        raise Unauthorized("this page is not signed in", hint="Sign in again.")
    async with desk.db.session() as session:
        stored = await desk.accounts.user(session, user.id)
        if stored.disabled:
            raise Unauthorized("this account is disabled", hint="Ask an admin to enable it.")
        now = CurrentUser(stored.id, stored.email, stored.role, user.session_id, user.via)
        if all(active.id != user.session_id for active in await desk.accounts.sessions(session, now)):
            raise Unauthorized("this sign-in has ended", hint="Sign in again.")
    return now


def refuse_viewer(action: str = "change this") -> bool:
    """Tell a viewer they cannot `action` and return True; False (and nothing shown) for anyone who can."""
    if web_identity().can_write:
        return False
    ui.notify(f"Viewers cannot {action}; ask an admin for the trader role.", type="warning")
    return True
