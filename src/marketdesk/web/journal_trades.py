"""The journal page's trades tab: round trips built from your trading accounts' fills, each with its
strategy/signal tag, your reason and notes (editable), and the statistics of the closed ones (count, wins,
losses, win rate, P&L, average win and loss, profit factor, expectancy, best and worst signal), all filtered by
date range, tag and symbol. Everything goes through `desk.journal` as the page's user."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from nicegui import ui

from marketdesk.errors import MarketdeskError
from marketdesk.journal.tradestats import TradeFilter, TradeStats
from marketdesk.journal.views import RoundTripView
from marketdesk.web.forms import Problem
from marketdesk.web.journal_text import quantity, trade_figures, when
from marketdesk.web.journal_ui import acting_writer, empty_state, stat
from marketdesk.web.layout import WRITE_CLASS, symbol_path
from marketdesk.web.portfolio_text import money
from marketdesk.web.portfolio_ui import cell, panel, table
from marketdesk.web.trade_support import notice

if TYPE_CHECKING:
    from marketdesk.web.journal_page import JournalPage

ALL_TAGS = "all"
UNTAGGED = "untagged"
STATUSES = {"all": "All", "closed": "Closed", "open": "Open"}
TRIPS_SHOWN = 200


class TradesPanel:
    """Filters, statistics and the round trips, with a dialog for a round trip's reason and notes."""

    def __init__(self, page: JournalPage) -> None:
        self.page = page
        self.trips: list[RoundTripView] = []
        self.any_trips = False
        with ui.card().classes("w-full gap-2").props("flat bordered data-testid=trades-filters"):
            with ui.row().classes("w-full items-center gap-3"):
                self.start = ui.input("From").props("outlined dense type=date data-testid=trades-start")
                self.end = ui.input("To").props("outlined dense type=date data-testid=trades-end")
                self.tag = (
                    ui.select({ALL_TAGS: "Every tag"}, value=ALL_TAGS, label="Tag")
                    .props("outlined dense options-dense data-testid=trades-tag")
                    .classes("w-48")
                )
                self.symbol = ui.input("Symbol").props("outlined dense data-testid=trades-symbol").classes("w-32")
                self.status = ui.toggle(STATUSES, value="all").props(
                    "no-caps unelevated dense toggle-color=primary data-testid=trades-status"
                )
                ui.button("Apply", icon="filter_alt", on_click=self.load).props(
                    "unelevated no-caps data-testid=trades-apply"
                )
                ui.button("Clear", on_click=self.clear).props("flat no-caps data-testid=trades-clear")
            self.problem = Problem("trades-error")
        self.stats = panel(
            "Statistics",
            "Over the closed round trips that pass the filters; an open one is only counted.",
            "trade-stats",
        )
        self.signals = ui.column().classes("w-full")
        self.list = ui.column().classes("w-full gap-2").props("data-testid=trips-list")
        self.editor = NoteDialog(self) if page.can_write else None

    def _filter(self, status: str) -> TradeFilter | None:
        try:
            start = date.fromisoformat(str(self.start.value)) if self.start.value else None
            end = date.fromisoformat(str(self.end.value)) if self.end.value else None
        except ValueError:
            self.problem.show("dates must look like 2026-11-20")
            return None
        tag = str(self.tag.value or ALL_TAGS)
        symbol = str(self.symbol.value or "").strip() or None
        return TradeFilter(status, None if tag == ALL_TAGS else tag, symbol, start, end)

    async def clear(self) -> None:
        for box in (self.start, self.end, self.symbol):
            box.set_value("")
        self.tag.set_value(ALL_TAGS)
        self.status.set_value("all")
        await self.load()

    async def load(self) -> None:
        """Read the round trips and statistics for the filters (and every tag there is, for the tag list)."""
        listed, measured = self._filter(str(self.status.value)), self._filter("all")
        if listed is None or measured is None:
            return
        journal, user = self.page.desk.journal, self.page.user
        try:
            async with self.page.desk.db.session() as session:
                everything = await journal.round_trips(session, user)
                trips = await journal.round_trips(session, user, listed)
                stats = await journal.trade_stats(session, user, measured)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.clear()
        self.any_trips = bool(everything)
        tags = sorted({t.trip.tag for t in everything if t.trip.tag})
        options = {ALL_TAGS: "Every tag", **{tag: tag for tag in tags}}
        if any(t.trip.tag is None for t in everything):
            options[UNTAGGED] = "No tag"
        chosen = self.tag.value if self.tag.value in options else ALL_TAGS
        self.tag.set_options(options, value=chosen)
        self.trips = trips
        self._draw_stats(stats)
        self._draw_trips()

    def _draw_stats(self, stats: TradeStats) -> None:
        self.stats.clear()
        with self.stats:
            with ui.row().classes("w-full gap-6"):
                for key, label, text in trade_figures(stats):
                    stat(label, text, key, "trade-stat")
            notes = list(stats.notes)
            if stats.open_round_trips:
                notes.append(f"{stats.open_round_trips} open round trip(s) not measured yet")
            for note in notes:
                ui.label(note[:1].upper() + note[1:]).classes("text-xs text-grey-7").props("data-testid=trade-note")
        self.signals.clear()
        if not stats.signals:
            return
        with self.signals:
            body = panel("By signal", "The opening order's tag; untagged round trips are no signal.", "signals")
            with body:
                headers = (("Signal", False), ("Round trips", True), ("Wins", True), ("Losses", True),
                           ("Win rate", True), ("P&L", True), ("Expectancy", True))  # fmt: skip
                with table("signals-table", headers):
                    for s in stats.signals:
                        with ui.element("tr").props(f'data-testid=signal-row data-tag="{s.tag or ""}"'):
                            cell(s.tag or "no tag", "tag")
                            cell(f"{s.count}", "count", numeric=True)
                            cell(f"{s.wins}", "wins", numeric=True)
                            cell(f"{s.losses}", "losses", numeric=True)
                            cell(f"{s.win_rate:.0%}", "win_rate", numeric=True)
                            cell(money(s.pnl, signed=True), "pnl", numeric=True)
                            cell(money(s.expectancy, signed=True), "expectancy", numeric=True)

    def _draw_trips(self) -> None:
        self.list.clear()
        with self.list:
            if not self.any_trips:
                empty_state(
                    "swap_horiz",
                    "No round trips yet",
                    "Each order that opens a position (on the Trade page, the API or md.Desk) starts a round trip "
                    "here; give the order a tag to measure each signal.",
                    "trips-empty",
                )
                return
            if not self.trips:
                empty_state("filter_alt_off", "No round trips match these filters", "Widen the dates or clear the "
                            "tag and symbol.", "trips-none-match")  # fmt: skip
                return
            headers = (("Symbol", False), ("Side", False), ("Status", False), ("Tag", False), ("Opened", False),
                       ("Closed", False), ("Qty", True), ("Entry", True), ("Exit", True), ("P&L", True),
                       ("Return", True), ("Reason", False), ("Notes", False), ("", False))  # fmt: skip
            with table("trips-table", headers):
                for view in self.trips[:TRIPS_SHOWN]:
                    self._row(view)
            if len(self.trips) > TRIPS_SHOWN:
                ui.label(f"The latest {TRIPS_SHOWN} of {len(self.trips)}; narrow the dates to see older ones.").classes(
                    "text-xs text-grey-7"
                )

    def _row(self, view: RoundTripView) -> None:
        t = view.trip
        with ui.element("tr").props(
            f'data-testid=trip-row data-id="{t.id}" data-status={t.status} data-tag="{t.tag or ""}"'
        ):
            with ui.element("td").props("data-field=symbol"):
                ui.link(t.symbol, symbol_path(t.symbol)).classes("font-semibold")
            cell(t.side.value, "side")
            cell(t.status, "status")
            cell(t.tag or "—", "tag")
            cell(when(t.opened_at), "opened")
            cell(when(t.closed_at), "closed")
            cell(quantity(t.qty), "qty", numeric=True)
            cell(money(t.entry_price), "entry", numeric=True)
            cell(money(t.exit_price), "exit", numeric=True)
            cell(money(t.pnl, signed=True), "pnl", numeric=True)
            cell("—" if t.return_pct is None else f"{t.return_pct:+.2f}%".replace("-", "−"), "return", numeric=True)
            with ui.element("td").classes("max-w-48").props("data-field=reason"):
                ui.label(view.reason).classes("text-sm")
            with ui.element("td").classes("max-w-64").props("data-field=notes"):
                ui.label(view.notes).classes("text-xs text-grey-8")
            with ui.element("td"):
                if self.editor is not None:
                    ui.button(icon="edit_note", on_click=lambda v=view: self._edit(v)).props(
                        f'flat dense round data-testid=trip-edit data-id="{t.id}" aria-label="Reason and notes"'
                    ).classes(WRITE_CLASS)

    def _edit(self, view: RoundTripView) -> None:
        if self.editor is not None:
            self.editor.open(view)


