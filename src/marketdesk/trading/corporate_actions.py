"""Splits and dividends reach the paper accounts: `CorporateActionsApplier`.

The market data store holds corporate actions (`marketdata.port.CorporateAction`: the simulated market's, loaded
at start-up, and a provider's, from `marketdesk data fetch`). For every paper account, each action of a symbol
the account held when its ex-date began is applied at the paper venue (`PaperBroker.apply_split`,
`apply_dividend`), oldest ex-date first, effective at the ex-date's open (09:30 New York); then the desk's own
books follow in one unit of work:

- **split** (`value` new shares per old one): the venue's position becomes quantity × ratio at average ÷ ratio
  and the symbol's working orders are canceled (their prices no longer mean what they did); the desk's
  `positions` row follows the same way and the cancels are recorded through the order service (`Reconciler.sync`),
  so reconciliation finds no difference;
- **dividend** (`value` per share): the venue credits quantity × amount to cash (a short position pays it).

Each applied action is one `trading.corporate_action` audit entry (target: the account) and a
`{"event": "corporate_action", ...}` note on the owner's `orders` channel. That entry is also the desk's record
that the action is done, so running again changes nothing (the venue is idempotent per symbol, kind and time as
well, so a crash between the venue's commit and the desk's repeats nothing).

When: an action is due from the start of its ex-date (New York) for an account opened before that day. The
desk applies what is due at start-up and then as each New York day begins, ahead of the day's first trade, and
`marketdesk trade corporate-actions` (POST /api/v1/accounts/{id}/corporate-actions) applies it on demand.

An action is applied only to the position held before its ex-date. If the symbol was traded since (an action
that reached the store late), that position is no longer the one held now, and the venue can only adjust the
one held now: the action is then listed as not applied, with the reason, rather than guessed. A symbol first
bought after its ex-date owes and gets nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.roles import CurrentUser
from marketdesk.audit.service import AuditService
from marketdesk.clock import Clock
from marketdesk.db import Database
from marketdesk.errors import MarketdeskError, NotFound, Rejected
from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.kit.tasks import cancel_and_wait
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.logs import get_logger
from marketdesk.marketdata.port import CorporateAction, CorporateActionKind
from marketdesk.trading.activity import trade_date
from marketdesk.trading.broker import BrokerFill, BrokerOrder
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.paper import PaperBroker
from marketdesk.trading.reconcile import Reconciler
from marketdesk.trading.repository import TradingRepository
from marketdesk.trading.service import ORDERS_CHANNEL, BrokerFor, Publish

if TYPE_CHECKING:
    from marketdesk.marketdata.barstore import BarStore

log = get_logger(__name__)

APPLIED = "trading.corporate_action"
OPEN = time(9, 30)
AUDIT_PAGE = 500
ZERO = Decimal(0)

ActionSource = Callable[[date, date], Awaitable[Sequence[CorporateAction]]]
"""The stored corporate actions with ex-dates from the first date to the second, both included."""


def stored_actions(store: BarStore) -> ActionSource:
    """Read the actions from the market data store (Parquet, off the event loop)."""

    async def between(start: date, end: date) -> Sequence[CorporateAction]:
        return await asyncio.to_thread(store.actions, None, start, end)

    return between


def effective_at(ex_date: date) -> datetime:
    """When an action takes effect at the venue: its ex-date's open, 09:30 New York, as UTC."""
    return datetime.combine(ex_date, OPEN, tzinfo=NEW_YORK).astimezone(UTC)


def day_start(day: date) -> datetime:
    """The start of a New York day, as UTC: trades from then on come after an ex-date of that day."""
    return datetime.combine(day, time(0), tzinfo=NEW_YORK).astimezone(UTC)


# ---- what is owed: pure ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assessment:
    """What an action means for one account: apply it (`due`), nothing to do, or a `problem` that stops it."""

    due: bool
    held_before: Decimal  # the position when the ex-date began
    problem: str | None = None


