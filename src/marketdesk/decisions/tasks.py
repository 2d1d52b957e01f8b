"""Jobs of the decision log, for the scheduler and the trade path. Each opens its own unit of work.

`measure_due_decisions(desk)` is the scheduler's job (daily after the close, say; idempotent).
`log_order_decision(desk, user, order)` is the trade path's hook, called after an order is accepted; it never
raises because the log could not judge the symbol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketdesk.accounts.roles import CurrentUser
from marketdesk.decisions.service import DecisionView, MeasureReport, OrderLike

if TYPE_CHECKING:
    from marketdesk.desk import Desk


async def measure_due_decisions(desk: Desk) -> MeasureReport:
    """Measure every user's outcomes that are due and have prices, as of the desk's clock."""
    async with desk.db.session() as session:
        return await desk.decisions.measure_due(session, desk.clock.now())


async def log_order_decision(desk: Desk, user: CurrentUser, order: OrderLike) -> DecisionView | None:
    """Log the verdict behind an order `user` placed, in its own unit of work (None when there is no verdict
    to log: the order stands either way)."""
    async with desk.db.session() as session:
        return await desk.decisions.log_order(session, user, order)
