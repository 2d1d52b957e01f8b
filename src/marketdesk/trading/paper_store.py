"""The paper account's state in memory, written through to the `paper_*` tables.

Reads never touch the database: the broker answers from memory. Every change is staged (`Stage`) and written
in one unit of work by `commit` (`Database.unit()`, which joins the desk's unit when the order service has one
open: `OrderService.with_venue`). Memory keeps the stage once it is written and puts it back if the unit rolls
back, so a failed write leaves both as they were and a crash never stores half a fill.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
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
        # `working` per symbol, in the same order: a price, a split or a feed asks about one symbol's orders
        self.working_by_symbol: dict[str, dict[str, OrderRecord]] = {}
        self.children: dict[str, list[str]] = {}  # a bracket entry's or an OCO's legs, in placing order
        self.fills: list[BrokerFill] = []
        self.prices: dict[str, Decimal] = {}  # the last price seen per symbol (kept with positions on writes)
        self.actions: dict[tuple[str, str, datetime], CorporateAction] = {}
        self._position_rows: set[str] = set()
        # the earliest `expires_at` of the working orders (None: none expires), worked out again when unknown:
        # every call brings the books up to date, and most of them find no order to expire
        self._next_expiry: datetime | None = None
        self._next_expiry_known = True

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

    def next_expiry(self) -> datetime | None:
        """The earliest instant a working order expires at (None: no working order expires)."""
        if not self._next_expiry_known:
            expiries = [r.working.expires_at for r in self.working.values() if r.working.expires_at is not None]
            self._next_expiry = min(expiries, default=None)
            self._next_expiry_known = True
        return self._next_expiry

    def _keep(self, record: OrderRecord) -> None:
        if record.parent_id is not None and record.id not in self.orders:
            self.children.setdefault(record.parent_id, []).append(record.id)
        self.orders[record.id] = record
        self.by_client[record.request.client_order_id] = record.id
        if record.status.working:
            self._keep_working(record)
        else:
            self._drop_working(record.id)

    def _keep_working(self, record: OrderRecord) -> None:
        before = self.working.get(record.id)
        symbol = record.request.symbol
        if before is not None and before.request.symbol != symbol:
            self._drop_working(record.id)
            before = None
        self.working[record.id] = record
        self.working_by_symbol.setdefault(symbol, {})[record.id] = record
        expires_at = record.working.expires_at
        if before is not None:
            if before.working.expires_at != expires_at:
                self._next_expiry_known = False
        elif expires_at is not None and self._next_expiry_known:
            self._next_expiry = expires_at if self._next_expiry is None else min(self._next_expiry, expires_at)

    def _drop_working(self, order_id: str) -> None:
        dropped = self.working.pop(order_id, None)
        if dropped is None:
            return
        symbol = dropped.request.symbol
        same_symbol = self.working_by_symbol[symbol]
        del same_symbol[order_id]
        if not same_symbol:
            del self.working_by_symbol[symbol]
        if dropped.working.expires_at is not None and dropped.working.expires_at == self._next_expiry:
            self._next_expiry_known = False  # another order may expire at the same instant

    def _index_working(self) -> None:
        """Build the indexes of `working` again from it (after a rollback put it back)."""
        self.working_by_symbol = {}
        for order_id, record in self.working.items():
            self.working_by_symbol.setdefault(record.request.symbol, {})[order_id] = record
        self._next_expiry_known = False

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
            if stage.new_orders:
                placed = _by_seq([stage.orders[i] for i in stage.new_orders])
                await repository.insert_orders([record.row() for record in placed])
            for order_id, record in stage.orders.items():
                if order_id not in stage.new_orders:
                    await repository.update_order(order_id, record.changes())
            if stage.fills:
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
        orders_before: dict[str, OrderRecord | None] = {}
        working_before: dict[str, OrderRecord | None] = {}
        clients_before: dict[str, str | None] = {}
        parents = set()
        for order_id, record in stage.orders.items():
            orders_before[order_id] = self.orders.get(order_id)
            working_before[order_id] = self.working.get(order_id)
            client_order_id = record.request.client_order_id
            clients_before[client_order_id] = self.by_client.get(client_order_id)
            if record.parent_id is not None:
                parents.add(record.parent_id)
        ledger_before, mark_before, fills_before = self.ledger, self.mark, len(self.fills)
        position_rows_before = self._position_rows  # replaced below, never changed in place
        children_before = {p: list(self.children[p]) if p in self.children else None for p in parents}
        actions_before = _saved(self.actions, [action.key for action in stage.actions])
        self.ledger = ledger
        self.mark = mark
        for record in _by_seq(stage.orders.values()):
            self._keep(record)
        self.fills.extend(stage.fills)
        for action in stage.actions:
            self.actions[action.key] = action
        self._position_rows = (self._position_rows | stage.positions) & ledger.positions.keys()

        def undo() -> None:
            self.ledger, self.mark, self._position_rows = ledger_before, mark_before, position_rows_before
            del self.fills[fills_before:]
            _restore(self.orders, orders_before)
            _restore(self.working, working_before)
            _restore(self.by_client, clients_before)
            _restore(self.children, children_before)
            _restore(self.actions, actions_before)
            self._index_working()

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


def _by_seq(records: Collection[OrderRecord]) -> Iterable[OrderRecord]:
    """`records` in placing order (most stages hold one order)."""
    return records if len(records) < 2 else sorted(records, key=_seq)


def _seq(record: OrderRecord) -> int:
    return record.seq


def _saved(values: dict[K, V], keys: Iterable[K]) -> dict[K, V | None]:
    """What `values` holds under `keys` (None: nothing), for `_restore`."""
    return {key: values.get(key) for key in keys}


def _restore(values: dict[K, V], saved: dict[K, V | None]) -> None:
    for key, value in saved.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
