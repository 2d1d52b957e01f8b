"""The sign-in (/login) and registration (/register) pages, outside the shell: anyone may open them.

Both forms have the browser itself call the auth API (POST /api/v1/auth/login or /register, see
`marketdesk.web.session`), so the answer's httpOnly cookies land in the browser; then the page goes on to
`?next=` (a path of this desk) or the dashboard. A refusal is shown as the API words it: a wrong password, an
account locked after failed sign-ins (with how long to wait), too many attempts from this address, a password
the policy rejects and why.

Registration follows the desk: on a desk with no users the form creates the admin account; after that it is
open only while an admin keeps registration open (Admin page), and otherwise says it is closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.web.forms import Problem, password_rules
from marketdesk.web.identity import identify_page
from marketdesk.web.layout import DARK_MODE_KEY, simulated_badge
from marketdesk.web.registry import public_page
from marketdesk.web.session import LOGIN_PATH, REGISTER_PATH, ApiAnswer, call_api, login_url, safe_next

AUTH_API = "/api/v1/auth"


@public_page(LOGIN_PATH, title="Sign in")
async def login_page(desk: Desk) -> None:
    identity = await identify_page(desk)
    target = safe_next(ui.context.client.request.query_params.get("next"))
    async with desk.db.session() as session:
        status = await desk.accounts.status(session)
    if identity.user is not None:
        with _frame(desk, "You are signed in", ""):
            _signed_in(identity.user, target)
        return
    if not status.has_users:
        with _frame(
            desk,
            "This desk has no accounts yet",
            "Nobody can sign in until its admin account exists. Until then, whoever can reach the desk uses it "
            "as its guest.",
        ):
            ui.button(
                "Create the admin account", on_click=lambda: ui.navigate.to(login_url(target, path=REGISTER_PATH))
            ).props("unelevated data-testid=create-admin").classes("w-full")
            ui.link("Continue as the desk's guest", target).classes("text-sm").props("data-testid=continue-as-guest")
        return
    with _frame(desk, "Sign in", "Use the email and password of your account on this desk."):
        SignInForm(target)
        with ui.row().classes("items-center gap-1 text-sm"):
            if status.registration_open:
                ui.label("New here?").classes("text-grey-7")
                ui.link("Create an account", login_url(target, path=REGISTER_PATH)).props("data-testid=to-register")
            else:
                ui.label("No account yet? The desk's admin creates them.").classes("text-grey-7")


@public_page(REGISTER_PATH, title="Create an account")
async def register_page(desk: Desk) -> None:
    identity = await identify_page(desk)
    target = safe_next(ui.context.client.request.query_params.get("next"))
    async with desk.db.session() as session:
        status = await desk.accounts.status(session)
        settings = await desk.accounts.desk_settings(session)
    if identity.user is not None:
        with _frame(desk, "You are signed in", "Sign out first to create another account."):
            _signed_in(identity.user, target)
        return
    if not status.has_users:
        heading = "Create the admin account"
        caption = (
            "This desk has no accounts yet. The first account becomes its admin: it manages users and the desk's "
            "settings, and keeps a copy of the lists made as the guest. From then on every page needs a sign-in."
        )
    elif status.registration_open:
        heading = "Create an account"
        caption = f"You join as a {settings.registration_role.value}; an admin can change your role later."
    else:
        ui.status_code(403)
        with _frame(desk, "Registration is closed", "This desk's admin creates its accounts."):
            ui.label("Ask an admin to create your account, or to open registration for a while.").classes(
                "text-sm"
            ).props("data-testid=registration-closed")
            ui.link("Sign in", login_url(target)).props("data-testid=to-login")
        return
    with _frame(desk, heading, caption):
        RegisterForm(target, first_admin=not status.has_users)
        if status.has_users:
            with ui.row().classes("items-center gap-1 text-sm"):
                ui.label("Already have an account?").classes("text-grey-7")
                ui.link("Sign in", login_url(target)).props("data-testid=to-login")


async def _send(form: SignInForm | RegisterForm, action: str, body: dict[str, str]) -> ApiAnswer | None:
    """POST `body` to the auth endpoint `action` from the browser, once at a time per form, with the button
    showing it is busy; None when a call is already under way."""
    if form.busy:
        return None
    form.busy = True
    form.problem.clear()
    form.button.props("loading")
    try:
        return await call_api("POST", f"{AUTH_API}/{action}", body)
    finally:
        form.busy = False
        form.button.props(remove="loading")


class SignInForm:
    """Email and password; the browser signs in, and the page goes on to `target`."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.busy = False
        self.email = _email_input()
        self.password = (
            ui.input("Password", password=True, password_toggle_button=True)
            .props("outlined autocomplete=current-password data-testid=login-password")
            .classes("w-full")
            .on("keydown.enter", self.submit)
        )
        self.problem = Problem("login-error")
        self.button = (
            ui.button("Sign in", on_click=self.submit).props("unelevated data-testid=login-submit").classes("w-full")
        )

    async def submit(self) -> None:
        email, password = str(self.email.value or "").strip(), str(self.password.value or "")
        if not email or not password:
            self.problem.show("type your email and your password")
            return
        answer = await _send(self, "login", {"email": email, "password": password})
        if answer is None:
            return
        if answer.ok:
            ui.navigate.to(self.target)
            return
        self.password.set_value("")
        self.problem.show(answer.text())


