"""Who a browser is, for the web desk's pages.

A page is built for the user its request's `md_access` cookie names (see `marketdesk.accounts.cookies`); the
identity is kept with the page (NiceGUI's per-client storage), because the page's event handlers run later
over NiceGUI's websocket, which carries no cookie of its own.

- A desk **with users**: a browser without a valid cookie is not served the desk; it gets the sign-in notice
  (the login page replaces it).
- A desk **with no users yet** (a fresh single-user desk): the browser is the desk's guest and works on the
  desk's shared lists (the first-run watchlist), so the desk is usable the moment `marketdesk up` prints its
  address; the first account, registered with POST /api/v1/auth/register or `marketdesk users create --role
  admin`, becomes the admin and gets a copy of those lists. From then on every page needs a sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from nicegui import app, ui

from marketdesk.accounts.cookies import ACCESS_COOKIE
from marketdesk.accounts.errors import Unauthorized
from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk

IDENTITY_KEY = "marketdesk_identity"


@dataclass(frozen=True, slots=True)
class WebIdentity:
    """The browser's user (None: not signed in) and whether the desk has any users."""

    user: CurrentUser | None
    desk_has_users: bool

    @property
    def allowed(self) -> bool:
        """May this browser see the desk? Signed in, or the guest of a desk that has no users yet."""
        return self.user is not None or not self.desk_has_users

    @property
    def owner_id(self) -> str | None:
        """Whose lists the pages show: the user's own, or the desk's shared lists for the guest."""
        return self.user.id if self.user is not None else None

    @property
    def can_write(self) -> bool:
        """Viewers read; traders, admins and the guest of a desk with no users change things."""
        return self.user.can_write if self.user is not None else not self.desk_has_users


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
    return WebIdentity(user=user, desk_has_users=has_users)


async def identify_page(desk: Desk) -> WebIdentity:
    """Resolve the current page's identity from its request and keep it with the page."""
    request = ui.context.client.request
    identity = await resolve_identity(desk, request.cookies.get(ACCESS_COOKIE))
    app.storage.client[IDENTITY_KEY] = identity
    return identity


def web_identity() -> WebIdentity:
    """The identity of the page whose code is running (inside a page or one of its event handlers)."""
    identity = app.storage.client.get(IDENTITY_KEY)
    return identity if isinstance(identity, WebIdentity) else ANONYMOUS


def refuse_viewer(action: str = "change this") -> bool:
    """Tell a viewer they cannot `action` and return True; False (and nothing shown) for anyone who can."""
    if web_identity().can_write:
        return False
    ui.notify(f"Viewers cannot {action}; ask an admin for the trader role.", type="warning")
    return True


def sign_in_required() -> None:
    """What a browser that is not signed in sees on a desk that has users."""
    with ui.column().classes("w-full items-center pt-24 gap-3").props("data-testid=sign-in-required"):
        ui.icon("lock", size="3rem").classes("text-grey-6")
        ui.label("Sign in to use this desk").classes("text-2xl font-semibold")
        ui.label("This desk has accounts; your session has ended or you have not signed in yet.").classes("text-grey-7")
