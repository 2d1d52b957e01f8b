"""The portfolio page (/portfolio): pick one of your portfolios or open one kept by hand, record transactions
(buy, sell, deposit, withdrawal, dividend, fee) with a small form or import a broker statement (CSV) and see each
row accepted or rejected with its reason, then read the holdings (quantity, FIFO cost basis, market value,
unrealized and realized P&L), the totals (value, total return, TWR and XIRR with their notes), the allocation by
symbol and the market regime with what it means for the portfolio.

Everything goes through `desk.portfolios` in-process, as the page's user (the calls REST and the CLI make).
Viewers see every number but no form, upload or delete button, and every write handler re-reads the user first
and refuses anyone who may not write.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from nicegui import app, ui
from nicegui.events import UploadEventArguments, ValueChangeEventArguments

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.portfolio.performance import Performance
from marketdesk.portfolio.service import ImportReport, PortfolioView, TransactionView
from marketdesk.portfolio.valuation import Valuation
from marketdesk.web.forms import Problem, acting_user
from marketdesk.web.identity import web_identity
from marketdesk.web.layout import REGIME_LIGHTS, WRITE_CLASS, symbol_path
from marketdesk.web.portfolio_text import (
    IMPORT_STATUS_COLOURS,
    KINDS,
    SYMBOL_KINDS,
    TRADE_KINDS,
    allocation_bars,
    money,
    quantity,
    rate,
    regime_meaning,
    transaction_from_form,
)
from marketdesk.web.portfolio_ui import cell, figure, panel, table
from marketdesk.web.registry import desk_page
from marketdesk.web.session import REGISTER_PATH
from marketdesk.web.trade_support import Confirm, notice

PORTFOLIO_KEY = "portfolio_id"  # the portfolio this browser last looked at, remembered per browser
TRANSACTIONS_SHOWN = 25
EMPTY_TEXT = "No portfolio yet — create one or import a statement"


@desk_page("/portfolio", "Portfolio", "pie_chart")
async def portfolio_page(desk: Desk) -> None:
    identity = web_identity()
    ui.label("Portfolio").classes("text-2xl font-semibold")
    if identity.user is None:
        guest_notice("portfolio-guest")
        return
    page = PortfolioPage(desk, identity.user, can_write=identity.can_write)
    await page.build()


def guest_notice(test_id: str) -> None:
    """Portfolios belong to a user; a desk with none yet offers to create the admin account."""
    with ui.card().classes("w-full items-start gap-2").props(f"flat bordered data-testid={test_id}"):
        ui.label("Portfolios belong to a user, and this desk has none yet.").classes("font-semibold")
        ui.label("Create the admin account, then open a portfolio here.").classes("text-sm text-grey-7")
        ui.link("Create the admin account", REGISTER_PATH)


class PortfolioPage:
    """The page of one signed-in user: their portfolios, and the panels of the one picked."""

    def __init__(self, desk: Desk, user: CurrentUser, *, can_write: bool) -> None:
        self.desk = desk
        self.user = user
        self.can_write = can_write
        self.portfolios: list[PortfolioView] = []
        self.portfolio_id: str | None = None
        self.reads = 0
        self.confirm = Confirm()

    @property
    def portfolio(self) -> PortfolioView | None:
        return next((p for p in self.portfolios if p.id == self.portfolio_id), None)

    async def build(self) -> None:
        with ui.card().classes("w-full gap-2").props("flat bordered data-testid=portfolio-bar"):
            with ui.row().classes("w-full items-center gap-3"):
                self.picker = (
                    ui.select({}, label="Portfolio", on_change=self.pick)
                    .props("outlined dense data-testid=portfolio-picker")
                    .classes("w-72")
                )
                self.kind = ui.label().classes("text-sm text-grey-7").props("data-testid=portfolio-kind")
                ui.space()
                if self.can_write:
                    self.new_name = (
                        ui.input("New portfolio name")
                        .props("outlined dense data-testid=portfolio-new-name")
                        .classes(f"w-56 {WRITE_CLASS}")
                    )
                    ui.button("Create", icon="add", on_click=self.create).props(
                        "unelevated no-caps data-testid=portfolio-create"
                    ).classes(WRITE_CLASS)
                    self.delete_button = (
                        ui.button("Delete", icon="delete", on_click=self.delete)
                        .props("flat no-caps color=negative data-testid=portfolio-delete")
                        .classes(WRITE_CLASS)
                    )
            self.problem = Problem("portfolio-error")
        self.empty = ui.column().classes("w-full")
        self.content = ui.column().classes("w-full gap-4")
        with self.content:
            self.context = ui.card().classes("w-full gap-1").props("flat bordered data-testid=portfolio-context")
            self.totals = ui.card().classes("w-full gap-2").props("flat bordered data-testid=portfolio-totals")
            self.holdings = panel("Holdings", "FIFO cost basis; marked at the latest close held.", "holdings-section")
            self.allocation = panel(
                "Allocation", "Share of the total value by symbol, and cash.", "allocation-section"
            ).classes("max-w-3xl")
            if self.can_write:
                with ui.row().classes("w-full items-start gap-4 no-wrap max-lg:flex-wrap"):
                    with ui.column().classes("flex-1 min-w-96"):
                        TransactionForm(self)
                    with ui.column().classes("flex-1 min-w-96"):
                        self.importer = ImportPanel(self)
            else:
                with ui.card().classes("w-full gap-1").props("flat bordered data-testid=viewer-notice"):
                    ui.label("You are a viewer").classes("font-semibold")
                    ui.label(
                        "You see the holdings, totals and transactions; recording or importing transactions and "
                        "creating or deleting portfolios need the trader role. Ask an admin."
                    ).classes("text-sm text-grey-7")
            self.transactions = panel(
                "Transactions", f"The latest {TRANSACTIONS_SHOWN}, newest first.", "transactions-section"
            )
        await self.load(str(app.storage.user.get(PORTFOLIO_KEY, "")))

    # ---- portfolios ------------------------------------------------------------------------------------

    async def load(self, wanted: str | None = None) -> None:
        """Read the user's portfolios again and show `wanted` (else the first)."""
        try:
            async with self.desk.db.session() as session:
                self.portfolios = await self.desk.portfolios.list_portfolios(session, self.user)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        ids = [p.id for p in self.portfolios]
        self.portfolio_id = wanted if wanted in ids else (ids[0] if ids else None)
        self.picker.set_options({p.id: p.name for p in self.portfolios}, value=self.portfolio_id)
        if self.can_write:
            self.delete_button.set_visibility(self.portfolio_id is not None)
        if self.portfolio_id is None:
            self.content.set_visibility(False)
            self.kind.set_text("")
            self._empty_state()
            return
        self.empty.clear()
        self.content.set_visibility(True)
        await self.refresh()

    def _empty_state(self) -> None:
        self.empty.clear()
        with (
            self.empty,
            ui.card().classes("w-full items-center py-8 gap-2").props("flat bordered data-testid=portfolio-empty"),
        ):
            ui.icon("pie_chart", size="3rem").classes("text-grey-6")
            ui.label(EMPTY_TEXT).classes("text-lg font-semibold")
            if self.can_write:
                ui.label(
                    "Name one above and press Create; then record a deposit and your buys, or import a broker "
                    "statement (a date,symbol,side,qty,price,fee CSV or Alpaca's account activities)."
                ).classes("text-grey-7 text-center max-w-xl")
            else:
                ui.label("Viewers cannot create one; ask an admin for the trader role.").classes("text-grey-7")

    async def pick(self, event: ValueChangeEventArguments[Any]) -> None:
        if event.value is None or event.value == self.portfolio_id:
            return
        self.portfolio_id = str(event.value)
        app.storage.user[PORTFOLIO_KEY] = self.portfolio_id
        await self.refresh()

    async def create(self) -> None:
        user = await acting_writer(self.desk)
        if user is None:
            return
        try:
            async with self.desk.db.session() as session:
                created = await self.desk.portfolios.create(session, user, str(self.new_name.value or ""))
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.clear()
        self.new_name.set_value("")
        notice(f"Opened the portfolio {created.name}.", "positive")
        app.storage.user[PORTFOLIO_KEY] = created.id
        await self.load(created.id)

    async def delete(self) -> None:
        portfolio = self.portfolio
        if portfolio is None:
            return
        asked = await self.confirm.ask(
            f"Delete the portfolio {portfolio.name}?",
            f"Its {portfolio.transactions} transactions and its daily snapshots go with it. This cannot be undone.",
            "Delete portfolio",
        )
        if not asked:
            return
        user = await acting_writer(self.desk)
        if user is None:
            return
        try:
            async with self.desk.db.session() as session:
                await self.desk.portfolios.delete(session, user, portfolio.id, confirm=portfolio.name)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        notice(f"Deleted the portfolio {portfolio.name}.", "positive")
        await self.load()

    # ---- reading the portfolio -------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read the picked portfolio again (valuation, returns, transactions, regime) and redraw the panels."""
        portfolio = self.portfolio
        if portfolio is None:
            return
        self.reads += 1
        read = self.reads
        service = self.desk.portfolios
        performance: Performance | None = None
        performance_problem = ""
        try:
            async with self.desk.db.session() as session:
                valuation = await service.valuation(session, self.user, portfolio.id)
                transactions = await service.transactions(session, self.user, portfolio.id)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        try:
            async with self.desk.db.session() as session:
                performance = await service.returns(session, self.user, portfolio.id)
        except MarketdeskError as exc:
            performance_problem = exc.one_line()
        regime = await self._regime()
        if read != self.reads:
            return  # a newer read is under way; it draws
        self.problem.clear()
        self.kind.set_text(
            "linked to a trading account (its fills are its trades)" if portfolio.kind == "linked" else "kept by hand"
        )
        self._show_context(*regime)
        self._show_totals(valuation, performance, performance_problem)
        self._show_holdings(valuation)
        self._show_allocation(valuation)
        self._show_transactions(transactions)

    async def _regime(self) -> tuple[str, str, str]:
        try:
            async with self.desk.db.session() as session:
                regime = await self.desk.screener.regime(session)
        except MarketdeskError as exc:
            return "unknown", "No regime", exc.one_line()
        label, _ = REGIME_LIGHTS.get(regime.state.value, (regime.state.value, ""))
        return regime.state.value, label, regime.reason

    def _show_context(self, state: str, label: str, reason: str) -> None:
        colour = REGIME_LIGHTS.get(state, ("", "bg-slate-400"))[1]
        self.context.clear()
        with self.context:
            with ui.row().classes("items-center gap-2"):
                ui.element("span").classes(f"desk-regime-dot {colour}")
                ui.label(f"Market regime: {label}").classes("font-semibold").props(
                    f"data-testid=portfolio-regime data-state={state}"
                )
            ui.label(regime_meaning(state)).classes("text-sm").props("data-testid=portfolio-regime-meaning")
            ui.label(reason).classes("text-xs text-grey-7")

    def _show_totals(self, valuation: Valuation, performance: Performance | None, problem: str) -> None:
        self.totals.clear()
        with self.totals:
            with ui.row().classes("gap-8 items-end"):
                figure("Total value", money(valuation.total_value), "total-value")
                figure("Cash", money(valuation.cash), "total-cash")
                figure(
                    "Total return",
                    f"{money(valuation.total_return, signed=True)} ({rate(valuation.total_return_pct)})",
                    "total-return",
                )
                figure("Dividends", money(valuation.dividend_income), "total-dividends")
                figure("Net contributions", money(valuation.net_contributions), "total-contributions")
                twr = None if performance is None else performance.twr
                xirr = None if performance is None else performance.xirr
                figure("TWR", rate(twr), "total-twr")
                if performance is not None and performance.twr_annualized is not None:
                    figure("TWR annualized", rate(performance.twr_annualized), "total-twr-annualized")
                figure("XIRR (annual)", rate(xirr), "total-xirr")
            notes = [] if performance is None else list(performance.notes)
            if problem:
                notes.append(f"Returns: {problem}")
            with ui.column().classes("gap-0").props("data-testid=performance-notes"):
                for note in notes:
                    ui.label(note).classes("text-xs text-grey-7")
            ui.label(
                f"Valued at the close of {valuation.as_of:%Y-%m-%d}. Total return = realized + unrealized P&L + "
                "dividends − fees, over the money put in; TWR chains daily returns, so deposits and withdrawals do "
                "not move it; XIRR weighs each dollar by how long it was invested."
            ).classes("text-xs text-grey-7")

    def _show_holdings(self, valuation: Valuation) -> None:
        self.holdings.clear()
        with self.holdings:
            if not valuation.holdings:
                with ui.row().classes("items-center gap-2 text-grey-7").props("data-testid=holdings-empty"):
                    ui.icon("inventory_2")
                    ui.label(
                        "No holdings yet: record a deposit and a buy, or import a statement."
                        if self.can_write
                        else "No holdings yet."
                    )
                return
            headers = (
                ("Symbol", False),
                ("Qty", True),
                ("Avg cost", True),
                ("Cost basis", True),
                ("Price", True),
                ("Market value", True),
                ("Unrealized P&L", True),
                ("Realized P&L", True),
                ("Weight", True),
            )
            with table("holdings-table", headers):
                for h in valuation.holdings:
                    with ui.element("tr").props(f'data-testid=holding-row data-symbol="{h.symbol}"'):
                        with ui.element("td").props("data-field=symbol"):
                            ui.link(h.symbol, symbol_path(h.symbol)).classes("font-semibold")
                        cell(quantity(h.qty), "qty", numeric=True)
                        cell(money(h.average_cost), "average_cost", numeric=True)
                        cell(money(h.cost_basis), "cost_basis", numeric=True)
                        price = money(h.price)
                        if h.price_date is None and h.price is not None:
                            price += " (last trade)"
                        cell(price, "price", numeric=True)
                        cell(money(h.market_value), "market_value", numeric=True)
                        cell(money(h.unrealized_pnl, signed=True), "unrealized_pnl", numeric=True)
                        cell(money(h.realized_pnl, signed=True), "realized_pnl", numeric=True)
                        cell(rate(h.weight, signed=False), "weight", numeric=True)
            ui.label(
                f"Realized P&L on every symbol, closed positions included: {money(valuation.realized_pnl, signed=True)}"
            ).classes("text-xs text-grey-7").props("data-testid=realized-total")

    def _show_allocation(self, valuation: Valuation) -> None:
        self.allocation.clear()
        bars = allocation_bars(valuation.holdings, valuation.cash, valuation.total_value)
        with self.allocation:
            if not bars:
                ui.label("Nothing to allocate yet.").classes("text-grey-7").props("data-testid=allocation-empty")
                return
            for bar in bars:
                with ui.column().classes("w-full gap-0").props(f'data-testid=allocation-bar data-label="{bar.label}"'):
                    with ui.row().classes("w-full justify-between text-sm"):
                        ui.label(bar.label).classes("font-semibold")
                        ui.label(f"{rate(bar.share, signed=False)} · {money(bar.value)}").classes("desk-num")
                    ui.linear_progress(value=bar.share, show_value=False, size="10px").props(
                        "rounded color=primary" if bar.label != "Cash" else "rounded color=grey-6"
                    )

    def _show_transactions(self, transactions: list[TransactionView]) -> None:
        self.transactions.clear()
        with self.transactions:
            if not transactions:
                ui.label("No transactions yet.").classes("text-grey-7").props("data-testid=transactions-empty")
                return
            headers = (
                ("Date", False),
                ("Kind", False),
                ("Symbol", False),
                ("Qty", True),
                ("Price", True),
                ("Amount", True),
                ("Fee", True),
                ("Source", False),
            )
            with table("transactions-table", headers):
                for t in list(reversed(transactions))[:TRANSACTIONS_SHOWN]:
                    with ui.element("tr").props(f"data-testid=transaction-row data-kind={t.kind}"):
                        cell(f"{t.date:%Y-%m-%d}", "date")
                        cell(KINDS.get(t.kind, t.kind.capitalize()), "kind")
                        cell(t.symbol or "", "symbol")
                        cell(quantity(t.qty) if t.qty is not None else "", "qty", numeric=True)
                        cell(money(t.price) if t.price is not None else "", "price", numeric=True)
                        cell(money(t.amount) if t.amount is not None else "", "amount", numeric=True)
                        cell(money(t.fee) if t.fee else "", "fee", numeric=True)
                        cell(t.source, "source")

    # ---- writing ---------------------------------------------------------------------------------------

    async def record(self, kind: str, day: date, fields: dict[str, str]) -> str | None:
        """Record one transaction on the picked portfolio; None once done, else what to fix."""
        portfolio = self.portfolio
        if portfolio is None:
            return "pick or create a portfolio first"
        user = await acting_writer(self.desk)
        if user is None:
            return "viewers cannot record transactions"
        try:
            transaction = transaction_from_form(kind, day, **fields)
            async with self.desk.db.session() as session:
                await self.desk.portfolios.add(session, user, portfolio.id, transaction)
        except MarketdeskError as exc:
            return exc.one_line()
        notice(f"Recorded the {KINDS[kind].lower()}.", "positive")
        await self._reload_counts()
        return None

    async def import_statement(self, data: bytes) -> ImportReport | str:
        """Import a statement into the picked portfolio: the per-row report, or what went wrong."""
        portfolio = self.portfolio
        if portfolio is None:
            return "pick or create a portfolio first"
        user = await acting_writer(self.desk)
        if user is None:
            return "viewers cannot import statements"
        try:
            async with self.desk.db.session() as session:
                report = await self.desk.portfolios.import_statement(session, user, portfolio.id, data)
        except MarketdeskError as exc:
            return exc.one_line()
        await self._reload_counts()
        return report

    async def _reload_counts(self) -> None:
        await self.load(self.portfolio_id)


async def acting_writer(desk: Desk) -> CurrentUser | None:
    """The page's user as stored now, if they may change portfolios; None (and the person is told why) otherwise."""
    user = await acting_user(desk)
    if user is not None and not user.can_write:
        notice(f"Viewers cannot change portfolios; you are a {user.role.value}. Ask an admin for the trader role.",
               "warning")  # fmt: skip
        return None
    return user


class TransactionForm:
    """Kind, date and the fields that kind needs, and the button that records it."""

    def __init__(self, page: PortfolioPage) -> None:
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
            ui.button("Record", icon="add", on_click=self.submit).props(
                "unelevated no-caps data-testid=txn-record"
            ).classes(WRITE_CLASS)
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
        problem = await self.page.record(kind, day, fields)
        self.problem.show(problem or "")
        if problem is None:
            for field in (self.qty, self.price, self.fee, self.amount):
                field.set_value("")


class ImportPanel:
    """The statement upload and the per-row report of the last import."""

    def __init__(self, page: PortfolioPage) -> None:
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
