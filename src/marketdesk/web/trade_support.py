"""What the trade page's panels share: the user's order events pushed to the page, the check a handler makes
before it trades, a confirmation dialog whose buttons say what they do, and the recommended position size (which
the tearsheet shows too).

`LiveOrders` subscribes to the user's private `orders` bus channel (`private_channel("orders", user_id)`, where
the order service publishes every order event) once the browser's websocket is up, and hands each burst of
events to the page; NiceGUI pushes the resulting changes over its websocket, so nothing in the browser polls.
The subscription lives as long as the page: when NiceGUI deletes the client (the browser left and did not come
back within the reconnect timeout) the task is cancelled and the subscription closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from nicegui import background_tasks, ui
from prometheus_client import Gauge

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.logs import get_logger
from marketdesk.portfolio.sizing_service import PositionSize
from marketdesk.realtime.channels import private_channel
from marketdesk.telemetry import REGISTRY
from marketdesk.web.forms import acting_user
from marketdesk.web.trade_text import size_shares, stars, trade_link

log = get_logger(__name__)
OrderEvents = Callable[[list[dict[str, Any]]], Awaitable[None]]
Tone = Literal["positive", "negative", "warning", "info"]
COALESCE_S = 0.05  # events that arrive this close together (a fill and its status) refresh the page once

WEB_ORDER_STREAMS = Gauge(
    "marketdesk_web_order_streams", "Open order-event subscriptions of web desk trade pages", registry=REGISTRY
)


class LiveOrders:
    """One user's order events, delivered to one page's handler in bursts. Create it inside a page."""

    def __init__(self, desk: Desk, user_id: str, on_events: OrderEvents) -> None:
        self._desk = desk
        self._channel = private_channel("orders", user_id)
        self._on_events = on_events
        self._task: asyncio.Task[None] | None = None
        self.client = ui.context.client
        self.client.on_delete(self.stop)

    def start(self) -> None:
        """Start listening (once); the events come to the handler until the page goes."""
        if self._task is None and not self.client.is_deleted:
            self._task = background_tasks.create(self._run(), name=f"web {self._channel}")

    def stop(self) -> None:
        """Cancel the stream; its subscription closes as the task ends."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _run(self) -> None:
        await self.client.connected()
        if self.client.is_deleted:
            return
        subscription = await self._desk.bus.subscribe(self._channel)
        WEB_ORDER_STREAMS.inc()
        try:
            while (message := await subscription.get()) is not None:
                burst = [message.data]
                while (more := await subscription.get(COALESCE_S)) is not None:
                    burst.append(more.data)
                if self.client.is_deleted:
                    return
                try:
                    with self.client:
                        await self._on_events(burst)
                except MarketdeskError as exc:  # a refresh that failed once; the next event tries again
                    log.warning("trade page skipped an order event", channel=self._channel, error=exc.one_line())
        finally:
            WEB_ORDER_STREAMS.dec()
            await subscription.close()


async def acting_trader(desk: Desk) -> CurrentUser | None:
    """The page's user as stored now, if they may trade; None (and the person is told why) otherwise."""
    user = await acting_user(desk)
    if user is not None and not user.can_write:
        notice(f"Viewers cannot trade; you are a {user.role.value}. Ask an admin for the trader role.", "warning")
        return None
    return user


def notice(text: str, tone: Tone = "info") -> None:
    """A toast in the corner, clear of the blotter and the ticket."""
    ui.notify(text, type=tone, position="bottom-right", multi_line=True)


class Confirm:
    """The page's confirmation dialog: `if await confirm.ask(question, detail, action, keep):`."""

    def __init__(self) -> None:
        with ui.dialog().props("data-testid=trade-confirm") as self.dialog, ui.card().classes("min-w-80 max-w-lg"):
            self.question = ui.label().classes("text-base font-semibold").props("data-testid=trade-confirm-question")
            self.detail = ui.label().classes("text-sm text-grey-7")
            with ui.row().classes("w-full justify-end gap-2 pt-2"):
                self.keep = ui.button(on_click=lambda: self.dialog.submit(False)).props(
                    "flat no-caps data-testid=trade-confirm-keep"
                )
                self.action = ui.button(on_click=lambda: self.dialog.submit(True)).props(
                    "unelevated no-caps data-testid=trade-confirm-ok"
                )

    async def ask(self, question: str, detail: str, action: str, keep: str = "Cancel", *, danger: bool = True) -> bool:
        """True only when the person pressed `action` (`keep`, Escape or a click outside: False)."""
        self.question.set_text(question)
        self.detail.set_text(detail)
        self.action.set_text(action)
        self.keep.set_text(keep)
        self.action.props(f"color={'negative' if danger else 'primary'}")
        return bool(await self.dialog)