class NoteDialog:
    """Your reason and notes on one round trip."""

    def __init__(self, panel: TradesPanel) -> None:
        self.panel = panel
        self.view: RoundTripView | None = None
        with ui.dialog().props("data-testid=trip-dialog") as self.dialog, ui.card().classes("w-[36rem] gap-3"):
            self.title = ui.label().classes("text-lg font-semibold").props("data-testid=trip-dialog-title")
            self.reason = ui.input("Reason").props("outlined dense maxlength=200 data-testid=trip-reason")
            self.reason.classes("w-full")
            self.notes = ui.textarea("Notes").props("outlined dense autogrow maxlength=4000 data-testid=trip-notes")
            self.notes.classes("w-full")
            self.problem = Problem("trip-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat no-caps data-testid=trip-cancel")
                ui.button("Save", icon="save", on_click=self.save).props("unelevated no-caps data-testid=trip-save")

    def open(self, view: RoundTripView) -> None:
        self.view = view
        t = view.trip
        self.title.set_text(f"{t.symbol} {t.side.value} · opened {when(t.opened_at)}")
        self.reason.set_value(view.reason)
        self.notes.set_value(view.notes)
        self.problem.clear()
        self.dialog.open()

    async def save(self) -> None:
        view = self.view
        if view is None:
            return
        user = await acting_writer(self.panel.page.desk)
        if user is None:
            return
        try:
            async with self.panel.page.desk.db.session() as session:
                await self.panel.page.desk.journal.annotate(
                    session, user, view.trip.id, reason=str(self.reason.value or ""), notes=str(self.notes.value or "")
                )
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.dialog.close()
        notice(f"Saved your notes on the {view.trip.symbol} round trip.", "positive")
        await self.panel.load()
