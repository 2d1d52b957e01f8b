"""Queries of portfolios. Every query a user's request can reach takes `owner_id` and is scoped by it; the ones
on a portfolio's transactions and snapshots take its id, and the service calls them only after `portfolio()`
found it among the caller's. Takes a session; never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.portfolio.models import (
    Portfolio,
    PortfolioSnapshot,
    PortfolioTarget,
    PortfolioTargetWeight,
    PortfolioTransaction,
)


class PortfolioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- portfolios ----------------------------------------------------------------------------------

    async def portfolio(self, portfolio_id: str, *, owner_id: str) -> Portfolio | None:
        query = select(Portfolio).where(Portfolio.id == portfolio_id, Portfolio.owner_id == owner_id)
        return await self.session.scalar(query)

    async def portfolio_named(self, name: str, *, owner_id: str) -> Portfolio | None:
        query = select(Portfolio).where(Portfolio.name == name, Portfolio.owner_id == owner_id)
        return await self.session.scalar(query)

    async def portfolios(self, *, owner_id: str) -> list[Portfolio]:
        query = select(Portfolio).where(Portfolio.owner_id == owner_id).order_by(Portfolio.created_at, Portfolio.id)
        return list(await self.session.scalars(query))

    async def stale_portfolios(self, day: date) -> list[Portfolio]:
        """Every user's portfolios without a snapshot of `day` or later (the scheduler's daily refresh)."""
        latest = (
            select(PortfolioSnapshot.portfolio_id, func.max(PortfolioSnapshot.day).label("last"))
            .group_by(PortfolioSnapshot.portfolio_id)
            .subquery()
        )
        query = (
            select(Portfolio)
            .outerjoin(latest, latest.c.portfolio_id == Portfolio.id)
            .where((latest.c.last.is_(None)) | (latest.c.last < day))
            .order_by(Portfolio.created_at, Portfolio.id)
        )
        return list(await self.session.scalars(query))

    async def owner_of(self, portfolio_id: str) -> str | None:
        """Who owns a portfolio (None: no such portfolio); for the WebSocket's `portfolio:ID` channel."""
        return await self.session.scalar(select(Portfolio.owner_id).where(Portfolio.id == portfolio_id))

    def add(self, row: object) -> None:
        self.session.add(row)

    async def delete_portfolio(self, portfolio_id: str, *, owner_id: str) -> None:
        # children first: SQLite enforces the cascade only with foreign keys on, and the order costs nothing
        await self.delete_targets(portfolio_id)
        await self.session.execute(delete(PortfolioSnapshot).where(PortfolioSnapshot.portfolio_id == portfolio_id))
        await self.session.execute(
            delete(PortfolioTransaction).where(PortfolioTransaction.portfolio_id == portfolio_id)
        )
        await self.session.execute(
            delete(Portfolio).where(Portfolio.id == portfolio_id, Portfolio.owner_id == owner_id)
        )

    # ---- transactions --------------------------------------------------------------------------------

    async def transactions(self, portfolio_id: str) -> list[PortfolioTransaction]:
        """A portfolio's transactions in the order they were recorded (the service orders them by day)."""
        query = select(PortfolioTransaction).where(PortfolioTransaction.portfolio_id == portfolio_id)
        return list(await self.session.scalars(query.order_by(PortfolioTransaction.id)))

    async def transaction_counts(self, portfolio_ids: Sequence[str]) -> dict[str, int]:
        if not portfolio_ids:
            return {}
        query = (
            select(PortfolioTransaction.portfolio_id, func.count())
            .where(PortfolioTransaction.portfolio_id.in_(list(portfolio_ids)))
            .group_by(PortfolioTransaction.portfolio_id)
        )
        return {row[0]: int(row[1]) for row in await self.session.execute(query)}

    async def fingerprints(self, portfolio_id: str, fingerprints: Sequence[str]) -> set[str]:
        """Which of `fingerprints` the portfolio already holds."""
        found: set[str] = set()
        wanted = list(dict.fromkeys(fingerprints))
        for offset in range(0, len(wanted), 500):  # stay within every driver's parameter limit
            query = select(PortfolioTransaction.fingerprint).where(
                PortfolioTransaction.portfolio_id == portfolio_id,
                PortfolioTransaction.fingerprint.in_(wanted[offset : offset + 500]),
            )
            found.update(await self.session.scalars(query))
        return found

    async def insert_transactions(self, rows: Sequence[PortfolioTransaction]) -> None:
        self.session.add_all(list(rows))
        await self.session.flush()  # gives the rows their ids

    async def delete_transaction(self, portfolio_id: str, transaction_id: int) -> None:
        await self.session.execute(
            delete(PortfolioTransaction).where(
                PortfolioTransaction.portfolio_id == portfolio_id, PortfolioTransaction.id == transaction_id
            )
        )

    # ---- snapshots -----------------------------------------------------------------------------------

    async def replace_snapshots(self, portfolio_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Put `rows` in place of every stored snapshot of the portfolio (one unit of work: all or nothing)."""
        await self.session.execute(delete(PortfolioSnapshot).where(PortfolioSnapshot.portfolio_id == portfolio_id))
        for offset in range(0, len(rows), 5_000):
            await self.session.execute(insert(PortfolioSnapshot), list(rows[offset : offset + 5_000]))

    async def snapshots(
        self, portfolio_id: str, start: date | None = None, end: date | None = None
    ) -> list[PortfolioSnapshot]:
        query = select(PortfolioSnapshot).where(PortfolioSnapshot.portfolio_id == portfolio_id)
        if start is not None:
            query = query.where(PortfolioSnapshot.day >= start)
        if end is not None:
            query = query.where(PortfolioSnapshot.day <= end)
        return list(await self.session.scalars(query.order_by(PortfolioSnapshot.day)))

    # ---- targets -------------------------------------------------------------------------------------

    async def targets(self, portfolio_id: str) -> tuple[PortfolioTarget | None, list[PortfolioTargetWeight]]:
        """A portfolio's target settings (None: none set) and its weights."""
        settings = await self.session.get(PortfolioTarget, portfolio_id)
        query = select(PortfolioTargetWeight).where(PortfolioTargetWeight.portfolio_id == portfolio_id)
        weights = await self.session.scalars(query.order_by(PortfolioTargetWeight.dimension, PortfolioTargetWeight.key))
        return settings, list(weights)

    async def replace_targets(self, settings: PortfolioTarget, weights: Sequence[PortfolioTargetWeight]) -> None:
        """Put `settings` and `weights` in place of the portfolio's targets (one unit of work)."""
        await self.delete_targets(settings.portfolio_id)
        self.session.add(settings)
        self.session.add_all(list(weights))
        await self.session.flush()

    async def delete_targets(self, portfolio_id: str) -> None:
        await self.session.execute(
            delete(PortfolioTargetWeight).where(PortfolioTargetWeight.portfolio_id == portfolio_id)
        )
        await self.session.execute(delete(PortfolioTarget).where(PortfolioTarget.portfolio_id == portfolio_id))
