"""The trade page (/trade): pick one of your trading accounts (or open one: paper, Alpaca paper, or live Alpaca
where the desk allows live trading), see its state (ACTIVE, REDUCING, HALTED) and balances, place orders with the
ticket (preview first: cost, the risk verdict and the compliance verdict), watch the blotter and positions update
live, read the compliance widget, and work the kill switch. A live account waits for its owner to type the
confirmation phrase (`trade_live.LivePanel`); once confirmed it wears a "LIVE — real money" badge in the picker,
the account bar and the ticket.

Everything goes through the desk's services in-process, as the page's user: `desk.trading_accounts` for
accounts, positions, compliance and the kill switch, `desk.orders` for previews, orders and cancels (the same
calls REST and the CLI make). The page listens on the user's private `orders` bus channel (order events, the kill
switch and live confirmations) and reads the account again when an event arrives; the browser never polls.
Viewers see the account, the blotter, the positions and the compliance widget, but no ticket, no cancel, no kill
switch and no live confirmation, and every write handler re-reads the user and refuses anyone who may not trade.

A trade link, `/trade?symbol=SYM&side=buy|sell&qty=N` (the rebalancing advisor and the tearsheet make them), fills
the ticket of the account picked, shows its recommended size and runs the preview (risk and compliance verdicts); it
never submits. A link that cannot be read says why above the account and leaves the ticket empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import app, ui
from nicegui.events import ValueChangeEventArguments

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError, NotFound, Rejected
from marketdesk.trading.activity import trade_date
from marketdesk.trading.service import OrderView
from marketdesk.web.forms import Problem
from marketdesk.web.identity import web_identity
from marketdesk.web.layout import WRITE_CLASS
from marketdesk.web.registry import desk_page
from marketdesk.web.session import REGISTER_PATH
from marketdesk.web.trade_live import LivePanel
from marketdesk.web.trade_support import Confirm, LiveOrders, acting_trader, notice
from marketdesk.web.trade_tables import BlotterPanel, CompliancePanel, PositionsPanel
from marketdesk.web.trade_text import (
    POLICIES,
    VENUES,
    Prefill,
    account_label,
    event_message,
    live_badge,
    money,
    open_button_text,
    read_link,
    state_badge,
    venue_options,
)
from marketdesk.web.trade_ticket import TicketPanel

ACCOUNT_KEY = "trade_account"  # the account this browser last traded, remembered per browser
ORDERS_SHOWN = 200
OPEN_POLICIES = {key: POLICIES[key] for key in ("auto", "intraday-margin", "legacy-pdt", "off")}


@desk_page("/trade", "Trade", "swap_horiz")
async def trade_page(desk: Desk) -> None:
    identity = web_identity()
    ui.label("Trade").classes("text-2xl font-semibold")
    if identity.user is None:
        _guest_notice()
        return
    page = TradePage(desk, identity.user, can_write=identity.can_write)
    await page.build()
    await page.follow_link(ui.context.client.request.query_params.multi_items())


def _guest_notice() -> None:
    with ui.card().classes("w-full items-start gap-2").props("flat bordered data-testid=trade-guest"):
        ui.label("Trading accounts belong to a user, and this desk has none yet.").classes("font-semibold")
        ui.label("Create the admin account, then open a paper account here.").classes("text-sm text-grey-7")
        ui.link("Create the admin account", REGISTER_PATH)


class TradePage:
    """The page of one signed-in user: their accounts, and the panels of the account picked."""

    def __init__(self, desk: Desk, user: CurrentUser, *, can_write: bool) -> None:
        self.desk = desk
        self.user = user
        self.can_write = can_write
        self.accounts: list[dict[str, Any]] = []
        self.account_id: str | None = None
        self.reads = 0  # the latest read wins when reads overlap
        self.confirm = Confirm()
        self.live = LiveOrders(desk, user.id, self.on_events)
        self.panels: _Panels | None = None

    @property
    def account(self) -> dict[str, Any] | None:
        return next((a for a in self.accounts if a["id"] == self.account_id), None)

    async def build(self) -> None:
        self.link_problem = Problem("trade-link-error")
        self.empty = ui.column().classes("w-full")
        self.content = ui.column().classes("w-full gap-4")
        await self._load_accounts(str(app.storage.user.get(ACCOUNT_KEY, "")))
        self.live.start()

    async def _load_accounts(self, wanted: str | None = None) -> None:
        try:
            self.accounts = await self.desk.trading_accounts.list_accounts(self.user)
        except MarketdeskError as exc:
            self.empty.clear()
            with self.empty:
                Problem("trade-error").show(exc.one_line())
            return
        ids = [a["id"] for a in self.accounts]
        self.account_id = wanted if wanted in ids else (ids[0] if ids else None)
        if self.account_id is None:
            self.content.set_visibility(False)
            self._empty_state()
            return
        self.empty.clear()
        self.content.set_visibility(True)
        if self.panels is None:
            with self.content:
                self.panels = _Panels(self)
        self._set_picker()
        await self.refresh()

    def _set_picker(self) -> None:
        if self.panels is not None:
            self.panels.picker.set_options({a["id"]: account_label(a) for a in self.accounts}, value=self.account_id)

    async def follow_link(self, params: list[tuple[str, str]]) -> None:
        """Fill the ticket from a trade link's query and preview it; say why when the link cannot be used."""
        try:
            link = read_link(params)
            if link is None:
                return
            await self._check_link(link)
        except Rejected as exc:
            self.link_problem.show(exc.one_line())
            return
        if self.panels is not None and self.panels.ticket is not None:
            await self.panels.ticket.prefill(link)

    async def _check_link(self, link: Prefill) -> None:
        try:
            async with self.desk.db.session() as session:
                await self.desk.market.symbol(session, link.symbol)
        except NotFound as exc:  # an unknown symbol is refused by name
            raise Rejected(f"this trade link cannot fill the ticket: {exc.message}", hint=exc.hint) from None
        if not self.can_write:
            raise Rejected("viewers cannot trade, so this trade link fills no ticket", hint="Ask an admin for the trader role.")  # fmt: skip
        if self.account_id is None:
            order = " ".join(part for part in (link.side, link.qty, link.symbol) if part)
            raise Rejected(f"open an account first: the trade link's order ({order}) needs one", hint="Then follow the link again.")  # fmt: skip

    # ---- reading the account ---------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read the account again (state, balances, orders, positions, compliance) and redraw the panels."""
        if self.account_id is None or self.panels is None:
            return
        self.reads += 1
        read, account_id = self.reads, self.account_id
        user, accounts = self.user, self.desk.trading_accounts
        problems: list[str] = []
        balances: dict[str, Any] | None = None
        compliance: dict[str, Any] | None = None
        compliance_problem = None
        try:
            summaries = await accounts.list_accounts(user)
            orders: list[OrderView] = await self.desk.orders.orders(user, account_id=account_id, limit=ORDERS_SHOWN)
            positions = await accounts.positions(user, account_id)
        except MarketdeskError as exc:
            self.panels.problem.show(exc.one_line())
            return
        try:
            balances = (await accounts.get(user, account_id))["balances"]
        except MarketdeskError as exc:  # the broker did not answer: the desk's own books still show
            problems.append(f"balances: {exc.one_line()}")
        try:
            compliance = await accounts.compliance_status(user, account_id)
        except MarketdeskError as exc:
            compliance_problem = exc.one_line()
        if read != self.reads:
            return  # a newer read is under way; it draws
        labels_changed = [account_label(a) for a in summaries] != [account_label(a) for a in self.accounts]
        self.accounts = summaries
        if labels_changed:  # a live confirmation, made here or elsewhere, changes the picker's names
            self._set_picker()
        panels = self.panels
        panels.show_account(self.account, balances, "; ".join(problems))
        panels.blotter.show(orders)
        panels.positions.show(positions)
        panels.compliance.show(compliance, trade_date(self.desk.clock.now()), compliance_problem)
        if panels.ticket is not None and self.account is not None:
            panels.ticket.set_account(self.account)
            panels.ticket.set_held(frozenset(p.symbol for p in positions if p.qty != 0))
            await panels.ticket.resize()  # a fill or another account changes what a new position may take

    async def on_events(self, events: list[dict[str, Any]]) -> None:
        """Events pushed on the user's `orders` channel: tell what happened to an order, then read the account
        again. An account event (the kill switch, a live confirmation) from another window or the API redraws too."""
        ours = [
            e for e in events if isinstance(e.get("order"), dict) and e["order"].get("account_id") == self.account_id
        ]
        for event in ours:
            text = event_message(str(event.get("event")), event["order"])
            if text is not None:
                notice(text, "positive" if event.get("event") == "filled" else "info")
        known = {a["id"] for a in self.accounts}
        changed = [e for e in events if isinstance(e.get("account"), dict) and e["account"].get("id") in known]
        if ours or changed:
            await self.refresh()

    async def pick(self, event: ValueChangeEventArguments[Any]) -> None:
        if event.value is None or event.value == self.account_id:
            return
        self.account_id = str(event.value)
        app.storage.user[ACCOUNT_KEY] = self.account_id
        await self.refresh()

    # ---- opening an account ----------------------------------------------------------------------------

    def _empty_state(self) -> None:
        self.empty.clear()
        with (
            self.empty,
            ui.card().classes("w-full items-center py-8 gap-2").props("flat bordered data-testid=trade-empty"),
        ):
            ui.icon("account_balance_wallet", size="3rem").classes("text-grey-6")
            ui.label("You have no trading account yet").classes("text-lg font-semibold")
            if not self.can_write:
                ui.label("Viewers cannot open one; ask an admin for the trader role to trade here.").classes(
                    "text-grey-7"
                )
                return
            ui.label(
                "A paper account trades the desk's market with $100,000 of pretend money, through the same risk "
                "and compliance checks as a real one."
            ).classes("text-grey-7 text-center max-w-xl")
            OpenAccountForm(self, test_prefix="empty")

    async def open_account(self, name: str, kind: str, policy: str, venue: str = "paper") -> bool:
        user = await acting_trader(self.desk)
        if user is None:
            return False
        _, broker, live = VENUES.get(venue, VENUES["paper"])
        try:
            opened = await self.desk.trading_accounts.open(
                user, name, broker=broker, kind=kind, policy=policy, live=live
            )
        except MarketdeskError as exc:
            notice(exc.one_line(), "negative")
            return False
        if live:
            notice(
                f"Opened the live Alpaca account {opened['name']}. It places nothing until you confirm live trading.",
                "warning",
            )
        else:
            notice(
                f"Opened the {'Alpaca paper' if broker == 'alpaca' else 'paper'} account {opened['name']}.", "positive"
            )
        app.storage.user[ACCOUNT_KEY] = opened["id"]
        await self._load_accounts(opened["id"])
        return True

    # ---- live trading ----------------------------------------------------------------------------------

    async def confirm_live(self, typed: str) -> str | None:
        """Confirm live trading on the picked account with the phrase typed; None once done, else the problem."""
        account = self.account
        if account is None:
            return "pick an account first"
        user = await acting_trader(self.desk)
        if user is None:
            return "viewers cannot confirm live trading"
        try:
            changed = await self.desk.trading_accounts.confirm_live(user, account["id"], typed)
        except MarketdeskError as exc:
            return exc.one_line()
        notice(f"Live trading is on for {changed['name']}: its orders now spend real money at Alpaca.", "warning")
        await self.refresh()
        return None

    # ---- the kill switch -------------------------------------------------------------------------------

    async def kill_switch(self, on: bool) -> None:
        account = self.account
        if account is None:
            return
        if on:
            asked = await self.confirm.ask(
                f"Turn the kill switch on for {account['name']}?",
                "The account is HALTED: every new order is refused until you turn the switch off. Working orders "
                "stay working, and you can still cancel them.",
                "Halt trading",
                "Keep trading",
            )
        else:
            asked = await self.confirm.ask(
                f"Turn the kill switch off for {account['name']}?",
                "The account is ACTIVE again: new orders are judged by its risk limits and compliance policy.",
                "Resume trading",
                "Stay halted",
                danger=False,
            )
        if not asked:
            return
        user = await acting_trader(self.desk)
        if user is None:
            return
        try:
            changed = await self.desk.trading_accounts.set_kill_switch(user, account["id"], on=on)
        except MarketdeskError as exc:
            notice(exc.one_line(), "negative")
            return
        text, _ = state_badge(changed["state"])
        notice(f"{changed['name']} is {text}.", "warning" if on else "positive")
        await self.refresh()


