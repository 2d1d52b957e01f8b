"""The research tearsheet as a panel that slides in from the right, and the small pieces the screener and the dip
monitor share with it: verdict chips, the score colour scale, DCF refusals in words, and "add to watchlist".

The panel shows what `desk.screener.research` returns: the verdict, score, flags, the plain explanation and the
DCF, then the position size the sizing service recommends for the user's first paper account (docs/sizing.md),
then the seven sections (core metrics, valuation context, decision framework, risk breakdown, threshold
sensitivity, peers, events). It computes nothing itself.

"Save verdict" logs the verdict shown in the user's decision log (`desk.decisions.log_decision`, action saved, with
the preset the sheet was judged with), where it is scored against the benchmark at 30, 60 and 90 days. A name
without a verdict has nothing to save: the button is disabled and says why. Viewers see no such button.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from nicegui import app, ui

from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.marketdata.service import DEFAULT_WATCHLIST
from marketdesk.portfolio.sizing_service import PositionSize
from marketdesk.screener.catalog import METRICS
from marketdesk.screener.config import PRESETS
from marketdesk.screener.gates import format_value
from marketdesk.web import format as fmt
from marketdesk.web.forms import acting_user
from marketdesk.web.home import WATCHLIST_KEY
from marketdesk.web.identity import refuse_viewer, web_identity
from marketdesk.web.layout import symbol_path
from marketdesk.web.trade_support import SizingBox

PANEL_WIDTH_PX = 420
SECTIONS: tuple[tuple[str, str], ...] = (
    ("core_metrics", "Core metrics"),
    ("valuation_context", "Valuation context"),
    ("decision_framework", "Decision framework"),
    ("risk_breakdown", "Risk breakdown"),
    ("threshold_sensitivity", "Threshold sensitivity"),
    ("peers", "Peers"),
    ("events", "Events"),
)
VERDICT_KEYS = {"Strong Buy": "strong-buy", "Buy": "buy", "Hold": "hold", "Avoid": "avoid"}
DCF_REFUSALS = {
    "not-a-stock": "A DCF values a company's own cash flows; funds and bonds have none to discount.",
    "fcf-missing": "No free cash flow is reported, so there is nothing to discount.",
    "fcf-not-positive": "Free cash flow is zero or negative: discounting cash burn gives no value.",
    "shares-missing": "The share count is unknown, so there is no value per share.",
    "rate-not-above-growth": "The discount rate is not above the terminal growth rate, so the model breaks down.",
    "equity-not-positive": "Debt outweighs the discounted cash flows: nothing is left for shareholders.",
}
GATE_ICONS = {"pass": ("check_circle", "text-positive"), "fail": ("cancel", "text-negative")}


# ---- shared pieces ------------------------------------------------------------------------------------------


def verdict_key(verdict: str | None) -> str:
    """The CSS suffix of a verdict chip: `strong-buy`, `buy`, `hold`, `avoid`, or `none` without a verdict."""
    return VERDICT_KEYS.get(verdict or "", "none")


def verdict_chip(verdict: str | None) -> ui.label:
    """A coloured chip: Strong Buy and Buy in greens, Hold amber, Avoid red, no verdict grey."""
    return ui.label(verdict or "No verdict").classes(f"desk-verdict desk-verdict-{verdict_key(verdict)}")


def score_hue(score: float | None) -> int | None:
    """Where a 0–10 score sits on the red (0) → amber (45) → green (130) hue scale; None without a score."""
    if score is None or not math.isfinite(score):
        return None
    clipped = min(10.0, max(0.0, score))
    return round(clipped * 9 if clipped <= 5 else 45 + (clipped - 5) * 17)


def score_badge(score: float | None) -> ui.label:
    hue = score_hue(score)
    badge = ui.label(fmt.score(score)).classes("desk-score desk-num")
    if hue is not None:
        badge.style(f"--h: {hue}")
    return badge


def dcf_refusal_text(code: str | None) -> str:
    """Why there is no DCF, in words, from a refusal code."""
    if code is None:
        return "No DCF for this name."
    return DCF_REFUSALS.get(code, f"No DCF ({code.replace('-', ' ')}).")


def metric_text(metric: str, value: float | None) -> str:
    """A catalogue metric as people read it, "—" when missing."""
    if value is None or metric not in METRICS:
        return fmt.MISSING if value is None else f"{value:,.2f}"
    return format_value(metric, value)


def save_verdict_hint(symbol: str, verdict: str | None) -> tuple[bool, str]:
    """Whether the tearsheet's Save verdict button is enabled, and its tooltip: a name without a verdict has
    nothing to save.

    >>> save_verdict_hint("AAPL", None)
    (False, 'The screener gives AAPL no verdict, so there is nothing to save.')
    """
    if verdict is None:
        return False, f"The screener gives {symbol} no verdict, so there is nothing to save."
    return True, f"Log {verdict} in your decision log, to see later how it did against the benchmark."


async def add_to_watchlist(desk: Desk, symbol: str) -> None:
    """Add `symbol` to this browser's watchlist (the one the dashboard shows) and say so."""
    name = str(app.storage.user.get(WATCHLIST_KEY, DEFAULT_WATCHLIST))
    if refuse_viewer("change watchlists"):
        return
    owner_id = web_identity().owner_id
    try:
        async with desk.db.session() as session:
            await desk.market.ensure_watchlist(session, name, [], owner_id=owner_id)
            view = await desk.market.add_to_watchlist(session, name, symbol, owner_id=owner_id)
    except MarketdeskError as exc:
        ui.notify(exc.one_line(), type="negative", multi_line=True)
        return
    ui.notify(f"{symbol} is in {view.name}", type="positive")


