"""The portfolio page (/portfolio), the portfolio dashboard: pick one of your portfolios or open one kept by hand,
record transactions (buy, sell, deposit, withdrawal, dividend, fee) with a small form or import a broker statement
(CSV) and see each row accepted or rejected with its reason, then read on one screen the holdings (quantity, FIFO
cost basis, market value, unrealized and realized P&L), the totals (value, total return, TWR and XIRR with their
notes), the market regime with what it means for the portfolio, the allocation against its targets as bars, the
recommended actions (rebalancing trades, each a link that previews it on the trade ticket; verdict changes; due
thesis check-ins), the screener's signals on the holdings, and their upcoming earnings and ex-dividend dates.

Everything goes through `desk.portfolios` in-process, as the page's user (the calls REST and the CLI make).
Viewers see every number but no form, upload or delete button, and every write handler re-reads the user first
and refuses anyone who may not write.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from nicegui import app, ui
from nicegui.events import ValueChangeEventArguments

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.journal.views import ThesisView
from marketdesk.portfolio.allocation import Targets
from marketdesk.portfolio.performance import Performance
from marketdesk.portfolio.service import ImportReport, PortfolioView, TransactionView
from marketdesk.portfolio.targets import RebalanceView, screener_holding_verdicts
from marketdesk.portfolio.valuation import Valuation
from marketdesk.web.forms import Problem, acting_user
from marketdesk.web.identity import web_identity
from marketdesk.web.layout import REGIME_LIGHTS, WRITE_CLASS, symbol_path
from marketdesk.web.portfolio_cards import (
    ImportPanel,
    TargetsForm,
    TransactionForm,
    draw_actions,
    draw_allocation,
    draw_events,
    draw_signals,
)
from marketdesk.web.portfolio_text import (
    KINDS,
    UpcomingEvent,
    money,
    quantity,
    rate,
    regime_meaning,
    transaction_from_form,
    upcoming_events,
)
from marketdesk.web.portfolio_ui import cell, figure, panel, table
from marketdesk.web.registry import NAV, desk_page
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
        self.prefer_losses = False
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
            with ui.row().classes("w-full items-start gap-4 no-wrap max-lg:flex-wrap"):
                with ui.column().classes("flex-1 min-w-96"):
                    self.allocation = panel(
                        "Allocation against target", "Each line's share of the value, its target and the drift.",
                        "allocation-section",
                    )  # fmt: skip
                with ui.column().classes("flex-1 min-w-96"):
                    self.actions = panel(
                        "Recommended actions",
                        "Suggestions only: each trade opens the trade ticket as a preview, and nothing is placed.",
                        "actions-section",
                    )
                    ui.switch("Sell lots with losses first (tax-loss aware)", on_change=self._prefer_losses).props(
                        "dense data-testid=prefer-losses"
                    ).classes("text-sm")
            with ui.row().classes("w-full items-start gap-4 no-wrap max-lg:flex-wrap"):
                with ui.column().classes("flex-1 min-w-96"):
                    self.signals = panel(
                        "Signals on your holdings", "The screener's verdict on each holding now.", "signals-section"
                    )
                with ui.column().classes("flex-1 min-w-96"):
                    self.events = panel(
                        "Upcoming events", "Earnings reports and ex-dividend dates of the holdings.", "events-section"
                    )
            if self.can_write:
                self.targets_form = TargetsForm(
                    panel(
                        "Targets",
                        "Weights in percent as NAME=PERCENT, separated by commas; each group sums to 100 at most and "
                        "the rest stays in cash. A symbol's own target wins over its sector's and asset class's.",
                        "targets-form",
                    ),
                    self.save_targets,
                    self.clear_targets,
                )
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
        advice, advice_problem = await self._advice(portfolio.id)
        held = [h.symbol for h in valuation.holdings if h.qty > 0]
        checkins = await self._checkins(held)
        events, events_problem = await self._events(held)
        if read != self.reads:
            return  # a newer read is under way; it draws
        self.problem.clear()
        self.kind.set_text(
            "linked to a trading account (its fills are its trades)" if portfolio.kind == "linked" else "kept by hand"
        )
        self._show_context(*regime)
        self._show_totals(valuation, performance, performance_problem)
        self._show_holdings(valuation)
        if advice is not None:
            draw_allocation(self.allocation, advice.advice.before, advice.targets, can_write=self.can_write)
            if self.can_write:
                self.targets_form.fill(advice.targets)
        else:
            self.allocation.clear()
            with self.allocation:
                ui.label(advice_problem).classes("text-sm desk-error").props("data-testid=allocation-error")
        draw_actions(self.actions, advice, advice_problem, checkins, _journal_path())
        draw_signals(self.signals, advice)
        draw_events(self.events, events, events_problem)
        self._show_transactions(transactions)

    async def _advice(self, portfolio_id: str) -> tuple[RebalanceView | None, str]:
        """The allocation, the rebalancing advice and the verdicts on the holdings: one read of the service."""
        try:
            async with self.desk.db.session() as session:
                view = await self.desk.portfolios.rebalance(
                    session, self.user, portfolio_id, prefer_losses=self.prefer_losses,
                    verdicts=screener_holding_verdicts(self.desk.screener),
                )  # fmt: skip
        except MarketdeskError as exc:
            return None, exc.one_line()
        return view, ""

    async def _checkins(self, held: list[str]) -> list[ThesisView]:
        """The user's thesis check-ins that are due, on the symbols this portfolio holds."""
        try:
            async with self.desk.db.session() as session:
                due = await self.desk.journal.due(session, self.user)
        except MarketdeskError:
            return []  # the actions card goes on without them
        return [t for t in due if t.symbol in held]

    async def _events(self, held: list[str]) -> tuple[list[UpcomingEvent], str]:
        """The holdings' next earnings reports and ex-dividend dates, from the market data the desk holds."""
        earnings, actions = {}, {}
        try:
            async with self.desk.db.session() as session:
                for symbol in held:
                    earnings[symbol] = await self.desk.market.earnings(session, symbol)
                    actions[symbol] = await self.desk.market.actions(symbol)
        except MarketdeskError as exc:
            return [], f"Events: {exc.one_line()}"
        return upcoming_events(earnings, actions, self.desk.portfolios.today()), ""

    async def _prefer_losses(self, event: ValueChangeEventArguments[Any]) -> None:
        self.prefer_losses = bool(event.value)
        await self.refresh()

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

    async def save_targets(self, targets: Targets) -> str | None:
        """Set the picked portfolio's targets; None once done, else what to fix."""
        return await self._write_targets(targets)

    async def clear_targets(self) -> str | None:
        return await self._write_targets(None)

    async def _write_targets(self, targets: Targets | None) -> str | None:
        portfolio = self.portfolio
        if portfolio is None:
            return "pick or create a portfolio first"
        user = await acting_writer(self.desk)
        if user is None:
            return "viewers cannot change targets"
        try:
            async with self.desk.db.session() as session:
                if targets is None:
                    await self.desk.portfolios.clear_targets(session, user, portfolio.id)
                else:
                    await self.desk.portfolios.set_targets(session, user, portfolio.id, targets)
        except MarketdeskError as exc:
            return exc.one_line()
        notice("Cleared the targets." if targets is None else "Saved the targets.", "positive")
        await self.refresh()
        return None


def _journal_path() -> str | None:
    """The journal page, where the desk has one (the check-in links go there)."""
    return next((item.path for item in NAV if item.path.startswith("/journal")), None)


async def acting_writer(desk: Desk) -> CurrentUser | None:
    """The page's user as stored now, if they may change portfolios; None (and the person is told why) otherwise."""
    user = await acting_user(desk)
    if user is not None and not user.can_write:
        notice(f"Viewers cannot change portfolios; you are a {user.role.value}. Ask an admin for the trader role.",
               "warning")  # fmt: skip
        return None
    return user
