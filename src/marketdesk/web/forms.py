"""Pieces the account pages share: a confirmation dialog, a plainly worded problem line, a section card, the
password rules, and the check a handler makes before it changes anything."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.web.account_text import PASSWORD_RULES, capitalised
from marketdesk.web.identity import current_user_now
from marketdesk.web.session import login_url, request_target


class Confirm:
    """One confirmation dialog per page, asked a new question each time: `if await confirm.ask(...):`."""

    def __init__(self) -> None:
        with ui.dialog().props("data-testid=confirm-dialog") as self.dialog, ui.card().classes("min-w-80 max-w-lg"):
            self.question = ui.label().classes("text-base font-semibold").props("data-testid=confirm-question")
            self.detail = ui.label().classes("text-sm text-grey-7")
            with ui.row().classes("w-full justify-end gap-2 pt-2"):
                ui.button("Cancel", on_click=lambda: self.dialog.submit(False)).props("flat data-testid=confirm-cancel")
                self.action = ui.button(on_click=lambda: self.dialog.submit(True)).props(
                    "unelevated data-testid=confirm-ok"
                )

    async def ask(self, question: str, detail: str, action: str, *, danger: bool = True) -> bool:
        """Show the dialog; True only when the person pressed `action` (Cancel, Escape or a click outside: False)."""
        self.question.set_text(question)
        self.detail.set_text(detail)
        self.action.set_text(action)
        self.action.props(f"color={'negative' if danger else 'primary'}")
        return bool(await self.dialog)


class Problem:
    """A line that says what went wrong, in words (hidden while there is nothing to say)."""

    def __init__(self, test_id: str) -> None:
        self.label = ui.label().classes("desk-error text-sm").props(f"role=alert data-testid={test_id}")
        self.label.set_visibility(False)

    def show(self, text: str) -> None:
        self.label.set_text(capitalised(text))
        self.label.set_visibility(bool(text))

    def clear(self) -> None:
        self.show("")


@contextmanager
def section(title: str, caption: str, test_id: str) -> Iterator[ui.card]:
    """A titled card of a settings page."""
    with ui.card().classes("w-full gap-3").props(f"flat bordered data-testid={test_id}") as card:
        with ui.column().classes("gap-0"):
            ui.label(title).classes("text-lg font-semibold")
            ui.label(caption).classes("text-sm text-grey-7")
        yield card


async def acting_user(desk: Desk) -> CurrentUser | None:
    """The page's user as stored now, for a handler about to change something; None (and the person is sent to
    sign in again) when the sign-in has ended or the account was disabled since the page loaded."""
    try:
        return await current_user_now(desk)
    except MarketdeskError as exc:
        ui.notify(capitalised(exc.one_line()), type="warning", multi_line=True)
        ui.navigate.to(login_url(request_target(ui.context.client.request)))
        return None


def password_rules(test_id: str = "password-rules") -> None:
    """What the desk asks of a new password (the API's refusal says which rule a password broke)."""
    with ui.column().classes("gap-1").props(f"data-testid={test_id}"):
        for rule in PASSWORD_RULES:
            with ui.row().classes("no-wrap items-start gap-2"):
                ui.icon("check", size="16px").classes("text-grey-6 pt-[2px]")
                ui.label(rule).classes("text-xs text-grey-7")
