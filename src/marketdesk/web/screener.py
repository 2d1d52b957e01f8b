"""The screener in three panes: presets, filters and saved screens on the left; every matching name in a sortable
table in the middle; a row's research tearsheet sliding in from the right. A Newbie/Pro toggle (remembered by
this browser) swaps the pro table for a plain one that asks "What are you looking for?" and says why in a sentence.

Every number comes from `desk.screener.screen` and `desk.screener.research`; this page only arranges them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple

from nicegui import app, ui
from nicegui.events import GenericEventArguments, ValueChangeEventArguments
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError, NotFound, Rejected
from marketdesk.screener.config import DEFAULT_PRESET, PRESETS
from marketdesk.screener.model import VERDICT_RANK, Verdict
from marketdesk.screener.service import MAX_PAGE, ScreenPage
from marketdesk.web import format as fmt
from marketdesk.web.identity import web_identity
from marketdesk.web.registry import desk_page
from marketdesk.web.screener_holdings import user_holding_cells
from marketdesk.web.tearsheet import (
    ExplainDialog,
    TearsheetPanel,
    add_to_watchlist,
    column,
    dcf_refusal_text,
    metric_text,
    score_hue,
    sortable_table,
    verdict_key,
)

MODE_KEY = "screener_mode"
SAVED_KEY = "saved_screens"
SAVED_NAME_MAX = 40
MODES = {"newbie": "Newbie", "pro": "Pro"}
ASSETS = {"all": "All", "stock": "Stocks", "etf": "ETFs", "bond": "Bonds"}
UNIVERSE_LABELS = {
    "all": "Everything",
    "sim": "Simulated market",
    "sp500": "S&P 500",
    "megacap": "Mega-cap",
    "largecap": "Large-cap",
    "etfs": "ETFs",
    "bonds": "Bonds",
}
LOOSEN_SUGGESTIONS = 3
# pages rather than a virtual scroll: Quasar's virtual scroll re-parents the row slot, and its events then miss
ROWS_PER_PAGE = 50
IMPORT_HINT = "Verdicts need fundamentals too: `marketdesk data import fundamentals FILE…`."

# Shown only while the user holds a listed name, narrow, its header on two lines; while it shows, the table's
# padding and the company names give up the width it takes (the pro table had none to spare).
HELD_COLUMN = column("held", "Your holdings", order="da") | {"headerStyle": "white-space: normal; max-width: 5rem"}
HOLDING_CLASS = "desk-holding"
HOLDING_CSS = f"""
.desk-screen-table.{HOLDING_CLASS} th, .desk-screen-table.{HOLDING_CLASS} td {{ padding-left: 5px; padding-right: 5px; }}
.desk-screen-table.{HOLDING_CLASS} .desk-name {{ max-width: 6.5rem; }}
"""
PRO_COLUMNS = [
    column("symbol", "Ticker"),
    column("price", "Price", right=True, order="da"),
    column("verdict_rank", "Verdict", order="da"),
    column("score", "Score", right=True, order="da"),
    column("pe", "P/E", right=True),
    column("roe", "ROE", right=True, order="da"),
    column("dip_pct", "52W", right=True, order="da"),
    column("mos", "DCF", right=True, order="da"),
    column("flag_count", "Flags", order="da"),
    HELD_COLUMN,
    column("menu", "⋯", sortable=False),
]
NEWBIE_COLUMNS = [
    column("symbol", "Ticker"),
    column("price", "Price", right=True, order="da"),
    column("verdict_rank", "Verdict", order="da"),
    HELD_COLUMN,
    column("why", "Why?", sortable=False),
]
HEADER_TIPS = {
    "verdict_rank": "Strong Buy, Buy, Hold or Avoid, from the score and the gates",
    "score": "0–10: how well the name scores on the preset's factors",
    "pe": "Price over the last twelve months' earnings per share",
    "roe": "Return on equity: yearly profit over shareholders' equity",
    "dip_pct": "How far below its 52-week high",
    "mos": "DCF margin of safety: how far the price is below the discounted-cash-flow value",
    "flag_count": "Warnings: value trap, high leverage, falling earnings …",
    "why": "The main reason, in one sentence; click for the full explanation",
    "held": "What you own of it: its weight in your portfolio and your unrealized P&L (blank: you do not hold it)",
}

_TICKER_CELL = """
  <q-td key="symbol" :props="props">
    <div class="desk-ticker">{{ props.row.symbol }}</div>
    <div class="desk-name">{{ props.row.name }}</div>
  </q-td>
  <q-td key="price" :props="props" class="desk-num">{{ props.row.price_text }}</q-td>
  <q-td key="verdict_rank" :props="props">
    <span :class="'desk-verdict desk-verdict-' + props.row.verdict_key" data-testid="verdict-chip">{{ props.row.verdict_text }}</span>
  </q-td>"""
PRO_ROW = (
    """