class OpenAccountForm:
    """Venue, name, kind and compliance policy of a new account (paper by default), and the button that opens it."""

    def __init__(self, page: TradePage, *, test_prefix: str, on_opened: Callable[[], object] | None = None) -> None:
        self.page = page
        self.on_opened = on_opened
        taken = {a["name"] for a in page.accounts}
        name = next(n for n in ("Paper", *(f"Paper {i}" for i in range(2, 100))) if n not in taken)
        with ui.row().classes("items-start gap-3 pt-2"):
            self.venue = (
                ui.select(
                    venue_options(page.desk.settings.allow_live_trading),
                    value="paper",
                    label="Venue",
                    on_change=self._venue,
                )
                .props(f"outlined dense data-testid={test_prefix}-venue")
                .classes("w-72")
            )
            self.name = ui.input("Account name", value=name).props(f"outlined dense data-testid={test_prefix}-name")
            self.kind = (
                ui.select({"margin": "Margin", "cash": "Cash"}, value="margin", label="Kind", on_change=self._kind)
                .props(f"outlined dense data-testid={test_prefix}-kind")
                .classes("w-32")
            )
            self.policy = (
                ui.select(OPEN_POLICIES, value="auto", label="Day-trading policy")
                .props(f"outlined dense data-testid={test_prefix}-policy")
                .classes("w-64")
            )
        self.venue_note = ui.label().classes("text-xs text-grey-7").props(f"data-testid={test_prefix}-venue-note")
        self.button = ui.button(open_button_text("paper"), icon="add_card", on_click=self.open).props(
            f"unelevated no-caps data-testid={test_prefix}-open-account"
        )

    def _kind(self, event: ValueChangeEventArguments[Any]) -> None:
        self.policy.set_enabled(event.value != "cash")  # a cash account keeps the cash-account policy

    def _venue(self, event: ValueChangeEventArguments[Any]) -> None:
        venue = str(event.value)
        self.button.set_text(open_button_text(venue))
        self.button.props(f"color={'negative' if venue == 'alpaca-live' else 'primary'}")
        self.venue_note.set_text(
            {
                "alpaca": "Trades your Alpaca paper account with the paper keys in Settings, Key vault.",
                "alpaca-live": "Trades real money with the live keys in Settings, Key vault. It places nothing "
                "until you confirm live trading on this page.",
            }.get(venue, "")
        )

    async def open(self) -> None:
        kind = str(self.kind.value)
        policy = "auto" if kind == "cash" else str(self.policy.value)
        name = str(self.name.value or "")
        if await self.page.open_account(name, kind, policy, str(self.venue.value)) and self.on_opened is not None:
            self.on_opened()