def assess(
    action: CorporateAction,
    *,
    held_now: Decimal,
    fills: Sequence[BrokerFill],
    working: Sequence[BrokerOrder],
    later_split_applied: bool = False,
) -> Assessment:
    """Judge `action` for an account holding `held_now` of its symbol, given the symbol's `fills` (at least those
    since the ex-date began) and its `working` orders. A split is due on a position or on working orders; a
    dividend on a position (long or short)."""
    since = [f for f in fills if f.time >= day_start(action.ex_date)]
    placed_since = any(o.submitted_at >= day_start(action.ex_date) for o in working)
    placed_before = any(o.submitted_at < day_start(action.ex_date) for o in working)
    held_before = held_now - sum((f.side.sign * f.qty for f in since), ZERO)
    dividend = action.kind is CorporateActionKind.DIVIDEND
    if not since and not placed_since:
        if dividend and later_split_applied and held_now != 0:
            return Assessment(False, held_before, _later_split(action))
        return Assessment(held_now != 0 or (not dividend and placed_before), held_now)
    if held_before == 0 and not placed_before:
        return Assessment(False, ZERO)  # first bought after the ex-date: nothing is owed on those shares
    return Assessment(False, held_before, _traded_since(action, held_before, held_now))


def _traded_since(action: CorporateAction, held_before: Decimal, held_now: Decimal) -> str:
    return (
        f"{action.symbol} was traded since its ex-date {action.ex_date.isoformat()} ({held_before.normalize():f} "
        f"held before it, {held_now.normalize():f} now) and the paper venue can adjust only the position held now, "
        f"so this {action.kind.value} was not applied rather than applied to the wrong number of shares"
    )


def _later_split(action: CorporateAction) -> str:
    return (
        f"a later split of {action.symbol} was applied before this {action.ex_date.isoformat()} dividend reached the "
        "desk, so the shares held now are not the shares it was declared on; it was not applied"
    )


# ---- results ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppliedAction:
    """One action applied to one account: the shares before and after, and the cash it moved."""

    account_id: str
    account: str
    symbol: str
    kind: str  # split or dividend
    value: Decimal  # the ratio, or the amount per share
    ex_date: date
    effective_at: datetime
    shares_before: Decimal
    shares_after: Decimal
    cash: Decimal  # a dividend's credit (negative: paid on a short); 0 for a split
    canceled_orders: int

    def audit_detail(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "kind": self.kind,
            "value": _text(self.value),
            "ex_date": self.ex_date.isoformat(),
            "shares_before": _text(self.shares_before),
            "shares_after": _text(self.shares_after),
            "cash": _text(self.cash),
            "canceled_orders": self.canceled_orders,
        }


@dataclass(frozen=True, slots=True)
class NotApplied:
    """A due action that could not be applied, and why."""

    account_id: str
    account: str
    symbol: str
    kind: str
    value: Decimal
    ex_date: date
    reason: str


@dataclass
class CorporateActionsRun:
    """What one run did: the actions applied now (never those applied before), those held back, and accounts
    whose venue could not be reached."""

    applied: list[AppliedAction] = field(default_factory=list)
    not_applied: list[NotApplied] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_jsonable(self)
        return data


# ---- the service ------------------------------------------------------------------------------------------------