<q-tr :props="props" class="desk-row" :data-testid="'screen-row-' + props.row.symbol" :data-symbol="props.row.symbol"
      tabindex="0" @click="$parent.$emit('open_row', props.row.symbol)"
      @keydown.enter="$parent.$emit('open_row', props.row.symbol)">
"""
    + _TICKER_CELL
    + """
  <q-td key="score" :props="props" class="desk-num">
    <span class="desk-score" :style="props.row.score_hue === null ? '' : '--h: ' + props.row.score_hue"
          data-field="score">{{ props.row.score_text }}</span>
  </q-td>
  <q-td key="pe" :props="props" class="desk-num">{{ props.row.pe_text }}</q-td>
  <q-td key="roe" :props="props" class="desk-num">{{ props.row.roe_text }}</q-td>
  <q-td key="dip_pct" :props="props" class="desk-num">{{ props.row.dip_text }}</q-td>
  <q-td key="mos" :props="props" class="desk-num" data-field="dcf">
    <span :class="props.row.mos_class">{{ props.row.mos_text }}</span>
    <q-tooltip v-if="props.row.dcf_note" max-width="320px">{{ props.row.dcf_note }}</q-tooltip>
  </q-td>
  <q-td key="flag_count" :props="props" class="desk-flags">
    <span v-for="flag in (props.row.flags ? props.row.flags.split('|') : [])" :key="flag" class="desk-flag">{{ flag }}</span>
  </q-td>
  <q-td v-if="props.colsMap.held" key="held" :props="props" class="desk-held" data-field="held"
        style="white-space: normal; max-width: 6rem; font-size: 0.72rem; line-height: 1.2"
        >{{ props.row.held_text }}</q-td>
  <q-td key="menu" :props="props" auto-width>
    <q-btn flat round dense size="sm" icon="more_horiz" @click.stop :aria-label="'Actions for ' + props.row.symbol"
           :data-testid="'row-menu-' + props.row.symbol">
      <q-menu auto-close>
        <q-list dense style="min-width: 200px">
          <q-item clickable @click="$parent.$emit('open_row', props.row.symbol)" data-testid="menu-tearsheet">
            <q-item-section avatar><q-icon name="article" /></q-item-section>
            <q-item-section>Open the tearsheet</q-item-section>
          </q-item>
          <q-item clickable tag="a" :href="'/symbol/' + encodeURIComponent(props.row.symbol)" data-testid="menu-symbol">
            <q-item-section avatar><q-icon name="candlestick_chart" /></q-item-section>
            <q-item-section>Open the symbol page</q-item-section>
          </q-item>
          <q-item clickable @click="$parent.$emit('watch', props.row.symbol)" data-testid="menu-watch" class="desk-write">
            <q-item-section avatar><q-icon name="playlist_add" /></q-item-section>
            <q-item-section>Add to watchlist</q-item-section>
          </q-item>
        </q-list>
      </q-menu>
    </q-btn>
  </q-td>
</q-tr>"""
)
NEWBIE_ROW = (
    """
<q-tr :props="props" class="desk-row" :data-testid="'newbie-row-' + props.row.symbol" :data-symbol="props.row.symbol"
      tabindex="0" @click="$parent.$emit('explain', props.row.symbol)"
      @keydown.enter="$parent.$emit('explain', props.row.symbol)">
"""
    + _TICKER_CELL
    + """
  <q-td v-if="props.colsMap.held" key="held" :props="props" class="desk-held" data-field="held"
        style="white-space: normal; max-width: 6rem; font-size: 0.72rem; line-height: 1.2"
        >{{ props.row.held_text }}</q-td>
  <q-td key="why" :props="props" class="desk-why">
    <span>{{ props.row.why }}</span>
    <q-btn flat dense no-caps size="sm" color="primary" label="Explain" class="q-ml-xs" data-testid="why-more"
           @click.stop="$parent.$emit('explain', props.row.symbol)" />
  </q-td>
