"""The portfolio dashboard's cards: allocation against target as bars, the targets form, recommended actions
(rebalancing trades with a preview link each, verdict changes, due thesis check-ins), the screener's signals on
the holdings, and their upcoming earnings and ex-dividend dates; and the page's two writing panels, the
transaction form and the statement import. A buy recorded by hand that opens a position asks why (the journal's
`ThesisPrompt`), unless a thesis on the symbol is open already.

Each `draw_*` fills a panel from what the portfolio service answered (`PortfolioService.rebalance` gives the
allocation, the advice and the verdicts in one read); nothing here reads the database. A suggested trade is a
link to the trade ticket, which previews it: nothing is ever placed from this page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, Protocol

from nicegui import ui
from nicegui.events import UploadEventArguments, ValueChangeEventArguments

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.journal.views import ThesisView
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.portfolio.allocation import (
    ASSET_CLASS,
    CASH,
    DIMENSION_LABELS,
    OUT_OF_BAND,
    SECTOR,
    SYMBOL,
    UNTARGETED,
    Allocation,
    Line,
    Targets,
)
from marketdesk.portfolio.rebalance import Trade
from marketdesk.portfolio.service import ImportReport, TransactionView
from marketdesk.portfolio.targets import RebalanceView, TargetsView
from marketdesk.web.forms import Problem
from marketdesk.web.journal_ui import ThesisPrompt
from marketdesk.web.layout import WRITE_CLASS, symbol_path
from marketdesk.web.portfolio_text import (
    EVENT_HORIZON_DAYS,
    IMPORT_STATUS_COLOURS,
    KINDS,
    SYMBOL_KINDS,
    TRADE_KINDS,
    UpcomingEvent,
    drift_text,
    money,
    parse_weights,
    percent_text,
    quantity,
    verdict_key,
    weights_text,
)
from marketdesk.web.portfolio_ui import cell, panel, table

BAR_COLOURS = {"in_band": "#2563eb", OUT_OF_BAND: "#dc2626", UNTARGETED: "#94a3b8", "cash": "#64748b"}
SET_TARGETS_CLI = "marketdesk portfolio targets set NAME --symbol AAA=60 --symbol BBB=40"
SIDE_WORDS = {"buy": "Buy", "sell": "Sell"}

# ---- allocation against target ---------------------------------------------------------------------------


def draw_allocation(body: ui.column, allocation: Allocation, targets: TargetsView, *, can_write: bool) -> None:
    """Current weight against target, per line and dimension: a bar, a marker at the target, the drift."""
    body.clear()
    with body:
        if allocation.total_value <= 0:
            ui.label("Nothing to allocate yet.").classes("text-grey-7").props("data-testid=allocation-empty")
            return
        if not targets.set:
            where = "in the Targets form below, or" if can_write else "a trader sets them, for instance"
            ui.label(f"No targets yet: set them {where} with `{SET_TARGETS_CLI}`. Until then, the current weights.")\
                .classes("text-sm text-grey-8").props("data-testid=targets-empty")  # fmt: skip
        else:
            relative = f" (or {targets.band_relative_pct.normalize():f}% of a target, if smaller)" if (
                targets.band_relative_pct is not None) else ""  # fmt: skip
            ui.label(
                f"Band ±{targets.band_pp.normalize():f} pp{relative} around each target · minimum trade "
                f"{money(targets.min_trade)}. A red bar is out of its band; the dark mark is the target."
            ).classes("text-xs text-grey-7").props("data-testid=targets-summary")
        for dimension in (SYMBOL, SECTOR, ASSET_CLASS):
            lines = allocation[dimension]
            if dimension != SYMBOL and not targets.targets().of(dimension) and len(lines) <= 2:
                continue  # one sector (or class) and cash says nothing the symbols did not
            with ui.column().classes("w-full gap-1").props(f"data-testid=allocation-{dimension.replace('_', '-')}"):
                ui.label(f"By {DIMENSION_LABELS[dimension].lower()}").classes("text-sm font-semibold pt-1")
                for line in lines:
                    if line.key == CASH and line.value == 0 and line.target_pct in (None, 0):
                        continue
                    _bar(line)
        for note in allocation.notes:
            ui.label(note).classes("text-xs text-grey-7").props("data-testid=allocation-note")


def _bar(line: Line) -> None:
    status = line.status
    width = max(0.0, min(100.0, float(line.weight_pct)))
    with (
        ui.column()
        .classes("w-full gap-0")
        .props(
            f'data-testid=allocation-line data-dimension={line.dimension} data-key="{line.key}" data-status={status}'
        )
    ):
        with ui.row().classes("w-full justify-between items-baseline text-sm no-wrap"):
            ui.label(line.key).classes("font-medium truncate")
            with ui.row().classes("gap-2 items-baseline no-wrap desk-num"):
                ui.label(f"{percent_text(line.weight_pct)} · {money(line.value)}").props("data-field=weight")
                if line.target_pct is not None:
                    word = "the rest" if line.status == "cash" else "target"  # cash: what the targets leave
                    ui.label(f"{word} {percent_text(line.target_pct)}").classes("text-grey-7").props(
                        "data-field=target"
                    )
                if line.drift_pp is not None and line.status != "cash":
                    tone = "text-negative font-semibold" if status == OUT_OF_BAND else "text-grey-7"
                    ui.label(drift_text(line.drift_pp)).classes(tone).props("data-testid=allocation-drift")
        with (
            ui.element("div")
            .classes("w-full")
            .style("position: relative; height: 10px; border-radius: 5px; background: rgba(148, 163, 184, 0.25)")
        ):
            ui.element("div").style(
                f"width: {width:.2f}%; height: 100%; border-radius: 5px; background: {BAR_COLOURS.get(status, '#2563eb')}"
            )
            if line.target_pct is not None:
                left = max(0.0, min(100.0, float(line.target_pct)))
                ui.element("div").style(
                    f"position: absolute; left: calc({left:.2f}% - 1px); top: -3px; width: 2px; height: 16px; "
                    "background: currentColor; opacity: 0.8"
                ).props("data-testid=allocation-target-marker")


# ---- the targets form ------------------------------------------------------------------------------------


class TargetsForm:
    """Weights by symbol, sector and asset class as NAME=PERCENT lists, the band and the minimum trade."""

    def __init__(
        self, body: ui.column, save: Callable[[Targets], Awaitable[str | None]], clear: Callable[[], Awaitable[str | None]]
    ) -> None:  # fmt: skip
        self._save, self._clear = save, clear
        with body:
            with ui.row().classes("w-full items-start gap-3"):
                self.symbol = ui.input("By symbol", placeholder="AAPL=30, MSFT=20").props(
                    "outlined dense data-testid=targets-symbol").classes("flex-1 min-w-64")  # fmt: skip
                self.sector = ui.input("By sector", placeholder="Health Care=15").props(
                    "outlined dense data-testid=targets-sector").classes("flex-1 min-w-64")  # fmt: skip
                self.asset_class = ui.input("By asset class", placeholder="equity=60, bond=40").props(
                    "outlined dense data-testid=targets-asset-class").classes("flex-1 min-w-64")  # fmt: skip
            with ui.row().classes("items-start gap-3"):
                self.band = ui.input("Band (± pp)", value="5").props("outlined dense data-testid=targets-band")\
                    .classes("w-32")  # fmt: skip
                self.relative = ui.input("Relative band (% of target)").props(
                    "outlined dense data-testid=targets-relative-band").classes("w-52")  # fmt: skip
                self.min_trade = ui.input("Minimum trade ($)", value="100").props(
                    "outlined dense data-testid=targets-min-trade").classes("w-40")  # fmt: skip
            self.problem = Problem("targets-error")
            with ui.row().classes("gap-2"):
                ui.button("Save targets", icon="track_changes", on_click=self.save).props(
                    "unelevated no-caps data-testid=targets-save").classes(WRITE_CLASS)  # fmt: skip
                ui.button("Clear", icon="backspace", on_click=self.clear).props(
                    "flat no-caps data-testid=targets-clear").classes(WRITE_CLASS)  # fmt: skip

    def fill(self, view: TargetsView) -> None:
        targets = view.targets()
        self.symbol.set_value(weights_text(targets.of(SYMBOL)))
        self.sector.set_value(weights_text(targets.of(SECTOR)))
        self.asset_class.set_value(weights_text(targets.of(ASSET_CLASS)))
        self.band.set_value(f"{view.band_pp.normalize():f}")
        self.relative.set_value("" if view.band_relative_pct is None else f"{view.band_relative_pct.normalize():f}")
        self.min_trade.set_value(f"{view.min_trade.normalize():f}")

    def read(self) -> Targets:
        weights = {
            SYMBOL: parse_weights(str(self.symbol.value or ""), "symbol"),
            SECTOR: parse_weights(str(self.sector.value or ""), "sector"),
            ASSET_CLASS: parse_weights(str(self.asset_class.value or ""), "asset class"),
        }
        band = parse_weights(f"band={self.band.value or '5'}", "band")["band"]
        relative_text = str(self.relative.value or "").strip()
        relative = parse_weights(f"relative={relative_text}", "relative band")["relative"] if relative_text else None
        min_trade = parse_weights(f"min={str(self.min_trade.value or '100').replace('$', '')}", "minimum trade")["min"]
        return Targets(weights, band, relative, min_trade)

    async def save(self) -> None:
        try:
            targets = self.read()
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.show(await self._save(targets) or "")

    async def clear(self) -> None:
        self.problem.show(await self._clear() or "")


# ---- recommended actions ---------------------------------------------------------------------------------


def draw_actions(
    body: ui.column, view: RebalanceView | None, problem: str, checkins: Sequence[ThesisView],
    journal_path: str | None,
) -> None:  # fmt: skip
    """The rebalancing trades (each with its preview link), the verdict changes and the due check-ins."""
    body.clear()
    with body:
        if view is None:
            ui.label(f"No advice: {problem}").classes("text-sm desk-error").props("data-testid=actions-error")
            return
        advice = view.advice
        nothing = not advice.trades and not view.suggestions and not checkins
        if nothing and not view.targets.set:
            ui.label(
                "Nothing to do yet. Set targets to get the trades that keep the portfolio in its bands; verdict "
                "changes on your holdings and due thesis check-ins show here too."
            ).classes("text-sm text-grey-7").props("data-testid=actions-empty")
            return
        if view.targets.set and not advice.trades:
            ui.label("Every line with a target is inside its band: no rebalancing trade.").classes(
                "text-sm text-positive").props("data-testid=actions-in-band")  # fmt: skip
        for trade in advice.trades:
            _trade_row(trade)
        if advice.trades:
            ui.label(
                f"Cash {money(advice.cash_before)} → {money(advice.cash_after)}. Estimates at the last close, before "
                "commissions; Preview opens the trade ticket filled in, and nothing is placed until you submit it."
            ).classes("text-xs text-grey-7").props("data-testid=actions-cash")
        for skipped in advice.skipped:
            ui.label(f"Skipped: {skipped.reason}.").classes("text-xs text-grey-7").props("data-testid=action-skipped")
        for note in advice.notes:
            if note.startswith("The cash is short"):
                ui.label(note).classes("text-xs text-warning").props("data-testid=actions-cash-short")
        _suggestion_rows(view)
        _checkin_rows(checkins, journal_path)


def _suggestion_rows(view: RebalanceView) -> None:
    for suggestion in view.suggestions:
        with (
            ui.row()
            .classes("w-full items-center gap-2 no-wrap")
            .props(f'data-testid=action-verdict data-symbol="{suggestion.symbol}" data-kind={suggestion.kind}')
        ):
            ui.icon("rate_review" if suggestion.kind == "review" else "trending_up").classes("text-grey-7")
            ui.label(suggestion.text[:1].upper() + suggestion.text[1:]).classes("text-sm flex-1")
            ui.link("Tearsheet", symbol_path(suggestion.symbol)).classes("text-sm")
            if suggestion.preview_url is not None:
                ui.link("Preview sell", suggestion.preview_url).classes("text-sm").props(
                    "data-testid=action-verdict-preview"
                )


def _checkin_rows(checkins: Sequence[ThesisView], journal_path: str | None) -> None:
    for thesis in checkins:
        with (
            ui.row()
            .classes("w-full items-center gap-2 no-wrap")
            .props(f'data-testid=action-checkin data-symbol="{thesis.symbol}"')
        ):
            ui.icon("event_available").classes("text-grey-7")
            ui.label(f"Thesis check-in due for {thesis.symbol} (review date {thesis.review_on:%Y-%m-%d}).").classes(
                "text-sm flex-1"
            )
            if journal_path is not None:
                ui.link("Check in", journal_path).classes("text-sm")


def _trade_row(trade: Trade) -> None:
    with (
        ui.column()
        .classes("w-full gap-0")
        .props(
            f'data-testid=action-trade data-symbol="{trade.symbol}" data-side={trade.side} '
            f'data-qty="{trade.qty.normalize():f}"'
        )
    ):
        with ui.row().classes("w-full items-center gap-2 no-wrap"):
            ui.icon("south_east" if trade.side == "sell" else "north_east").classes(
                "text-negative" if trade.side == "sell" else "text-positive")  # fmt: skip
            ui.label(f"{SIDE_WORDS[trade.side]} {quantity(trade.qty)} {trade.symbol}").classes("font-semibold")
            ui.label(f"≈ {money(trade.value)}").classes("desk-num text-grey-8")
            ui.space()
            ui.link("Preview", trade.preview_url).classes("text-sm font-semibold").props("data-testid=action-preview")
        ui.label(trade.reason[:1].upper() + trade.reason[1:] + ".").classes("text-xs text-grey-7")
        if trade.realized_pnl is not None:
            text = f"Realizes ≈ {money(trade.realized_pnl, signed=True)}"
            if trade.realized_pnl != trade.realized_pnl_fifo:
                text += f" with the lots picked (FIFO lots: {money(trade.realized_pnl_fifo, signed=True)})"
            ui.label(text + ".").classes("text-xs text-grey-7").props("data-testid=action-realized")


# ---- signals on the holdings -----------------------------------------------------------------------------


def draw_signals(body: ui.column, view: RebalanceView | None) -> None:
    """The screener's verdict and score on each holding now, beside the last one logged for it."""
    body.clear()
    with body:
        readings = () if view is None else view.readings
        if not readings:
            text = "No holdings to judge yet." if view is None or not view.verdict_note else view.verdict_note
            ui.label(text).classes("text-sm text-grey-7").props("data-testid=signals-empty")
            return
        headers = (("Symbol", False), ("Verdict", False), ("Score", True), ("You logged", False), ("Since", False))
        with table("signals-table", headers):
            for r in readings:
                with ui.element("tr").props(
                    f'data-testid=signal-row data-symbol="{r.symbol}" data-verdict="{r.verdict or ""}"'
                ):
                    with ui.element("td").props("data-field=symbol"):
                        ui.link(r.symbol, symbol_path(r.symbol)).classes("font-semibold")
                    with ui.element("td").props("data-field=verdict"):
                        ui.label(r.verdict or "No verdict").classes(
                            f"desk-verdict desk-verdict-{verdict_key(r.verdict)}"
                        )
                    cell("—" if r.score is None else f"{r.score:.1f}", "score", numeric=True)
                    logged = "—" if r.logged_verdict is None else f"{r.logged_verdict} on {r.logged_on:%Y-%m-%d}"
                    cell(logged, "logged")
                    change = {1: "rose", -1: "fell"}.get((r.change > 0) - (r.change < 0), "unchanged")
                    cell("—" if r.logged_verdict is None else change, "change")
        as_of = next((r.as_of for r in readings if r.as_of is not None), None)
        if as_of is not None:
            ui.label(f"The screener's default screen as of {as_of:%Y-%m-%d}; log a verdict from a tearsheet to "
                     "follow how it changes.").classes("text-xs text-grey-7")  # fmt: skip
        if view is not None and view.verdict_note:
            ui.label(view.verdict_note).classes("text-xs text-grey-7").props("data-testid=signals-note")