# Quasar sorts missing values first; a screen reads better with them last whichever way it is sorted.
SORT_JS = """(rows, sortBy, descending) => {
  const missing = (v) => v === null || v === undefined || v === '';
  const dir = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[sortBy], y = b[sortBy];
    if (missing(x) || missing(y)) return missing(x) - missing(y);
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
    return String(x).localeCompare(String(y)) * dir;
  });
}"""
ROWS_PER_PAGE_OPTIONS = "[25, 50, 100, 0]"


def column(name: str, label: str, *, right: bool = False, order: str = "ad", sortable: bool = True) -> dict[str, Any]:
    """A table column whose name is also the row field it sorts on; `order` "da" sorts highest first."""
    align = "right" if right else "left"
    return {"name": name, "label": label, "field": name, "align": align, "sortable": sortable, "sortOrder": order}


def sortable_table(
    columns: list[dict[str, Any]], row_template: str, test_id: str, *, rows_per_page: int = 0
) -> ui.table:
    """A Quasar table sorted in the browser (missing values last), each row drawn by `row_template` (a `body`
    slot whose `$parent.$emit(...)` calls reach `table.on(...)`)."""
    table = (
        ui.table(rows=[], columns=columns, row_key="symbol", pagination=rows_per_page)
        .props(f"flat bordered dense binary-state-sort data-testid={test_id}")
        .classes("w-full")
    )
    table.props[":sort-method"] = SORT_JS
    table.props[":rows-per-page-options"] = ROWS_PER_PAGE_OPTIONS
    table.add_slot("body", row_template)
    return table


def _preset_label(preset: object) -> str:
    found = PRESETS.get(str(preset))
    return found.label if found else str(preset)


def _day(text: object) -> str:
    return fmt.day(date.fromisoformat(text)) if isinstance(text, str) else fmt.MISSING


class ExplainDialog:
    """The plain-language explanation of one verdict, in a dialog, with a way on to the full tearsheet."""

    def __init__(self, desk: Desk, tearsheet: TearsheetPanel) -> None:
        self.desk = desk
        self.tearsheet = tearsheet
        self.preset: str | None = None
        with ui.dialog().props("data-testid=explain-dialog") as self.dialog, ui.card().classes("w-[36rem] max-w-full"):
            self.body = ui.column().classes("w-full gap-2")

    async def open(self, symbol: str, preset: str | None = None) -> None:
        self.preset = preset
        self.body.clear()
        with self.body:
            ui.spinner(size="lg")
        self.dialog.open()
        try:
            async with self.desk.db.session() as session:
                sheet = await self.desk.screener.research(session, symbol, preset=preset)
        except MarketdeskError as exc:
            self.body.clear()
            with self.body:
                ui.label(exc.one_line()).classes("text-negative")
            return
        self.body.clear()
        with self.body:
            ui.label(f"{symbol} · {sheet.get('name') or ''}").classes("text-lg font-semibold")
            ui.label(str(sheet.get("plain") or "")).classes("desk-plain").props("data-testid=explain-text")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Full tearsheet", on_click=lambda: self._tearsheet(symbol)).props(
                    "flat no-caps data-testid=explain-tearsheet"
                )
                ui.button("Close", on_click=self.dialog.close).props("unelevated data-testid=explain-close")

    async def _tearsheet(self, symbol: str) -> None:
        self.dialog.close()
        await self.tearsheet.open(symbol, self.preset)