</q-tr>"""
)
HEADER_CELL = """
<q-th :props="props">{{ props.col.label }}<q-tooltip max-width="280px">%s</q-tooltip></q-th>"""


# ---- the screen a user has asked for ------------------------------------------------------------------------


def _number(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


class Clause(NamedTuple):
    label: str
    expression: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class CustomFilters:
    """The sidebar's filter boxes; ROE and dip in percent as people type them."""

    pe_min: float | None = None
    pe_max: float | None = None
    roe_min_pct: float | None = None
    dip_min_pct: float | None = None
    de_max: float | None = None

    def clauses(self) -> list[Clause]:
        """Each active filter: what people call it, its expression, and the fields behind it."""
        out: list[Clause] = []
        if self.pe_min is not None or self.pe_max is not None:
            bounds = [f"pe >= {_number(self.pe_min)}"] if self.pe_min is not None else []
            bounds += [f"pe <= {_number(self.pe_max)}"] if self.pe_max is not None else []
            low = "any" if self.pe_min is None else _number(self.pe_min)
            high = "any" if self.pe_max is None else _number(self.pe_max)
            out.append(Clause(f"P/E {low} to {high}", " and ".join(bounds), ("pe_min", "pe_max")))
        if self.roe_min_pct is not None:
            value = _number(self.roe_min_pct)
            out.append(Clause(f"ROE at least {value}%", f"roe >= {_number(self.roe_min_pct / 100)}", ("roe_min_pct",)))
        if self.dip_min_pct is not None:
            value = _number(self.dip_min_pct)
            out.append(Clause(f"dip at least {value}%", f"dip_pct >= {value}", ("dip_min_pct",)))
        if self.de_max is not None:
            value = _number(self.de_max)
            out.append(Clause(f"debt/equity at most {value}", f"debt_to_equity <= {value}", ("de_max",)))
        return out

    def expression(self) -> str:
        """The filters as one screener expression, e.g. `pe >= 5 and pe <= 25 and roe >= 0.15`."""
        return " and ".join(clause.expression for clause in self.clauses())

    def without(self, clause: Clause) -> CustomFilters:
        return replace(self, **dict.fromkeys(clause.fields))


@dataclass(frozen=True)
class Screen:
    """Everything that picks the rows: what a saved screen keeps."""

    preset: str = DEFAULT_PRESET
    universe: str = "all"
    asset: str = "all"
    filters: CustomFilters = field(default_factory=CustomFilters)
    expression: str = ""

    def where(self) -> list[str]:
        return [text for text in (self.filters.expression(), self.expression.strip()) if text]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Screen:
        """A screen from stored data; unknown or mistyped entries fall back to the defaults."""
        stored = data.get("filters")
        filters: Mapping[str, Any] = stored if isinstance(stored, Mapping) else {}
        numbers = {
            name: float(value)
            for name, value in filters.items()
            if name in CustomFilters.__dataclass_fields__ and isinstance(value, int | float)
        }
        text = {name: str(data[name]) for name in ("preset", "universe", "expression") if data.get(name)}
        asset = data.get("asset") if data.get("asset") in ASSETS else "all"
        return cls(filters=CustomFilters(**numbers), asset=str(asset), **text)


def why_sentence(row: Mapping[str, Any]) -> str:
    """One plain sentence behind a row's verdict: its best reason for a buy, its worst for Hold or Avoid."""
    verdict = row.get("verdict")
    if verdict is None:
        reason = row.get("no_score") or "there is not enough data to judge it"
        return f"No verdict: {str(reason).rstrip('.')}."
    reasons = row.get("reasons") or {}
    pros, cons = list(reasons.get("for") or []), list(reasons.get("against") or [])
    if verdict in {Verdict.STRONG_BUY.value, Verdict.BUY.value}:
        first = pros[0] if pros else None
    else:
        first = cons[0] if cons else (pros[0] if pros else None)
    if first is None:
        return f"{verdict}: nothing stands out either way."
    return first.rstrip(".") + "."


