"""The trade page's live-trading panel: a live Alpaca account (real money) places nothing until its owner types
`LIVE_CONFIRMATION_PHRASE`, once. The panel shows while the picked account waits for that confirmation; a trader
opens a dialog from it and types the phrase there, and the desk (`AccountService.confirm_live`) judges it, so a
wrong phrase is answered with the one to type. A viewer sees why the account is idle but gets no control.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from marketdesk.trading.adapters.alpaca import LIVE_CONFIRMATION_PHRASE
from marketdesk.web.forms import Problem
from marketdesk.web.layout import WRITE_CLASS

Confirm = Callable[[str], Awaitable[str | None]]  # the typed phrase → None when confirmed, else what went wrong


class LivePanel:
    """Shown for a live account not confirmed yet: what that means, and (for a trader) the confirmation dialog."""

    def __init__(self, confirm: Confirm, *, can_write: bool) -> None:
        self.confirm = confirm
        self.account: dict[str, Any] | None = None
        with ui.card().classes("w-full gap-2").props("flat bordered data-testid=live-confirm-panel") as self.card:
            with ui.row().classes("items-center gap-2 no-wrap"):
                ui.icon("gpp_maybe", size="1.5rem").classes("text-warning")
                ui.label("This account trades real money, and live trading is not confirmed yet").classes(
                    "font-semibold"
                )
            ui.label(
                "Its orders would go to Alpaca's live API and spend real money, so the desk sends none until the "
                "account's owner types a confirmation, once. Balances and compliance show after that."
            ).classes("text-sm text-grey-8")
            if can_write:
                ui.button("Confirm live trading…", icon="lock_open", on_click=self.open).props(
                    "unelevated no-caps color=negative data-testid=live-confirm-open"
                ).classes(WRITE_CLASS)
            else:
                ui.label("Viewers cannot confirm live trading; the trader role can. Ask an admin.").classes(
                    "text-sm text-grey-7"
                ).props("data-testid=live-confirm-viewer")
        self.card.set_visibility(False)
        self.dialog = self._dialog() if can_write else None

    def _dialog(self) -> ui.dialog:
        with (
            ui.dialog().props("data-testid=live-confirm-dialog") as dialog,
            ui.card().classes("min-w-96 max-w-xl gap-2"),
        ):
            self.title = ui.label().classes("text-lg font-semibold").props("data-testid=live-confirm-title")
            ui.label(
                "Orders placed in this account will go to Alpaca's live API and spend real money. Its risk limits, "
                "compliance policy and kill switch still apply. To go on, type this phrase exactly:"
            ).classes("text-sm")
            ui.label(LIVE_CONFIRMATION_PHRASE).classes("font-mono text-base font-semibold").props(
                "data-testid=live-phrase-shown"
            )
            self.phrase = (
                ui.input("Type the phrase")
                .props("outlined dense autocomplete=off spellcheck=false data-testid=live-phrase")
                .classes("w-full")
                .on("keydown.enter", self.submit)
            )
            self.problem = Problem("live-confirm-error")
            with ui.row().classes("w-full justify-end gap-2 pt-2"):
                ui.button("Keep it off", on_click=dialog.close).props("flat no-caps data-testid=live-confirm-keep")
                ui.button("Turn on live trading", icon="lock_open", on_click=self.submit).props(
                    "unelevated no-caps color=negative data-testid=live-confirm"
                )
        return dialog

    def show(self, account: dict[str, Any] | None) -> None:
        """Show the panel for `account` (its summary) when it is live and waits for its confirmation."""
        self.account = account
        waiting = account is not None and bool(account.get("live")) and not account.get("live_confirmed")
        self.card.set_visibility(waiting)
        if not waiting and self.dialog is not None:
            self.dialog.close()

    def open(self) -> None:
        if self.dialog is None or self.account is None:
            return
        self.title.set_text(f"Turn on live trading for {self.account['name']}?")
        self.phrase.set_value("")
        self.problem.clear()
        self.dialog.open()

    async def submit(self) -> None:
        if self.dialog is None:
            return
        problem = await self.confirm(str(self.phrase.value or ""))
        if problem is None:
            self.dialog.close()
        else:
            self.problem.show(problem)