class RegisterForm:
    """Email, password twice and the password rules; the browser registers (and is signed in), then goes on."""

    def __init__(self, target: str, *, first_admin: bool) -> None:
        self.target = target
        self.busy = False
        self.email = _email_input()
        self.password = (
            ui.input("Password", password=True, password_toggle_button=True)
            .props("outlined autocomplete=new-password data-testid=register-password")
            .classes("w-full")
        )
        self.repeat = (
            ui.input("The same password again", password=True)
            .props("outlined autocomplete=new-password data-testid=register-repeat")
            .classes("w-full")
            .on("keydown.enter", self.submit)
        )
        password_rules()
        self.problem = Problem("register-error")
        self.button = (
            ui.button("Create the admin account" if first_admin else "Create the account", on_click=self.submit)
            .props("unelevated data-testid=register-submit")
            .classes("w-full")
        )

    async def submit(self) -> None:
        email, password = str(self.email.value or "").strip(), str(self.password.value or "")
        if not email or not password:
            self.problem.show("type your email and a password")
            return
        if password != (self.repeat.value or ""):
            self.problem.show("the two passwords differ: type the same one twice")
            return
        answer = await _send(self, "register", {"email": email, "password": password})
        if answer is None:
            return
        if answer.ok:
            ui.navigate.to(self.target)
            return
        self.problem.show(answer.text())


def _email_input() -> ui.input:
    return (
        ui.input("Email")
        .props("outlined type=email autocomplete=username autofocus data-testid=auth-email")
        .classes("w-full")
    )


@contextmanager
def _frame(desk: Desk, heading: str, caption: str) -> Iterator[ui.card]:
    """A page of its own: the product's name, then one card."""
    ui.dark_mode(value=bool(app.storage.user.get(DARK_MODE_KEY, False)))
    with ui.column().classes("w-full items-center pt-16 px-4 gap-4"):
        with ui.row().classes("items-center gap-3"):
            ui.link("marketdesk", "/").classes("text-2xl font-semibold tracking-tight no-underline text-inherit")
            if desk.simulated:
                simulated_badge(desk)
        with ui.card().classes("w-full max-w-md gap-3 p-6").props("flat bordered data-testid=auth-card") as card:
            ui.label(heading).classes("text-xl font-semibold").props("data-testid=auth-heading")
            if caption:
                ui.label(caption).classes("text-sm text-grey-7")
            yield card


def _signed_in(user: CurrentUser, target: str) -> None:
    ui.label(f"Signed in as {user.email} ({user.role.value}).").props("data-testid=signed-in-as")
    with ui.row().classes("gap-2"):
        ui.button("Open the desk", on_click=lambda: ui.navigate.to(target)).props("unelevated data-testid=open-desk")
        ui.button("Sign out", on_click=lambda: ui.run_javascript("mdAuth.signOut()")).props("flat data-testid=sign-out")