# ---- the panel ----------------------------------------------------------------------------------------------


class TearsheetPanel:
    """A right-hand drawer over the page. Create it inside a page; `await panel.open(symbol)` fills and shows it."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.symbol: str | None = None
        self.preset: str | None = None
        with ui.context.client.content:  # a drawer belongs to the page itself, not to the content column
            self.drawer = (
                ui.right_drawer(value=False, fixed=True, elevated=True)
                .props(f"width={PANEL_WIDTH_PX} overlay behavior=desktop data-testid=tearsheet")
                .classes("desk-tearsheet")
            )
        with self.drawer:
            self.body = ui.column().classes("w-full gap-3")

    @property
    def is_open(self) -> bool:
        return bool(self.drawer.value)

    def close(self) -> None:
        self.symbol = None
        self.drawer.hide()

    async def open(self, symbol: str, preset: str | None = None) -> None:
        """Show `symbol`'s tearsheet (judged with `preset`); a newer `open` wins over a slower older one."""
        self.symbol, self.preset = symbol, preset
        self.body.clear()
        with self.body:
            self._title_bar(symbol, None)
            with ui.row().classes("w-full justify-center py-10"):
                ui.spinner(size="lg").props("data-testid=tearsheet-loading")
        self.drawer.show()
        try:
            async with self.desk.db.session() as session:
                sheet = await self.desk.screener.research(session, symbol, preset=preset)
        except MarketdeskError as exc:
            if self.symbol == symbol:
                self.body.clear()
                with self.body:
                    self._title_bar(symbol, None)
                    ui.label(exc.one_line()).classes("text-negative").props("data-testid=tearsheet-error")
            return
        sized, sizing_problem = await self._size(symbol)
        if self.symbol != symbol:
            return  # the user has asked for another name meanwhile
        self.body.clear()
        with self.body:
            self._render(sheet, sized, sizing_problem)

    async def _size(self, symbol: str) -> tuple[PositionSize | None, str | None]:
        """The recommended size of a new position for the page's user (a notional $10,000 without an account)."""
        try:
            async with self.desk.db.session() as session:
                return await self.desk.sizing.size(session, web_identity().user, symbol), None
        except MarketdeskError as exc:
            return None, exc.one_line()

    async def save_verdict(self, symbol: str) -> None:
        """Log the desk's verdict on `symbol` as saved, judged with the sheet's preset, and say what was kept."""
        user = await acting_user(self.desk)
        if user is None:
            return
        if not user.can_write:
            ui.notify(f"Viewers cannot save verdicts; you are a {user.role.value}. Ask an admin for the trader role.",
                      type="warning", multi_line=True)  # fmt: skip
            return
        try:
            async with self.desk.db.session() as session:
                saved = await self.desk.decisions.log_decision(session, user, symbol, preset=self.preset)
        except MarketdeskError as exc:
            ui.notify(exc.one_line(), type="negative", multi_line=True)
            return
        ui.notify(
            f"Saved: {saved.verdict} on {saved.symbol} at {fmt.price(saved.price)} ({saved.price_date:%Y-%m-%d} "
            f"close, rules {saved.scoring_version}). The Journal's Decisions tab scores it at 30, 60 and 90 days.",
            type="positive", multi_line=True,
        )  # fmt: skip

    # ---- drawing ------------------------------------------------------------------------------------------

    def _save_button(self, symbol: str, verdict: str | None) -> None:
        """The Save verdict button; disabled, with the reason in a tooltip, for a name the screener does not rate.
        The tooltip hangs on a wrapper: a disabled button gets no pointer events to show one."""
        enabled, hint = save_verdict_hint(symbol, verdict)
        with ui.element("span").classes("self-start").props("data-testid=tearsheet-save-wrap"):
            button = ui.button("Save verdict", icon="bookmark_add", on_click=lambda: self.save_verdict(symbol))
            button.props(f'outline dense no-caps size=sm data-testid=tearsheet-save data-verdict="{verdict or ""}"')
            button.set_enabled(enabled)
            ui.tooltip(hint).props("data-testid=tearsheet-save-hint")

    def _title_bar(self, symbol: str, name: str | None) -> None:
        with ui.row().classes("w-full items-start no-wrap gap-2"):
            with ui.column().classes("gap-0 min-w-0"):
                ui.label(symbol).classes("text-xl font-bold").props("data-testid=tearsheet-symbol")
                if name:
                    ui.label(name).classes("text-sm text-grey-7 ellipsis max-w-80")
            ui.space()
            ui.button(icon="close", on_click=self.close).props(
                'flat round dense data-testid=tearsheet-close aria-label="Close the tearsheet"'
            )

    def _render(
        self, sheet: dict[str, Any], sized: PositionSize | None = None, sizing_problem: str | None = None
    ) -> None:
        symbol = str(sheet["symbol"])
        self._title_bar(symbol, sheet.get("name"))
        with ui.row().classes("items-center gap-2"):
            verdict_chip(sheet.get("verdict")).props("data-testid=tearsheet-verdict")
            score_badge(sheet.get("score")).props("data-testid=tearsheet-score")
            ui.label("/ 10").classes("text-xs text-grey-7")
            ui.space()
            ui.link("Symbol page", symbol_path(symbol)).classes("text-sm")
            if web_identity().can_write:  # viewers get no write controls
                ui.button(icon="playlist_add", on_click=lambda: add_to_watchlist(self.desk, symbol)).props(
                    'flat round dense size=sm data-testid=tearsheet-watch aria-label="Add to watchlist"'
                ).tooltip("Add to your watchlist")
        if web_identity().can_write and web_identity().user is not None:
            self._save_button(symbol, sheet.get("verdict"))
        flags = sheet.get("flags") or []
        if flags:
            with ui.row().classes("gap-1").props("data-testid=tearsheet-flags"):
                for flag in flags:
                    ui.label(flag).classes("desk-flag")
        ui.label(str(sheet.get("plain") or "")).classes("desk-plain text-sm").props("data-testid=tearsheet-plain")
        _dcf_box(sheet.get("dcf") or {})
        sizing = SizingBox("tearsheet-sizing", link_trade=web_identity().can_write, reasons_open=True)
        if sized is not None:
            sizing.show(sized)
        elif sizing_problem is not None:
            sizing.problem(sizing_problem)
        sections = sheet.get("sections") or {}
        drawers = {
            "core_metrics": _core_metrics,
            "valuation_context": _valuation_context,
            "decision_framework": _decision_framework,
            "risk_breakdown": _risk_breakdown,
            "threshold_sensitivity": _sensitivity,
            "peers": self._peers,
            "events": _events,
        }
        for key, title in SECTIONS:
            with (
                ui.expansion(title, value=key != "core_metrics")
                .props(f'dense header-class="desk-section-title" data-testid="tearsheet-section-{key}"')
                .classes("w-full desk-section")
            ):
                drawers[key](sections.get(key))
        ui.label(
            f"As of {_day(sheet.get('as_of'))} · {_preset_label(sheet.get('preset'))} rules {sheet.get('version')}"
            + (" · SIMULATED data" if self.desk.simulated else "")
        ).classes("text-xs text-grey-6 pb-4")

    def _peers(self, rows: Any) -> None:
        if not rows:
            ui.label("No peers in the same industry or sector.").classes("text-sm text-grey-7")
            return
        same = {str(row.get("same")) for row in rows}
        ui.label(f"Same {' or '.join(sorted(same))}, nearest in size. Click one to open its tearsheet.").classes(
            "text-xs text-grey-7"
        )
        with ui.element("table").classes("desk-mini w-full"):
            with ui.element("tr"):
                for head, right in (
                    ("Ticker", False),
                    ("Verdict", False),
                    ("Score", True),
                    ("P/E", True),
                    ("ROE", True),
                    ("Mkt cap", True),
                ):
                    _th(head, right=right)
            for row in rows:
                peer = str(row["symbol"])
                with ui.element("tr").props(f'data-testid="peer-{peer}"'):
                    with ui.element("td"):
                        ui.label(peer).classes("desk-link font-semibold").on(
                            "click", lambda p=peer: self.open(p, self.preset)
                        )
                    with ui.element("td"):
                        verdict_chip(row.get("verdict")).classes("desk-verdict-sm")
                    _cell(fmt.score(row.get("score")))
                    _cell(metric_text("pe", row.get("pe")))
                    _cell(fmt.fraction(row.get("roe"), 0))
                    _cell(fmt.compact(row.get("market_cap")))


