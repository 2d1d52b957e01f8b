"""The admin page (/admin, admins only): the desk's users (create, change role, disable or enable, confirmed) and
the desk settings (open registration, and the role people who register get).

The registry keeps the page to admins (`min_role`); each handler also re-reads the acting user, so an admin
demoted or signed out since the page loaded can no longer act, and the accounts service refuses what would
leave the desk without an enabled admin.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.events import ValueChangeEventArguments

from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.accounts.views import UserView
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.web import format as fmt
from marketdesk.web.account_text import user_status
from marketdesk.web.forms import Confirm, Problem, acting_user, password_rules, section
from marketdesk.web.identity import web_client, web_identity
from marketdesk.web.registry import desk_page

ROLES = [role.value for role in Role]
REGISTRATION_ROLES = [Role.VIEWER.value, Role.TRADER.value]


@desk_page("/admin", "Admin", "admin_panel_settings", min_role=Role.ADMIN)
async def admin_page(desk: Desk) -> None:
    ui.label("Admin").classes("text-2xl font-semibold")
    confirm = Confirm()
    await DeskSettingsPanel(desk).build()
    users = UsersPanel(desk, confirm)
    await users.reload()


async def acting_admin(desk: Desk) -> CurrentUser | None:
    """The page's user as stored now, if still an admin (else None, and the person is told why)."""
    user = await acting_user(desk)
    if user is not None and not user.can(Role.ADMIN):
        ui.notify(f"Only admins manage the desk; you are now a {user.role.value}.", type="warning")
        return None
    return user


