"""The paper account's state in memory, written through to the `paper_*` tables.

Reads never touch the database: the broker answers from memory. Every change is staged (`Stage`) and written
in one unit of work by `commit` (`Database.unit()`, which joins the desk's unit when the order service has one
open: `OrderService.with_venue`). Memory keeps the stage once it is written and puts it back if the unit rolls
back, so a failed write leaves both as they were and a crash never stores half a fill.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from marketdesk.clock import Clock
from marketdesk.db import Database
from marketdesk.errors import ConfigError
from marketdesk.trading.broker import BrokerFill
from marketdesk.trading.paper_ledger import AccountType, Ledger
from marketdesk.trading.paper_repository import PaperRepository, Row
from marketdesk.trading.paper_state import (
    CorporateAction,
    Mark,
    OrderRecord,
    Stage,
    fill_from_row,
    fill_row,
    position_from_row,
    unsettled_from_json,
    unsettled_json,
)

ZERO = Decimal(0)
K = TypeVar("K")
V = TypeVar("V")


class PaperStore:
    """One paper account's books, orders, fills, marks and applied corporate actions."""

    def __init__(
        self, database: Database, clock: Clock, account_id: str, account_type: AccountType, opening_cash: Decimal
    ) -> None:
        self.database = database
        self.clock = clock
        self.account_id = account_id
        self.opening_cash = opening_cash
        self.loaded = False
        self.ledger = Ledger(account_type, opening_cash)
        self.mark = Mark(date.min, opening_cash, ZERO)
        self.orders: dict[str, OrderRecord] = {}
        self.by_client: dict[str, str] = {}
        self.working: dict[str, OrderRecord] = {}
        self.children: dict[str, list[str]] = {}  # a bracket entry's or an OCO's legs, in placing order
        self.fills: list[BrokerFill] = []
        self.prices: dict[str, Decimal] = {}  # the last price seen per symbol (kept with positions on writes)
        self.actions: dict[tuple[str, str, datetime], CorporateAction] = {}
        self._position_rows: set[str] = set()

    def stage(self) -> Stage:
        return Stage(self.ledger)

    async def load(self, opening_mark_session: date) -> None:
        """Read the account's state, or create the account (marked as of `opening_mark_session`'s close)."""
        now = self.clock.now()
        async with self.database.session() as session:
            repository = PaperRepository(session, self.account_id)
            account = await repository.account()
            if account is None:
                self.mark = Mark(opening_mark_session, self.opening_cash, ZERO)
                await repository.insert_account(self._account_row(self.ledger, self.mark, now, created=True))
            else:
                orders = await repository.orders()
                fills = await repository.fills()
                positions = await repository.positions()
                actions = await repository.corporate_actions()
        if account is not None:
            self._restore(account, orders, fills, positions, actions)
        self.loaded = True

    def _restore(
        self, account: Row, orders: list[Row], fills: list[Row], positions: list[Row], actions: list[Row]
    ) -> None:
        stored_type = AccountType(account["account_type"])
        if stored_type is not self.ledger.account_type:
            raise ConfigError(
                f"paper account {self.account_id!r} is a {stored_type.value} account; the broker was configured "
                f"as {self.ledger.account_type.value}",
                hint="Pass the stored account type, or use another account_id.",
            )
        self.opening_cash = account["opening_cash"]
        held = {row["symbol"]: position_from_row(row) for row in positions}
        self.ledger = Ledger(
            stored_type, account["cash"], held, account["realized_pnl"], account["commissions"],
            unsettled_from_json(account["unsettled"]),
        )  # fmt: skip
        self.mark = Mark(account["marked_session"], account["last_equity"], account["last_maintenance_margin"])
        self._position_rows = set(held)
        self.prices = {row["symbol"]: row["last_price"] for row in positions if row["last_price"] is not None}
        for row in orders:
            self._keep(OrderRecord.from_row(row, self.account_id))
        self.fills = [fill_from_row(row) for row in fills]
        for row in actions:
            action = CorporateAction(row["symbol"], row["kind"], row["value"], row["cash"], row["at"])
            self.actions[action.key] = action

    def _keep(self, record: OrderRecord) -> None:
        if record.parent_id is not None and record.id not in self.orders:
            self.children.setdefault(record.parent_id, []).append(record.id)
        self.orders[record.id] = record
        self.by_client[record.request.client_order_id] = record.id
        if record.status.working:
            self.working[record.id] = record
        else:
            self.working.pop(record.id, None)

    def _account_row(self, ledger: Ledger, mark: Mark, now: datetime, *, created: bool = False) -> dict[str, Any]:
        row: dict[str, Any] = {
            "cash": ledger.cash,
            "realized_pnl": ledger.realized_pnl,
            "commissions": ledger.commissions,
            "unsettled": unsettled_json(ledger),
            "last_equity": mark.equity,
            "last_maintenance_margin": mark.maintenance_margin,
            "marked_session": mark.session,
            "updated_at": now,
        }
        if created:
            row |= {"account_type": ledger.account_type.value, "opening_cash": self.opening_cash, "created_at": now}
        return row

    async def commit(self, stage: Stage) -> None:
        """Write the stage in one transaction, then keep it in memory (never before it has committed)."""
        if stage.empty:
            return
        now = self.clock.now()
        ledger = stage.current
        mark = stage.mark or self.mark
        async with self.database.unit() as unit:
            repository = PaperRepository(unit, self.account_id)
            placed = sorted((stage.orders[i] for i in stage.new_orders), key=lambda record: record.seq)
            await repository.insert_orders([record.row() for record in placed])
            for order_id, record in stage.orders.items():
                if order_id not in stage.new_orders:
                    await repository.update_order(order_id, record.changes())
            first_seq = len(self.fills) + 1
            await repository.insert_fills([fill_row(f, first_seq + i) for i, f in enumerate(stage.fills)])
            for symbol in stage.positions:
                await self._write_position(repository, ledger, symbol, now)
            if stage.ledger is not None or stage.mark is not None:
                await repository.update_account(self._account_row(ledger, mark, now))
            for action in stage.actions:
                await repository.insert_corporate_action(
                    {"symbol": action.symbol, "kind": action.kind, "value": action.value, "cash": action.cash,
                     "at": action.at}
                )  # fmt: skip
            unit.on_rollback(self._kept(stage, ledger, mark))

    def _kept(self, stage: Stage, ledger: Ledger, mark: Mark) -> Callable[[], None]:
        """Keep a written stage in memory; return what puts memory back as it was (the unit rolled back).

        The stage is kept as soon as it is written, not at the commit: in a unit the desk's own record joins
        (`OrderService.with_venue`), the venue must see its own change before the commit, which comes later."""
        ids = list(stage.orders)
        clients = [record.request.client_order_id for record in stage.orders.values()]
        parents = {record.parent_id for record in stage.orders.values() if record.parent_id is not None}
        ledger_before, mark_before, fills_before = self.ledger, self.mark, len(self.fills)
        position_rows_before = set(self._position_rows)
        orders_before = _saved(self.orders, ids)
        working_before = _saved(self.working, ids)
        clients_before = _saved(self.by_client, clients)
        children_before = {p: list(self.children[p]) if p in self.children else None for p in parents}
        actions_before = _saved(self.actions, [action.key for action in stage.actions])
        self.ledger = ledger
        self.mark = mark
        for record in sorted(stage.orders.values(), key=lambda record: record.seq):
            self._keep(record)
        self.fills.extend(stage.fills)
        for action in stage.actions:
            self.actions[action.key] = action
        self._position_rows = (self._position_rows | stage.positions) & set(ledger.positions)

        def undo() -> None:
            self.ledger, self.mark, self._position_rows = ledger_before, mark_before, position_rows_before
            del self.fills[fills_before:]
            _restore(self.orders, orders_before)
            _restore(self.working, working_before)
            _restore(self.by_client, clients_before)
            _restore(self.children, children_before)
            _restore(self.actions, actions_before)

        return undo

    async def _write_position(self, repository: PaperRepository, ledger: Ledger, symbol: str, now: datetime) -> None:
        position = ledger.positions.get(symbol)
        if position is None:
            if symbol in self._position_rows:
                await repository.delete_position(symbol)
            return
        values = {
            "qty": position.qty,
            "average_price": position.average_price,
            "last_price": self.prices.get(symbol),
            "updated_at": now,
        }
        if symbol in self._position_rows:
            await repository.update_position(symbol, values)
        else:
            await repository.insert_position(symbol, values)


def _saved(values: dict[K, V], keys: Iterable[K]) -> dict[K, V | None]:
    """What `values` holds under `keys` (None: nothing), for `_restore`."""
    return {key: values.get(key) for key in keys}


def _restore(values: dict[K, V], saved: dict[K, V | None]) -> None:
    for key, value in saved.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
