"""The trade page's read-outs: the order blotter (with a confirmed cancel per working order), the positions table
(prices pushed live from the quote hub) and the compliance widget. Each panel is built once and redrawn with
`show(...)` whenever the page reads the account again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from nicegui import ui

from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.trading.accounts import PositionView
from marketdesk.trading.service import OrderView
from marketdesk.web import format as fmt
from marketdesk.web.forms import Problem
from marketdesk.web.layout import WRITE_CLASS, symbol_path
from marketdesk.web.live import LiveQuotes
from marketdesk.web.theme import flash, set_direction
from marketdesk.web.trade_support import Confirm, acting_trader, notice
from marketdesk.web.trade_text import (
    ORDER_TYPES,
    STATUS_COLOURS,
    blotter,
    compliance_text,
    is_working,
    marked,
    money,
    order_words,
    placed_at,
    quantity,
    result_message,
    status_label,
)

TABLE_PROPS = "flat bordered dense wrap-cells"


def _table(test_id: str, headers: Sequence[tuple[str, bool]]) -> ui.element:
    """A markup table with its header row; the caller fills the returned tbody. (label, numeric) per column."""
    with ui.element("q-markup-table").props(f"{TABLE_PROPS} data-testid={test_id}").classes("w-full desk-watchlist"):
        with ui.element("thead"), ui.element("tr"):
            for label, numeric in headers:
                with ui.element("th").classes("text-right desk-num" if numeric else "text-left").props("scope=col"):
                    ui.label(label)
        return ui.element("tbody")


def _cell(text: str, field: str, *, numeric: bool = False) -> ui.label:
    with ui.element("td").classes("text-right desk-num" if numeric else "").props(f"data-field={field}"):
        return ui.label(text)


def _panel(title: str, caption: str, test_id: str) -> ui.column:
    with ui.card().classes("w-full gap-2").props(f"flat bordered data-testid={test_id}"):
        with ui.column().classes("gap-0"):
            ui.label(title).classes("text-lg font-semibold")
            ui.label(caption).classes("text-sm text-grey-7")
        return ui.column().classes("w-full gap-2")


class BlotterPanel:
    """Working orders, then the latest finished ones; a working order can be cancelled (after a confirmation)."""

    HEADERS = (
        ("Placed (UTC)", False),
        ("Symbol", False),
        ("Side", False),
        ("Qty", True),
        ("Type", False),
        ("Status", False),
        ("Filled", True),
        ("Avg price", True),
        ("Reason", False),
    )

    def __init__(
        self, desk: Desk, confirm: Confirm, *, can_write: bool, on_changed: Callable[[], Awaitable[None]]
    ) -> None:
        self.desk = desk
        self.confirm = confirm
        self.can_write = can_write
        self.on_changed = on_changed
        self.body = _panel(
            "Orders", "Working orders first, then the latest finished ones; fills arrive live.", "blotter-section"
        )

    def show(self, orders: Sequence[OrderView]) -> None:
        rows = blotter(orders)
        self.body.clear()
        with self.body:
            if not rows:
                with ui.row().classes("items-center gap-2 text-grey-7").props("data-testid=blotter-empty"):
                    ui.icon("receipt_long")
                    ui.label(
                        "No orders in this account yet: preview one with the ticket, then submit it."
                        if self.can_write
                        else "No orders in this account yet."
                    )
                return
            headers = [*self.HEADERS, ("", False)] if self.can_write else list(self.HEADERS)
            with _table("blotter-table", headers):
                for view in rows:
                    self._row(view)

    def _row(self, view: OrderView) -> None:
        row = ui.element("tr").props(
            f'data-testid=order-row data-order="{view.id}" data-status={view.status} data-symbol="{view.symbol}"'
        )
        kind = ORDER_TYPES.get(view.order_type, view.order_type)
        if view.limit_price is not None:
            kind += f" {fmt.price(view.limit_price)}"
        if view.stop_price is not None:
            kind += f" stop {fmt.price(view.stop_price)}"
        with row:
            _cell(placed_at(view.created_at), "placed")
            with ui.element("td").props("data-field=symbol"):
                ui.link(view.symbol, symbol_path(view.symbol)).classes("font-semibold")
            _cell(view.side.upper(), "side")
            _cell(quantity(view.qty), "qty", numeric=True)
            _cell(f"{kind} · {view.time_in_force}", "type")
            with ui.element("td").props("data-field=status"):
                ui.badge(status_label(view.status), color=STATUS_COLOURS.get(view.status, "grey")).props("outline")
            _cell(quantity(view.filled_qty), "filled", numeric=True)
            _cell(fmt.price(view.average_fill_price), "avg_price", numeric=True)
            with ui.element("td").classes("max-w-80").props("data-field=reason"):
                ui.label(view.reason or "").classes("text-xs text-grey-8")
            if self.can_write:
                with ui.element("td").classes("text-right"):
                    if is_working(view.status):
                        ui.button("Cancel", icon="close", on_click=lambda v=view: self.cancel(v)).props(
                            "flat dense no-caps color=negative data-testid=cancel-order"
                        ).classes(WRITE_CLASS)

    async def cancel(self, view: OrderView) -> None:
        words = order_words(view)
        if not await self.confirm.ask(
            f"Cancel {words}?",
            "The broker is asked to cancel it; any part that has already filled stays filled.",
            "Cancel the order",
            "Keep it",
        ):
            return
        user = await acting_trader(self.desk)
        if user is None:
            return
        try:
            answer = await self.desk.orders.cancel(user, view.id)
        except MarketdeskError as exc:
            notice(exc.one_line(), "negative")
        else:
            _, text = result_message(answer)
            notice(text, "info" if answer.status == "canceled" else "warning")
        await self.on_changed()


@dataclass
class _PositionRow:
    qty: Decimal
    average_price: Decimal
    last_cell: ui.element
    last: ui.label
    value: ui.label
    unrealized_cell: ui.element
    unrealized: ui.label
    price: Decimal | None


class PositionsPanel:
    """Open positions marked at the last trade; the marks move with the live quotes of their symbols."""

    HEADERS = (
        ("Symbol", False),
        ("Qty", True),
        ("Avg price", True),
        ("Last", True),
        ("Market value", True),
        ("Unrealized P&L", True),
        ("Realized P&L", True),
    )

    def __init__(self, desk: Desk) -> None:
        self.body = _panel(
            "Positions", "Marked at the last trade, which streams live from the server.", "positions-section"
        )
        self.rows: dict[str, _PositionRow] = {}
        self.live = LiveQuotes(desk, self.on_quote)

    def show(self, positions: Sequence[PositionView]) -> None:
        self.body.clear()
        self.rows = {}
        with self.body:
            if not positions:
                with ui.row().classes("items-center gap-2 text-grey-7").props("data-testid=positions-empty"):
                    ui.icon("inventory_2")
                    ui.label("No open positions in this account.")
            else:
                with _table("positions-table", self.HEADERS):
                    for position in sorted(positions, key=lambda p: p.symbol):
                        self._row(position)
        self.live.follow(sorted(self.rows))

    def _row(self, position: PositionView) -> None:
        with ui.element("tr").props(f'data-testid=position-row data-symbol="{position.symbol}"'):
            with ui.element("td").props("data-field=symbol"):
                ui.link(position.symbol, symbol_path(position.symbol)).classes("font-semibold")
            _cell(quantity(position.qty), "qty", numeric=True)
            _cell(fmt.price(position.average_price), "avg_price", numeric=True)
            with ui.element("td").classes("text-right desk-num").props("data-field=last") as last_cell:
                last = ui.label(fmt.price(position.market_price))
            value = _cell(money(position.market_value), "market_value", numeric=True)
            with ui.element("td").classes("text-right desk-num").props("data-field=unrealized") as unrealized_cell:
                unrealized = ui.label(money(position.unrealized_pnl, signed=True))
            set_direction(unrealized_cell, fmt.direction(position.unrealized_pnl))
            realized = _cell(money(position.realized_pnl, signed=True), "realized", numeric=True)
            realized.classes(
                "desk-up" if position.realized_pnl > 0 else "desk-down" if position.realized_pnl < 0 else ""
            )
        self.rows[position.symbol] = _PositionRow(
            position.qty, position.average_price, last_cell, last, value, unrealized_cell, unrealized,
            position.market_price,
        )  # fmt: skip

    def on_quote(self, data: dict[str, Any]) -> None:
        """Mark one position at a streamed quote (a `quote_payload`)."""
        row = self.rows.get(str(data.get("symbol")))
        if row is None:
            return
        try:
            last = Decimal(str(data["last"]))
        except (KeyError, InvalidOperation):
            return
        value, unrealized = marked(row.qty, row.average_price, last)
        row.last.set_text(fmt.price(last))
        row.value.set_text(money(value))
        row.unrealized.set_text(money(unrealized, signed=True))
        set_direction(row.unrealized_cell, fmt.direction(unrealized))
        if row.price is not None and last != row.price:
            flash(row.last_cell, 1 if last > row.price else -1)
        row.price = last


class CompliancePanel:
    """Where the account stands under its day-trading policy."""

    def __init__(self) -> None:
        self.body = _panel("Compliance", "The account's day-trading policy, as it stands now.", "compliance-section")

    def show(self, status: dict[str, Any] | None, today: date, problem: str | None = None) -> None:
        self.body.clear()
        with self.body:
            if status is None:
                Problem("compliance-error").show(problem or "the compliance status could not be read")
                return
            text = compliance_text(status, today)
            ui.badge(text.policy, color="blue-grey-7").props(
                f'data-testid=compliance-policy data-policy="{status.get("policy", "")}"'
            )
            with ui.grid(columns="auto 1fr").classes("gap-x-4 gap-y-1 text-sm w-full"):
                for label, value, tone in text.rows:
                    ui.label(label).classes("text-grey-7")
                    shown = (
                        ui.label(value).classes("desk-num").props(f'data-testid=compliance-value data-label="{label}"')
                    )
                    if tone:
                        shown.classes("desk-up" if tone == "positive" else "desk-down")
            ui.label(text.note).classes("text-xs text-grey-7").props("data-testid=compliance-note")
