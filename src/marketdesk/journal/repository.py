"""Queries of the journals. Every query a user's request can reach takes `owner_id` and is scoped by it; the one
unscoped query (`open_calls_due`) is for the job that judges every user's due calls. Takes a session; never
commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.journal.models import MarketCall, Thesis, ThesisCheckin, ThesisMetric, TradeNote
from marketdesk.trading.models import FillRecord, OrderRecord, TradingAccount


class JournalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    async def flush(self) -> None:
        await self.session.flush()

    # ---- theses --------------------------------------------------------------------------------------

    async def thesis(self, thesis_id: str, *, owner_id: str) -> Thesis | None:
        query = select(Thesis).where(Thesis.id == thesis_id, Thesis.owner_id == owner_id)
        return await self.session.scalar(query)

    async def theses(
        self, *, owner_id: str, state: str | None = None, symbol: str | None = None, due_by: date | None = None
    ) -> list[Thesis]:
        query = select(Thesis).where(Thesis.owner_id == owner_id)
        if state is not None:
            query = query.where(Thesis.state == state)
        if symbol is not None:
            query = query.where(Thesis.symbol == symbol)
        if due_by is not None:
            query = query.where(Thesis.review_on <= due_by)
        return list(await self.session.scalars(query.order_by(Thesis.review_on, Thesis.created_at, Thesis.id)))

    async def metrics(self, thesis_ids: Sequence[str]) -> dict[str, list[ThesisMetric]]:
        if not thesis_ids:
            return {}
        query = select(ThesisMetric).where(ThesisMetric.thesis_id.in_(list(thesis_ids)))
        out: dict[str, list[ThesisMetric]] = {}
        for row in await self.session.scalars(query.order_by(ThesisMetric.thesis_id, ThesisMetric.position)):
            out.setdefault(row.thesis_id, []).append(row)
        return out

    async def checkins(self, thesis_id: str) -> list[ThesisCheckin]:
        query = select(ThesisCheckin).where(ThesisCheckin.thesis_id == thesis_id).order_by(ThesisCheckin.id)
        return list(await self.session.scalars(query))

    # ---- trades --------------------------------------------------------------------------------------

    async def accounts(self, *, owner_id: str) -> list[TradingAccount]:
        query = select(TradingAccount).where(TradingAccount.owner_id == owner_id).order_by(TradingAccount.created_at)
        return list(await self.session.scalars(query))

    async def tagged_fills(
        self, *, owner_id: str, account_id: str | None = None, symbol: str | None = None
    ) -> list[tuple[FillRecord, str | None]]:
        """The owner's fills with their order's tag, in time order."""
        query = (
            select(FillRecord, OrderRecord.tag)
            .join(OrderRecord, OrderRecord.id == FillRecord.order_id)
            .where(OrderRecord.owner_id == owner_id)
        )
        if account_id is not None:
            query = query.where(FillRecord.account_id == account_id)
        if symbol is not None:
            query = query.where(FillRecord.symbol == symbol)
        rows = await self.session.execute(query.order_by(FillRecord.time, FillRecord.id))
        return [(fill, tag) for fill, tag in rows]

    async def order_account(self, order_id: str, *, owner_id: str) -> str | None:
        query = select(OrderRecord.account_id).where(OrderRecord.id == order_id, OrderRecord.owner_id == owner_id)
        return await self.session.scalar(query)

    async def trade_notes(self, *, owner_id: str, account_ids: Sequence[str] | None = None) -> list[TradeNote]:
        query = select(TradeNote).where(TradeNote.owner_id == owner_id)
        if account_ids is not None:
            query = query.where(TradeNote.account_id.in_(list(account_ids)))
        return list(await self.session.scalars(query))

    async def trade_note(self, account_id: str, round_trip_id: str, *, owner_id: str) -> TradeNote | None:
        query = select(TradeNote).where(
            TradeNote.account_id == account_id, TradeNote.round_trip_id == round_trip_id, TradeNote.owner_id == owner_id
        )
        return await self.session.scalar(query)

    # ---- calls ---------------------------------------------------------------------------------------

    async def call(self, call_id: str, *, owner_id: str) -> MarketCall | None:
        query = select(MarketCall).where(MarketCall.id == call_id, MarketCall.owner_id == owner_id)
        return await self.session.scalar(query)

    async def calls(
        self,
        *,
        owner_id: str,
        outcome: str | None = None,
        symbol: str | None = None,
        due_from: date | None = None,
        due_to: date | None = None,
    ) -> list[MarketCall]:
        query = select(MarketCall).where(MarketCall.owner_id == owner_id)
        if outcome is not None:
            query = query.where(MarketCall.outcome == outcome)
        if symbol is not None:
            query = query.where(MarketCall.symbol == symbol)
        if due_from is not None:
            query = query.where(MarketCall.due_on >= due_from)
        if due_to is not None:
            query = query.where(MarketCall.due_on <= due_to)
        return list(await self.session.scalars(query.order_by(MarketCall.due_on, MarketCall.symbol, MarketCall.id)))

    async def open_calls(self, *, owner_id: str | None) -> list[MarketCall]:
        """Open calls of one owner, or (owner None: the resolving job only) of everyone."""
        query = select(MarketCall).where(MarketCall.outcome == "open")
        if owner_id is not None:
            query = query.where(MarketCall.owner_id == owner_id)
        return list(await self.session.scalars(query.order_by(MarketCall.due_on, MarketCall.id)))

    async def settle_call(
        self,
        call_id: str,
        *,
        outcome: str,
        decided_on: date | None,
        decided_close: Decimal | None,
        reason: str,
        at: datetime,
    ) -> bool:
        """Record a judgement on a call still open; False when it was judged meanwhile (idempotent)."""
        result = await self.session.execute(
            update(MarketCall)
            .where(MarketCall.id == call_id, MarketCall.outcome == "open")
            .values(
                outcome=outcome,
                decided_on=decided_on,
                decided_close=decided_close,
                outcome_reason=reason,
                resolved_at=at,
            )
        )
        return bool(getattr(result, "rowcount", 0))