class CorporateActionsApplier:
    """Applies the stored splits and dividends to every paper account (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditService,
        brokers: BrokerFor,
        reconciler: Reconciler,
        actions: ActionSource,
        *,
        publish: Publish | None = None,
        interval_s: float = 60.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.brokers = brokers
        self.reconciler = reconciler
        self.actions = actions
        self.publish = publish
        self.interval_s = interval_s
        self._lock = asyncio.Lock()  # one run at a time: the daily pass and a request never interleave
        self._ran_on: date | None = None
        self._task: asyncio.Task[None] | None = None

    async def apply_due(self, accounts: Sequence[TradingAccount] | None = None) -> CorporateActionsRun:
        """Apply every due action not applied yet, to `accounts` (default: every account; only paper accounts
        are touched: a real broker adjusts its own books). Running it again changes nothing. An account whose
        venue fails is named in `problems`; the others go on."""
        if accounts is None:
            async with self.db.session() as session:
                accounts = await TradingRepository(session).all_accounts()
        return await self._apply_all(accounts, collect=True)

    async def _apply_all(self, accounts: Sequence[TradingAccount], *, collect: bool) -> CorporateActionsRun:
        async with self._lock:
            paper = [a for a in accounts if a.broker == "paper"]
            run = CorporateActionsRun()
            today = trade_date(self.clock.now())
            first = min(
                (trade_date(a.created_at) + timedelta(days=1) for a in paper), default=today + timedelta(days=1)
            )
            if first > today:
                return run
            stored = sorted(await self.actions(first, today), key=_in_order)
            async with self.db.session() as session:
                done = await self._recorded(session)
            for account in paper:
                try:
                    await self._apply_account(account, stored, done, run)
                except MarketdeskError as exc:
                    if not collect:
                        raise
                    run.problems.append(f"account {account.name}: {exc.one_line()}")
            return run

    async def apply_for(self, user: CurrentUser, account_id: str) -> CorporateActionsRun:
        """`apply_due` on the caller's own paper account; a failing venue is raised, not listed."""
        async with self.db.session() as session:
            account = await TradingRepository(session).account(account_id, owner_id=user.id)
        if account is None:
            raise NotFound(f"no trading account {account_id!r}", hint="List yours: GET /api/v1/accounts.")
        if account.broker != "paper":
            raise Rejected(
                f"account {account.name} trades at {account.broker}, which applies splits and dividends to its own "
                "books; only paper accounts take them from the desk"
            )
        return await self._apply_all([account], collect=False)

    # the daily pass ---------------------------------------------------------------------------------------------

    async def step(self) -> CorporateActionsRun | None:
        """Apply what is due once per New York day: None when today's pass has run already."""
        today = trade_date(self.clock.now())
        if self._ran_on == today:
            return None
        run = await self.apply_due()
        if not run.problems:  # an account whose venue failed is tried again at the next pass
            self._ran_on = today
        for applied in run.applied:
            log.info("corporate action applied", **applied.audit_detail(), account=applied.account)
        for held in run.not_applied:
            log.warning("corporate action not applied", account=held.account, reason=held.reason)
        for problem in run.problems:
            log.warning("corporate actions not applied to an account", problem=problem)
        return run

    async def start(self) -> None:
        """Apply what is due now (the desk's start-up, once the paper venues are reconciled), then again as each
        New York day begins."""
        try:
            await self.step()
        except MarketdeskError as exc:
            log.warning("corporate actions not applied at start-up", error=exc.one_line())
        except Exception:  # an unreadable store must not keep the desk from starting; the next pass tries again
            log.exception("corporate actions not applied at start-up")
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="corporate-actions")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except MarketdeskError as exc:
                log.warning("corporate actions pass failed", error=exc.one_line())
            except Exception:
                log.exception("corporate actions pass failed")

    # one account ------------------------------------------------------------------------------------------------

    async def _apply_account(
        self,
        account: TradingAccount,
        stored: Sequence[CorporateAction],
        done: set[tuple[str, str, str, str]],
        run: CorporateActionsRun,
    ) -> None:
        opened = trade_date(account.created_at)
        due = [a for a in stored if a.ex_date > opened and _key(account.id, a) not in done]
        if not due:
            return
        broker = await self.brokers(account)
        if not isinstance(broker, PaperBroker):
            return
        books = await _Books.read(broker, day_start(due[0].ex_date))
        for action in due:
            symbol = action.symbol
            if not books.concerns(symbol):
                continue
            later_split = action.kind is CorporateActionKind.DIVIDEND and any(
                key[:3] == (account.id, symbol, CorporateActionKind.SPLIT.value) and key[3] > action.ex_date.isoformat()
                for key in done
            )
            verdict = assess(
                action, held_now=books.held(symbol), fills=books.fills_of(symbol), working=books.working_of(symbol),
                later_split_applied=later_split,
            )  # fmt: skip
            if verdict.problem is not None:
                run.not_applied.append(
                    NotApplied(account.id, account.name, symbol, action.kind.value, action.value, action.ex_date,
                               verdict.problem)
                )  # fmt: skip
                continue
            if not verdict.due:
                continue
            run.applied.append(await self._apply(account, broker, action, verdict, books.working_of(symbol)))
            done.add(_key(account.id, action))
            if action.kind is CorporateActionKind.SPLIT:
                books = await _Books.read(broker, day_start(due[0].ex_date))

    async def _apply(
        self,
        account: TradingAccount,
        broker: PaperBroker,
        action: CorporateAction,
        verdict: Assessment,
        working: Sequence[BrokerOrder],
    ) -> AppliedAction:
        at = effective_at(action.ex_date)
        symbol, ratio = action.symbol, action.value
        if action.kind is CorporateActionKind.SPLIT:
            position = await broker.apply_split(symbol, ratio, at)
            after = ZERO if position is None else position.qty
            # from the venue's answer, which is the same whether this run or an interrupted one applied it
            before, cash, canceled = after / ratio, ZERO, len(working)
        else:
            cash = await broker.apply_dividend(symbol, action.value, at)
            before = after = verdict.held_before
            canceled = 0
        applied = AppliedAction(
            account.id, account.name, symbol, action.kind.value, action.value, action.ex_date, at,
            _plain(before), _plain(after), cash, canceled,
        )  # fmt: skip
        now = self.clock.now()
        async with self.db.session() as session:
            if action.kind is CorporateActionKind.SPLIT:
                await _follow_split(TradingRepository(session), account.id, symbol, ratio, after, now)
            await self.audit.record(session, APPLIED, target=account.id, detail=applied.audit_detail())
        if canceled:
            await self.reconciler.sync(account)  # the desk records the venue's cancels (order events, pushes)
        if self.publish is not None:
            payload = {"event": "corporate_action", "account": {"id": account.id, "name": account.name},
                       "action": to_jsonable(applied)}  # fmt: skip
            await self.publish(account.owner_id, ORDERS_CHANNEL, payload)
        return applied

    async def _recorded(self, session: AsyncSession) -> set[tuple[str, str, str, str]]:
        """The actions already applied, by (account, symbol, kind, ex-date), from their audit entries."""
        keys: set[tuple[str, str, str, str]] = set()
        offset = 0
        while True:
            page = await self.audit.entries(session, action=APPLIED, limit=AUDIT_PAGE, offset=offset)
            for entry in page:
                detail = json.loads(entry.detail)
                keys.add((entry.target, detail["symbol"], detail["kind"], detail["ex_date"]))
            if len(page) < AUDIT_PAGE:
                return keys
            offset += AUDIT_PAGE


