"""What the trade page's panels share: the user's order events pushed to the page, the check a handler makes
before it trades, and a confirmation dialog whose buttons say what they do.

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
from marketdesk.realtime.channels import private_channel
from marketdesk.telemetry import REGISTRY
from marketdesk.web.forms import acting_user

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