def _th(text: str, *, right: bool = False) -> None:
    with ui.element("th").classes("desk-num" if right else ""):
        ui.label(text)


def _cell(text: str) -> None:
    with ui.element("td").classes("desk-num"):
        ui.label(text)


def _kv(label: str, value: str, *, test_id: str | None = None) -> None:
    with ui.row().classes("w-full justify-between no-wrap gap-2 desk-kv"):
        ui.label(label).classes("text-grey-7")
        value_label = ui.label(value).classes("desk-num font-medium")
        if test_id:
            value_label.props(f'data-testid="{test_id}"')


def _dcf_box(dcf: dict[str, Any]) -> None:
    with ui.column().classes("w-full gap-1 desk-box").props("data-testid=tearsheet-dcf"):
        ui.label("Discounted cash flow").classes("text-xs uppercase tracking-wide text-grey-7")
        refused = dcf.get("refused")
        if refused or dcf.get("intrinsic_value") is None:
            reason = (refused or {}).get("reason") or dcf_refusal_text((refused or {}).get("code"))
            ui.label(f"Not computed: {reason}").classes("text-sm")
            return
        margin = dcf.get("margin_of_safety")
        with ui.row().classes("items-baseline gap-3"):
            ui.label(f"${fmt.price(dcf['intrinsic_value'])}").classes("text-lg font-semibold desk-num")
            ui.label("a share")
            direction = fmt.direction(margin)
            ui.label(f"{fmt.fraction(margin, 0, signed=True)} margin of safety").classes(
                "desk-num " + ("desk-up" if direction > 0 else "desk-down" if direction < 0 else "")
            )
        ui.label(
            f"Price {fmt.price(dcf.get('price'))} · discount rate {fmt.fraction(dcf.get('discount_rate'))} · "
            f"growth {fmt.fraction(dcf.get('stage1_growth'))} for 5 years, then {fmt.fraction(dcf.get('terminal_growth'))}"
        ).classes("text-xs text-grey-7")