class _Panels:
    """The account bar and the panels of the picked account, built once the user has an account."""

    def __init__(self, page: TradePage) -> None:
        self.page = page
        with ui.card().classes("w-full gap-2").props("flat bordered data-testid=account-bar"):
            with ui.row().classes("w-full items-center gap-3"):
                self.picker = (
                    ui.select({}, label="Account", on_change=page.pick)
                    .props("outlined dense data-testid=account-picker")
                    .classes("w-72")
                )
                self.state = ui.badge().classes("text-sm px-2 py-1 tracking-wider").props("data-testid=account-state")
                self.live = ui.badge().classes("text-sm px-2 py-1 tracking-wider").props("data-testid=live-badge")
                self.live.set_visibility(False)
                self.reason = ui.label().classes("text-sm text-grey-7").props("data-testid=account-state-reason")
                ui.space()
                if page.can_write:
                    self.kill_on = ui.button(
                        "Kill switch", icon="dangerous", on_click=lambda: page.kill_switch(True)
                    ).props("unelevated no-caps color=negative data-testid=kill-switch-on")
                    self.kill_off = ui.button(
                        "Turn the kill switch off", icon="play_arrow", on_click=lambda: page.kill_switch(False)
                    ).props("outline no-caps color=positive data-testid=kill-switch-off")
                    for button in (self.kill_on, self.kill_off):
                        button.classes(WRITE_CLASS)
                    ui.button("New account", icon="add", on_click=self._new_account).props(
                        "flat no-caps data-testid=new-account"
                    ).classes(WRITE_CLASS)
            self.balances = ui.row().classes("gap-6 text-sm").props("data-testid=account-balances")
            self.problem = Problem("account-error")
        self.live_panel = LivePanel(page.confirm_live, can_write=page.can_write)
        self.ticket: TicketPanel | None = None
        with ui.row().classes("w-full items-start gap-4 no-wrap max-lg:flex-wrap"):
            if page.can_write:
                with ui.column().classes("flex-[3] min-w-96"):
                    self.ticket = TicketPanel(page.desk, on_placed=page.refresh)
            else:
                with (
                    ui.column().classes("flex-[3] min-w-96"),
                    ui.card().classes("w-full gap-1").props("flat bordered data-testid=viewer-notice"),
                ):
                    ui.label("You are a viewer").classes("font-semibold")
                    ui.label(
                        "You see this account's orders, positions and compliance; placing or cancelling orders and "
                        "the kill switch need the trader role. Ask an admin."
                    ).classes("text-sm text-grey-7")
            with ui.column().classes("flex-[2] min-w-72"):
                self.compliance = CompliancePanel()
        self.blotter = BlotterPanel(page.desk, page.confirm, can_write=page.can_write, on_changed=page.refresh)
        self.positions = PositionsPanel(page.desk)
        self.dialog = self._new_account_dialog() if page.can_write else None

    def show_account(self, account: dict[str, Any] | None, balances: dict[str, Any] | None, problem: str) -> None:
        if account is None:
            return
        state = str(account["state"])
        text, colour = state_badge(state)
        self.state.set_text(text)
        self.state.props(f"color={colour} data-state={state}")
        self.reason.set_text(str(account.get("state_reason") or "") if state != "active" else "")
        badge = live_badge(account)
        self.live.set_visibility(badge is not None)
        if badge is not None:
            self.live.set_text(badge[0])
            self.live.props(f"color={badge[1]} data-live={'confirmed' if account.get('live_confirmed') else 'pending'}")
        self.live_panel.show(account)
        if self.page.can_write:
            self.kill_on.set_visibility(state != "halted")
            self.kill_off.set_visibility(state == "halted")
        self.balances.clear()
        with self.balances:
            for label, key in (("Equity", "equity"), ("Cash", "cash"), ("Buying power", "buying_power")):
                with ui.row().classes("items-baseline gap-1"):
                    ui.label(label).classes("text-grey-7")
                    ui.label(money(None if balances is None else balances.get(key))).classes("desk-num").props(
                        f"data-testid=balance-{key.replace('_', '-')}"
                    )
            venue = f"{account['broker']} live" if account.get("live") else str(account["broker"])
            ui.label(f"{venue} · {account['kind']} · policy {account['policy']}").classes("text-grey-7")
        self.problem.show(problem)

    def _new_account_dialog(self) -> ui.dialog:
        with ui.dialog().props("data-testid=new-account-dialog") as dialog, ui.card().classes("min-w-96 gap-2"):
            ui.label("Open another account").classes("text-lg font-semibold")
            self.dialog_body = ui.column().classes("gap-2")
        return dialog

    def _new_account(self) -> None:
        if self.dialog is None:
            return
        self.dialog_body.clear()
        with self.dialog_body:  # a fresh form: its suggested name is one the user has not taken yet
            OpenAccountForm(self.page, test_prefix="dialog", on_opened=self.dialog.close)
        self.dialog.open()
