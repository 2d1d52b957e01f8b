"""Queries of trading. Every query that a user's request can reach takes `owner_id` as a required keyword and
is scoped by it; the few unscoped ones (`*_for_account`) are for the order service after it has checked the
account's owner, and for recovery at start-up. Takes a session or, on the order path, a unit of work
(`Database.unit()`, see `marketdesk.unit`); never commits.

Orders, their events, fills and positions are read and written with prepared statements (`marketdesk.prepared`:
built once, run on the driver's connection inside the transaction): no ORM unit of work and no per-statement
execution machinery on the order path, which cost several times what the database spends on the statements
themselves (see bench/bench_order_path.py). Orders, fills and positions come back as plain rows (`OrderRow`,
`FillRow`, `PositionRow`); a changed row is written with `save_order` / `save_position`. Accounts are read
detached (`account`) or as ORM objects to change (`account_for_update`, sessions only); findings stay ORM
objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.prepared import Direct, Prepared
from marketdesk.trading.models import (
    FillRecord,
    OrderEventRecord,
    OrderRecord,
    PositionRecord,
    ReconciliationFinding,
    TradingAccount,
)
from marketdesk.unit import Unit

WORKING = ("new", "accepted", "partially_filled")
ORDERS = cast(Table, OrderRecord.__table__)
EVENTS = cast(Table, OrderEventRecord.__table__)
FILLS = cast(Table, FillRecord.__table__)
POSITIONS = cast(Table, PositionRecord.__table__)


@dataclass(slots=True)
class OrderRow:
    """One row of `orders` (the columns of `OrderRecord`)."""

    id: str
    account_id: str
    owner_id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    order_type: str
    time_in_force: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    extended_hours: bool
    take_profit: Decimal | None
    stop_loss: Decimal | None
    tag: str | None
    order_class: str
    status: str
    filled_qty: Decimal
    average_fill_price: Decimal | None
    broker_order_id: str | None
    reason: str | None
    parent_id: str | None
    created_at: datetime
    updated_at: datetime


class WorkingOrderRow(NamedTuple):
    """A working order as a new order is judged beside it (`TradingRepository.working_brief`)."""

    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    filled_qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    parent_id: str | None
    order_class: str


@dataclass(slots=True)
class PositionRow:
    """One row of `positions`: an account's signed quantity of a symbol, its average cost and realized P&L."""

    account_id: str
    symbol: str
    qty: Decimal
    average_price: Decimal
    realized_pnl: Decimal
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FillRow:
    """One row of `fills`: an execution of one of an account's orders."""

    id: int
    fill_id: str
    order_id: str
    account_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    commission: Decimal
    time: datetime


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One row of `order_events`, read back."""

    id: int
    order_id: str
    account_id: str
    kind: str
    status: str
    detail: str
    data_json: str
    ts_event: datetime
    ts_init: datetime


def _columns(table: Table, row_type: type) -> list[Any]:
    return [table.c[f.name] for f in fields(row_type)]


_ORDER_COLUMNS = _columns(ORDERS, OrderRow)
_POSITION_COLUMNS = _columns(POSITIONS, PositionRow)
_EVENT_COLUMNS = _columns(EVENTS, OrderEvent)
_FILL_COLUMNS = _columns(FILLS, FillRow)
# what an order's life changes; the rest is fixed when it is placed
_ORDER_CHANGES = (
    "status", "qty", "limit_price", "stop_price", "take_profit", "filled_qty", "average_fill_price",
    "broker_order_id", "reason", "updated_at",
)  # fmt: skip

_ACCOUNTS = cast(Table, TradingAccount.__table__)
_ACCOUNT_NAMES = tuple(column.key for column in _ACCOUNTS.columns)
_ACCOUNT = Prepared(
    select(_ACCOUNTS).where(_ACCOUNTS.c.id == bindparam("b_id"), _ACCOUNTS.c.owner_id == bindparam("b_owner"))
)
_SELECT_ORDERS = select(*_ORDER_COLUMNS)
_WORKING_STATUSES: list[Any] = [bindparam(f"w_{status}", status) for status in WORKING]  # fixed: no IN list to expand
_BY_CLIENT = (ORDERS.c.account_id == bindparam("b_account"), ORDERS.c.client_order_id == bindparam("b_client"))
_ORDER_BY_ID = Prepared(
    _SELECT_ORDERS.where(ORDERS.c.id == bindparam("b_id"), ORDERS.c.owner_id == bindparam("b_owner"))
)
_ORDER_BY_CLIENT = Prepared(_SELECT_ORDERS.where(*_BY_CLIENT))
_ORDER_BY_CLIENT_OWNED = Prepared(_SELECT_ORDERS.where(*_BY_CLIENT, ORDERS.c.owner_id == bindparam("b_owner")))
_WORKING = Prepared(
    _SELECT_ORDERS.where(
        ORDERS.c.account_id == bindparam("b_account"), ORDERS.c.status.in_(_WORKING_STATUSES)
    ).order_by(ORDERS.c.created_at)
)
_WORKING_BRIEF = Prepared(
    select(*(ORDERS.c[name] for name in ("id", "client_order_id", "symbol", "side", "qty", "filled_qty",
                                         "limit_price", "stop_price", "parent_id", "order_class")))
    .where(ORDERS.c.account_id == bindparam("b_account"), ORDERS.c.status.in_(_WORKING_STATUSES))
    .order_by(ORDERS.c.created_at)
)  # fmt: skip
_SUBMISSIONS = Prepared(
    select(ORDERS.c.created_at).where(
        ORDERS.c.account_id == bindparam("b_account"), ORDERS.c.created_at >= bindparam("b_since")
    )
)
_COUNT_ORDERS = Prepared(select(func.count()).select_from(ORDERS).where(ORDERS.c.account_id == bindparam("b_account")))
_INSERT_ORDER = Prepared(insert(ORDERS))
_UPDATE_ORDER = Prepared(update(ORDERS).where(ORDERS.c.id == bindparam("b_id")))
_INSERT_EVENT = Prepared(insert(EVENTS))
# Unit.info keys: orders inserted and order events added in the open unit of work, written as it commits
STAGED_ORDERS = "marketdesk.trading.orders"
STAGED_EVENTS = "marketdesk.trading.events"


async def _write_staged(unit: Unit) -> None:
    """Write the orders and then the order events staged in `unit` (`TradingRepository.insert_order`,
    `add_events`), just before it commits."""
    await _write_staged_orders(unit)
    events = unit.info.pop(STAGED_EVENTS, None)
    if events:
        await _INSERT_EVENT.run_many(unit.direct, events)


async def _write_staged_orders(unit: Unit) -> None:
    orders: dict[str, OrderRow] | None = unit.info.pop(STAGED_ORDERS, None)
    if orders:
        await _INSERT_ORDER.run_many(unit.direct, [_values(order) for order in orders.values()])


_INSERT_FILL = Prepared(insert(FILLS))
_FILLS = Prepared(
    select(*_FILL_COLUMNS).where(FILLS.c.account_id == bindparam("b_account")).order_by(FILLS.c.time, FILLS.c.id)
)
_FILLS_SINCE = Prepared(
    select(*_FILL_COLUMNS)
    .where(FILLS.c.account_id == bindparam("b_account"), FILLS.c.time >= bindparam("b_since"))
    .order_by(FILLS.c.time, FILLS.c.id)
)
_SET_STATE = Prepared(
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("b_id"))
    .values(state=bindparam("state"), state_reason=bindparam("state_reason"), updated_at=bindparam("updated_at"))
)
_FILL_ID = Prepared(
    select(FILLS.c.fill_id).where(FILLS.c.account_id == bindparam("b_account"), FILLS.c.fill_id == bindparam("b_id"))
)
_POSITIONS = Prepared(
    select(*_POSITION_COLUMNS).where(POSITIONS.c.account_id == bindparam("b_account")).order_by(POSITIONS.c.symbol)
)
_QUANTITIES = Prepared(
    select(POSITIONS.c.symbol, POSITIONS.c.qty)
    .where(POSITIONS.c.account_id == bindparam("b_account"))
    .order_by(POSITIONS.c.symbol)
)
_POSITION_KEY = (POSITIONS.c.account_id == bindparam("b_account"), POSITIONS.c.symbol == bindparam("b_symbol"))
_POSITION = Prepared(select(*_POSITION_COLUMNS).where(*_POSITION_KEY))
_INSERT_POSITION = Prepared(insert(POSITIONS))
_UPDATE_POSITION = Prepared(update(POSITIONS).where(*_POSITION_KEY))


_ACCOUNTS_READ: dict[tuple[Any, ...], TradingAccount] = {}  # `TradingRepository.account`: by the whole row
_ACCOUNTS_KEPT = 256


class TradingRepository:
    """Trading's SQL in one session or unit of work. A unit (`Database.unit()`, the order path) runs the
    prepared statements only; the ORM queries (accounts to change, listings, findings) need a session."""

    def __init__(self, unit: AsyncSession | Unit) -> None:
        self._unit = unit
        self._staging = unit if isinstance(unit, Unit) else None  # a unit stages new orders and events
        self._direct: Direct | None = unit.direct if isinstance(unit, Unit) else None

    @property
    def session(self) -> AsyncSession:
        if isinstance(self._unit, Unit):
            raise TypeError("this query uses the ORM: run it in a session (`Database.session()`), not a unit")
        return self._unit

    async def _rows(self, statement: Prepared, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        if self._staging is not None and STAGED_ORDERS in self._staging.info:  # what comes next may need them
            await _write_staged_orders(self._staging)
        return await statement.rows(self._direct or await self._link(), parameters)

    async def _write(self, statement: Prepared, parameters: Sequence[Mapping[str, Any]]) -> None:
        if self._staging is not None and STAGED_ORDERS in self._staging.info:
            await _write_staged_orders(self._staging)
        await statement.run_many(self._direct or await self._link(), parameters)

    async def _link(self) -> Direct:
        """The session's connection, for prepared statements (inside its transaction)."""
        if self._direct is None:
            self._direct = await Direct.of(self.session)
        return self._direct

    # ---- accounts ------------------------------------------------------------------------------------

    async def account(self, account_id: str, *, owner_id: str) -> TradingAccount | None:
        """The account, detached and shared: read it, never change it (change an account with
        `account_for_update`). Read on every order, with a prepared query; the same row read again gives the
        same object (an ORM object costs more to build than the query to run)."""
        rows = await self._rows(_ACCOUNT, {"b_id": account_id, "b_owner": owner_id})
        if not rows:
            return None
        row = rows[0]
        account = _ACCOUNTS_READ.get(row)
        if account is None:
            if len(_ACCOUNTS_READ) >= _ACCOUNTS_KEPT:
                _ACCOUNTS_READ.clear()
            account = _ACCOUNTS_READ[row] = TradingAccount(**dict(zip(_ACCOUNT_NAMES, row, strict=True)))
        return account

    async def account_for_update(self, account_id: str, *, owner_id: str) -> TradingAccount | None:
        """The account as an ORM object of this session: changes to it are written at commit."""
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
        """Add an ORM object (an account, a finding) to the unit of work."""
        self.session.add(row)

    # ---- orders --------------------------------------------------------------------------------------

    async def order(self, order_id: str, *, owner_id: str) -> OrderRow | None:
        return _order(await self._rows(_ORDER_BY_ID, {"b_id": order_id, "b_owner": owner_id}))

    async def order_by_client_id(self, account_id: str, client_order_id: str, *, owner_id: str) -> OrderRow | None:
        parameters = {"b_account": account_id, "b_client": client_order_id, "b_owner": owner_id}
        return _order(await self._rows(_ORDER_BY_CLIENT_OWNED, parameters))

    async def orders(
        self,
        *,
        owner_id: str,
        account_id: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int = 200,
    ) -> list[OrderRow]:
        query = _SELECT_ORDERS.where(ORDERS.c.owner_id == owner_id)
        if account_id is not None:
            query = query.where(ORDERS.c.account_id == account_id)
        if statuses:
            query = query.where(ORDERS.c.status.in_(list(statuses)))
        query = query.order_by(ORDERS.c.created_at.desc(), ORDERS.c.id).limit(limit)
        return [OrderRow(*row) for row in await self.session.execute(query)]

    async def events(self, order_id: str, *, owner_id: str) -> list[OrderEvent]:
        query = (
            select(*_EVENT_COLUMNS)
            .join(ORDERS, ORDERS.c.id == EVENTS.c.order_id)
            .where(EVENTS.c.order_id == order_id, ORDERS.c.owner_id == owner_id)
            .order_by(EVENTS.c.id)
        )
        return [OrderEvent(*row) for row in await self.session.execute(query)]

    async def working_for_account(self, account_id: str) -> list[OrderRow]:
        return [OrderRow(*row) for row in await self._rows(_WORKING, {"b_account": account_id})]

    async def working_brief(self, account_id: str) -> list[WorkingOrderRow]:
        """The account's working orders, oldest first, with what a new order is judged beside (read on every
        order, and an account may have dozens working: no timestamps to convert, no columns it does not use)."""
        return [WorkingOrderRow(*row) for row in await self._rows(_WORKING_BRIEF, {"b_account": account_id})]

    async def order_for_account(self, account_id: str, *, client_order_id: str) -> OrderRow | None:
        """The account's order `client_order_id`: one this unit of work has staged is the staged row itself
        (placing an order with the paper venue records the venue's answer on it, not on a copy read back)."""
        if self._staging is not None:
            for staged in self._staging.info.get(STAGED_ORDERS, {}).values():
                if staged.client_order_id == client_order_id and staged.account_id == account_id:
                    return staged
        parameters = {"b_account": account_id, "b_client": client_order_id}
        return _order(await self._rows(_ORDER_BY_CLIENT, parameters))

    async def submissions_since(self, account_id: str, since: datetime) -> list[datetime]:
        rows = await self._rows(_SUBMISSIONS, {"b_account": account_id, "b_since": since})
        return [row[0] for row in rows]

    async def count_orders(self, account_id: str) -> int:
        return int((await self._rows(_COUNT_ORDERS, {"b_account": account_id}))[0][0])

    async def insert_order(self, order: OrderRow) -> None:
        """Insert a new order. In a unit of work it is staged and written as the unit commits, or before the
        unit's next statement through this repository, whichever comes first: until then `save_order` of it
        changes the row to write (placing an order with the paper venue inserts it once, accepted, instead of
        inserting it new and updating it). In a session, at once."""
        if self._staging is not None:
            self._staging.info.setdefault(STAGED_ORDERS, {})[order.id] = order
            self._staging.before_commit(STAGED_EVENTS, _write_staged)
            return
        await self._write(_INSERT_ORDER, [_values(order)])

    async def save_order(self, order: OrderRow) -> None:
        """Write what an order's life changes (status, quantities, prices, broker id, reason, time)."""
        if self._staging is not None:
            staged: dict[str, OrderRow] | None = self._staging.info.get(STAGED_ORDERS)
            if staged is not None and order.id in staged:
                staged[order.id] = order  # not written yet: it is written as it is now
                return
        await self._write(
            _UPDATE_ORDER, [{"b_id": order.id, **{name: getattr(order, name) for name in _ORDER_CHANGES}}]
        )

    async def add_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Append order events (rows of `order_events` without their id). In a unit of work they are staged and
        written together as it commits (one statement for all of them, in the order they were added); in a
        session, at once."""
        if not events:
            return
        if self._staging is not None:
            self._staging.info.setdefault(STAGED_EVENTS, []).extend(events)
            self._staging.before_commit(STAGED_EVENTS, _write_staged)
            return
        await self._write(_INSERT_EVENT, events)

    # ---- fills and positions -------------------------------------------------------------------------

    async def fills_for_account(self, account_id: str, *, since: datetime | None = None) -> list[FillRow]:
        """The account's fills (at or after `since`), oldest first."""
        if since is None:
            rows = await self._rows(_FILLS, {"b_account": account_id})
        else:
            rows = await self._rows(_FILLS_SINCE, {"b_account": account_id, "b_since": since})
        return [FillRow(*row) for row in rows]

    async def fill_ids(self, account_id: str, fill_ids: Sequence[str]) -> set[str]:
        """Which of `fill_ids` the account has on record (an update brings a fill or two: one query each)."""
        known: set[str] = set()
        for fill_id in dict.fromkeys(fill_ids):
            known.update(row[0] for row in await self._rows(_FILL_ID, {"b_account": account_id, "b_id": fill_id}))
        return known

    async def insert_fill(self, values: Mapping[str, Any]) -> None:
        await self._write(_INSERT_FILL, [values])

    async def positions_for_account(self, account_id: str) -> list[PositionRow]:
        return [PositionRow(*row) for row in await self._rows(_POSITIONS, {"b_account": account_id})]

    async def position_quantities(self, account_id: str) -> dict[str, Decimal]:
        """The account's positions as symbol → quantity (what risk and compliance judge an order by; the rest
        of each row costs its conversions on every order)."""
        return dict(await self._rows(_QUANTITIES, {"b_account": account_id}))

    async def position(self, account_id: str, symbol: str) -> PositionRow | None:
        rows = await self._rows(_POSITION, {"b_account": account_id, "b_symbol": symbol})
        return PositionRow(*rows[0]) if rows else None

    async def save_position(self, position: PositionRow, *, new: bool) -> None:
        """Insert a position (`new`) or write its quantity, average cost, realized P&L and time."""
        if new:
            await self._write(_INSERT_POSITION, [_values(position)])
            return
        await self._write(
            _UPDATE_POSITION,
            [{"b_account": position.account_id, "b_symbol": position.symbol, "qty": position.qty,
              "average_price": position.average_price, "realized_pnl": position.realized_pnl,
              "updated_at": position.updated_at}],
        )  # fmt: skip

    # ---- state and reconciliation --------------------------------------------------------------------

    async def set_state(self, account_id: str, state: str, reason: str, at: datetime) -> None:
        """Write the account's trading state (an ORM copy of the account in a session is not refreshed)."""
        await self._write(
            _SET_STATE, [{"b_id": account_id, "state": state, "state_reason": reason[:255], "updated_at": at}]
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


def _order(rows: list[tuple[Any, ...]]) -> OrderRow | None:
    return OrderRow(*rows[0]) if rows else None


def _values(row: OrderRow | PositionRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _NAMES[type(row)]}


_NAMES = {kind: tuple(f.name for f in fields(kind)) for kind in (OrderRow, PositionRow)}