def table_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A screen row as the tables show it: raw values to sort on, texts to display (no lists: Quasar needs flat
    cells)."""
    metrics = row.get("metrics") or {}
    dcf = row.get("dcf") or {}
    verdict = row.get("verdict")
    score = row.get("score")
    margin = dcf.get("margin_of_safety")
    price, pe, roe, dip = (metrics.get(name) for name in ("price", "pe", "roe", "dip_pct"))
    if margin is None:
        note = dcf_refusal_text(dcf.get("refusal")) if dcf.get("refusal") else "No DCF: the price is unknown."
    else:
        note = f"Intrinsic value ${fmt.price(dcf.get('intrinsic_value'))} a share against a price of {fmt.price(price)}"
    direction = 0 if margin is None else fmt.direction(round(margin * 100))  # the colour of the shown percent
    flags = [str(flag) for flag in row.get("flags") or []]
    return {
        "symbol": row["symbol"],
        "name": row.get("name") or "",
        "price": price,
        "price_text": fmt.price(price),
        "verdict_rank": VERDICT_RANK[Verdict(verdict)] if verdict else None,
        "verdict_text": verdict or "No verdict",
        "verdict_key": verdict_key(verdict),
        "score": score,
        "score_text": fmt.score(score),
        "score_hue": score_hue(score),
        "pe": pe,
        "pe_text": metric_text("pe", pe),
        "roe": roe,
        "roe_text": fmt.fraction(roe, 0),
        "dip_pct": dip,
        "dip_text": fmt.below_high(dip),
        "mos": margin,
        "mos_text": fmt.fraction(margin, 0, signed=True),
        "mos_class": {1: "desk-up", -1: "desk-down"}.get(direction, ""),
        "dcf_note": note,
        "flags": "|".join(flags),
        "flag_count": len(flags),
        "why": why_sentence(row),
        "held": None,
        "held_text": "",
    }


def universe_label(name: str) -> str:
    if name.startswith("watchlist:"):
        return f"Watchlist: {name.removeprefix('watchlist:')}"
    return UNIVERSE_LABELS.get(name, name)


@desk_page("/screener", "Screener", "filter_alt")
async def screener_page(desk: Desk, symbol: str | None = None) -> None:
    await ScreenerPage(desk).build(open_symbol=symbol)


# ---- the page -----------------------------------------------------------------------------------------------


@dataclass
class Fetched:
    page: ScreenPage
    rows: list[dict[str, Any]]
    loosen: list[tuple[str, int, Screen]]
    holdings: dict[str, dict[str, Any]]  # the "Your holdings" cells by symbol


class ScreenerPage:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.owner_id = web_identity().owner_id  # `watchlist:NAME` is this user's list
        self.user = web_identity().user  # whose holdings the "Your holdings" column shows
        self.screen = Screen()
        self.mode = str(app.storage.user.get(MODE_KEY, "pro"))
        self.mode = self.mode if self.mode in MODES else "pro"
        self.rows: list[dict[str, Any]] = []
        self.seq = 0
        self.preset_items: dict[str, ui.item] = {}
        self.goal_cards: dict[str, ui.card] = {}

    async def build(self, open_symbol: str | None) -> None:
        ui.context.slot.parent.classes(remove="max-w-6xl")  # three panes want the window's width
        ui.add_css(HOLDING_CSS)
        with ui.row().classes("w-full items-center gap-3"):
            with ui.column().classes("gap-0"):
                ui.label("Screener").classes("text-2xl font-semibold")
                self.summary = ui.label("Screening…").classes("text-sm text-grey-7").props("data-testid=screen-summary")
            ui.space()
            self.mode_toggle = ui.toggle(MODES, value=self.mode, on_change=self._on_mode).props(
                'no-caps unelevated toggle-color=primary data-testid=mode-toggle aria-label="Newbie or Pro view"'
            )
        self.goals = ui.column().classes("w-full gap-2").props("data-testid=newbie-goals")
        with self.goals:
            self._goals()
        with ui.row().classes("w-full no-wrap items-start gap-4"):
            self.sidebar = ui.column().classes("desk-sidebar gap-3").props("data-testid=screener-sidebar")
            with self.sidebar:
                self._sidebar()
            with ui.column().classes("flex-1 min-w-0 gap-2"):
                self.banner = ui.column().classes("w-full gap-1")
                with ui.row().classes("w-full justify-center py-16") as self.spinner:
                    ui.spinner(size="xl").props("data-testid=screen-loading")
                self.pro_table = self._table(PRO_COLUMNS, PRO_ROW, "screen-table")
                self.newbie_table = self._table(NEWBIE_COLUMNS, NEWBIE_ROW, "newbie-table")
                self.empty = ui.column().classes("w-full")
        self.tearsheet = TearsheetPanel(self.desk)
        self.explain = ExplainDialog(self.desk, self.tearsheet)
        self._dialogs()
        self._show_mode()
        ui.timer(0, lambda: self._first_load(open_symbol), once=True)  # after the page has reached the browser

    # ---- building --------------------------------------------------------------------------------------

    def _table(self, columns: list[dict[str, Any]], row_template: str, test_id: str) -> ui.table:
        table = sortable_table(columns, row_template, test_id, rows_per_page=ROWS_PER_PAGE).classes("desk-screen-table")
        for name in (c["name"] for c in columns if c["name"] in HEADER_TIPS):
            table.add_slot(f"header-cell-{name}", HEADER_CELL % HEADER_TIPS[name])
        table.on("open_row", self._on_open_row)
        table.on("watch", lambda e: add_to_watchlist(self.desk, str(e.args)))
        table.on("explain", lambda e: self.explain.open(str(e.args), self.screen.preset))
        table.set_visibility(False)
        return table

    def _goals(self) -> None:
        ui.label("What are you looking for?").classes("text-xl font-semibold").props("data-testid=newbie-question")
        with ui.row().classes("w-full gap-3"):
            for preset in (p for p in PRESETS.values() if p.kind == "strategy"):
                card = ui.card().classes("desk-goal").props(f'flat bordered data-testid="goal-{preset.id}"')
                card.on("click", lambda p=preset.id: self.show(replace(self.screen, preset=p), "preset"))
                with card:
                    ui.label(preset.label).classes("text-base font-semibold")
                    ui.label(preset.description).classes("text-sm text-grey-7")
                self.goal_cards[preset.id] = card
            with (
                ui.card()
                .classes("desk-goal")
                .props("flat bordered data-testid=goal-customise")
                .on("click", lambda: self._set_mode("pro"))
            ):
                ui.label("Customise").classes("text-base font-semibold")
                ui.label("Pick a professional preset, set your own filters: switches to Pro.").classes(
                    "text-sm text-grey-7"
                )

    def _sidebar(self) -> None:
        _caption("Presets")
        with ui.list().props("dense").classes("w-full desk-presets"):
            for kind, title in (("strategy", "Strategies"), ("professional", "Professional")):
                ui.item_label(title).props("header").classes("desk-list-header")
                for preset in (p for p in PRESETS.values() if p.kind == kind):
                    item = ui.item(on_click=lambda p=preset.id: self.show(replace(self.screen, preset=p), "preset"))
                    item.props(f'clickable dense data-testid="preset-{preset.id}"')
                    with item:
                        with ui.item_section():
                            ui.item_label(preset.label)
                        ui.tooltip(preset.description)
                    self.preset_items[preset.id] = item
        ui.separator()
        _caption("Universe and assets")
        self.universe_select = (
            ui.select({"all": "Everything"}, value="all", on_change=self._on_universe)
            .props("dense outlined options-dense data-testid=universe-select")
            .classes("w-full")
        )
        self.asset_toggle = (
            ui.toggle(ASSETS, value="all", on_change=self._on_asset)
            .props("dense no-caps unelevated spread toggle-color=primary data-testid=asset-toggle")
            .classes("w-full")
        )
        ui.separator()
        _caption("Custom filters")
        with ui.row().classes("w-full no-wrap gap-2"):
            self.pe_min = _number_input("P/E min", "filter-pe-min")
            self.pe_max = _number_input("P/E max", "filter-pe-max")
        with ui.row().classes("w-full no-wrap gap-2"):
            self.roe_min = _number_input("ROE min %", "filter-roe-min")
            self.dip_min = _number_input("Dip min %", "filter-dip-min")
        with ui.row().classes("w-full no-wrap gap-2 items-center"):
            self.de_max = _number_input("D/E max", "filter-de-max")
            ui.button("Apply", on_click=self._apply_filters).props("unelevated dense data-testid=filters-apply")
            ui.button(icon="clear", on_click=self._clear_filters).props(
                'flat dense round data-testid=filters-clear aria-label="Clear the filters"'
            )
        for box in (self.pe_min, self.pe_max, self.roe_min, self.dip_min, self.de_max):
            box.on("keydown.enter", self._apply_filters)
        self.filters_preview = ui.label().classes("desk-code text-xs").props("data-testid=filters-expression")
        self.filters_error = ui.label().classes("desk-error").props("data-testid=filters-error")
        ui.separator()
        _caption("Expression")
        self.expression_input = (
            ui.textarea(placeholder="e.g. pe < 25 and roe > 15% and dip_pct >= 5")
            .props("dense outlined autogrow data-testid=expression-input")
            .classes("w-full desk-code")
        )
        self.expression_input.on("keydown.enter.prevent", self._apply_expression)
        self.expression_error = ui.label().classes("desk-error").props("data-testid=expression-error")
        with ui.row().classes("w-full items-center gap-2"):
            ui.button("Run", on_click=self._apply_expression).props("unelevated dense data-testid=expression-apply")
            ui.label("Enter runs it; fields are the metric names.").classes("text-xs text-grey-7")
        ui.separator()
        _caption("Saved screens")
        if web_identity().can_write:  # viewers load saved screens but neither save nor delete them
            with ui.row().classes("w-full no-wrap gap-2 items-center"):
                self.save_name = (
                    ui.input(placeholder="Name this screen")
                    .props("dense outlined data-testid=save-name")
                    .classes("flex-1")
                    .on("keydown.enter", self._save)
                )
                ui.button(icon="bookmark_add", on_click=self._save).props(
                    'unelevated dense data-testid=save-screen aria-label="Save this screen"'
                )
        self.saved_list = ui.column().classes("w-full gap-0").props("data-testid=saved-screens")
        self._draw_saved()
        self._sync_controls()

    def _dialogs(self) -> None:
        with ui.dialog().props("data-testid=confirm-dialog") as self.confirm, ui.card().classes("min-w-72"):
            self.confirm_text = ui.label().classes("text-base")
            with ui.row().classes("w-full justify-end gap-2 pt-2"):
                ui.button("Cancel", on_click=lambda: self.confirm.submit(False)).props(
                    "flat data-testid=confirm-cancel"
                )
                ui.button("Delete", color="negative", on_click=lambda: self.confirm.submit(True)).props(
                    "unelevated data-testid=confirm-delete"
                )

    # ---- events ----------------------------------------------------------------------------------------

    async def _first_load(self, open_symbol: str | None) -> None:
        try:
            async with self.desk.db.session() as session:
                universes = await self.desk.universes.names(session, owner_id=self.owner_id)
        except MarketdeskError:
            universes = []
        options = {u.name: f"{universe_label(u.name)} ({u.size})" for u in universes} or {"all": "Everything"}
        self.universe_select.set_options(options, value=self.screen.universe)
        await self.show(self.screen, "screen")
        if open_symbol:
            await self.tearsheet.open(open_symbol.upper(), self.screen.preset)

    async def _on_universe(self, event: ValueChangeEventArguments[Any]) -> None:
        if event.value and event.value != self.screen.universe:  # not the echo of a programmatic change
            await self.show(replace(self.screen, universe=str(event.value)), "universe")

    async def _on_asset(self, event: ValueChangeEventArguments[Any]) -> None:
        if event.value and event.value != self.screen.asset:  # not the echo of a programmatic change
            await self.show(replace(self.screen, asset=str(event.value)), "asset")

    async def _apply_filters(self) -> None:
        filters = CustomFilters(
            pe_min=self.pe_min.value,
            pe_max=self.pe_max.value,
            roe_min_pct=self.roe_min.value,
            dip_min_pct=self.dip_min.value,
            de_max=self.de_max.value,
        )
        await self.show(replace(self.screen, filters=filters), "filters")

    async def _clear_filters(self) -> None:
        await self.show(replace(self.screen, filters=CustomFilters()), "filters")

    async def _apply_expression(self) -> None:
        await self.show(replace(self.screen, expression=str(self.expression_input.value or "").strip()), "expression")

    async def _on_open_row(self, event: GenericEventArguments) -> None:
        await self.tearsheet.open(str(event.args), self.screen.preset)

    def _on_mode(self, event: ValueChangeEventArguments[Any]) -> None:
        if event.value in MODES:
            self._set_mode(str(event.value))

    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        app.storage.user[MODE_KEY] = mode
        self.mode_toggle.set_value(mode)
        self._show_mode()
        self._fill_table()

    # ---- screening -------------------------------------------------------------------------------------

    async def show(self, candidate: Screen, source: str) -> bool:
        """Screen `candidate`; on success it becomes the page's screen, on a mistake the error shows next to the
        control that caused it (`source`) and the previous results stay."""
        self.seq += 1
        seq = self.seq
        self.spinner.set_visibility(True)
        try:
            fetched = await self._fetch(candidate)
        except NotFound as exc:  # an empty or unknown universe
            if seq == self.seq:
                self.spinner.set_visibility(False)
                self.screen = candidate
                self._sync_controls()
                self._empty_universe(candidate, exc)
            return False
        except Rejected as exc:
            if seq == self.seq:
                self.spinner.set_visibility(False)
                self._error(source, exc)
            return False
        if seq != self.seq:
            return False  # a newer request is on its way
        self.spinner.set_visibility(False)
        self.screen = candidate
        self._sync_controls()
        self._summary(fetched.page)
        self.rows = [table_row(row) | fetched.holdings.get(row["symbol"], {}) for row in fetched.rows]
        self.banner.clear()
        self.empty.clear()
        if fetched.page.message and self.rows:
            with self.banner:
                _banner(fetched.page.message, "info")
        if not self.rows:
            self._no_matches(fetched.page, fetched.loosen)
        self._fill_table()
        return True

    async def _fetch(self, screen: Screen) -> Fetched:
        async with self.desk.db.session() as session:
            page = await self._screen(session, screen, limit=MAX_PAGE)
            rows = list(page.rows)
            while len(rows) < page.total:
                more = await self._screen(session, screen, limit=MAX_PAGE, offset=len(rows))
                if not more.rows:
                    break
                rows.extend(more.rows)
            loosen = [] if rows else await self._loosening(session, screen)
        return Fetched(page, rows, loosen, await user_holding_cells(self.desk, self.user))

    async def _screen(self, session: AsyncSession, screen: Screen, *, limit: int, offset: int = 0) -> ScreenPage:
        return await self.desk.screener.screen(
            session,
            preset=screen.preset,
            where=screen.where(),
            universe=screen.universe,
            asset=None if screen.asset == "all" else screen.asset,
            limit=limit,
            offset=offset,
            owner_id=self.owner_id,
        )

    async def _loosening(self, session: AsyncSession, screen: Screen) -> list[tuple[str, int, Screen]]:
        """How many names each filter, dropped alone, would let through: which one to loosen first."""
        options: list[tuple[str, Screen]] = []
        for clause in screen.filters.clauses():
            options.append((clause.label, replace(screen, filters=screen.filters.without(clause))))
        if screen.expression:
            options.append((f"the expression “{screen.expression}”", replace(screen, expression="")))
        if screen.asset != "all":
            options.append((f"only {ASSETS[screen.asset]}", replace(screen, asset="all")))
        if screen.preset != DEFAULT_PRESET:
            options.append((f"the {PRESETS[screen.preset].label} preset", replace(screen, preset=DEFAULT_PRESET)))
        if screen.universe != "all":
            options.append((f"the {universe_label(screen.universe)} universe", replace(screen, universe="all")))
        out = []
        for label, looser in options:
            try:
                total = (await self._screen(session, looser, limit=0)).total
            except Rejected:
                continue
            if total:
                out.append((label, total, looser))
        return sorted(out, key=lambda item: -item[1])[:LOOSEN_SUGGESTIONS]

    # ---- showing ---------------------------------------------------------------------------------------

    def _fill_table(self) -> None:
        pro = self.mode == "pro"
        active, idle = (self.pro_table, self.newbie_table) if pro else (self.newbie_table, self.pro_table)
        idle.set_visibility(False)
        idle.update_rows([])
        holding = any(row.get("held_text") for row in self.rows)
        names = [c["name"] for c in (PRO_COLUMNS if pro else NEWBIE_COLUMNS) if holding or c["name"] != "held"]
        active.props[":visible-columns"] = json.dumps(names)
        if holding:
            active.classes(add=HOLDING_CLASS)
        else:
            active.classes(remove=HOLDING_CLASS)
        active.update_rows(self.rows)
        active.set_visibility(bool(self.rows))

    def _show_mode(self) -> None:
        newbie = self.mode == "newbie"
        self.goals.set_visibility(newbie)
        self.sidebar.set_visibility(not newbie)

    def _summary(self, page: ScreenPage) -> None:
        preset = PRESETS[page.preset].label if page.preset in PRESETS else page.preset
        parts = [preset, universe_label(page.universe)]
        if self.screen.asset != "all":
            parts.append(ASSETS[self.screen.asset])
        parts += [f"{page.total} names", f"as of {fmt.day(page.as_of)}", f"rules {page.version}"]
        if self.desk.simulated:
            parts.append("SIMULATED data")
        self.summary.set_text(" · ".join(parts))

    def _sync_controls(self) -> None:
        screen = self.screen
        for preset, item in self.preset_items.items():
            item.props(remove="active")
            item.classes(remove="desk-active")
            if preset == screen.preset:
                item.props("active").classes("desk-active")
        for preset, card in self.goal_cards.items():
            card.classes(remove="desk-goal-active", add="desk-goal-active" if preset == screen.preset else "")
        if self.universe_select.value != screen.universe and screen.universe in self.universe_select.options:
            self.universe_select.set_value(screen.universe)
        self.asset_toggle.set_value(screen.asset)
        f = screen.filters
        for box, value in (
            (self.pe_min, f.pe_min),
            (self.pe_max, f.pe_max),
            (self.roe_min, f.roe_min_pct),
            (self.dip_min, f.dip_min_pct),
            (self.de_max, f.de_max),
        ):
            box.set_value(value)
        expression = f.expression()
        self.filters_preview.set_text(f"→ {expression}" if expression else "")
        self.filters_preview.set_visibility(bool(expression))
        self.expression_input.set_value(screen.expression)
        for error in (self.filters_error, self.expression_error):
            error.set_text("")
            error.set_visibility(False)
        self.expression_input.props(remove="error")

    def _error(self, source: str, exc: Rejected) -> None:
        text = exc.one_line()
        if source == "expression":
            self.expression_input.props("error")
            self.expression_error.set_text(text)
            self.expression_error.set_visibility(True)
        elif source == "filters":
            self.filters_error.set_text(text)
            self.filters_error.set_visibility(True)
        else:
            self.banner.clear()
            with self.banner:
                _banner(text, "error")
            ui.notify(text, type="negative", multi_line=True)

    def _no_matches(self, page: ScreenPage, loosen: list[tuple[str, int, Screen]]) -> None:
        with (
            self.empty,
            ui.card().classes("w-full items-center py-8 gap-2").props("flat bordered data-testid=screen-empty"),
        ):
            ui.icon("filter_alt_off", size="3rem").classes("text-grey-6")
            ui.label("No names match this screen").classes("text-lg font-semibold")
            ui.label(page.message or "Loosen a filter or pick a wider universe.").classes("text-grey-7")
            for label, total, looser in loosen:
                ui.button(
                    f"Drop {label}: {total} names match without it",
                    on_click=lambda s=looser: self.show(s, "screen"),
                ).props("outline no-caps data-testid=loosen")

    def _empty_universe(self, screen: Screen, exc: NotFound) -> None:
        self.rows = []
        self._fill_table()
        self.banner.clear()
        self.empty.clear()
        self.summary.set_text(f"{universe_label(screen.universe)} · no names")
        with (
            self.empty,
            ui.card().classes("w-full items-center py-8 gap-2").props("flat bordered data-testid=universe-empty"),
        ):
            ui.icon("cloud_off", size="3rem").classes("text-grey-6")
            ui.label(f"{universe_label(screen.universe)} has no names to screen").classes("text-lg font-semibold")
            reason = exc.one_line()
            ui.label(reason[:1].upper() + reason[1:]).classes("text-grey-7 text-center")
            ui.label(IMPORT_HINT).classes("text-grey-7 text-sm text-center")
            if screen.universe != "all":
                ui.button(
                    "Screen everything instead", on_click=lambda: self.show(replace(screen, universe="all"), "screen")
                ).props("outline no-caps")

    # ---- saved screens ---------------------------------------------------------------------------------

    def _saved(self) -> list[dict[str, Any]]:
        stored = app.storage.user.get(SAVED_KEY, [])
        return [entry for entry in stored if isinstance(entry, dict) and entry.get("name")]

    def _draw_saved(self) -> None:
        self.saved_list.clear()
        with self.saved_list:
            saved = self._saved()
            can_write = web_identity().can_write
            if not saved:
                text = "Save the current screen under a name to come back to it." if can_write else "None saved."
                ui.label(text).classes("text-xs text-grey-7")
            for entry in saved:
                name = str(entry["name"])
                with ui.row().classes("w-full items-center no-wrap gap-1 desk-saved").props(f'data-saved="{name}"'):
                    ui.button(name, icon="bookmark", on_click=lambda n=name: self._load(n)).props(
                        f'flat dense no-caps align=left data-testid="saved-load-{name}"'
                    ).classes("flex-1 min-w-0 justify-start")
                    if can_write:
                        ui.button(icon="delete_outline", on_click=lambda n=name: self._delete(n)).props(
                            f'flat dense round size=sm color=grey-7 data-testid="saved-delete-{name}" aria-label="Delete {name}"'
                        )

    def _save(self) -> None:
        # the name becomes an element attribute: no quotes, and short enough for the sidebar
        name = " ".join(str(self.save_name.value or "").replace('"', "'").split())[:SAVED_NAME_MAX]
        if not name:
            ui.notify("Give the screen a name first", type="warning")
            return
        kept = [entry for entry in self._saved() if entry["name"] != name]
        app.storage.user[SAVED_KEY] = [*kept, {"name": name, **self.screen.to_dict()}]
        self.save_name.set_value("")
        self._draw_saved()
        ui.notify(f"Saved “{name}”", type="positive")

    async def _load(self, name: str) -> None:
        entry = next((e for e in self._saved() if e["name"] == name), None)
        if entry is None:
            return
        if await self.show(Screen.from_dict(entry), "saved"):
            ui.notify(f"Loaded “{name}”")

    async def _delete(self, name: str) -> None:
        self.confirm_text.set_text(f"Delete the saved screen “{name}”?")
        if not await self.confirm:
            return
        app.storage.user[SAVED_KEY] = [entry for entry in self._saved() if entry["name"] != name]
        self._draw_saved()
        ui.notify(f"Deleted “{name}”")


def _caption(text: str) -> None:
    ui.label(text).classes("text-xs uppercase tracking-wider font-semibold text-grey-7")


def _number_input(label: str, test_id: str) -> ui.number:
    return ui.number(label).props(f"dense outlined clearable data-testid={test_id}").classes("flex-1 min-w-0")


def _banner(text: str, kind: str) -> None:
    icon = {"error": "error_outline", "info": "info"}.get(kind, "info")
    with (
        ui.row()
        .classes(f"w-full no-wrap items-start gap-2 desk-banner desk-banner-{kind}")
        .props(f"data-testid=banner-{kind}")
    ):
        ui.icon(icon, size="20px")
        ui.label(text)