async def _follow_split(
    repo: TradingRepository, account_id: str, symbol: str, ratio: Decimal, venue_qty: Decimal, now: datetime
) -> None:
    """The desk's position after a split: quantity × ratio, average ÷ ratio. A row that already holds the venue's
    quantity (reconciled from the venue after an interrupted run) is left as it is."""
    mine = await repo.position(account_id, symbol)
    if mine is None or mine.qty == venue_qty:
        return
    mine.qty, mine.average_price, mine.updated_at = mine.qty * ratio, mine.average_price / ratio, now
    await repo.save_position(mine, new=False)


@dataclass(frozen=True, slots=True)
class _Books:
    """A paper account's positions, working orders and fills since a time, read from its venue."""

    positions: dict[str, Decimal]
    working: list[BrokerOrder]
    fills: list[BrokerFill]

    @classmethod
    async def read(cls, broker: PaperBroker, since: datetime) -> _Books:
        positions = {p.symbol: p.qty for p in await broker.positions()}
        return cls(positions, await broker.orders(open_only=True), await broker.fills(since=since))

    def concerns(self, symbol: str) -> bool:
        return (
            self.positions.get(symbol, ZERO) != 0
            or any(o.symbol == symbol for o in self.working)
            or any(f.symbol == symbol for f in self.fills)
        )

    def held(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, ZERO)

    def working_of(self, symbol: str) -> list[BrokerOrder]:
        return [o for o in self.working if o.symbol == symbol]

    def fills_of(self, symbol: str) -> list[BrokerFill]:
        return [f for f in self.fills if f.symbol == symbol]


def _in_order(action: CorporateAction) -> tuple[date, int, str]:
    # on one ex-date a dividend comes first: it is paid on the shares held before the ex-date, before a split
    return (action.ex_date, 0 if action.kind is CorporateActionKind.DIVIDEND else 1, action.symbol)


def _key(account_id: str, action: CorporateAction) -> tuple[str, str, str, str]:
    return (account_id, action.symbol, action.kind.value, action.ex_date.isoformat())


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _plain(value: Decimal) -> Decimal:
    """Without trailing zeros or an exponent: 40, 1.5 (not 4E+1, 1.50)."""
    return Decimal(_text(value))


__all__ = [
    "AppliedAction",
    "Assessment",
    "CorporateActionsApplier",
    "CorporateActionsRun",
    "NotApplied",
    "assess",
    "effective_at",
    "stored_actions",
]
