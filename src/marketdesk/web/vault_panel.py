"""The key vault on the settings page: your secrets listed masked; add, replace and delete (confirmed) them.

A value goes from the input straight to `desk.vault.put`, which checks it offline against its provider's format
(the refusal says what the key should look like, never the value) and seals it; the input is emptied at once,
and nothing on the page ever shows more than the masked hint (bullets and the last two characters). Viewers see
their list but cannot change it, as the vault API refuses them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nicegui import ui
from nicegui.events import ValueChangeEventArguments

from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.vault.checks import KINDS, SecretKind
from marketdesk.vault.service import SecretInfo
from marketdesk.web import format as fmt
from marketdesk.web.account_text import capitalised
from marketdesk.web.forms import Confirm, Problem, acting_user, section
from marketdesk.web.identity import web_client

FIRST_KIND = "alpaca_key_id"


def kind_title(kind: SecretKind) -> str:
    """`Alpaca API key id` from the kind's label `an Alpaca API key id`."""
    label = kind.label
    for article in ("an ", "a "):
        if label.startswith(article):
            label = label[len(article) :]
            break
    return capitalised(label)


class VaultPanel:
    """The list of your secrets and, for those who may write, the form that adds or replaces one."""

    def __init__(self, desk: Desk, confirm: Confirm, *, can_write: bool) -> None:
        self.desk = desk
        self.confirm = confirm
        self.can_write = can_write
        self.stored: set[str] = set()
        with section(
            "Key vault",
            "Your broker, data, AI and notification keys, encrypted on this desk. A saved key is never shown "
            "again, only its last two characters.",
            "vault-section",
        ):
            self.body = ui.column().classes("w-full gap-2")
            if can_write:
                self._form()
            else:
                ui.label("Viewers can see their keys but not change them; ask an admin for the trader role.").classes(
                    "text-sm text-grey-7"
                ).props("data-testid=vault-read-only")

    def _form(self) -> None:
        options = {name: f"{kind_title(kind)} ({name})" for name, kind in KINDS.items()}
        ui.separator()
        with ui.row().classes("w-full items-start gap-3"):
            self.kind = (
                ui.select(options, value=FIRST_KIND, label="Key", on_change=self._kind_changed)
                .props("outlined dense options-dense data-testid=vault-kind")
                .classes("w-96")
            )
            self.value = (
                ui.input("Value", password=True)
                .props("outlined dense autocomplete=off spellcheck=false data-testid=vault-value")
                .classes("flex-1 min-w-64")
                .on("keydown.enter", self.save)
            )
            self.save_button = ui.button("Add", icon="key", on_click=self.save).props(
                "unelevated data-testid=vault-save"
            )
        self.expected = ui.label().classes("text-xs text-grey-7").props("data-testid=vault-expected")
        self.problem = Problem("vault-error")
        self._describe(FIRST_KIND)

    def _kind_changed(self, event: ValueChangeEventArguments[Any]) -> None:
        self.problem.clear()
        self._describe(str(event.value))

    def _describe(self, name: str) -> None:
        kind = KINDS.get(name)
        if kind is None:
            return
        self.expected.set_text(f"Expected: {kind.expected}. Find it in {kind.where}.")
        self.save_button.set_text("Replace" if name in self.stored else "Add")

    async def reload(self) -> None:
        user = await acting_user(self.desk)
        if user is None:
            return
        async with self.desk.db.session() as session:
            secrets = await self.desk.vault.list(session, user.id)
        self.stored = {info.name for info in secrets}
        self.body.clear()
        with self.body:
            self._table(secrets)
        if self.can_write:
            self._describe(str(self.kind.value))

    def _table(self, secrets: Sequence[SecretInfo]) -> None:
        if not secrets:
            ui.label("No keys yet. The desk works on the simulated market without any.").classes(
                "text-sm text-grey-7"
            ).props("data-testid=vault-empty")
            return
        with ui.element("q-markup-table").props("flat bordered dense data-testid=vault-table").classes("w-full"):
            with ui.element("thead"), ui.element("tr"):
                for header in ("Key", "Provider", "Value", "Updated", ""):
                    with ui.element("th").classes("text-left"):
                        ui.label(header)
            with ui.element("tbody"):
                for info in secrets:
                    self._row(info)

    def _row(self, info: SecretInfo) -> None:
        kind = KINDS.get(info.name)
        row = ui.element("tr").props("data-testid=vault-row")
        row.props["data-name"] = info.name
        with row:
            with ui.element("td"):
                ui.label(kind_title(kind) if kind else info.name)
                ui.label(info.name).classes("text-xs text-grey-7 desk-code")
            with ui.element("td"):
                ui.label(info.provider)
            with ui.element("td"):
                ui.label(info.hint).classes("desk-code").props("data-testid=vault-hint")
            with ui.element("td"):
                ui.label(fmt.timestamp(info.updated_at))
            with ui.element("td").classes("text-right whitespace-nowrap"):
                if self.can_write:
                    ui.button("Replace", on_click=lambda n=info.name: self.start_replace(n)).props(
                        "flat dense no-caps data-testid=vault-replace"
                    )
                    ui.button(icon="delete_outline", on_click=lambda n=info.name: self.delete(n)).props(
                        f'flat round dense color=grey-7 data-testid=vault-delete aria-label="Delete {info.name}"'
                    )

    def start_replace(self, name: str) -> None:
        """Point the form at `name`, ready for its new value."""
        self.kind.set_value(name)
        self._describe(name)
        self.value.run_method("focus")

    async def save(self) -> None:
        name = str(self.kind.value or "")
        value = str(self.value.value or "")
        self.value.set_value("")  # the value leaves the page whatever happens next
        user = await acting_user(self.desk)
        if user is None:
            return
        if not user.can_write:
            self.problem.show("viewers cannot change the key vault; ask an admin for the trader role")
            return
        try:
            async with self.desk.db.session() as session:
                info = await self.desk.vault.put(session, user.id, name, value, ip=web_client().ip)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.clear()
        replaced = name in self.stored
        ui.notify(f"{'Replaced' if replaced else 'Added'} {info.name} ({info.hint})", type="positive")
        await self.reload()

    async def delete(self, name: str) -> None:
        if not await self.confirm.ask(
            f"Delete {name} from your key vault?",
            "Anything on this desk that uses it stops working until you add it again.",
            "Delete",
        ):
            return
        user = await acting_user(self.desk)
        if user is None:
            return
        if not user.can_write:
            ui.notify("Viewers cannot change the key vault; ask an admin for the trader role.", type="warning")
            return
        try:
            async with self.desk.db.session() as session:
                await self.desk.vault.delete(session, user.id, name, ip=web_client().ip)
        except MarketdeskError as exc:
            ui.notify(exc.one_line(), type="negative", multi_line=True)
        else:
            ui.notify(f"Deleted {name}")
        await self.reload()
