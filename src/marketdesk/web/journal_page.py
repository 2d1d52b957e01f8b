"""The journal page (/journal, `?tab=theses|trades|calls|decisions`): the thesis journal with its check-ins (due
ones first), the trade journal's round trips and statistics, the market calls with their calendar and accuracy,
and the decision log's scorecard. See docs/journal.md and docs/decisions.md for the rules behind every number.

Everything goes through `desk.journal` and `desk.decisions` in-process, as the page's user (the calls REST and the
CLI make). Viewers see every tab but no write control, and every write handler re-reads the user first and
refuses anyone who may not write. The journal deletes nothing: a thesis is closed by a check-in that sells, which
asks for a confirmation first.
"""

from __future__ import annotations

from nicegui import ui

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.web.identity import web_identity
from marketdesk.web.journal_calls import CallsPanel
from marketdesk.web.journal_decisions import DecisionsPanel
from marketdesk.web.journal_theses import ThesesPanel
from marketdesk.web.journal_trades import TradesPanel
from marketdesk.web.registry import desk_page
from marketdesk.web.session import REGISTER_PATH
from marketdesk.web.trade_support import Confirm

TABS = {"theses": "Theses", "trades": "Trades", "calls": "Market calls", "decisions": "Decisions"}


@desk_page("/journal", "Journal", "menu_book")
async def journal_page(desk: Desk, tab: str | None = None) -> None:
    identity = web_identity()
    ui.label("Journal").classes("text-2xl font-semibold")
    if identity.user is None:
        with ui.card().classes("w-full items-start gap-2").props("flat bordered data-testid=journal-guest"):
            ui.label("The journal belongs to a user, and this desk has none yet.").classes("font-semibold")
            ui.label("Create the admin account, then write your theses and calls here.").classes("text-sm text-grey-7")
            ui.link("Create the admin account", REGISTER_PATH)
        return
    await JournalPage(desk, identity.user, can_write=identity.can_write).build(tab if tab in TABS else "theses")


class JournalPage:
    """The tabs of one signed-in user's journal."""

    def __init__(self, desk: Desk, user: CurrentUser, *, can_write: bool) -> None:
        self.desk = desk
        self.user = user
        self.can_write = can_write
        self.confirm = Confirm()

    async def build(self, tab: str) -> None:
        if not self.can_write:
            with ui.card().classes("w-full gap-1").props("flat bordered data-testid=viewer-notice"):
                ui.label("You are a viewer").classes("font-semibold")
                ui.label(
                    "You see your theses, round trips, calls and decisions; writing a thesis, checking in, "
                    "annotating a round trip or recording a call needs the trader role. Ask an admin."
                ).classes("text-sm text-grey-7")
        with ui.tabs().props("dense no-caps align=left data-testid=journal-tabs").classes("w-full") as tabs:
            self.tabs = {name: ui.tab(name, label).props(f"data-testid=tab-{name}") for name, label in TABS.items()}
        tabs.set_value(tab)
        with ui.tab_panels(tabs, value=tab).classes("w-full").props("keep-alive animated=false"):
            with ui.tab_panel("theses").classes("gap-3 px-0").props("data-testid=panel-theses"):
                self.theses = ThesesPanel(self)
            with ui.tab_panel("trades").classes("gap-3 px-0").props("data-testid=panel-trades"):
                self.trades = TradesPanel(self)
            with ui.tab_panel("calls").classes("gap-3 px-0").props("data-testid=panel-calls"):
                self.calls = CallsPanel(self)
            with ui.tab_panel("decisions").classes("gap-3 px-0").props("data-testid=panel-decisions"):
                self.decisions = DecisionsPanel(self)
        await self.theses.load()
        await self.trades.load()
        await self.calls.load()
        await self.decisions.load()

    def due_count(self, due: int) -> None:
        """Show how many check-ins are due on the theses tab's label."""
        label = TABS["theses"] + (f" ({due} due)" if due else "")
        self.tabs["theses"].props(f'label="{label}"')
