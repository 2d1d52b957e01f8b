"""Scheduled jobs of the journals. `resolve_calls` judges every user's market calls that the prices now decide;
run it after each session's close (it is idempotent: a call is judged once). Until the scheduler calls it, each
user's calls are also judged when that user reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from marketdesk.desk import Desk
    from marketdesk.journal.views import ResolveReport


async def resolve_calls(desk: Desk) -> ResolveReport:
    """Judge every user's due market calls in one unit of work; returns what was decided."""
    async with desk.db.session() as session:
        return await desk.journal.resolve_due(session, desk.clock.now())