# ---- upcoming events -------------------------------------------------------------------------------------


def draw_events(body: ui.column, events: Sequence[UpcomingEvent], problem: str) -> None:
    body.clear()
    with body:
        if problem:
            ui.label(problem).classes("text-sm desk-error").props("data-testid=events-error")
        if not events:
            ui.label(f"No earnings or ex-dividend dates for your holdings in the next {EVENT_HORIZON_DAYS} days.")\
                .classes("text-sm text-grey-7").props("data-testid=events-empty")  # fmt: skip
            return
        with table("events-table", (("Date", False), ("Symbol", False), ("Event", False), ("Detail", False))):
            for e in events:
                attributes: Any = f'data-testid=event-row data-symbol="{e.symbol}" data-kind={e.kind}'
                with ui.element("tr").props(attributes):
                    cell(f"{e.day:%Y-%m-%d}" + (" (est.)" if e.estimated else ""), "date")
                    cell(e.symbol, "symbol")
                    cell("Earnings" if e.kind == "earnings" else "Ex-dividend", "kind")
                    cell(e.detail, "detail")


# ---- the writing panels ----------------------------------------------------------------------------------


class WritingPage(Protocol):
    """What the writing panels need of the page: the desk, its user and picked portfolio, and recording or
    importing into that portfolio."""

    desk: Desk
    user: CurrentUser
    portfolio_id: str | None

    async def record(self, kind: str, day: date, fields: dict[str, str]) -> str | None: ...

    async def import_statement(self, data: bytes) -> ImportReport | str: ...


