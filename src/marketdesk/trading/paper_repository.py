"""Queries of the paper broker's tables: the only place with SQL for `paper_*`. Takes a session (start-up
reads) or a unit of work (`marketdesk.unit`, the writes); never commits.

Writes are prepared statements keyed by primary key (`marketdesk.prepared`: built once, run on the driver's
connection inside the unit's transaction; no ORM): the broker keeps the state in memory and writes each change
through, so the order path stays a handful of statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.prepared import Direct, Prepared
from marketdesk.trading.paper_models import (
    PaperAccount,
    PaperCorporateAction,
    PaperFill,
    PaperOrder,
    PaperPosition,
)
from marketdesk.unit import Unit

Row = Mapping[str, Any]
ACCOUNTS = cast(Table, PaperAccount.__table__)
ORDERS = cast(Table, PaperOrder.__table__)
FILLS = cast(Table, PaperFill.__table__)
POSITIONS = cast(Table, PaperPosition.__table__)
ACTIONS = cast(Table, PaperCorporateAction.__table__)


class PaperRepository:
    """SQL for one paper account's state, scoped to one session or unit of work."""

    def __init__(self, unit: AsyncSession | Unit, account_id: str) -> None:
        self._unit = unit
        self.account_id = account_id
        self._direct: Direct | None = unit.direct if isinstance(unit, Unit) else None

    @property
    def session(self) -> AsyncSession:
        if isinstance(self._unit, Unit):
            raise TypeError("the paper account's state is read at start-up, in a session, not in a unit of work")
        return self._unit

    async def _run(self, statement: Prepared, parameters: Row) -> None:
        """Run a prepared write on the unit's or session's connection (inside its transaction)."""
        if self._direct is None:
            self._direct = await Direct.of(self.session)
        await statement.run(self._direct, parameters)

    # reads (start-up) -----------------------------------------------------------------------------------------

    async def account(self) -> Row | None:
        result = await self.session.execute(select(ACCOUNTS).where(PaperAccount.id == self.account_id))
        row = result.mappings().first()
        return None if row is None else dict(row)

    async def orders(self) -> list[Row]:
        statement = select(ORDERS).where(PaperOrder.account_id == self.account_id).order_by(PaperOrder.seq)
        return [dict(r) for r in (await self.session.execute(statement)).mappings()]

    async def fills(self) -> list[Row]:
        statement = select(FILLS).where(PaperFill.account_id == self.account_id).order_by(PaperFill.seq)
        return [dict(r) for r in (await self.session.execute(statement)).mappings()]

    async def positions(self) -> list[Row]:
        statement = select(POSITIONS).where(PaperPosition.account_id == self.account_id)
        return [dict(r) for r in (await self.session.execute(statement)).mappings()]

    async def corporate_actions(self) -> list[Row]:
        statement = select(ACTIONS).where(PaperCorporateAction.account_id == self.account_id)
        return [dict(r) for r in (await self.session.execute(statement)).mappings()]

    # writes ---------------------------------------------------------------------------------------------------
    # Statements are built once with bound parameters: the order path then skips building and caching a new
    # statement per write (the columns to set are the keys of the parameters).

    async def insert_account(self, values: Row) -> None:
        await self._run(_INSERT_ACCOUNT, {"id": self.account_id, **values})

    async def update_account(self, values: Row) -> None:
        await self._run(_UPDATE_ACCOUNT, {"b_account_id": self.account_id, **values})

    async def insert_orders(self, rows: Sequence[Row]) -> None:
        for row in rows:
            await self._run(_INSERT_ORDER, {"account_id": self.account_id, **row})

    async def update_order(self, order_id: str, values: Row) -> None:
        await self._run(_UPDATE_ORDER, {"b_order_id": order_id, **values})

    async def insert_fills(self, rows: Sequence[Row]) -> None:
        for row in rows:
            await self._run(_INSERT_FILL, {"account_id": self.account_id, **row})

    async def insert_position(self, symbol: str, values: Row) -> None:
        await self._run(_INSERT_POSITION, {"account_id": self.account_id, "symbol": symbol, **values})

    async def update_position(self, symbol: str, values: Row) -> None:
        await self._run(_UPDATE_POSITION, {"b_account_id": self.account_id, "b_symbol": symbol, **values})

    async def delete_position(self, symbol: str) -> None:
        await self._run(_DELETE_POSITION, {"b_account_id": self.account_id, "b_symbol": symbol})

    async def insert_corporate_action(self, values: Row) -> None:
        await self._run(_INSERT_ACTION, {"account_id": self.account_id, **values})


_INSERT_ACCOUNT = Prepared(insert(ACCOUNTS))
_UPDATE_ACCOUNT = Prepared(update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("b_account_id")))
_INSERT_ORDER = Prepared(insert(ORDERS))
_UPDATE_ORDER = Prepared(update(ORDERS).where(ORDERS.c.id == bindparam("b_order_id")))
_INSERT_FILL = Prepared(insert(FILLS))
_INSERT_POSITION = Prepared(insert(POSITIONS))
_POSITION_KEY = (POSITIONS.c.account_id == bindparam("b_account_id"), POSITIONS.c.symbol == bindparam("b_symbol"))
_UPDATE_POSITION = Prepared(update(POSITIONS).where(*_POSITION_KEY))
_DELETE_POSITION = Prepared(delete(POSITIONS).where(*_POSITION_KEY))
_INSERT_ACTION = Prepared(insert(ACTIONS))