def _core_metrics(groups: Any) -> None:
    for group, metrics in (groups or {}).items():
        ui.label(str(group).capitalize()).classes("text-xs uppercase tracking-wide text-grey-7 pt-1")
        with ui.element("div").classes("desk-kv-grid w-full"):
            for name, value in metrics.items():
                label = METRICS[name].label if name in METRICS else name
                _kv(label, metric_text(name, value))


def _valuation_context(rows: Any) -> None:
    if not rows:
        ui.label("No valuation multiples for this name.").classes("text-sm text-grey-7")
        return
    ui.label("Now against the sector median and the name's own 5-year median.").classes("text-xs text-grey-7")
    with ui.element("table").classes("desk-mini w-full"):
        with ui.element("tr"):
            for head in ("", "Now", "Sector", "Own 5y"):
                _th(head, right=bool(head))
        for row in rows:
            metric = str(row["metric"])
            better_high = METRICS[metric].higher_is_better if metric in METRICS else None
            with ui.element("tr"):
                with ui.element("td"):
                    ui.label(str(row.get("label", metric)))
                _cell(metric_text(metric, row.get("value")))
                for median, versus in (("sector_median", "vs_sector_pct"), ("own_median_5y", "vs_own_pct")):
                    with ui.element("td").classes("desk-num"):
                        ui.label(metric_text(metric, row.get(median)))
                        change = row.get(versus)
                        if change is not None:
                            cheap = (change > 0) == bool(better_high)
                            ui.label(fmt.percent(change, 0, signed=True)).classes(
                                "text-xs " + ("desk-up" if cheap else "desk-down")
                            )