class DeskSettingsPanel:
    """Open or close registration, and pick the role people who register get."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.open_registration = False
        self.registration_role = Role.VIEWER

    async def build(self) -> None:
        async with self.desk.db.session() as session:
            settings = await self.desk.accounts.desk_settings(session)
        self.open_registration, self.registration_role = settings.open_registration, settings.registration_role
        with (
            section(
                "Desk settings",
                "Registration lets anyone who can reach this desk create an account on the sign-in page.",
                "desk-settings-section",
            ),
            ui.row().classes("items-center gap-6"),
        ):
            self.open_switch = ui.switch(
                "Open registration", value=settings.open_registration, on_change=self._open_changed
            ).props("data-testid=open-registration")
            self.role_select = (
                ui.select(
                    REGISTRATION_ROLES,
                    value=settings.registration_role.value,
                    label="People who register become",
                    on_change=self._role_changed,
                )
                .props("outlined dense data-testid=registration-role")
                .classes("w-60")
            )

    # a refused change puts the control back; that change of value comes here again and finds nothing to do

    async def _open_changed(self, event: ValueChangeEventArguments[Any]) -> None:
        opened = bool(event.value)
        if opened == self.open_registration:
            return
        if await self._update(open_registration=opened):
            self.open_registration = opened
            ui.notify("Registration is open" if opened else "Registration is closed", type="positive")
        else:
            self.open_switch.set_value(self.open_registration)

    async def _role_changed(self, event: ValueChangeEventArguments[Any]) -> None:
        role = Role(str(event.value))
        if role is self.registration_role:
            return
        if await self._update(registration_role=role):
            self.registration_role = role
            ui.notify(f"People who register now become {role.value}s", type="positive")
        else:
            self.role_select.set_value(self.registration_role.value)

    async def _update(self, *, open_registration: bool | None = None, registration_role: Role | None = None) -> bool:
        admin = await acting_admin(self.desk)
        if admin is None:
            return False
        try:
            async with self.desk.db.session() as session:
                await self.desk.accounts.update_desk_settings(
                    session,
                    admin,
                    open_registration=open_registration,
                    registration_role=registration_role,
                    client=web_client(),
                )
        except MarketdeskError as exc:
            ui.notify(exc.one_line(), type="negative", multi_line=True)
            return False
        return True


class UsersPanel:
    """Every user with role and status; change a role, disable or enable (confirmed), create a user."""

    def __init__(self, desk: Desk, confirm: Confirm) -> None:
        self.desk = desk
        self.confirm = confirm
        me = web_identity().user
        self.my_id = me.id if me is not None else None
        with section("Users", "Everyone with an account on this desk.", "users-section"):
            self.body = ui.column().classes("w-full gap-2")
        with section(
            "Create a user",
            "Give them the email and this first password; they can change it in Settings.",
            "create-user-section",
        ):
            with ui.row().classes("w-full items-start gap-3"):
                self.email = (
                    ui.input("Email").props("outlined dense data-testid=new-user-email").classes("flex-1 min-w-56")
                )
                self.password = (
                    ui.input("First password", password=True, password_toggle_button=True)
                    .props("outlined dense autocomplete=new-password data-testid=new-user-password")
                    .classes("flex-1 min-w-56")
                )
                self.role = (
                    ui.select(ROLES, value=Role.VIEWER.value, label="Role")
                    .props("outlined dense data-testid=new-user-role")
                    .classes("w-36")
                )
                ui.button("Create", icon="person_add", on_click=self.create).props("unelevated data-testid=create-user")
            password_rules("new-user-rules")
            self.problem = Problem("create-user-error")

    async def reload(self) -> None:
        async with self.desk.db.session() as session:
            users = await self.desk.accounts.users(session)
        now = self.desk.clock.now()
        self.body.clear()
        with (
            self.body,
            ui.element("q-markup-table").props("flat bordered dense data-testid=users-table").classes("w-full"),
        ):
            with ui.element("thead"), ui.element("tr"):
                for header in ("Email", "Role", "Status", "Created", ""):
                    with ui.element("th").classes("text-left"):
                        ui.label(header)
            with ui.element("tbody"):
                for user in users:
                    self._row(user, user_status(user, now))

    def _row(self, user: UserView, status: str) -> None:
        mine = user.id == self.my_id
        row = ui.element("tr").props(f"data-testid=user-row data-disabled={'true' if user.disabled else 'false'}")
        row.props["data-email"] = user.email
        with row:
            with ui.element("td"):
                ui.label(user.email + (" (you)" if mine else ""))
            with ui.element("td"):
                select = (
                    ui.select(ROLES, value=user.role.value, on_change=lambda e, u=user: self.change_role(u, e))
                    .props("dense borderless options-dense data-testid=user-role-select")
                    .classes("w-28")
                )
                if mine:
                    select.disable()
                    select.tooltip("You cannot change your own role; another admin can.")
            with ui.element("td"):
                ui.label(status).props("data-testid=user-status")
            with ui.element("td"):
                ui.label(fmt.timestamp(user.created_at))
            with ui.element("td").classes("text-right"):
                if not mine:
                    ui.button("Enable" if user.disabled else "Disable", on_click=lambda u=user: self.toggle(u)).props(
                        f"flat dense no-caps color={'primary' if user.disabled else 'negative'} data-testid=user-toggle"
                    )

    async def change_role(self, user: UserView, event: ValueChangeEventArguments[Any]) -> None:
        role = Role(str(event.value))
        if role is user.role:
            return
        if await self._update(user, role=role):
            ui.notify(f"{user.email} is now a {role.value}", type="positive")
        await self.reload()

    async def toggle(self, user: UserView) -> None:
        if user.disabled:
            question, detail, action = (
                f"Enable {user.email}?",
                "They can sign in again with their password.",
                "Enable",
            )
        else:
            question, detail, action = (
                f"Disable {user.email}?",
                "They are signed out everywhere at once and cannot sign in until an admin enables the account.",
                "Disable",
            )
        if not await self.confirm.ask(question, detail, action, danger=not user.disabled):
            return
        if await self._update(user, disabled=not user.disabled):
            ui.notify(f"{user.email} is {'enabled' if user.disabled else 'disabled'}", type="positive")
        await self.reload()

    async def _update(self, user: UserView, *, role: Role | None = None, disabled: bool | None = None) -> bool:
        admin = await acting_admin(self.desk)
        if admin is None:
            return False
        try:
            async with self.desk.db.session() as session:
                await self.desk.accounts.update_user(
                    session, admin, user.id, role=role, disabled=disabled, client=web_client()
                )
        except MarketdeskError as exc:
            ui.notify(exc.one_line(), type="negative", multi_line=True)
            return False
        return True

    async def create(self) -> None:
        email, password = str(self.email.value or "").strip(), str(self.password.value or "")
        if not email or not password:
            self.problem.show("type the new user's email and a first password")
            return
        admin = await acting_admin(self.desk)
        if admin is None:
            return
        try:
            async with self.desk.db.session() as session:
                view = await self.desk.accounts.create_user(
                    session, email, password, Role(str(self.role.value)), actor_id=admin.id, client=web_client()
                )
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.clear()
        self.email.set_value("")
        self.password.set_value("")
        ui.notify(f"Created {view.email} ({view.role.value})", type="positive")
        await self.reload()