class SizingBox:
    """A recommended position size (docs/sizing.md): its stars, the range in percent and dollars, the shares, the
    safe choice highlighted, whose money it sizes and every rule that moved it. Create it inside a page.

    `on_use_safe(shares)` adds a "Use safe size" button under it (the ticket); `link_trade` adds a link to the ticket filled
    with the safe size (the tearsheet). Test ids start with `test_id`: `-headline`, `-safe`, `-stars`, `-reason`…
    """

    def __init__(
        self,
        test_id: str,
        *,
        on_use_safe: Callable[[int], None] | None = None,
        link_trade: bool = False,
        reasons_open: bool = False,
    ) -> None:
        self.test_id = test_id
        self.on_use_safe = on_use_safe
        self.link_trade = link_trade
        self.reasons_open = reasons_open
        self.box = ui.column().classes("w-full gap-1 desk-box").props(f"data-testid={test_id}")
        self.box.set_visibility(False)
        self._shown: object = None  # what `show` drew last (None: something else is in the box)
        self._safe_shares = 0
        with self.box:
            self.content = ui.column().classes("w-full gap-1")  # drawn again for each size
            # the button stays while the size is drawn again (the page sizes again as it opens and on every order
            # event): a click is never lost to a redraw, and it takes the safe size shown at that moment
            self.use_safe_button = ui.button("Use safe size", icon="input", on_click=self._use_safe).props(
                f"dense unelevated no-caps color=positive data-testid={test_id}-use-safe"
            )
            self.use_safe_button.set_visibility(False)

    def clear(self) -> None:
        self._fresh("empty")
        self.box.set_visibility(False)

    def loading(self) -> None:
        self._fresh("loading")
        with self.content, ui.row().classes("items-center gap-2"):
            ui.spinner(size="sm")
            ui.label("Working out a position size…").classes("text-sm text-grey-7")

    def problem(self, text: str) -> None:
        self._fresh("error")
        with self.content:
            self._title()
            ui.label(f"No recommendation: {text}").classes("text-sm desk-error").props(
                f"data-testid={self.test_id}-error"
            )

    def show(self, sized: PositionSize) -> None:
        r = sized.recommendation
        shown = (r, sized.basis.kind, sized.basis.text)
        if shown == self._shown:  # sized again, the same: nothing to draw
            return
        self._fresh("ready")
        self._shown = shown
        self._safe_shares = r.safe_shares
        self.box.props(f"data-stars={r.stars} data-symbol={r.symbol}")
        if self.on_use_safe is not None and r.safe_shares > 0:
            self.use_safe_button.props(f"data-shares={r.safe_shares}")
            self.use_safe_button.set_visibility(True)
        with self.content:
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                self._title()
                ui.space()
                ui.label(stars(r.stars)).classes("text-amber-8 text-lg tracking-widest").props(
                    f'data-testid={self.test_id}-stars data-stars={r.stars} aria-label="{r.stars} of 5 stars"'
                ).tooltip(f"Opportunity: {r.stars} of 5 stars")
            ui.label(r.headline).classes("text-base font-semibold desk-num").props(
                f"data-testid={self.test_id}-headline"
            )
            ui.label(size_shares(r)).classes("text-xs text-grey-7").props(f"data-testid={self.test_id}-shares")
            with (
                ui.row()
                .classes("w-full items-center no-wrap gap-2 rounded-borders px-3 py-2 bg-green-1 text-green-10")
                .style("border-left: 4px solid var(--q-positive)")
                .props(f"data-testid={self.test_id}-safe-box")
            ):
                ui.icon("verified_user", size="20px")
                ui.label(r.safe_text).classes("font-semibold desk-num").props(
                    f"data-testid={self.test_id}-safe data-shares={r.safe_shares} data-dollars={r.safe_dollars}"
                )
                ui.space()
                if self.link_trade and r.safe_shares > 0:
                    ui.link("Trade it", trade_link(r.symbol, "buy", r.safe_shares)).classes("text-sm").props(
                        f"data-testid={self.test_id}-trade"
                    )
            ui.label(f"Sizes a new buy for {sized.basis.text}.").classes("text-xs text-grey-7").props(
                f"data-testid={self.test_id}-basis data-basis={sized.basis.kind}"
            )
            with (
                ui.expansion("Why this size", value=self.reasons_open).props("dense").classes("w-full"),
                ui.column().classes("w-full gap-1"),
            ):
                for reason in r.reasons:
                    ui.label(reason.text).classes("text-xs").props(
                        f"data-testid={self.test_id}-reason data-factor={reason.factor} data-effect={reason.effect}"
                    )

    def _use_safe(self) -> None:
        if self.on_use_safe is not None and self._safe_shares > 0:
            self.on_use_safe(self._safe_shares)

    def _fresh(self, state: str) -> None:
        self._shown, self._safe_shares = None, 0
        self.use_safe_button.set_visibility(False)
        self.content.clear()
        self.box.props(f"data-state={state}")
        self.box.set_visibility(True)

    def _title(self) -> None:
        ui.label("Position size").classes("text-xs uppercase tracking-wide text-grey-7")