def _decision_framework(section: Any) -> None:
    section = section or {}
    explanation = section.get("explanation") or {}
    if explanation.get("meaning"):
        ui.label(str(explanation["meaning"])).classes("text-sm")
    gates = section.get("gates") or []
    ui.label("Gates, checked before scoring").classes("text-xs uppercase tracking-wide text-grey-7 pt-1")
    if not gates:
        ui.label("No gates apply to this kind of instrument.").classes("text-sm text-grey-7")
    for gate in gates:
        icon, colour = GATE_ICONS.get(str(gate.get("status")), ("help_outline", "text-grey-6"))
        with ui.row().classes("w-full no-wrap items-start gap-2").props(f'data-gate="{gate.get("status")}"'):
            ui.icon(icon, size="18px").classes(colour)
            ui.label(str(gate.get("text"))).classes("text-sm")
    factors = explanation.get("factors") or []
    if factors:
        ui.label("Score by factor (weight)").classes("text-xs uppercase tracking-wide text-grey-7 pt-2")
    for factor in factors:
        title = f"{factor['label']} · {fmt.fraction(factor.get('share'), 0)} · {fmt.score(factor.get('score'))}"
        with ui.expansion(title).props("dense").classes("w-full desk-factor"):
            for item in factor.get("metrics") or []:
                shown = item.get("shown") or fmt.MISSING
                ui.label(
                    f"{item['label']} {shown} (poor {item.get('bad_shown')}, good {item.get('good_shown')}, "
                    f"weight {item.get('weight')}) → {fmt.score((item.get('score') or 0) * 10)}"
                    if item.get("status") == "scored"
                    else f"{item['label']}: not available"
                ).classes("text-xs")
    if explanation.get("regime_note"):
        ui.label(str(explanation["regime_note"])).classes("text-xs text-grey-7")


def _risk_breakdown(items: Any) -> None:
    if not items:
        ui.label("No risk measures for this name.").classes("text-sm text-grey-7")
        return
    for rank, item in enumerate(items, start=1):
        severity = float(item.get("severity") or 0.0)
        with ui.column().classes("w-full gap-0"):
            with ui.row().classes("w-full no-wrap gap-2 items-baseline"):
                ui.label(f"{rank}.").classes("text-xs text-grey-7 desk-num")
                ui.label(str(item.get("text"))).classes("text-sm")
            ui.linear_progress(value=severity, show_value=False, size="4px").props(
                f"color={'negative' if severity >= 0.5 else 'warning' if severity > 0 else 'positive'}"
            )


def _sensitivity(section: Any) -> None:
    items = (section or {}).get("items") or []
    ui.label("What would change this verdict: the smallest move in one measure that flips it.").classes(
        "text-xs text-grey-7"
    )
    movers = [item for item in items if item.get("up") or item.get("down")]
    for item in movers:
        ui.label(str(item.get("text"))).classes("text-sm")
    still = [str(item.get("label")) for item in items if not (item.get("up") or item.get("down"))]
    if still:
        ui.label(f"No change in {', '.join(still)} alone would change it.").classes("text-xs text-grey-7")
    if not items:
        ui.label("Nothing measured here can change the verdict on its own.").classes("text-sm text-grey-7")


def _events(stats: Any) -> None:
    with ui.column().classes("w-full gap-0"):
        _event_rows(stats or {})


def _event_rows(stats: dict[str, Any]) -> None:
    reports = int(stats.get("reports") or 0)
    _kv("Next earnings", _day(stats.get("next_report")), test_id="event-next-earnings")
    estimate = stats.get("next_eps_estimate")
    _kv("EPS estimate", fmt.MISSING if estimate is None else f"{estimate:,.2f}")
    beat_rate = stats.get("beat_rate")
    _kv(
        "Beat rate",
        fmt.MISSING if beat_rate is None else f"{fmt.fraction(beat_rate, 0)} ({stats.get('beats')} of {reports})",
    )
    _kv("Average move after a beat", fmt.percent(stats.get("avg_move_after_beat_pct"), 1, signed=True))
    _kv("Average move after a miss", fmt.percent(stats.get("avg_move_after_miss_pct"), 1, signed=True))
    dividend = stats.get("last_dividend")
    ex_date = _day(stats.get("last_ex_dividend"))
    _kv("Next ex-dividend (estimated)", _day(stats.get("next_ex_dividend_estimate")))
    _kv("Last ex-dividend", ex_date if dividend is None else f"{ex_date} ({fmt.price(dividend)})")
