"""Keeping the desk's books equal to the broker's.

- `recover`: at start-up, every order still `new` without a broker id (the process died between the outbox
  commit and the broker's answer) is looked up by its `client_order_id`: found → recorded; never received →
  submitted again under the same id, which the broker deduplicates, with the outcomes of a submission (a
  refusal is recorded as a rejection; an unreachable broker leaves it for the next start). Nothing is lost and
  nothing is doubled.
- `sync`: status polling for brokers that do not push: every working order's state and new fills. A poll that
  changes the books is audited with its requests and answers (`broker.exchange`, in the unit of work that
  records the change); a poll that changes nothing is not, or a desk polling every few seconds would bury the
  log under identical answers.
- `reconcile`: positions compared with the broker's. Each difference is recorded as a finding, corrected from
  the broker's truth, audited, and shown to the user (GET /api/v1/accounts/{id}/reconciliation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from marketdesk.accounts.roles import CurrentUser
from marketdesk.audit.service import AuditService
from marketdesk.clock import Clock
from marketdesk.db import Database
from marketdesk.errors import MarketdeskError, NotFound
from marketdesk.logs import get_logger
from marketdesk.trading.broker import Broker, BrokerExchange, BrokerFill, BrokerOrder, collect_exchanges
from marketdesk.trading.models import ReconciliationFinding, TradingAccount
from marketdesk.trading.orders import OrderStatus
from marketdesk.trading.repository import OrderRow, PositionRow, TradingRepository
from marketdesk.trading.service import BrokerFor, OrderService, command_of

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    subject: str
    desk_value: str
    broker_value: str
    correction: str
    found_at: datetime


class Reconciler:
    def __init__(
        self, db: Database, clock: Clock, audit: AuditService, orders: OrderService, broker_for: BrokerFor
    ) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.orders = orders
        self.broker_for = broker_for
        # accounts whose fills a broker pushed, kept so each fill costs no extra read: recording a fill uses only
        # an account's id, name and owner, which never change (a deleted account's id is never reused)
        self._pushing: dict[str, TradingAccount] = {}

    async def recover(self, account: TradingAccount) -> int:
        """Resolve the account's in-flight orders; the number resolved."""
        async with self.db.session() as session:
            stuck = [
                o for o in await TradingRepository(session).working_for_account(account.id) if o.broker_order_id is None
            ]
            commands = [(o.id, command_of(o)) for o in stuck]
        if not commands:
            return 0
        broker = await self.broker_for(account)
        for order_id, command in commands:
            with collect_exchanges() as asked:  # the lookups are audited with what they found
                known = await broker.order(client_order_id=command.client_order_id)
                if known is not None:
                    fills = [f for f in await broker.fills() if f.client_order_id == command.client_order_id]
            if known is None:  # a refusal or an unreachable broker is recorded as at submission, not raised
                await self.orders.record_exchanges(account, order_id, asked)
                await self.orders.resend(account, broker, order_id, command)
                continue
            await self.orders.apply_update(account, known, fills, exchanges=asked)
        return len(commands)

    async def sync(self, account: TradingAccount) -> int:
        """Poll the broker for every working order's state and fills; the number of orders updated.

        Orders are matched by the broker's order id first: a broker that gives a replacement order its own
        client order id (Alpaca does) is still followed, and its answers are recorded under ours.
        """
        async with self.db.session() as session:
            working = await TradingRepository(session).working_for_account(account.id)
            pending = [o for o in working if o.broker_order_id]
        if not pending:
            return 0
        broker = await self.broker_for(account)
        since = min(o.created_at for o in pending)
        with collect_exchanges() as asked:  # the poll's requests and answers
            fills = await broker.fills(since=since)
            by_id = {o.broker_order_id: o for o in await broker.orders(open_only=False)}
            updates = [
                (o, by_id.get(o.broker_order_id or "") or await broker.order(client_order_id=o.client_order_id))
                for o in pending
            ]
        exchanges: list[BrokerExchange] = list(asked)
        for row, update in updates:
            if update is None:
                continue
            ours = [
                replace(f, client_order_id=row.client_order_id)
                for f in fills
                if f.broker_order_id == update.broker_order_id or f.client_order_id == row.client_order_id
            ]
            # a poll that changes nothing on the books is not audited (one every few seconds would bury the log);
            # the first order it changes is recorded with the poll's exchanges, in one unit of work
            moved = _moves(row, update)
            await self.orders.apply_update(
                account, replace(update, client_order_id=row.client_order_id), ours,
                exchanges=exchanges if moved else (),
            )  # fmt: skip
            if moved:
                exchanges = []
        return len(pending)

    async def reconcile(self, account: TradingAccount) -> list[Finding]:
        """Compare positions with the broker's, correct the desk's books, and return what differed."""
        broker: Broker = await self.broker_for(account)
        await self.sync(account)
        with collect_exchanges() as asked:
            theirs = {p.symbol: p for p in await broker.positions()}
        await self.orders.record_exchanges(account, account.id, asked)
        now = self.clock.now()
        findings: list[Finding] = []
        async with self.db.session() as session:
            repo = TradingRepository(session)
            ours = {p.symbol: p for p in await repo.positions_for_account(account.id)}
            for symbol in sorted(set(ours) | set(theirs)):
                mine = ours.get(symbol)
                held = mine.qty if mine is not None else Decimal(0)
                truth = theirs[symbol].qty if symbol in theirs else Decimal(0)
                if held == truth:
                    continue
                average = theirs[symbol].average_price if symbol in theirs else Decimal(0)
                finding = Finding(
                    "position", symbol, f"{held.normalize():f}", f"{truth.normalize():f}",
                    f"set {symbol} to the broker's {truth.normalize():f} at {average}", now,
                )  # fmt: skip
                if mine is None:
                    await repo.save_position(PositionRow(account.id, symbol, truth, average, Decimal(0), now), new=True)
                else:
                    mine.qty, mine.average_price, mine.updated_at = truth, average, now
                    await repo.save_position(mine, new=False)
                repo.add(ReconciliationFinding(account_id=account.id, **_row(finding)))
                await self.audit.record(
                    session, "trading.reconciled", target=account.id,
                    detail={"symbol": symbol, "desk": finding.desk_value, "broker": finding.broker_value},
                )  # fmt: skip
                findings.append(finding)
        return findings

    async def record_fills(self, account_id: str, fills: list[BrokerFill]) -> None:
        """Record fills a pushing broker reported (the paper venue's feed calls this), order by order."""
        account = self._pushing.get(account_id)
        if account is None:
            async with self.db.session() as session:
                account = await session.get(TradingAccount, account_id)
            if account is None:
                return
            self._pushing[account_id] = account
        broker = await self.broker_for(account)
        for client_order_id in dict.fromkeys(f.client_order_id for f in fills):
            update = await broker.order(client_order_id=client_order_id)
            if update is None:
                continue
            mine = [f for f in fills if f.client_order_id == client_order_id]
            try:
                await self.orders.apply_update(account, update, mine)
            except NotFound:  # placed at the venue, not through the desk: reconciliation reports it
                log.warning(
                    "fill of an order the desk did not place", account=account.name, client_order_id=client_order_id
                )

    async def reconcile_for(self, user: CurrentUser, account_id: str) -> list[Finding]:
        """`reconcile` on the caller's own account."""
        return await self.reconcile(await self._account(user, account_id))

    async def findings(self, user: CurrentUser, account_id: str) -> list[dict[str, object]]:
        """The differences recorded for the caller's account, newest first."""
        async with self.db.session() as session:
            repo = TradingRepository(session)
            account = await repo.account(account_id, owner_id=user.id)
            if account is None:
                raise NotFound(f"no trading account {account_id!r}", hint="List yours: GET /api/v1/accounts.")
            return [
                {"kind": f.kind, "subject": f.subject, "desk_value": f.desk_value, "broker_value": f.broker_value,
                 "correction": f.correction, "found_at": f.found_at}
                for f in await repo.findings(account.id, owner_id=user.id)
            ]  # fmt: skip

    async def _account(self, user: CurrentUser, account_id: str) -> TradingAccount:
        async with self.db.session() as session:
            account = await TradingRepository(session).account(account_id, owner_id=user.id)
        if account is None:
            raise NotFound(f"no trading account {account_id!r}", hint="List yours: GET /api/v1/accounts.")
        return account

    async def start(self, accounts: list[TradingAccount]) -> list[str]:
        """Recover and reconcile every account at start-up; problems come back as lines to log, not raised."""
        problems = []
        for account in accounts:
            try:
                await self.recover(account)
                await self.reconcile(account)
            except MarketdeskError as exc:
                problems.append(f"account {account.name}: {exc.one_line()}")
        return problems


def _row(finding: Finding) -> dict[str, object]:
    return {
        "kind": finding.kind,
        "subject": finding.subject,
        "desk_value": finding.desk_value,
        "broker_value": finding.broker_value,
        "correction": finding.correction,
        "found_at": finding.found_at,
    }


def _moves(row: OrderRow, update: BrokerOrder) -> bool:
    """Whether recording `update` changes the order on the books (its status or its filled quantity)."""
    target = OrderStatus.ACCEPTED if update.status is OrderStatus.NEW else update.status  # as `apply_update` does
    return target.value != row.status or update.filled_qty != row.filled_qty
