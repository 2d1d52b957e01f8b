"""The order service: the one road to a broker. Web desk, REST, CLI and strategies all call `OrderService`.

    submit ─► idempotency (client_order_id) ─► RiskEngine ─► Compliance ─► outbox row ─► Broker ─► record

- Every decision is an `order_events` row with the inputs it saw, and an audit-log entry.
- Every request to the broker for an order (submit, cancel, replace, lookups) and its answer is a
  `broker.exchange` audit entry (target: the order), written in the unit of work that records the outcome (the
  acceptance, the cancel, the replacement, the refusal); a call that fails with nothing else to record has its
  exchanges recorded on their own.
- **Outbox:** the order is committed in status `new` *before* a broker elsewhere (Alpaca) is called. If the
  process dies in between, `recover()` asks the broker for that `client_order_id` at start-up: found →
  recorded; never received → submitted again under the same id (the broker deduplicates). Nothing is lost or
  placed twice. The paper venue writes to the desk's own database, so there placing is one unit of work
  (`with_venue`): the order, the venue's acceptance and the desk's record commit together, or nothing does,
  and so do a fill at the venue and on the desk's books.
- Broker updates (fills, cancels, expiries) come back through `apply_update`, from a broker that pushes or from
  `sync()` polling one that does not; fills are deduplicated by the broker's fill id, so replaying is safe.
- **Brackets and OCO:** the venue places the legs (a bracket's exits as its entry fills, an OCO's stop-loss).
  The desk records each leg it hears of as an order of its own under its parent (`parent_id`), through the
  same state machine, events and audit: legs listed in the parent's update, and a leg named `<parent>-tp` or
  `<parent>-sl` whose fill arrives first. When a leg fills or ends, the parent is read again from the broker,
  so the partner it shrank or canceled is recorded with it. A leg's fills move positions once, like any fill.

This service owns its units of work, unlike the others, because the outbox needs a commit between deciding
and calling a broker elsewhere. The order path's units are `Database.unit()` (prepared statements and audit entries,
no ORM session: `marketdesk.unit`); listings use sessions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeGuard, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.roles import CurrentUser
from marketdesk.audit.service import AuditService, SecretInDetail, names_secret
from marketdesk.clock import Clock
from marketdesk.db import Database
from marketdesk.errors import MarketdeskError, NotFound, Rejected, Temporary
from marketdesk.kit.jsonutil import sorted_json, to_jsonable
from marketdesk.trading import compliance, risk
from marketdesk.trading.activity import Execution, OrderIntent, SessionCalendar, Side, trade_date
from marketdesk.trading.broker import (
    Broker,
    BrokerExchange,
    BrokerFill,
    BrokerOrder,
    InProcessVenue,
    collect_exchanges,
)
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.orders import (
    Bracket,
    OrderClass,
    OrderStatus,
    OrderType,
    SubmitOrder,
    TimeInForce,
    parent_client_order_id,
    transition,
)
from marketdesk.trading.positions import Position
from marketdesk.trading.repository import OrderRow, PositionRow, TradingRepository, WorkingOrderRow
from marketdesk.trading.settings import compliance_from_json, risk_from_json
from marketdesk.unit import Unit, open_unit

T = TypeVar("T")

THROTTLE_WINDOW = timedelta(seconds=60)
DEFERRED = "marketdesk.orders.deferred"  # Unit.info key: what `with_venue` publishes after its commit
COMPLIANCE_LOOKBACK = timedelta(days=10)  # covers 5 sessions across any holiday run
ORDERS_CHANNEL = "orders"


class BrokerFor(Protocol):
    """Finds the broker an account trades at (the paper broker, or Alpaca with the owner's vault keys)."""

    async def __call__(self, account: TradingAccount) -> Broker: ...


class MarketView(Protocol):
    """Last prices and asset classes, for valuing orders and positions."""

    async def prices(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        """The last price of each symbol that has one."""
        ...

    async def asset_classes(self, symbols: Iterable[str]) -> dict[str, str]: ...


# (owner_id, channel family, payload): the payload may hold our types (a view, Decimals), which the bus turns
# into JSON as it publishes (`marketdesk.bus`)
Publish = Callable[[str, str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Preview:
    """What submitting would do: estimated cost and both verdicts, without placing anything."""

    order: SubmitOrder
    allowed: bool
    estimated_price: Decimal | None
    estimated_cost: Decimal | None
    risk: risk.RiskDecision
    compliance: compliance.ComplianceDecision | None  # None when risk already refused (compliance not asked)
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "allowed": self.allowed,
                "estimated_price": self.estimated_price,
                "estimated_cost": self.estimated_cost,
                "reasons": list(self.reasons),
                "risk": self.risk.to_dict(),
                "compliance": None if self.compliance is None else self.compliance.to_dict(),
            }
        )


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as callers see it."""

    id: str
    account_id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    order_type: str
    time_in_force: str
    status: str
    filled_qty: Decimal
    average_fill_price: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    reason: str | None
    created_at: datetime
    updated_at: datetime
    broker_order_id: str | None
    tag: str | None = None
    preview: dict[str, Any] | None = field(default=None)
    order_class: str = OrderClass.SIMPLE.value
    parent_id: str | None = None  # a bracket's or an OCO's leg: its parent order

    @classmethod
    def of(cls, record: OrderRow, preview: dict[str, Any] | None = None) -> OrderView:
        return cls(
            id=record.id, account_id=record.account_id, client_order_id=record.client_order_id, symbol=record.symbol,
            side=record.side, qty=record.qty, order_type=record.order_type, time_in_force=record.time_in_force,
            status=record.status, filled_qty=record.filled_qty, average_fill_price=record.average_fill_price,
            limit_price=record.limit_price, stop_price=record.stop_price, reason=record.reason,
            created_at=record.created_at, updated_at=record.updated_at, broker_order_id=record.broker_order_id,
            tag=record.tag, preview=preview, order_class=record.order_class,
            parent_id=record.parent_id,
        )  # fmt: skip


def command_of(record: OrderRow) -> SubmitOrder:
    bracket = None
    if record.take_profit is not None or record.stop_loss is not None:
        bracket = Bracket(take_profit=record.take_profit, stop_loss=record.stop_loss)
    return SubmitOrder(
        client_order_id=record.client_order_id, account_id=record.account_id, symbol=record.symbol,
        side=Side(record.side), qty=record.qty, order_type=OrderType(record.order_type),
        time_in_force=TimeInForce(record.time_in_force), limit_price=record.limit_price, stop_price=record.stop_price,
        extended_hours=record.extended_hours, bracket=bracket, tag=record.tag,
        order_class=OrderClass(record.order_class),
    )  # fmt: skip


class OrderService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        calendar: SessionCalendar,
        audit: AuditService,
        broker_for: BrokerFor,
        market: MarketView,
        publish: Publish | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar
        self.audit = audit
        self.broker_for = broker_for
        self.market = market
        self.publish = publish
        self._in_flight: set[str] = set()  # orders this process is sending to their broker right now
        self._cancel_after_send: set[str] = set()  # of those, the ones the user asked to cancel meanwhile

    # ---- the road --------------------------------------------------------------------------------------

    async def preview(self, user: CurrentUser, order: SubmitOrder) -> Preview:
        """Run risk and compliance on `order` without placing it."""
        async with self.db.unit() as unit:
            repo = TradingRepository(unit)
            account = await self._account(repo, order.account_id, user)
            broker = await self.broker_for(account)
            self._check_capabilities(broker, order)  # a preview refuses what submitting would refuse
            return await self._decide(repo, account, broker, order)

    async def submit(self, user: CurrentUser, order: SubmitOrder) -> OrderView:
        """Place `order` through risk and compliance. The same client_order_id again returns the same order.

        The order is committed (the outbox) before a broker elsewhere is called. With the paper venue, which
        writes to the desk's database, the whole placing is one unit of work (`with_venue`): the order, the
        venue's acceptance and the desk's record of it are stored together or not at all."""
        async with self.db.unit() as unit:
            account = await self._account(TradingRepository(unit), order.account_id, user)
        broker = await self.broker_for(account)
        async with self.with_venue(broker):
            return await self._submit(user, account, broker, order)

    async def _submit(
        self, user: CurrentUser, account: TradingAccount, broker: Broker, order: SubmitOrder
    ) -> OrderView:
        async with self.db.unit() as unit:
            repo = TradingRepository(unit)
            existing = await repo.order_by_client_id(account.id, order.client_order_id, owner_id=user.id)
            if existing is not None:
                return OrderView.of(existing)
            self._check_capabilities(broker, order)
            decision = await self._decide(repo, account, broker, order)
            now = self.clock.now()
            record = _record(order, user.id, now, status=OrderStatus.NEW if decision.allowed else OrderStatus.REJECTED)
            record.reason = None if decision.allowed else "; ".join(decision.reasons)
            await repo.insert_order(record)
            snapshot = decision.to_dict()
            kind = "intent" if decision.allowed else "denied"
            await repo.add_events(
                [_event(record, kind, record.status, now, detail=record.reason or order.describe(), data=snapshot)]
            )
            if decision.risk.state.value != account.state:
                await repo.set_state(account.id, decision.risk.state.value, "; ".join(decision.risk.reasons), now)
                await self.audit.record(
                    unit, "trading.state", actor_id=user.id, target=account.id,
                    detail={"state": decision.risk.state.value, "reasons": list(decision.risk.reasons)},
                )  # fmt: skip
            await self.audit.record(
                unit, "order.submitted" if decision.allowed else "order.denied", actor_id=user.id,
                target=record.id, detail={"order": order.describe(), "client_order_id": order.client_order_id, **snapshot},
            )  # fmt: skip
        view = OrderView.of(record, snapshot)
        if not decision.allowed:
            await self._publish(user.id, "denied", view)
            return view
        sent = await self._send(account, broker, record.id, order, user.id)
        return dataclass_replace(sent, preview=snapshot)

    async def resend(self, account: TradingAccount, broker: Broker, order_id: str, order: SubmitOrder) -> OrderView:
        """Send an order the broker never received (recovery after a crash) with the outcomes of `submit`:
        placed and recorded, refused (rejected with the broker's reason) or unreachable (left `new`)."""
        return await self._send(account, broker, order_id, order, None)

    async def _send(
        self, account: TradingAccount, broker: Broker, order_id: str, order: SubmitOrder, actor: str | None
    ) -> OrderView:
        self._in_flight.add(order_id)
        try:
            view = await self._send_once(account, broker, order_id, order, actor)
        finally:
            self._in_flight.discard(order_id)
        if order_id in self._cancel_after_send:
            self._cancel_after_send.discard(order_id)
            if OrderStatus(view.status).working and view.broker_order_id is not None:
                broker_order_id = view.broker_order_id
                update, exchanges = await self._exchanged(
                    account, order_id, actor, lambda: broker.cancel(broker_order_id)
                )
                return await self.apply_update(account, update, [], actor=actor, exchanges=exchanges)
        return view

    async def _send_once(
        self, account: TradingAccount, broker: Broker, order_id: str, order: SubmitOrder, actor: str | None
    ) -> OrderView:
        async with self.with_venue(broker):  # the paper venue's acceptance and the desk's record: one commit
            return await self._send_unit(account, broker, order_id, order, actor)

    @asynccontextmanager
    async def with_venue(self, broker: object) -> AsyncIterator[None]:
        """One unit of work for a change at `broker` and the desk's record of it, when `broker` is an
        in-process venue writing to the desk's database (the paper broker; any other broker: nothing is
        added). The venue's writes and this service's join the unit and commit together, so neither is ever
        stored without the other. The venue's lock is held throughout (the order of locks: venue, then
        database). What the service publishes meanwhile goes out once the unit has committed (nothing, if it
        rolls back). Used for placing an order and by the paper venue's quote feed for fills
        (`venue.PaperFeed`). Inside a unit already open it adds nothing."""
        venue = broker if _in_process(broker) else None
        if venue is None or venue.database is not self.db or open_unit(self.db) is not None:
            yield
            return
        async with venue.hold(), self.db.unit() as unit:
            unit.info[DEFERRED] = []
            yield
        for owner_id, kind, view in unit.info[DEFERRED]:
            await self._publish(owner_id, kind, view)

    async def _send_unit(
        self, account: TradingAccount, broker: Broker, order_id: str, order: SubmitOrder, actor: str | None
    ) -> OrderView:
        with collect_exchanges() as exchanges:
            try:
                placed = await broker.submit(order)
            except Temporary as exc:
                # the broker may or may not have it: the row stays `new` and recovery asks by client_order_id
                async with self.db.unit() as unit:
                    repo = TradingRepository(unit)
                    record = await self._stored(repo, order_id, account)
                    unreachable = _event(
                        record, "broker_unreachable", record.status, self.clock.now(), detail=exc.one_line()
                    )
                    await repo.add_events([unreachable])
                    await self._record_exchanges(unit, record.id, exchanges, actor)
                    return OrderView.of(record)
            except MarketdeskError as exc:
                async with self.db.unit() as unit:
                    repo = TradingRepository(unit)
                    record = await self._stored(repo, order_id, account)
                    await self._move(repo, record, OrderStatus.REJECTED, f"the broker refused it: {exc.one_line()}")
                    await repo.save_order(record)
                    await self.audit.record(
                        unit, "order.broker_rejected", actor_id=actor, target=record.id,
                        detail={"error": exc.one_line()},
                    )  # fmt: skip
                    await self._record_exchanges(unit, record.id, exchanges, actor)
                    view = OrderView.of(record)
                await self._publish(account.owner_id, "rejected", view)
                return view
        return await self.apply_update(account, placed, [], actor=actor, exchanges=exchanges)

    async def _decide(
        self, repo: TradingRepository, account: TradingAccount, broker: Broker, order: SubmitOrder
    ) -> Preview:
        now = self.clock.now()
        broker_account = await broker.account()
        positions = await repo.position_quantities(account.id)
        working = _pending(await repo.working_brief(account.id), order)
        symbols = {order.symbol, *positions}
        prices = await self.market.prices(symbols)
        classes = await self.market.asset_classes(symbols)
        limits = risk_from_json(account.risk_json)
        recent: list[datetime] = []
        if limits.max_orders_per_minute is not None:  # only the throttle reads them
            recent = await repo.submissions_since(account.id, now - THROTTLE_WINDOW)
        context = risk.RiskContext(
            equity=broker_account.equity,
            now=now,
            state=risk.TradingState(account.state),
            positions=positions,
            last_prices=prices,
            asset_class_of=classes,
            daily_pnl=broker_account.equity - broker_account.last_equity,
            recent_order_times=recent,
            working_orders=working,
        )
        risk_decision = risk.check(order, context, limits)
        price = risk_decision.price
        cost = None if price is None else (price * order.qty).quantize(Decimal("0.01"))
        if not risk_decision.allowed:
            return Preview(order, False, price, cost, risk_decision, None, risk_decision.reasons)
        settings = compliance_from_json(account.compliance_json)
        executions: tuple[Execution, ...] = ()
        if _reads_executions(settings, now, positions, prices, order.symbol):
            fills = await repo.fills_for_account(account.id, since=now - COMPLIANCE_LOOKBACK)
            executions = tuple(Execution(f.time, f.symbol, Side(f.side), f.qty, f.price) for f in fills)
        opening = dict(positions)
        for execution in executions:  # positions before the lookback: now less what the window added
            opening[execution.symbol] = opening.get(execution.symbol, Decimal(0)) - execution.side.sign * execution.qty
        snapshot = compliance.AccountSnapshot(
            at=now,
            equity=broker_account.equity,
            executions=executions,
            pending=tuple(working),
            opening_positions={s: q for s, q in opening.items() if q != 0},
            prices=prices,
            previous_close_equity=broker_account.last_equity,
            previous_close_maintenance=broker_account.last_maintenance_margin,
        )
        try:
            verdict = compliance.check(snapshot, order.intent(price), settings, self.calendar)
        except compliance.MissingPrice as exc:
            raise Rejected(str(exc)) from None
        reasons = () if verdict.allowed else (verdict.reason,)
        return Preview(order, verdict.allowed, price, cost, risk_decision, verdict, reasons)

    async def cancel(self, user: CurrentUser, order_id: str) -> OrderView:
        """Ask the broker to cancel a working order (cancels pass even when the account is halted)."""
        async with self.db.unit() as unit:
            repo = TradingRepository(unit)
            record = await self._order(repo, order_id, user)
            account = await self._account(repo, record.account_id, user)
            if not OrderStatus(record.status).working:
                raise Rejected(f"order {record.client_order_id} is already {record.status}; only working orders cancel")
            await self.audit.record(unit, "order.cancel_requested", actor_id=user.id, target=record.id)
            in_flight = record.broker_order_id is None and record.id in self._in_flight
            if in_flight:  # being sent now: canceled at the broker the moment the broker answers (`_send`)
                self._cancel_after_send.add(record.id)
                detail = "cancel requested while the order is on its way to the broker; it goes out on the answer"
                await repo.add_events(
                    [_event(record, "cancel_pending", record.status, self.clock.now(), detail=detail)]
                )
            view = OrderView.of(record)
        if in_flight:
            return view
        broker = await self.broker_for(account)

        async def ask() -> BrokerOrder | None:
            """The order at the broker after the cancel request; None when the broker never received it."""
            broker_order_id = record.broker_order_id
            if broker_order_id is None:
                # not being sent, yet not acknowledged: the broker may have it all the same (it was unreachable
                # when asked, or the desk stopped in between), so ask it before canceling here
                known = await broker.order(client_order_id=record.client_order_id)
                if known is None or known.status.final:
                    return known
                broker_order_id = known.broker_order_id
            return await broker.cancel(broker_order_id)

        update, exchanges = await self._exchanged(account, record.id, user.id, ask)
        if update is None:
            return await self._cancel_unsent(user, record.id, account, exchanges)
        return await self.apply_update(account, update, [], actor=user.id, exchanges=exchanges)

    async def _cancel_unsent(
        self, user: CurrentUser, order_id: str, account: TradingAccount, exchanges: Sequence[BrokerExchange] = ()
    ) -> OrderView:
        """Cancel an order the broker never received; recovery never sends a canceled order. `exchanges` are
        the lookups that found it missing."""
        async with self.db.unit() as unit:
            repo = TradingRepository(unit)
            record = await self._stored(repo, order_id, account)
            if OrderStatus(record.status).working and record.broker_order_id is None:
                await self._move(repo, record, OrderStatus.CANCELED, "canceled before it reached the broker")
                await repo.save_order(record)
            await self._record_exchanges(unit, record.id, exchanges, user.id)
            view = OrderView.of(record)
        await self._publish(user.id, view.status, view)
        return view

    async def replace(
        self,
        user: CurrentUser,
        order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> OrderView:
        """Change a working order's quantity or prices; the change goes through risk and compliance again."""
        async with self.db.unit() as unit:
            repo = TradingRepository(unit)
            record = await self._order(repo, order_id, user)
            account = await self._account(repo, record.account_id, user)
            if not OrderStatus(record.status).working or record.broker_order_id is None:
                raise Rejected(f"order {record.client_order_id} is {record.status}; only working orders can be changed")
            current = command_of(record)
            changed = SubmitOrder(
                **{**_fields(current), "qty": qty if qty is not None else current.qty,
                   "limit_price": limit_price if limit_price is not None else current.limit_price,
                   "stop_price": stop_price if stop_price is not None else current.stop_price,
                   "bracket": _exits_after_replace(current, limit_price)}
            )  # fmt: skip
            broker = await self.broker_for(account)
            decision = await self._decide(repo, account, broker, changed)
            if not decision.allowed:
                raise Rejected(f"the change is refused: {'; '.join(decision.reasons)}")
            await self.audit.record(
                unit, "order.replace_requested", actor_id=user.id, target=record.id,
                detail={"qty": qty, "limit_price": limit_price, "stop_price": stop_price},
            )  # fmt: skip
            broker_order_id = record.broker_order_id
        update, exchanges = await self._exchanged(
            account, order_id, user.id,
            lambda: broker.replace(broker_order_id, qty=qty, limit_price=limit_price, stop_price=stop_price),
        )  # fmt: skip
        async with self.db.unit() as unit:
            repo = TradingRepository(unit)
            record = await self._order(repo, order_id, user)
            record.qty, record.limit_price, record.stop_price = update.qty, update.limit_price, update.stop_price
            if record.order_class == OrderClass.OCO:  # an OCO's limit is its take-profit
                record.take_profit = update.limit_price
            record.broker_order_id = update.broker_order_id
            await repo.save_order(record)
            await repo.add_events(
                [_event(record, "replaced", record.status, self.clock.now(), detail=changed.describe())]
            )
            await self._record_exchanges(unit, record.id, exchanges, user.id)
            ours = record.client_order_id
        # a broker may give the replacement its own client order id (Alpaca does): record it under ours
        return await self.apply_update(account, dataclass_replace(update, client_order_id=ours), [], actor=user.id)

    async def orders(
        self, user: CurrentUser, *, account_id: str | None = None, status: str | None = None, limit: int = 200
    ) -> list[OrderView]:
        statuses = None
        if status == "open":
            statuses = ["new", "accepted", "partially_filled"]
        elif status is not None:
            statuses = [OrderStatus(status).value]
        async with self.db.session() as session:
            repo = TradingRepository(session)
            return [
                OrderView.of(r)
                for r in await repo.orders(owner_id=user.id, account_id=account_id, statuses=statuses, limit=limit)
            ]

    async def order(self, user: CurrentUser, order_id: str) -> tuple[OrderView, list[dict[str, Any]]]:
        """One order with its events, oldest first."""
        async with self.db.session() as session:
            repo = TradingRepository(session)
            record = await self._order(repo, order_id, user)
            events = [
                {
                    "kind": e.kind,
                    "status": e.status,
                    "detail": e.detail,
                    "data": json.loads(e.data_json),
                    "ts": e.ts_event,
                }
                for e in await repo.events(record.id, owner_id=user.id)
            ]
            return OrderView.of(record), events

    # ---- updates from the broker ---------------------------------------------------------------------

    async def apply_update(
        self,
        account: TradingAccount,
        update: BrokerOrder,
        fills: Sequence[BrokerFill],
        *,
        actor: str | None = None,
        exchanges: Sequence[BrokerExchange] = (),
    ) -> OrderView:
        """Record what the broker says about one of our orders: its status and any new fills (idempotent).

        The legs of a bracket or an OCO are recorded too (see the module docstring): those `update.legs` lists,
        with their fills from `fills`, and an update of a leg the desk has not seen, found by its name.
        `exchanges` (the requests that brought `update`, see `broker.collect_exchanges`) are recorded as
        `broker.exchange` audit entries in the same unit of work as the order's new state."""
        view = await self._apply(account, update, fills, actor=actor, exchanges=exchanges)
        if update.legs:
            await self._record_legs(account, view, update.legs, fills, actor)
        elif (view.parent_id is not None or view.order_class == OrderClass.OCO) and (fills or update.status.final):
            await self._refresh_group(account, view.parent_id or view.id, actor)
        return view

    async def _record_legs(
        self,
        account: TradingAccount,
        parent: OrderView,
        legs: Sequence[BrokerOrder],
        fills: Sequence[BrokerFill],
        actor: str | None,
    ) -> None:
        for leg in legs:
            mine = [f for f in fills if f.client_order_id == leg.client_order_id]
            await self._apply(account, leg, mine, actor=actor, parent_id=parent.id)

    async def _refresh_group(self, account: TradingAccount, parent_id: str, actor: str | None) -> None:
        """Read a bracket's or an OCO's parent again from the broker and record it and its legs: a leg that
        filled or ended has shrunk or canceled its partner at the venue."""
        async with self.db.unit() as unit:
            parent = await TradingRepository(unit).order(parent_id, owner_id=account.owner_id)
        if parent is None:
            return
        broker = await self.broker_for(account)
        update, exchanges = await self._exchanged(
            account, parent_id, actor, lambda: broker.order(client_order_id=parent.client_order_id)
        )
        if update is None:  # nothing to record but the lookup itself
            await self._record_exchanges_alone(account, parent_id, exchanges, actor)
            return
        view = await self._apply(account, update, [], actor=actor, exchanges=exchanges)
        await self._record_legs(account, view, update.legs, [], actor)

    async def _adopt_leg(
        self,
        unit: AsyncSession | Unit,
        repo: TradingRepository,
        account: TradingAccount,
        update: BrokerOrder,
        actor: str | None,
        parent_id: str | None,
    ) -> OrderRow | None:
        """Record a leg the venue placed for one of our orders (None: `update` is no leg of ours). The parent is
        `parent_id`, else the order the leg is named after (`<parent>-tp`/`-sl`) if that is a bracket or OCO."""
        if parent_id is not None:
            parent = await repo.order(parent_id, owner_id=account.owner_id)
        else:
            named = parent_client_order_id(update.client_order_id)
            parent = None if named is None else await repo.order_for_account(account.id, client_order_id=named)
            if parent is not None and parent.order_class == OrderClass.SIMPLE:
                parent = None
        if parent is None or parent.symbol != update.symbol:
            return None
        now = self.clock.now()
        record = _leg_record(update, parent, now)
        await repo.insert_order(record)
        detail = f"{command_of(record).describe()}: an exit of order {parent.client_order_id}"
        await repo.add_events(
            [_event(record, "leg", OrderStatus.NEW, now, detail=detail, data={"parent_id": parent.id})]
        )
        await self.audit.record(
            unit, "order.leg_recorded", actor_id=actor, target=record.id,
            detail={"parent_id": parent.id, "client_order_id": record.client_order_id, "order": detail},
        )  # fmt: skip
        return record

    async def _apply(
        self,
        account: TradingAccount,
        update: BrokerOrder,
        fills: Sequence[BrokerFill],
        *,
        actor: str | None,
        parent_id: str | None = None,
        exchanges: Sequence[BrokerExchange] = (),
    ) -> OrderView:
        async with self.db.unit() as unit:
            repo = TradingRepository(unit)
            record = await repo.order_for_account(account.id, client_order_id=update.client_order_id)
            if record is None:  # only a leg the venue placed is not on the books yet
                record = await self._adopt_leg(unit, repo, account, update, actor, parent_id)
            if record is None:
                raise NotFound(f"no order {update.client_order_id} in account {account.name}")
            await self._record_exchanges(unit, record.id, exchanges, actor)
            now = self.clock.now()
            if record.broker_order_id is None:
                record.broker_order_id = update.broker_order_id
                if not exchanges:  # else the broker's answer just recorded (`broker.exchange`) says so already
                    await self.audit.record(
                        unit, "order.broker_accepted", actor_id=actor, target=record.id,
                        detail={"broker_order_id": update.broker_order_id, "status": update.status.value},
                    )  # fmt: skip
            if update.qty != record.qty and (record.parent_id is not None or record.order_class == OrderClass.OCO):
                await _resize(repo, record, update.qty, now)
            mine = [f for f in fills if f.client_order_id == record.client_order_id]
            # every fill recorded for an order adds to its filled quantity: at 0 none is on record yet
            known = await repo.fill_ids(account.id, [f.fill_id for f in mine]) if record.filled_qty else set()
            fresh = [f for f in mine if f.fill_id not in known]
            if fresh and record.filled_qty > 0:
                await self._count_recorded_fills(repo, account, record)
            for fill in fresh:
                await self._record_fill(repo, account, record, fill)
                await self.audit.record(
                    unit, "order.fill", actor_id=actor, target=record.id,
                    detail={"fill_id": fill.fill_id, "qty": fill.qty, "price": fill.price, "commission": fill.commission},
                )  # fmt: skip
            if update.filled_qty > record.filled_qty:  # fills not itemised (yet): trust the broker's totals
                record.filled_qty = update.filled_qty
                record.average_fill_price = update.average_fill_price
            target = update.status
            if target is OrderStatus.NEW and OrderStatus(record.status) is OrderStatus.NEW:
                target = OrderStatus.ACCEPTED  # the broker has it: that is acceptance for us
            if target.value != record.status:
                await self._move(repo, record, target, update.reason, at=now)
            record.updated_at = now
            await repo.save_order(record)
            view = OrderView.of(record)
        await self._publish(account.owner_id, view.status, view)
        return view

    async def _count_recorded_fills(self, repo: TradingRepository, account: TradingAccount, record: OrderRow) -> None:
        """Count the order's filled quantity from its fills on record. A total taken on trust from an update
        that came without its fills (a cancel that crossed a fill) would otherwise count those fills twice."""
        recorded = [
            f for f in await repo.fills_for_account(account.id, since=record.created_at) if f.order_id == record.id
        ]
        filled = sum((f.qty for f in recorded), Decimal(0))
        if filled != record.filled_qty:
            record.filled_qty = filled
            record.average_fill_price = (
                sum((f.qty * f.price for f in recorded), Decimal(0)) / filled if filled else None
            )

    async def _record_fill(
        self, repo: TradingRepository, account: TradingAccount, record: OrderRow, fill: BrokerFill
    ) -> None:
        await repo.insert_fill(
            {"fill_id": fill.fill_id, "order_id": record.id, "account_id": account.id, "symbol": fill.symbol,
             "side": fill.side.value, "qty": fill.qty, "price": fill.price, "commission": fill.commission,
             "time": fill.time}
        )  # fmt: skip
        filled = record.filled_qty + fill.qty
        previous = (record.average_fill_price or Decimal(0)) * record.filled_qty
        record.average_fill_price = (previous + fill.price * fill.qty) / filled
        record.filled_qty = filled
        stored = await repo.position(account.id, fill.symbol)
        position = Position(
            fill.symbol,
            qty=stored.qty if stored else Decimal(0),
            average_price=stored.average_price if stored else Decimal(0),
            realized_pnl=stored.realized_pnl if stored else Decimal(0),
        ).apply(fill.side, fill.qty, fill.price, fill.commission, fill.time)
        row = PositionRow(
            account.id, fill.symbol, position.qty, position.average_price, position.realized_pnl, fill.time
        )
        await repo.save_position(row, new=stored is None)
        kind = "filled" if filled >= record.qty else "partially_filled"
        await repo.add_events([
            _event(record, kind, record.status, fill.time,
                   detail=f"{fill.side.value} {fill.qty.normalize():f} {fill.symbol} at {fill.price}",
                   data={"fill_id": fill.fill_id, "qty": fill.qty, "price": fill.price, "commission": fill.commission})
        ])  # fmt: skip

    async def _move(
        self,
        repo: TradingRepository,
        record: OrderRow,
        target: OrderStatus,
        reason: str | None,
        *,
        at: datetime | None = None,
    ) -> None:
        """Move an order along the state machine, through `accepted` when the broker skipped it; one event each.
        The caller writes the changed row (`repo.save_order`)."""
        at = at or self.clock.now()
        current = OrderStatus(record.status)
        path = [target]
        if target not in {OrderStatus.REJECTED, OrderStatus.CANCELED} and current is OrderStatus.NEW:
            path = [OrderStatus.ACCEPTED, target] if target is not OrderStatus.ACCEPTED else [target]
        if current is OrderStatus.ACCEPTED and target is OrderStatus.PARTIALLY_FILLED:
            path = [target]
        events = []
        for step in path:
            current = transition(current, step)
            events.append(_event(record, step.value, step, at, detail=reason or ""))
        await repo.add_events(events)
        record.status = current.value
        if reason and current in {OrderStatus.REJECTED, OrderStatus.CANCELED, OrderStatus.EXPIRED}:
            record.reason = reason
        record.updated_at = at

    # ---- helpers -------------------------------------------------------------------------------------

    async def _exchanged(
        self, account: TradingAccount, order_id: str, actor: str | None, call: Callable[[], Awaitable[T]]
    ) -> tuple[T, list[BrokerExchange]]:
        """Make a broker call for order `order_id`, collecting its exchanges for the caller to record with the
        outcome. When the call fails there is no outcome to record them with: they are recorded on their own."""
        with collect_exchanges() as exchanges:
            try:
                return await call(), exchanges
            except Exception:
                await self._record_exchanges_alone(account, order_id, exchanges, actor)
                raise

    async def _record_exchanges(
        self, unit: AsyncSession | Unit, order_id: str, exchanges: Sequence[BrokerExchange], actor: str | None
    ) -> None:
        for exchange in exchanges:
            try:
                await self.audit.record(
                    unit, "broker.exchange", actor_id=actor, target=order_id, detail=exchange.to_detail()
                )
            except SecretInDetail:  # a venue answered with a key that names a secret: recorded without it
                await self.audit.record(
                    unit, "broker.exchange", actor_id=actor, target=order_id, detail=exchange_detail(exchange)
                )

    async def record_exchanges(
        self, account: TradingAccount, target: str, exchanges: Sequence[BrokerExchange], actor: str | None = None
    ) -> None:
        """Record broker exchanges about `target` (an order or the account) in a unit of work of their own:
        for calls with no outcome on the books to record them with (a lookup that found nothing, a positions
        read for reconciliation)."""
        await self._record_exchanges_alone(account, target, exchanges, actor)

    async def _record_exchanges_alone(
        self, account: TradingAccount, order_id: str, exchanges: Sequence[BrokerExchange], actor: str | None
    ) -> None:
        if exchanges:
            async with self.db.unit() as unit:
                await self._record_exchanges(unit, order_id, exchanges, actor)

    async def _stored(self, repo: TradingRepository, order_id: str, account: TradingAccount) -> OrderRow:
        record = await repo.order(order_id, owner_id=account.owner_id)
        if record is None:  # written by this service moments ago; gone only if the account was deleted
            raise NotFound(f"order {order_id} is no longer on the books of account {account.name}")
        return record

    async def _order(self, repo: TradingRepository, order_id: str, user: CurrentUser) -> OrderRow:
        record = await repo.order(order_id, owner_id=user.id)
        if record is None:
            raise NotFound(f"no order {order_id!r}", hint="List yours: GET /api/v1/orders.")
        return record

    async def _account(self, repo: TradingRepository, account_id: str, user: CurrentUser) -> TradingAccount:
        account = await repo.account(account_id, owner_id=user.id)
        if account is None:
            raise NotFound(f"no trading account {account_id!r}", hint="List yours: GET /api/v1/accounts.")
        return account

    def _check_capabilities(self, broker: Broker, order: SubmitOrder) -> None:
        caps = broker.capabilities
        if order.order_type not in caps.order_types:
            raise Rejected(f"{broker.name} does not take {order.order_type.value} orders")
        if order.time_in_force not in caps.time_in_force:
            raise Rejected(f"{broker.name} does not take time in force {order.time_in_force.value}")
        if order.qty != order.qty.to_integral_value() and not caps.fractional:
            raise Rejected(f"{broker.name} does not trade fractional quantities", hint="Use a whole number of shares.")
        if order.order_class is not OrderClass.SIMPLE and not caps.brackets:
            raise Rejected(f"{broker.name} does not take bracket or OCO orders")
        if order.extended_hours and not caps.extended_hours:
            raise Rejected(f"{broker.name} does not trade outside regular hours")

    async def _publish(self, owner_id: str, kind: str, view: OrderView) -> None:
        if self.publish is None:
            return
        unit = open_unit(self.db)
        if unit is not None and DEFERRED in unit.info:  # inside `with_venue`: once it has committed
            unit.info[DEFERRED].append((owner_id, kind, view))
            return
        await self.publish(owner_id, ORDERS_CHANNEL, {"event": kind, "order": view})  # the bus makes it JSON


_IN_PROCESS: dict[type, bool] = {}


def _in_process(broker: object) -> TypeGuard[InProcessVenue]:
    """Whether `broker` is an `InProcessVenue`: a protocol check costs tens of µs, so once per broker type."""
    kind = type(broker)
    found = _IN_PROCESS.get(kind)
    if found is None:
        found = _IN_PROCESS[kind] = isinstance(broker, InProcessVenue)
    return found


def _reads_executions(
    settings: compliance.ComplianceSettings,
    now: datetime,
    positions: dict[str, Decimal],
    prices: dict[str, Decimal],
    symbol: str,
) -> bool:
    """Whether the compliance verdict can depend on the account's fills of the lookback window, which cost a
    query that grows with the account's activity. It cannot when compliance is off, nor under intraday margin
    without a daily cap when the order's symbol and every position have a market price: that policy then reads
    only the positions (opening + fills = the positions now) and the marks (market prices win over fill
    prices); see `compliance._intraday` and `margin.check`."""
    policy = settings.policy.effective(trade_date(now))
    if policy is compliance.Policy.OFF:
        return False
    if policy is compliance.Policy.INTRADAY_MARGIN and settings.cap_multiple is None:
        held = {s for s, qty in positions.items() if qty != 0}
        return not held | {symbol} <= prices.keys()
    return True


def exchange_detail(exchange: BrokerExchange) -> dict[str, Any]:
    """A broker exchange as the detail of its `broker.exchange` audit entry, with every key that names a secret
    dropped (the audit log refuses one: an adapter never sends one, but a venue could answer with one) and
    listed under `stripped`. The audit service finds such a key as it checks the detail, so this runs only for
    an exchange it refused (`OrderService._record_exchanges`)."""
    stripped: list[str] = []
    detail = _without_secrets(exchange.to_detail(), "", stripped)
    detail["stripped"] = stripped
    return detail


def _without_secrets(value: Any, path: str, stripped: list[str]) -> Any:
    if isinstance(value, dict):
        kept = {}
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            if names_secret(str(key)):
                stripped.append(where)
            else:
                kept[key] = _without_secrets(inner, where, stripped)
        return kept
    if isinstance(value, list | tuple):
        return [_without_secrets(inner, path, stripped) for inner in value]
    return value


def _exits_after_replace(order: SubmitOrder, limit_price: Decimal | None) -> Bracket | None:
    """The exits of `order` once its limit becomes `limit_price`: an OCO's take-profit is its limit and moves
    with it; a bracket's exits stay."""
    if order.order_class is not OrderClass.OCO or order.bracket is None or limit_price is None:
        return order.bracket
    return Bracket(take_profit=limit_price, stop_loss=order.bracket.stop_loss)


def _pending(working: Sequence[WorkingOrderRow], order: SubmitOrder) -> list[OrderIntent]:
    """The working orders `order` is judged beside: without `order` itself (a replace) or the rest of its OCO
    group, and each other OCO group once, since its members exit the same shares."""
    own = {_group(w) for w in working if w.client_order_id == order.client_order_id} - {None}
    seen: set[str] = set()
    pending = []
    for w in working:
        group = _group(w)
        if w.client_order_id == order.client_order_id or group in own or (group is not None and group in seen):
            continue
        if group is not None:
            seen.add(group)
        pending.append(OrderIntent(w.symbol, Side(w.side), w.qty - w.filled_qty, w.limit_price or w.stop_price))
    return pending


def _group(record: OrderRow | WorkingOrderRow) -> str | None:
    """The OCO group an order is a member of (its parent, or itself for an OCO's take-profit); None for none."""
    return record.parent_id or (record.id if record.order_class == OrderClass.OCO else None)


def _fields(order: SubmitOrder) -> dict[str, Any]:
    return {name: getattr(order, name) for name in SubmitOrder.__slots__}


def _record(order: SubmitOrder, owner_id: str, now: datetime, *, status: OrderStatus) -> OrderRow:
    bracket = order.bracket or Bracket()
    return OrderRow(
        id=uuid.uuid4().hex, account_id=order.account_id, owner_id=owner_id, client_order_id=order.client_order_id,
        symbol=order.symbol, side=order.side.value, qty=order.qty, order_type=order.order_type.value,
        time_in_force=order.time_in_force.value, limit_price=order.limit_price, stop_price=order.stop_price,
        extended_hours=order.extended_hours, take_profit=bracket.take_profit, stop_loss=bracket.stop_loss,
        tag=order.tag, status=status.value, filled_qty=Decimal(0), average_fill_price=None, broker_order_id=None,
        reason=None, parent_id=None, created_at=now, updated_at=now, order_class=order.order_class.value,
    )  # fmt: skip


def _data_json(data: dict[str, Any] | None) -> str:
    """An event's data as JSON: the encoder walks it, and only our own types (Decimal, datetime…) go through
    `to_jsonable` (the intent's preview is plain JSON already, and a second walk cost as much as the first)."""
    return sorted_json(data) if data else "{}"


async def _resize(repo: TradingRepository, record: OrderRow, qty: Decimal, at: datetime) -> None:
    """A leg's quantity as the venue set it: it grows with its entry's fills and shrinks with its partner's."""
    detail = f"quantity {record.qty.normalize():f} → {qty.normalize():f}: it follows its entry and its OCO partner"
    await repo.add_events([_event(record, "resized", record.status, at, detail=detail, data={"qty": qty})])
    record.qty = qty


def _leg_record(update: BrokerOrder, parent: OrderRow, now: datetime) -> OrderRow:
    """A bracket's or an OCO's leg as the venue reported it, in status `new` (the update then moves it on)."""
    return OrderRow(
        id=uuid.uuid4().hex, account_id=parent.account_id, owner_id=parent.owner_id,
        client_order_id=update.client_order_id, symbol=update.symbol, side=update.side.value, qty=update.qty,
        order_type=update.order_type.value, time_in_force=update.time_in_force.value, limit_price=update.limit_price,
        stop_price=update.stop_price, extended_hours=False, take_profit=None, stop_loss=None, tag=parent.tag,
        status=OrderStatus.NEW.value, filled_qty=Decimal(0), average_fill_price=None, broker_order_id=None,
        reason=None, parent_id=parent.id, created_at=now, updated_at=now, order_class=OrderClass.SIMPLE.value,
    )  # fmt: skip


def _event(
    record: OrderRow,
    kind: str,
    status: OrderStatus | str,
    at: datetime,
    *,
    detail: str = "",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A row of `order_events` (see `TradingRepository.add_events`)."""
    return {
        "order_id": record.id, "account_id": record.account_id, "kind": kind, "status": OrderStatus(status).value,
        "detail": detail, "data_json": _data_json(data), "ts_event": at,
        "ts_init": at,
    }  # fmt: skip
