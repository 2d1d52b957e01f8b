"""Queries of trading. Every query that a user's request can reach takes `owner_id` as a required keyword and
is scoped by it; the few unscoped ones (`*_for_account`) are for the order service after it has checked the
account's owner, and for recovery at start-up. Takes a session; never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.trading.models import (
    FillRecord,
    OrderEventRecord,
    OrderRecord,
    PositionRecord,
    ReconciliationFinding,
    TradingAccount,
)

WORKING = ("new", "accepted", "partially_filled")


class TradingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- accounts ------------------------------------------------------------------------------------

    async def account(self, account_id: str, *, owner_id: str) -> TradingAccount | None:
        query = select(TradingAccount).where(TradingAccount.id == account_id, TradingAccount.owner_id == owner_id)
        return await self.session.scalar(query)

    async def accounts(self, *, owner_id: str) -> list[TradingAccount]:
        query = select(TradingAccount).where(TradingAccount.owner_id == owner_id).order_by(TradingAccount.created_at)
        return list(await self.session.scalars(query))

    async def account_named(self, name: str, *, owner_id: str) -> TradingAccount | None:
        query = select(TradingAccount).where(TradingAccount.name == name, TradingAccount.owner_id == owner_id)
        return await self.session.scalar(query)

    async def all_accounts(self) -> list[TradingAccount]:
        """Every account (start-up recovery and reconciliation only)."""
        return list(await self.session.scalars(select(TradingAccount).order_by(TradingAccount.created_at)))

    def add(self, row: object) -> None:
        self.session.add(row)

    # ---- orders --------------------------------------------------------------------------------------

    async def order(self, order_id: str, *, owner_id: str) -> OrderRecord | None:
        query = select(OrderRecord).where(OrderRecord.id == order_id, OrderRecord.owner_id == owner_id)
        return await self.session.scalar(query)

    async def order_by_client_id(self, account_id: str, client_order_id: str, *, owner_id: str) -> OrderRecord | None:
        query = select(OrderRecord).where(
            OrderRecord.account_id == account_id,
            OrderRecord.client_order_id == client_order_id,
            OrderRecord.owner_id == owner_id,
        )
        return await self.session.scalar(query)

    async def orders(
        self,
        *,
        owner_id: str,
        account_id: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int = 200,
    ) -> list[OrderRecord]:
        query = select(OrderRecord).where(OrderRecord.owner_id == owner_id)
        if account_id is not None:
            query = query.where(OrderRecord.account_id == account_id)
        if statuses:
            query = query.where(OrderRecord.status.in_(list(statuses)))
        query = query.order_by(OrderRecord.created_at.desc(), OrderRecord.id).limit(limit)
        return list(await self.session.scalars(query))

    async def events(self, order_id: str, *, owner_id: str) -> list[OrderEventRecord]:
        query = (
            select(OrderEventRecord)
            .join(OrderRecord, OrderRecord.id == OrderEventRecord.order_id)
            .where(OrderEventRecord.order_id == order_id, OrderRecord.owner_id == owner_id)
            .order_by(OrderEventRecord.id)
        )
        return list(await self.session.scalars(query))

    async def working_for_account(self, account_id: str) -> list[OrderRecord]:
        query = select(OrderRecord).where(OrderRecord.account_id == account_id, OrderRecord.status.in_(WORKING))
        return list(await self.session.scalars(query.order_by(OrderRecord.created_at)))

    async def order_for_account(self, account_id: str, *, client_order_id: str) -> OrderRecord | None:
        query = select(OrderRecord).where(
            OrderRecord.account_id == account_id, OrderRecord.client_order_id == client_order_id
        )
        return await self.session.scalar(query)

    async def submissions_since(self, account_id: str, since: datetime) -> list[datetime]:
        query = select(OrderRecord.created_at).where(
            OrderRecord.account_id == account_id, OrderRecord.created_at >= since
        )
        return list(await self.session.scalars(query))

    async def count_orders(self, account_id: str) -> int:
        query = select(func.count()).select_from(OrderRecord).where(OrderRecord.account_id == account_id)
        return int(await self.session.scalar(query) or 0)

    # ---- fills and positions -------------------------------------------------------------------------

    async def fills_for_account(self, account_id: str, *, since: datetime | None = None) -> list[FillRecord]:
        query = select(FillRecord).where(FillRecord.account_id == account_id)
        if since is not None:
            query = query.where(FillRecord.time >= since)
        return list(await self.session.scalars(query.order_by(FillRecord.time, FillRecord.id)))

    async def fill_ids(self, account_id: str, fill_ids: Sequence[str]) -> set[str]:
        if not fill_ids:
            return set()
        query = select(FillRecord.fill_id).where(
            FillRecord.account_id == account_id, FillRecord.fill_id.in_(list(fill_ids))
        )
        return set(await self.session.scalars(query))

    async def positions_for_account(self, account_id: str) -> list[PositionRecord]:
        query = select(PositionRecord).where(PositionRecord.account_id == account_id).order_by(PositionRecord.symbol)
        return list(await self.session.scalars(query))

    async def position(self, account_id: str, symbol: str) -> PositionRecord | None:
        return await self.session.get(PositionRecord, (account_id, symbol))

    # ---- state and reconciliation --------------------------------------------------------------------

    async def set_state(self, account_id: str, state: str, reason: str, at: datetime) -> None:
        await self.session.execute(
            update(TradingAccount)
            .where(TradingAccount.id == account_id)
            .values(state=state, state_reason=reason[:255], updated_at=at)
        )

    async def findings(self, account_id: str, *, owner_id: str, limit: int = 100) -> list[ReconciliationFinding]:
        query = (
            select(ReconciliationFinding)
            .join(TradingAccount, TradingAccount.id == ReconciliationFinding.account_id)
            .where(ReconciliationFinding.account_id == account_id, TradingAccount.owner_id == owner_id)
            .order_by(ReconciliationFinding.id.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(query))