class TransactionForm:
    """Kind, date and the fields that kind needs, and the button that records it; a buy that opens a position
    then asks for its thesis."""

    def __init__(self, page: WritingPage) -> None:
        self.page = page
        body = panel("Add a transaction", "Deposits first: a buy without the cash counts as a deposit.", "txn-form")
        with body:
            with ui.row().classes("items-start gap-3"):
                self.kind = (
                    ui.select(KINDS, value="deposit", label="Kind", on_change=self._kind)
                    .props("outlined dense data-testid=txn-kind")
                    .classes("w-36")
                )
                today = page.desk.portfolios.today()
                self.day = ui.input("Date", value=f"{today:%Y-%m-%d}").props(
                    "outlined dense type=date data-testid=txn-date"
                )
            with ui.row().classes("items-start gap-3"):
                self.symbol = ui.input("Symbol").props("outlined dense data-testid=txn-symbol").classes("w-28")
                self.qty = ui.input("Quantity").props("outlined dense data-testid=txn-qty").classes("w-28")
                self.price = ui.input("Price").props("outlined dense data-testid=txn-price").classes("w-28")
                self.fee = ui.input("Fee").props("outlined dense data-testid=txn-fee").classes("w-24")
                self.amount = ui.input("Amount").props("outlined dense data-testid=txn-amount").classes("w-32")
            self.problem = Problem("txn-error")
            self.record = ui.button("Record", icon="add", on_click=self.submit).props(
                "unelevated no-caps data-testid=txn-record"
            )
            self.record.classes(WRITE_CLASS)
        self.thesis_prompt = ThesisPrompt(page.desk)
        self._show_fields("deposit")

    def _kind(self, event: ValueChangeEventArguments[Any]) -> None:
        self._show_fields(str(event.value))

    def _show_fields(self, kind: str) -> None:
        trade = kind in TRADE_KINDS
        self.symbol.set_visibility(kind in SYMBOL_KINDS)
        for field in (self.qty, self.price, self.fee):
            field.set_visibility(trade)
        self.amount.set_visibility(not trade)

    async def submit(self) -> None:
        self.record.props(remove="data-thesis")
        kind = str(self.kind.value)
        try:
            day = date.fromisoformat(str(self.day.value or "").strip())
        except ValueError:
            self.problem.show("the date must look like 2024-01-31")
            return
        fields = {"symbol": str(self.symbol.value or "")}
        if kind in TRADE_KINDS:
            fields |= {
                "qty": str(self.qty.value or ""),
                "price": str(self.price.value or ""),
                "fee": str(self.fee.value or ""),
            }
        else:
            fields["amount"] = str(self.amount.value or "")
        opens = await self._new_position(fields["symbol"]) if kind == "buy" else None
        problem = await self.page.record(kind, day, fields)
        self.problem.show(problem or "")
        if problem is None:
            for field in (self.qty, self.price, self.fee, self.amount):
                field.set_value("")
        asked = problem is None and opens is not None and await self.thesis_prompt.offer(self.page.user, opens, "buy")
        self.record.props(f"data-thesis={'asked' if asked else 'not-asked'}")  # the handler is done

    async def _new_position(self, text: str) -> str | None:
        """The symbol a buy of `text` would open a position in: None when the portfolio holds it already (or
        that cannot be told, in which case recording says what is wrong)."""
        portfolio_id = self.page.portfolio_id
        try:
            symbol = normalize_symbol(text)
            if portfolio_id is None:
                return None
            async with self.page.desk.db.session() as session:
                valuation = await self.page.desk.portfolios.valuation(session, self.page.user, portfolio_id)
        except MarketdeskError:
            return None
        return None if any(h.symbol == symbol and h.qty != 0 for h in valuation.holdings) else symbol


