"""The trade ticket: symbol, side, quantity, order type (with the price fields it needs), time in force and an
optional stop-loss / take-profit; a pre-trade preview (estimated price and cost, the risk verdict with every
check that ran, the compliance verdict), then Submit.

Submit places exactly the order that was previewed: it is offered only once the current ticket has a preview,
any change to the ticket takes that preview away, and the preview's client order id goes with the order, so a
second click cannot place it twice. Both calls go through the order service, as REST and the CLI do.

Once a symbol is looked up, the ticket shows the recommended size of a new position in it for the ticket's account
(the sizing service, as `GET /api/v1/sizing` answers it), with "Use safe size" to put the safe choice's shares in
the quantity. A trade link (`/trade?symbol=…&side=…&qty=…`) fills the ticket and previews it; it never submits.

Once an order is placed, two things follow, neither holding it up. The order is logged in the decision log as
acted on (`DecisionService.record_placed_order`, in the background: once a day per symbol and side, never for a
name the screener does not rate, and a failure only logs a warning). And a buy, or a short sale, that opens a
position the account did not hold (as the page last read its positions) asks why (`ThesisPrompt`), unless a
thesis on the symbol is open already.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import background_tasks, ui

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.trading.orders import SubmitOrder
from marketdesk.trading.service import OrderView
from marketdesk.web import format as fmt
from marketdesk.web.forms import Problem
from marketdesk.web.identity import web_identity
from marketdesk.web.journal_ui import ThesisPrompt
from marketdesk.web.layout import WRITE_CLASS
from marketdesk.web.trade_support import SizingBox, acting_trader
from marketdesk.web.trade_text import (
    LIVE_BADGE,
    ORDER_TYPES,
    SIDES,
    Prefill,
    PreviewText,
    Ticket,
    preview_text,
    price_fields,
    result_message,
    takes_brackets,
    ticket_order,
)

TIF_SHORT = {"day": "Day", "gtc": "GTC", "ioc": "IOC", "fok": "FOK"}
TIF_HELP = {
    "day": "Day: what has not filled by the close is cancelled.",
    "gtc": "Good till cancelled: it works until it fills or you cancel it.",
    "ioc": "Immediate or cancel: what cannot fill at once is cancelled.",
    "fok": "Fill or kill: all of it at once, or nothing.",
}
FIELD_PROPS = "outlined dense"


class TicketPanel:
    """The ticket of one account; `set_account` points it at another."""

    def __init__(self, desk: Desk, *, on_placed: Callable[[], Awaitable[None]]) -> None:
        self.desk = desk
        self.on_placed = on_placed
        self.account: dict[str, Any] | None = None
        self.previewed: SubmitOrder | None = None
        self.sizings = 0  # the latest sizing wins when look-ups overlap
        self.sized_symbol: str | None = None  # the symbol the size box is about
        self.held: frozenset[str] | None = None  # the account's open positions as last read (None: not read yet)
        with ui.card().classes(f"w-full gap-3 {WRITE_CLASS}").props("flat bordered data-testid=ticket-section"):
            with ui.column().classes("gap-0"):
                ui.label("Ticket").classes("text-lg font-semibold")
                ui.label("Preview an order to see its cost and both verdicts; then submit it.").classes(
                    "text-sm text-grey-7"
                )
            with ui.row().classes("items-center gap-2").props("data-testid=ticket-live") as self.live_note:
                ui.badge(LIVE_BADGE, color="negative").classes("text-sm px-2 py-1 tracking-wider")
                ui.label("Orders from this ticket go to Alpaca's live API and spend real money.").classes(
                    "text-sm font-semibold"
                )
            self.live_note.set_visibility(False)
            self._fields()
            with ui.row().classes("items-center gap-2"):
                ui.button("Preview", icon="fact_check", on_click=self.preview).props(
                    "outline no-caps data-testid=ticket-preview"
                )
                self.submit_button = ui.button("Submit order", icon="send", on_click=self.submit).props(
                    "unelevated no-caps data-testid=ticket-submit"
                )
                self.submit_hint = ui.label("Preview the order first.").classes("text-xs text-grey-7")
            self.problem = Problem("ticket-error")
            self.preview_box = ui.column().classes("w-full gap-2").props("data-testid=ticket-preview-result")
            self.result = ui.label().classes("desk-banner w-full").props("role=status data-testid=ticket-result")
            self.result.set_visibility(False)
        self.thesis_prompt = ThesisPrompt(desk)
        self._forget_preview()

    def _fields(self) -> None:
        with ui.row().classes("w-full items-start gap-3"):
            with ui.column().classes("gap-0"):
                self.symbol = (
                    ui.input("Symbol", on_change=self._forget_preview)
                    .props(f"{FIELD_PROPS} data-testid=ticket-symbol")
                    .classes("w-36")
                    .on("blur", self.look_up)
                    .on("keydown.enter", self.look_up)
                )
                self.last = ui.label().classes("text-xs text-grey-7 pt-1").props("data-testid=ticket-last")
            self.side = ui.toggle(SIDES, value="buy", on_change=self._forget_preview).props(
                "no-caps toggle-color=primary data-testid=ticket-side"
            )
            self.qty = (
                ui.input("Quantity", on_change=self._forget_preview)
                .props(f"{FIELD_PROPS} inputmode=decimal data-testid=ticket-qty")
                .classes("w-32")
            )
        self.sizing = SizingBox("ticket-sizing", on_use_safe=self.use_safe)
        with ui.row().classes("w-full items-center gap-3"):
            self.order_type = ui.toggle(ORDER_TYPES, value="market", on_change=self._type_changed).props(
                "no-caps data-testid=ticket-type"
            )
            self.time_in_force = ui.toggle(TIF_SHORT, value="day", on_change=self._forget_preview).props(
                "no-caps data-testid=ticket-tif"
            )
            self.tif_text = ui.label().classes("text-xs text-grey-7")
        with ui.row().classes("w-full items-start gap-3"):
            self.limit_price = self._price("Limit price", "ticket-limit")
            self.stop_price = self._price("Stop price", "ticket-stop")
        with (
            ui.expansion("Stop-loss and take-profit (optional)", icon="shield")
            .classes("w-full")
            .props("dense data-testid=ticket-bracket")
        ):
            with ui.row().classes("items-start gap-3"):
                self.take_profit = self._price("Take-profit", "ticket-take-profit")
                self.stop_loss = self._price("Stop-loss", "ticket-stop-loss")
            self.bracket_note = ui.label().classes("text-xs text-grey-7")
        self._show_price_fields()

    def _price(self, label: str, test_id: str) -> ui.input:
        return (
            ui.input(label, on_change=self._forget_preview)
            .props(f"{FIELD_PROPS} inputmode=decimal data-testid={test_id}")
            .classes("w-36")
        )

    # ---- state -----------------------------------------------------------------------------------------

    def set_account(self, account: dict[str, Any]) -> None:
        """Point the ticket at `account` (its summary); a preview made for another account goes."""
        changed = self.account is None or self.account.get("id") != account.get("id")
        self.account = account
        self.live_note.set_visibility(bool(account.get("live")) and bool(account.get("live_confirmed")))
        brackets = takes_brackets(str(account.get("broker")))
        for field in (self.take_profit, self.stop_loss):
            if not brackets and field.value:
                field.set_value("")
            field.set_enabled(brackets)
        self.bracket_note.set_text(
            "Attached exits: one cancels the other once the entry fills."
            if brackets
            else f"The {account.get('broker')} venue places no stop-loss or take-profit orders; an Alpaca account does."
        )
        if changed:
            self.held = None  # another account's positions say nothing of this one's
            self._forget_preview()
            self.result.set_visibility(False)
            self.sizing.clear()  # the size depends on the account's equity and holdings: `resize` works it out again

    def set_held(self, symbols: frozenset[str]) -> None:
        """The symbols the ticket's account holds (long or short), as the page read them last."""
        self.held = symbols

    def _type_changed(self) -> None:
        self._show_price_fields()
        self._forget_preview()

    def _show_price_fields(self) -> None:
        needs_limit, needs_stop = price_fields(str(self.order_type.value))
        self.limit_price.set_visibility(needs_limit)
        self.stop_price.set_visibility(needs_stop)

    def _forget_preview(self) -> None:
        self.previewed = None
        self.preview_box.clear()
        self.submit_button.disable()
        self.submit_hint.set_visibility(True)
        self.tif_text.set_text(TIF_HELP.get(str(self.time_in_force.value), ""))

    def _ticket(self) -> Ticket:
        return Ticket(
            symbol=str(self.symbol.value or ""), side=str(self.side.value), qty=str(self.qty.value or ""),
            order_type=str(self.order_type.value), time_in_force=str(self.time_in_force.value),
            limit_price=str(self.limit_price.value or ""), stop_price=str(self.stop_price.value or ""),
            take_profit=str(self.take_profit.value or ""), stop_loss=str(self.stop_loss.value or ""),
        )  # fmt: skip

    def _order(self, client_order_id: str) -> SubmitOrder | None:
        """The order the ticket asks for, or None with the problems shown."""
        if self.account is None:
            self.problem.show("open or pick an account first")
            return None
        brackets = takes_brackets(str(self.account.get("broker")))
        try:
            return ticket_order(self._ticket(), str(self.account["id"]), client_order_id, brackets=brackets)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return None

    # ---- actions ---------------------------------------------------------------------------------------

    async def look_up(self) -> None:
        """Show the symbol's last trade under the field (a limit is easier to price with it in view)."""
        text = str(self.symbol.value or "").strip()
        if not text:
            self.last.set_text("")
            self.sized_symbol = None
            self.sizing.clear()
            return
        try:
            quote = await self.desk.market.quote(text)
        except MarketdeskError as exc:
            self.last.set_text(exc.one_line())
            self.sized_symbol = None
            self.sizing.clear()
            return
        self.last.set_text(f"Last trade {fmt.price(quote.last)}" + (" (stale)" if quote.stale else ""))
        self.last.props(f"data-last={quote.last}")
        # the same symbol again: its size stays in view while it is worked out again, so the fields and buttons
        # below do not jump (a click on Preview as the box shrank to a spinner and grew back could be lost)
        await self._size(text, quiet=text == self.sized_symbol)

    async def resize(self) -> None:
        """Work the size out again (the account's equity or holdings changed, or another account was picked),
        keeping the old one in view until the new one is ready."""
        if self.sized_symbol is not None:
            await self._size(self.sized_symbol, quiet=True)

    async def _size(self, symbol: str, *, quiet: bool = False) -> None:
        """Show the recommended size of a new position in `symbol` for the ticket's account."""
        self.sized_symbol = symbol
        if self.account is None:
            self.sizing.clear()
            return
        self.sizings += 1
        read, account_id = self.sizings, str(self.account["id"])
        if not quiet:
            self.sizing.loading()
        try:
            async with self.desk.db.session() as session:
                sized = await self.desk.sizing.size(session, web_identity().user, symbol, account_id=account_id)
        except MarketdeskError as exc:
            if read == self.sizings:
                self.sizing.problem(exc.one_line())
                self.sizing.box.props(f"data-sized={read}")
            return
        if read == self.sizings:
            self.sizing.show(sized)
            self.sizing.box.props(f"data-sized={read}")  # how many sizings have ended (drawn, unchanged or failed)

    def use_safe(self, shares: int) -> None:
        """Put the safe choice's shares in the quantity (the preview goes, as with any change)."""
        self.qty.set_value(str(shares))

    async def prefill(self, link: Prefill) -> None:
        """Fill the ticket from a trade link, size it and, with a quantity, preview it. It never submits."""
        self.symbol.set_value(link.symbol)
        self.side.set_value(link.side)
        self.qty.set_value(link.qty)
        await self.look_up()
        if link.qty:
            await self.preview()

    async def preview(self) -> None:
        self.problem.clear()
        self.result.set_visibility(False)
        order = self._order(f"web-{uuid.uuid4().hex[:24]}")
        if order is None:
            return
        user = await acting_trader(self.desk)
        if user is None:
            return
        try:
            async with self.desk.db.session() as session:
                await self.desk.market.symbol(session, order.symbol)  # an unknown symbol is refused by name
            answer = await self.desk.orders.preview(user, order)
        except MarketdeskError as exc:
            self._forget_preview()
            self.problem.show(exc.one_line())
            return
        self._forget_preview()
        self._show_preview(preview_text(answer))
        self.previewed = order
        self.submit_button.enable()
        self.submit_hint.set_visibility(False)

    async def submit(self) -> None:
        self.problem.clear()
        self.result.props(remove="data-thesis")
        if self.previewed is None:
            self.problem.show("preview the order first")
            return
        order = self._order(self.previewed.client_order_id)
        if order is None:
            return
        if order != self.previewed:
            self._forget_preview()
            self.problem.show("the ticket changed since its preview: preview it again")
            return
        user = await acting_trader(self.desk)
        if user is None:
            return
        held = self.held
        self.submit_button.props("loading")
        try:
            view = await self.desk.orders.submit(user, order)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        finally:
            self.submit_button.props(remove="loading")
        self._log_decision(user, view)
        placed, text = result_message(view)
        self._forget_preview()  # another order needs a fresh preview
        self.result.set_text(text)
        self.result.classes(
            replace=f"desk-banner w-full {'desk-banner-info' if placed else 'desk-banner-error'}"
        ).props(f"data-outcome={'placed' if placed else 'refused'} data-status={view.status}")
        self.result.set_visibility(True)
        await self.on_placed()
        opened = placed and held is not None and view.symbol not in held  # a new position: ask why
        asked = opened and await self.thesis_prompt.offer(user, view.symbol, view.side)
        self.result.props(f"data-thesis={'asked' if asked else 'not-asked'}")  # the handler is done

    def _log_decision(self, user: CurrentUser, view: OrderView) -> None:
        """Log the order in the decision log as acted on, in the background (it never raises); an order answered
        again for its client order id was logged when it was placed."""
        if view.preview is None:
            return
        work = self.desk.decisions.record_placed_order(self.desk.db.session, user, view)
        background_tasks.create(work, name=f"decision log {view.id}")

    # ---- the preview -----------------------------------------------------------------------------------

    def _show_preview(self, text: PreviewText) -> None:
        with self.preview_box:
            with (
                ui.row()
                .classes(
                    f"w-full items-center gap-2 desk-banner {'desk-banner-info' if text.allowed else 'desk-banner-error'}"
                )
                .props(f"data-testid=preview-headline data-allowed={'true' if text.allowed else 'false'}")
            ):
                ui.icon("check_circle" if text.allowed else "block")
                ui.label(text.headline)
            with ui.grid(columns="auto 1fr").classes("gap-x-4 gap-y-1 text-sm"):
                ui.label("Estimated price").classes("text-grey-7")
                ui.label(text.estimated_price).classes("desk-num").props("data-testid=preview-price")
                ui.label("Estimated cost").classes("text-grey-7")
                ui.label(text.estimated_cost).classes("desk-num").props("data-testid=preview-cost")
            self._risk(text)
            self._compliance(text)

    def _risk(self, text: PreviewText) -> None:
        with (
            ui.column()
            .classes("w-full gap-1")
            .props(f"data-testid=preview-risk data-passed={'true' if text.risk_passed else 'false'}")
        ):
            with ui.row().classes("items-center gap-2"):
                ui.label("Risk").classes("font-semibold")
                _verdict(text.risk_passed)
            for reason in text.risk_reasons:
                ui.label(reason).classes("desk-error text-sm").props("data-testid=preview-risk-reason")
            ui.label("Checks that ran").classes("text-xs text-grey-7 pt-1")
            with ui.row().classes("gap-1"):
                for check in text.checks:
                    chip = ui.chip(
                        check.label, icon="check" if check.passed else "close",
                        color="green-1" if check.passed else "red-1",
                        text_color="green-9" if check.passed else "red-9",
                    ).props(f'dense square data-testid=preview-check data-check="{check.name}" data-passed={str(check.passed).lower()}')  # fmt: skip
                    with chip:
                        ui.tooltip(check.detail).props("max-width=360px")

    def _compliance(self, text: PreviewText) -> None:
        passed = text.compliance_allowed
        with (
            ui.column()
            .classes("w-full gap-1")
            .props(f"data-testid=preview-compliance data-passed={'none' if passed is None else str(passed).lower()}")
        ):
            with ui.row().classes("items-center gap-2"):
                ui.label("Compliance").classes("font-semibold")
                if passed is not None:
                    _verdict(passed)
                if text.compliance_policy is not None:
                    ui.badge(text.compliance_policy, color="blue-grey-7").props("data-testid=preview-policy")
            ui.label(text.compliance_reason).classes("text-sm" if passed is not False else "desk-error text-sm").props(
                "data-testid=preview-compliance-reason"
            )
            for warning in text.compliance_warnings:
                ui.label(warning).classes("text-sm text-amber-9")


def _verdict(passed: bool) -> None:
    ui.badge("Passed" if passed else "Denied", color="positive" if passed else "negative")
