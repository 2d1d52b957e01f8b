"""The dashboard: the watchlist, with prices pushed live from the quote hub."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from nicegui import app, ui
from nicegui.events import ValueChangeEventArguments
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError, NotFound, UnknownSymbol
from marketdesk.marketdata.port import Quote
from marketdesk.marketdata.service import DEFAULT_WATCHLIST, normalize_symbol
from marketdesk.web import format as fmt
from marketdesk.web.identity import refuse_viewer, web_identity
from marketdesk.web.layout import symbol_path
from marketdesk.web.live import LiveQuotes
from marketdesk.web.registry import desk_page
from marketdesk.web.theme import flash, set_direction

WATCHLIST_KEY = "watchlist"
SUGGESTIONS = 6


@desk_page("/", "Dashboard", "space_dashboard")
async def dashboard(desk: Desk) -> None:
    panel = WatchlistPanel(desk)
    await panel.build()


@dataclass
class Row:
    """The elements of one watchlist row that ticks update."""

    last_cell: ui.element
    change_cell: ui.element
    pct_cell: ui.element
    last: ui.label
    change: ui.label
    pct: ui.label
    price: Decimal | None = None


class WatchlistPanel:
    """One watchlist as a table: add, remove (confirmed), and live prices."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.name = str(app.storage.user.get(WATCHLIST_KEY, DEFAULT_WATCHLIST))
        self.symbols: list[str] = []
        self.rows: dict[str, Row] = {}
        self.live = LiveQuotes(desk, self.on_quote)
        self.owner_id = web_identity().owner_id
        self.can_write = web_identity().can_write  # a viewer gets no add or remove controls

    async def build(self) -> None:
        names = await self._watchlist_names()
        if self.name not in names:
            self.name = DEFAULT_WATCHLIST
        with ui.row().classes("w-full items-end gap-4"):
            with ui.column().classes("gap-0"):
                ui.label("Watchlist").classes("text-2xl font-semibold")
                caption = "Prices stream live from the server"
                if self.desk.simulated:
                    caption += " · SIMULATED market"
                ui.label(caption).classes("text-sm text-grey-7").props("data-testid=watchlist-caption")
            if len(names) > 1:
                ui.select(names, value=self.name, on_change=self._switch).props(
                    "dense outlined data-testid=watchlist-select"
                ).classes("w-48")
            ui.space()
            if self.can_write:
                self.add_input = (
                    ui.input(placeholder="Add a ticker")
                    .props("dense outlined clearable data-testid=watchlist-add-input")
                    .classes("w-56")
                    .on("keydown.enter", self._add_from_input)
                )
                ui.button("Add", icon="add", on_click=self._add_from_input).props(
                    "unelevated data-testid=watchlist-add-button"
                )
        self.body = ui.column().classes("w-full gap-2")
        self.confirm = self._confirm_dialog()
        await self.reload()

    # ---- data ------------------------------------------------------------------------------------------

    async def _watchlist_names(self) -> list[str]:
        async with self.desk.db.session() as session:
            return [view.name for view in await self.desk.market.watchlists(session, owner_id=self.owner_id)]

    async def reload(self) -> None:
        """Read the watchlist, redraw the table and follow its symbols' quotes."""
        names: dict[str, str] = {}
        async with self.desk.db.session() as session:
            try:
                self.symbols = (await self.desk.market.watchlist(session, self.name, owner_id=self.owner_id)).symbols
            except NotFound:
                self.symbols = []
            for symbol in self.symbols:
                try:
                    names[symbol] = (await self.desk.market.symbol(session, symbol)).name
                except UnknownSymbol:
                    names[symbol] = fmt.MISSING
            suggestions = [] if self.symbols else await self._suggestions(session)
        quotes = {q.symbol: q for q in await self.desk.market.quotes(self.symbols)}
        self.body.clear()
        self.rows = {}
        with self.body:
            if self.symbols:
                self._table(names, quotes)
            else:
                self._empty_state(suggestions)
        self.live.follow(self.symbols)

    async def _suggestions(self, session: AsyncSession) -> list[str]:
        page = await self.desk.market.search(session, None, limit=SUGGESTIONS)
        return [info.symbol for info in page.items]

    # ---- drawing ---------------------------------------------------------------------------------------

    def _table(self, names: dict[str, str], quotes: dict[str, Quote]) -> None:
        headers = (("Symbol", ""), ("Name", ""), ("Last", "desk-num"), ("Change", "desk-num"), ("Change %", "desk-num"))
        with (
            ui.element("q-markup-table")
            .props("flat bordered wrap-cells data-testid=watchlist-table")
            .classes("w-full desk-watchlist")
        ):
            with ui.element("thead"), ui.element("tr"):
                for label, classes in headers:
                    with ui.element("th").classes(f"text-left {classes}").props("scope=col"):
                        ui.label(label)
                if self.can_write:
                    ui.element("th").props("aria-label=Actions")
            with ui.element("tbody"):
                for symbol in self.symbols:
                    self._row(symbol, names[symbol], quotes.get(symbol))

    def _row(self, symbol: str, name: str, quote: Quote | None) -> None:
        with ui.element("tr").props(f'data-testid="watch-row-{symbol}" data-symbol="{symbol}"'):
            with ui.element("td"):
                ui.link(symbol, symbol_path(symbol)).classes("font-semibold").props(
                    f'data-testid="watch-link-{symbol}"'
                )
            with ui.element("td").classes("max-w-64 truncate"):
                ui.label(name).classes("truncate")
            cells = []
            for field in ("last", "change", "pct"):
                with ui.element("td").classes("desk-num").props(f"data-field={field}") as cell:
                    label = ui.label(fmt.MISSING)
                cells.append((cell, label))
            if self.can_write:
                with ui.element("td").classes("text-right"):
                    ui.button(icon="delete_outline", on_click=lambda s=symbol: self._remove(s)).props(
                        f'flat round dense color=grey-7 data-testid="remove-{symbol}" aria-label="Remove {symbol}"'
                    )
        row = Row(cells[0][0], cells[1][0], cells[2][0], cells[0][1], cells[1][1], cells[2][1])
        self.rows[symbol] = row
        if quote is not None:
            self._show(row, quote.last, quote.prev_close, quote.change_pct, flash_tick=False)

    def _empty_state(self, suggestions: list[str]) -> None:
        with ui.card().classes("w-full items-center py-10 gap-2").props("flat bordered data-testid=watchlist-empty"):
            ui.icon("playlist_add", size="3rem").classes("text-grey-6")
            ui.label(f"{self.name} is empty").classes("text-lg font-semibold")
            if not self.can_write:
                ui.label("Search a company in the header to open its page.").classes("text-grey-7")
                return
            ui.label("Add a ticker with the box above, or search a company in the header and open its page.").classes(
                "text-grey-7"
            )
            if suggestions:
                with ui.row().classes("items-center gap-2 pt-2"):
                    ui.label("Try:").classes("text-grey-7")
                    for symbol in suggestions:
                        ui.chip(symbol, icon="add", on_click=lambda s=symbol: self._add(s)).props(
                            f'outline clickable data-testid="suggest-{symbol}"'
                        )

    # ---- live ticks ------------------------------------------------------------------------------------

    def on_quote(self, data: dict[str, Any]) -> None:
        """Show one streamed quote (a `quote_payload`) and flash its cells green or red."""
        row = self.rows.get(str(data.get("symbol")))
        if row is None:
            return
        try:
            last = Decimal(str(data["last"]))
            prev_close = None if data.get("prev_close") is None else Decimal(str(data["prev_close"]))
        except (KeyError, InvalidOperation):
            return
        change_pct = data.get("change_pct")
        self._show(row, last, prev_close, float(change_pct) if change_pct is not None else None, flash_tick=True)

    def _show(
        self, row: Row, last: Decimal, prev_close: Decimal | None, change_pct: float | None, *, flash_tick: bool
    ) -> None:
        change = None if prev_close is None else last - prev_close
        direction = fmt.direction(change)
        row.last.set_text(fmt.price(last))
        row.change.set_text(fmt.change(change))
        row.pct.set_text(fmt.percent(change_pct, 2, signed=True))
        for cell in (row.change_cell, row.pct_cell):
            set_direction(cell, direction)
        if flash_tick and row.price is not None and last != row.price:
            tick = 1 if last > row.price else -1
            for cell in (row.last_cell, row.change_cell, row.pct_cell):
                flash(cell, tick)
        row.price = last

    # ---- actions ---------------------------------------------------------------------------------------

    async def _add_from_input(self) -> None:
        text = (self.add_input.value or "").strip()
        if not text:
            ui.notify("Type a ticker to add, e.g. AAPL", type="warning")
            return
        if await self._add(text):
            self.add_input.set_value("")

    async def _add(self, text: str) -> bool:
        if refuse_viewer("change watchlists"):
            return False
        try:
            symbol = normalize_symbol(text)
            if symbol in self.symbols:
                ui.notify(f"{symbol} is already in {self.name}", type="info")
                return True
            async with self.desk.db.session() as session:
                await self.desk.market.ensure_watchlist(session, self.name, [], owner_id=self.owner_id)
                await self.desk.market.add_to_watchlist(session, self.name, symbol, owner_id=self.owner_id)
        except MarketdeskError as exc:
            ui.notify(exc.one_line(), type="negative", multi_line=True)
            return False
        ui.notify(f"Added {symbol} to {self.name}", type="positive")
        await self.reload()
        return True

    async def _remove(self, symbol: str) -> None:
        if refuse_viewer("change watchlists"):
            return
        self.confirm_text.set_text(f"Remove {symbol} from {self.name}?")
        if not await self.confirm:
            return
        try:
            async with self.desk.db.session() as session:
                await self.desk.market.remove_from_watchlist(session, self.name, symbol, owner_id=self.owner_id)
        except MarketdeskError as exc:
            ui.notify(exc.one_line(), type="negative", multi_line=True)
            return
        ui.notify(f"Removed {symbol} from {self.name}")
        await self.reload()

    def _confirm_dialog(self) -> ui.dialog:
        with ui.dialog().props("data-testid=confirm-dialog") as dialog, ui.card().classes("min-w-72"):
            self.confirm_text = ui.label().classes("text-base")
            ui.label("Its row and live price leave the watchlist.").classes("text-sm text-grey-7")
            with ui.row().classes("w-full justify-end gap-2 pt-2"):
                ui.button("Cancel", on_click=lambda: dialog.submit(False)).props("flat data-testid=confirm-cancel")
                ui.button("Remove", color="negative", on_click=lambda: dialog.submit(True)).props(
                    "unelevated data-testid=confirm-remove"
                )
        return dialog

    async def _switch(self, event: ValueChangeEventArguments[Any]) -> None:
        self.name = str(event.value)
        app.storage.user[WATCHLIST_KEY] = self.name
        await self.reload()
