"""The dip monitor: quality names below their 52-week high, why each one fell (the market, its sector or the
company itself) and a suggested play. The service keeps a result for 24 hours; "Refresh" asks for a new one.

Every row comes from `desk.screener.dips`; this page only arranges it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nicegui import app, ui
from nicegui.events import GenericEventArguments, ValueChangeEventArguments

from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.screener.dips import ALLOWED_THRESHOLDS_PCT
from marketdesk.screener.model import VERDICT_RANK, Verdict
from marketdesk.screener.service import DipReport
from marketdesk.web import format as fmt
from marketdesk.web.identity import web_identity
from marketdesk.web.registry import desk_page
from marketdesk.web.tearsheet import TearsheetPanel, add_to_watchlist, column, sortable_table, verdict_key

SETTINGS_KEY = "dip_settings"
BUILT_IN_UNIVERSES = {"megacap": "Mega-cap", "largecap": "Large-cap", "all": "Everything"}
MIN_VERDICTS = (Verdict.STRONG_BUY.value, Verdict.BUY.value, Verdict.HOLD.value)
CAUSE_KEYS = {"market-wide": "market", "sector": "sector", "company": "company"}


COLUMNS = [
    column("symbol", "Ticker"),
    column("price", "Price", right=True, order="da"),
    column("dip_pct", "Dip %", right=True, order="da"),
    column("verdict_rank", "Verdict", order="da"),
    column("cause", "Why it dipped"),
    column("play", "Suggested play", sortable=False),
    column("action", "Action", sortable=False),
]
ROW = """
<q-tr :props="props" :data-testid="'dip-row-' + props.row.symbol" :data-symbol="props.row.symbol">
  <q-td key="symbol" :props="props">
    <a class="desk-ticker desk-link" :href="'/symbol/' + encodeURIComponent(props.row.symbol)">{{ props.row.symbol }}</a>
    <div class="desk-name">{{ props.row.name }}</div>
  </q-td>
  <q-td key="price" :props="props" class="desk-num">{{ props.row.price_text }}</q-td>
  <q-td key="dip_pct" :props="props" class="desk-num desk-down">{{ props.row.dip_text }}</q-td>
  <q-td key="verdict_rank" :props="props">
    <span :class="'desk-verdict desk-verdict-' + props.row.verdict_key" data-testid="verdict-chip">{{ props.row.verdict }}</span>
  </q-td>
  <q-td key="cause" :props="props" class="desk-why" data-field="cause">
    <span :class="'desk-cause desk-cause-' + props.row.cause_key">{{ props.row.cause_text }}</span>
    <div class="text-caption">{{ props.row.why }}</div>
  </q-td>
  <q-td key="play" :props="props" class="desk-why" data-field="play">{{ props.row.play }}</q-td>
  <q-td key="action" :props="props" auto-width>
    <div class="row no-wrap items-center">
      <q-btn flat dense no-caps no-wrap size="sm" color="primary" icon="article" label="Tearsheet" data-testid="dip-tearsheet"
             @click="$parent.$emit('tearsheet', props.row.symbol)" />
      <q-btn flat dense round size="sm" color="grey-8" icon="playlist_add" data-testid="dip-watch" class="desk-write"
             :aria-label="'Add ' + props.row.symbol + ' to the watchlist'" @click="$parent.$emit('watch', props.row.symbol)">
        <q-tooltip>Add to your watchlist</q-tooltip>
      </q-btn>
    </div>
  </q-td>