class ImportPanel:
    """The statement upload and the per-row report of the last import."""

    def __init__(self, page: WritingPage) -> None:
        self.page = page
        body = panel(
            "Import a statement",
            "A CSV of date,symbol,side,qty,price,fee or Alpaca's account-activities export. Rows already imported "
            "count as duplicates, so importing twice is safe.",
            "import-section",
        )
        with body:
            self.uploader = (
                ui.upload(on_upload=self.upload, auto_upload=True, max_files=1)
                .props("accept=.csv,text/csv flat bordered data-testid=import-upload")
                .classes(f"w-full {WRITE_CLASS}")
            )
            self.problem = Problem("import-error")
            self.report = ui.column().classes("w-full gap-2").props("data-testid=import-report")

    async def upload(self, event: UploadEventArguments) -> None:
        data = await event.file.read()
        self.uploader.reset()  # ready for the next file
        outcome = await self.page.import_statement(data)
        self.report.clear()
        if isinstance(outcome, str):
            self.problem.show(outcome)
            return
        self.problem.clear()
        self._show(outcome, event.file.name)

    def _show(self, report: ImportReport, name: str) -> None:
        with self.report:
            ui.label(
                f"{name}: {report.accepted} accepted, {report.duplicates} duplicates, {report.rejected} rejected "
                f"({report.layout} layout)"
            ).classes("text-sm font-semibold").props(
                f"data-testid=import-summary data-accepted={report.accepted} data-rejected={report.rejected}"
            )
            with table("import-table", (("Line", True), ("Status", False), ("Transaction", False), ("Reason", False))):
                for row in report.rows:
                    with ui.element("tr").props(
                        f"data-testid=import-row data-status={row.status} data-line={row.line}"
                    ):
                        cell(str(row.line), "line", numeric=True)
                        with ui.element("td").props("data-field=status"):
                            ui.badge(row.status, color=IMPORT_STATUS_COLOURS.get(row.status, "grey")).props("outline")
                        cell(_describe(row.transaction), "transaction")
                        with ui.element("td").classes("max-w-80").props("data-field=reason"):
                            ui.label(row.reason or "").classes("text-xs text-grey-8")


def _describe(view: TransactionView | None) -> str:
    if view is None:
        return ""
    kind = KINDS.get(view.kind, view.kind)
    if view.qty is not None:
        return f"{view.date:%Y-%m-%d} {kind} {quantity(view.qty)} {view.symbol} @ {money(view.price)}"
    return f"{view.date:%Y-%m-%d} {kind} {money(view.amount)}{f' {view.symbol}' if view.symbol else ''}"
