"""The settings page (/settings): your profile, your password, your key vault and your active sessions.

Everything goes through the desk's services in-process, as the signed-in user of the page; before changing
anything a handler re-reads that user (`acting_user`), so a page left open after its sign-in was revoked can no
longer act. Changing the password spends the same per-address budget as the sign-in endpoints, since it is a
check of the current password too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.errors import TooManyRequests
from marketdesk.accounts.roles import CurrentUser
from marketdesk.accounts.views import SessionView
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.web import format as fmt
from marketdesk.web.account_text import device_of
from marketdesk.web.forms import Confirm, Problem, acting_user, password_rules, section
from marketdesk.web.identity import web_client, web_identity
from marketdesk.web.registry import desk_page
from marketdesk.web.session import REGISTER_PATH
from marketdesk.web.vault_panel import VaultPanel


@desk_page("/settings", "Settings", "settings")
async def settings_page(desk: Desk) -> None:
    identity = web_identity()
    ui.label("Settings").classes("text-2xl font-semibold")
    if identity.user is None:
        _guest_notice()
        return
    confirm = Confirm()
    async with desk.db.session() as session:
        profile = await desk.accounts.user(session, identity.user.id)
    with (
        section("Profile", "Who this desk knows you as.", "profile-section"),
        ui.grid(columns="auto 1fr").classes("gap-x-6 gap-y-1 text-sm"),
    ):
        for name, value, test_id in (
            ("Email", profile.email, "profile-email"),
            ("Role", profile.role.value, "profile-role"),
            ("Member since", fmt.timestamp(profile.created_at), "profile-created"),
        ):
            ui.label(name).classes("text-grey-7")
            ui.label(value).props(f"data-testid={test_id}")

    async def reload_sessions() -> None:
        await sessions.reload()

    PasswordPanel(desk, on_changed=reload_sessions)
    vault = VaultPanel(desk, confirm, can_write=identity.can_write)
    sessions = SessionsPanel(desk, confirm)
    await vault.reload()
    await sessions.reload()


def _guest_notice() -> None:
    with ui.card().classes("w-full items-start gap-2").props("flat bordered data-testid=settings-guest"):
        ui.label("Settings belong to an account, and this desk has none yet.").classes("font-semibold")
        ui.label("Create the admin account to keep a password, a key vault and your sessions here.").classes(
            "text-sm text-grey-7"
        )
        ui.link("Create the admin account", REGISTER_PATH)


class PasswordPanel:
    """Change the password: the current one, the new one twice, and the rules."""

    def __init__(self, desk: Desk, *, on_changed: Callable[[], Awaitable[None]]) -> None:
        self.desk = desk
        self.on_changed = on_changed
        with section(
            "Password", "Changing it signs out your other sessions; this one stays signed in.", "password-section"
        ):
            with ui.row().classes("w-full gap-3"):
                self.current = _password_input("Current password", "current-password", "current-password")
                self.new = _password_input("New password", "new-password", "new-password")
                self.repeat = _password_input("The new password again", "new-password", "repeat-password")
            password_rules()
            self.problem = Problem("password-error")
            ui.button("Change the password", on_click=self.change).props("unelevated data-testid=change-password")

    async def change(self) -> None:
        current, new = str(self.current.value or ""), str(self.new.value or "")
        if not current or not new:
            self.problem.show("type your current password and a new one")
            return
        if new != (self.repeat.value or ""):
            self.problem.show("the two new passwords differ: type the same one twice")
            return
        user = await acting_user(self.desk)
        if user is None:
            return
        client = web_client()
        try:
            wait = await self.desk.limiter.check_auth(client.ip or "unknown")
            if wait is not None:
                raise TooManyRequests("too many password checks from this address", hint=f"Wait {wait:.0f} s.")
            async with self.desk.db.session() as session:
                await self.desk.accounts.change_password(session, user, current, new, client=client)
        except MarketdeskError as exc:
            self.current.set_value("")
            self.problem.show(exc.one_line())
            return
        for field in (self.current, self.new, self.repeat):
            field.set_value("")
        self.problem.clear()
        ui.notify("Password changed; your other sessions are signed out.", type="positive")
        await self.on_changed()


class SessionsPanel:
    """Your active sign-ins: device, address, when they started and were last used; sign one or all others out."""

    def __init__(self, desk: Desk, confirm: Confirm) -> None:
        self.desk = desk
        self.confirm = confirm
        with section(
            "Sessions",
            "Each sign-in of your account, most recently used first. Sign out any you do not recognise.",
            "sessions-section",
        ) as self.card:
            self.body = ui.column().classes("w-full gap-2")
            self.others_button = ui.button(
                "Sign out everywhere else", icon="logout", on_click=self.revoke_others
            ).props("outline color=negative data-testid=revoke-others")

    async def reload(self) -> None:
        user = await acting_user(self.desk)
        if user is None:
            return
        async with self.desk.db.session() as session:
            views = await self.desk.accounts.sessions(session, user)
        self.body.clear()
        with self.body:
            self._table(views)
        self.others_button.set_visibility(any(not view.current for view in views))

    def _table(self, views: list[SessionView]) -> None:
        headers = ("Device", "Address", "Signed in", "Last used", "")
        with ui.element("q-markup-table").props("flat bordered dense data-testid=sessions-table").classes("w-full"):
            with ui.element("thead"), ui.element("tr"):
                for header in headers:
                    with ui.element("th").classes("text-left"):
                        ui.label(header)
            with ui.element("tbody"):
                for view in views:
                    self._row(view)

    def _row(self, view: SessionView) -> None:
        device = device_of(view.user_agent)
        row = ui.element("tr").props(f"data-testid=session-row data-current={'true' if view.current else 'false'}")
        row.props["data-session"] = view.id
        with row:
            for text, field in (
                (device, "device"),
                (view.ip or fmt.MISSING, "ip"),
                (fmt.timestamp(view.started_at), "started"),
                (fmt.timestamp(view.last_used_at), "used"),
            ):
                with ui.element("td").props(f"data-field={field}"):
                    ui.label(text)
            with ui.element("td").classes("text-right"):
                if view.current:
                    ui.chip("This browser", icon="check").props(
                        "dense outline color=positive data-testid=current-session"
                    )
                else:
                    ui.button("Sign out", on_click=lambda v=view, d=device: self.revoke(v, d)).props(
                        "flat dense no-caps color=negative data-testid=revoke-session"
                    )

    async def revoke(self, view: SessionView, device: str) -> None:
        where = f"{device} at {view.ip}" if view.ip else device
        if not await self.confirm.ask(
            f"Sign out {where}?", "That browser or client must sign in again to use the desk.", "Sign it out"
        ):
            return
        await self._act(
            lambda session, user: self.desk.accounts.revoke_session(session, user, view.id, client=web_client()),
            f"Signed out {where}.",
        )

    async def revoke_others(self) -> None:
        if not await self.confirm.ask(
            "Sign out every other session?",
            "Every other browser and client signed in as you must sign in again; this browser stays signed in.",
            "Sign them out",
        ):
            return
        await self._act(
            lambda session, user: self.desk.accounts.revoke_other_sessions(session, user, client=web_client()),
            "Signed out every other session.",
        )

    async def _act(self, action: Callable[[AsyncSession, CurrentUser], Awaitable[object]], done: str) -> None:
        user = await acting_user(self.desk)
        if user is None:
            return
        try:
            async with self.desk.db.session() as session:
                await action(session, user)
        except MarketdeskError as exc:
            ui.notify(exc.one_line(), type="negative", multi_line=True)
        else:
            ui.notify(done, type="positive")
        await self.reload()


def _password_input(label: str, autocomplete: str, test_id: str) -> ui.input:
    return (
        ui.input(label, password=True)
        .props(f"outlined dense autocomplete={autocomplete} data-testid={test_id}")
        .classes("flex-1 min-w-56")
    )