</q-tr>"""


@dataclass(frozen=True)
class DipSettings:
    universe: str = "largecap"
    threshold_pct: float = 10.0
    min_verdict: str = Verdict.HOLD.value

    @classmethod
    def from_dict(cls, data: Any) -> DipSettings:
        """Settings kept by this browser; anything unexpected falls back to the default."""
        if not isinstance(data, dict):
            return cls()
        default = cls()
        threshold = data.get("threshold_pct")
        verdict = data.get("min_verdict")
        return cls(
            universe=str(data.get("universe") or default.universe),
            threshold_pct=float(threshold) if threshold in ALLOWED_THRESHOLDS_PCT else default.threshold_pct,
            min_verdict=str(verdict) if verdict in MIN_VERDICTS else default.min_verdict,
        )


def dip_row(row: dict[str, Any]) -> dict[str, Any]:
    """One dip as the table shows it: raw values to sort on, texts to display."""
    cause = str(row.get("cause") or "")
    verdict = row.get("verdict")
    return {
        "symbol": row["symbol"],
        "name": row.get("name") or "",
        "price": row.get("price"),
        "price_text": fmt.price(row.get("price")),
        "dip_pct": row.get("dip_pct"),
        "dip_text": fmt.below_high(row.get("dip_pct")),
        "verdict": verdict or "No verdict",
        "verdict_rank": VERDICT_RANK[Verdict(verdict)] if verdict else None,
        "verdict_key": verdict_key(verdict),
        "cause": cause,
        "cause_key": CAUSE_KEYS.get(cause, "company"),
        "cause_text": {"market-wide": "Market", "sector": "Sector", "company": "Company"}.get(cause, cause),
        "why": row.get("why") or "",
        "play": row.get("play") or "",
    }


def status_text(report: DipReport) -> str:
    """When the result was computed, and whether it came from the 24-hour cache."""
    when = fmt.timestamp(report.computed_at.astimezone(NEW_YORK))
    origin = "from the cache (kept 24 h; Refresh recomputes)" if report.cached else "just computed"
    found = f"{len(report.rows)} {'dip' if len(report.rows) == 1 else 'dips'} of {report.threshold_pct:g}% or more"
    return f"{found} · computed {when} · {origin} · data as of {fmt.day(report.as_of)}"


@desk_page("/dips", "Dips", "trending_down")
async def dips_page(desk: Desk) -> None:
    await DipMonitor(desk).build()


class DipMonitor:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.owner_id = web_identity().owner_id  # `watchlist:NAME` is this user's list
        self.settings = DipSettings.from_dict(app.storage.user.get(SETTINGS_KEY))
        self.seq = 0

    async def build(self) -> None:
        with ui.row().classes("w-full items-end gap-4"), ui.column().classes("gap-0"):
            ui.label("Dip monitor").classes("text-2xl font-semibold")
            ui.label("Quality names below their 52-week high: why they fell, and what to do about it.").classes(
                "text-sm text-grey-7"
            )
        with ui.row().classes("w-full items-center gap-4 desk-settings").props("data-testid=dip-settings"):
            self.universe = (
                ui.select(BUILT_IN_UNIVERSES, value=self.settings.universe, label="Universe", on_change=self._changed)
                .props("dense outlined options-dense data-testid=dip-universe")
                .classes("w-56")
            )
            with ui.column().classes("gap-0"):
                ui.label("Below the 52-week high by at least").classes("text-xs text-grey-7")
                self.threshold = ui.toggle(
                    {t: f"{t:g}%" for t in ALLOWED_THRESHOLDS_PCT},
                    value=self.settings.threshold_pct,
                    on_change=self._changed,
                ).props("dense no-caps unelevated toggle-color=primary data-testid=dip-threshold")
            self.min_verdict = (
                ui.select(
                    list(MIN_VERDICTS),
                    value=self.settings.min_verdict,
                    label="Verdict at least",
                    on_change=self._changed,
                )
                .props("dense outlined options-dense data-testid=dip-min-verdict")
                .classes("w-44")
            )
            ui.space()
            self.refresh_button = ui.button("Refresh", icon="refresh", on_click=lambda: self.load(refresh=True)).props(
                "unelevated no-caps data-testid=dip-refresh"
            )
        with ui.row().classes("w-full items-center gap-2"):
            self.spinner = ui.spinner(size="md").props("data-testid=dip-spinner")
            self.status = ui.label("Looking for dips…").classes("text-sm text-grey-7").props("data-testid=dip-status")
        self.table = sortable_table(COLUMNS, ROW, "dip-table").props("hide-bottom wrap-cells").classes("desk-dip-table")
        self.table.on("tearsheet", self._tearsheet)
        self.table.on("watch", lambda e: add_to_watchlist(self.desk, str(e.args)))
        self.table.set_visibility(False)
        self.empty = ui.column().classes("w-full")
        self.tearsheet = TearsheetPanel(self.desk)
        ui.timer(0, self._first_load, once=True)  # after the page has reached the browser

    async def _first_load(self) -> None:
        options = dict(BUILT_IN_UNIVERSES)
        try:
            async with self.desk.db.session() as session:
                watchlists = await self.desk.market.watchlists(session, owner_id=self.owner_id)
        except MarketdeskError:
            watchlists = []
        options.update({f"watchlist:{w.name}": f"Watchlist: {w.name}" for w in watchlists})
        if self.settings.universe not in options:
            self.settings = DipSettings(
                threshold_pct=self.settings.threshold_pct, min_verdict=self.settings.min_verdict
            )
        self.universe.set_options(options, value=self.settings.universe)
        await self.load()

    async def _changed(self, event: ValueChangeEventArguments[Any]) -> None:
        settings = DipSettings(
            universe=str(self.universe.value),
            threshold_pct=float(self.threshold.value),
            min_verdict=str(self.min_verdict.value),
        )
        if settings == self.settings:
            return
        self.settings = settings
        app.storage.user[SETTINGS_KEY] = {
            "universe": settings.universe,
            "threshold_pct": settings.threshold_pct,
            "min_verdict": settings.min_verdict,
        }
        await self.load()

    async def load(self, *, refresh: bool = False) -> None:
        self.seq += 1
        seq = self.seq
        settings = self.settings
        self.spinner.set_visibility(True)
        self.refresh_button.props("loading")
        self.status.set_text("Looking for dips…" if not refresh else "Recomputing…")
        try:
            async with self.desk.db.session() as session:
                report = await self.desk.screener.dips(
                    session,
                    universe=settings.universe,
                    threshold_pct=settings.threshold_pct,
                    min_verdict=settings.min_verdict,
                    refresh=refresh,
                    owner_id=self.owner_id,
                )
        except MarketdeskError as exc:
            if seq == self.seq:
                self._done()
                self._show_empty(exc.one_line(), error=True)
            return
        if seq != self.seq:
            return  # newer settings are being computed
        self._done()
        self.status.set_text(status_text(report))
        rows = [dip_row(row) for row in report.rows]
        self.table.update_rows(rows)
        self.table.set_visibility(bool(rows))
        self.empty.clear()
        if not rows:
            self._show_empty(report.message or "No dips with these settings.", error=False)

    def _done(self) -> None:
        self.spinner.set_visibility(False)
        self.refresh_button.props(remove="loading")

    def _show_empty(self, message: str, *, error: bool) -> None:
        self.table.set_visibility(False)
        self.empty.clear()
        with (
            self.empty,
            ui.card().classes("w-full items-center py-8 gap-2").props("flat bordered data-testid=dip-empty"),
        ):
            ui.icon("error_outline" if error else "trending_flat", size="3rem").classes("text-grey-6")
            ui.label("Nothing to show" if error else "No dips right now").classes("text-lg font-semibold")
            ui.label(message).classes("text-grey-7 text-center")
            if not error:
                ui.label(
                    "Try a lower threshold (5%), a looser verdict (Hold) or a wider universe (Everything)."
                ).classes("text-sm text-grey-7")

    async def _tearsheet(self, event: GenericEventArguments) -> None:
        await self.tearsheet.open(str(event.args))
