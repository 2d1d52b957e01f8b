"""Queries of the decision log. Every query a user's request reaches takes `owner_id` and is scoped by it;
`due` without an owner serves the scheduler, which measures everyone's. Takes a session; never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.db import upsert
from marketdesk.decisions.models import Decision, DecisionOutcome


class DecisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, decision: Decision) -> None:
        self.session.add(decision)
        await self.session.flush()

    async def decision(self, decision_id: str, *, owner_id: str) -> Decision | None:
        query = select(Decision).where(Decision.id == decision_id, Decision.owner_id == owner_id)
        return await self.session.scalar(query)

    async def decisions(
        self,
        *,
        owner_id: str,
        symbol: str | None = None,
        verdict: str | None = None,
        preset: str | None = None,
        start: date | None = None,
        end: date | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Decision]:
        """The owner's decisions, newest first, filtered by symbol, verdict, preset and price date."""
        query = select(Decision).where(Decision.owner_id == owner_id)
        if symbol is not None:
            query = query.where(Decision.symbol == symbol)
        if verdict is not None:
            query = query.where(Decision.verdict == verdict)
        if preset is not None:
            query = query.where(Decision.preset == preset)
        if start is not None:
            query = query.where(Decision.price_date >= start)
        if end is not None:
            query = query.where(Decision.price_date <= end)
        query = query.order_by(Decision.decided_at.desc(), Decision.id.desc()).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return list(await self.session.scalars(query))

    async def outcomes(self, decision_ids: Sequence[str]) -> dict[str, list[DecisionOutcome]]:
        """The measured outcomes of the given decisions (the caller found them among the owner's)."""
        out: dict[str, list[DecisionOutcome]] = {}
        wanted = list(dict.fromkeys(decision_ids))
        for offset in range(0, len(wanted), 500):  # stay within every driver's parameter limit
            query = select(DecisionOutcome).where(DecisionOutcome.decision_id.in_(wanted[offset : offset + 500]))
            for row in await self.session.scalars(query.order_by(DecisionOutcome.horizon_days)):
                out.setdefault(row.decision_id, []).append(row)
        return out

    async def due(self, *, entered_by: date, horizons: int, owner_id: str | None = None) -> list[Decision]:
        """Decisions entered on or before `entered_by` (the shortest window's due date) with fewer than
        `horizons` outcomes measured; everyone's when `owner_id` is None."""
        measured = (
            select(DecisionOutcome.decision_id, func.count().label("n"))
            .group_by(DecisionOutcome.decision_id)
            .subquery()
        )
        query = (
            select(Decision)
            .outerjoin(measured, measured.c.decision_id == Decision.id)
            .where(Decision.price_date <= entered_by, func.coalesce(measured.c.n, 0) < horizons)
        )
        if owner_id is not None:
            query = query.where(Decision.owner_id == owner_id)
        return list(await self.session.scalars(query.order_by(Decision.price_date, Decision.id)))

    async def add_outcomes(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert measured outcomes; one already there (measured by a concurrent run) is left as it is."""
        return await upsert(
            self.session, DecisionOutcome.__table__, rows, keys=["decision_id", "horizon_days"], update=[]
        )
