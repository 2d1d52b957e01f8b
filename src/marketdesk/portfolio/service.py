"""The portfolio service: portfolios, their transactions and statement imports, valuation, daily snapshots and
returns. Every call takes a session (the caller's unit of work commits) and the signed-in user, and acts on that
user's portfolios only: another user's answers 404 like one that does not exist. Changes need a role that may
write (trader or admin). The clock is injected; prices come through `ClosePrices`.

A portfolio is either kept by hand (transactions added one at a time or imported from broker statements) or
linked to one of the user's trading accounts, whose fills are then its trades (and it takes no transactions by
hand). The snapshots of a hand-kept portfolio are recomputed whenever its transactions change; a linked one's
when asked (its fills arrive on their own).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.errors import Forbidden
from marketdesk.accounts.roles import CurrentUser
from marketdesk.clock import Clock
from marketdesk.errors import NotFound, Rejected
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.portfolio.allocation import SYMBOL, Targets, allocate
from marketdesk.portfolio.ledger import ORDER_OF_DAY, Entry, Kind, Ledger, Transaction, admit, problem, replay
from marketdesk.portfolio.models import Portfolio, PortfolioSnapshot, PortfolioTarget, PortfolioTransaction
from marketdesk.portfolio.performance import Performance, exact_value, performance
from marketdesk.portfolio.rebalance import VerdictReading, rebalance, verdict_actions
from marketdesk.portfolio.repository import PortfolioRepository
from marketdesk.portfolio.statements import Statement, read_statement
from marketdesk.portfolio.targets import (
    AllocationView,
    Book,
    HoldingVerdicts,
    RebalanceView,
    TargetsView,
    checked_targets,
    classify,
    positions,
    targets_view,
    verdict_readings,
    weight_rows,
)
from marketdesk.portfolio.valuation import DailySeries, PriceHistory, Valuation, daily_series, money, value_holdings

if TYPE_CHECKING:
    from marketdesk.desk import Desk
    from marketdesk.marketdata.barstore import BarStore

ClosePrices = Callable[[Sequence[str], date, date], Awaitable[PriceHistory]]
"""Raw daily closes of `symbols` from `start` to `end` (the bar store's, in the desk)."""

MAX_STATEMENT_BYTES = 5_000_000
EARLIEST_DAY = date(1900, 1, 1)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PortfolioView:
    id: str
    name: str
    description: str
    account_id: str | None
    kind: str  # manual or linked
    transactions: int  # recorded by hand or imported (a linked portfolio's fills are not counted)
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TransactionView:
    id: str | None  # a number for a recorded transaction ("fill-<n>": a linked account's fill; None: a dry run)
    date: date
    kind: str
    symbol: str | None
    qty: Decimal | None
    price: Decimal | None
    amount: Decimal | None
    fee: Decimal
    ratio: Decimal | None
    note: str
    source: str  # manual, generic, alpaca, fill
    executed_at: datetime | None


@dataclass(frozen=True)
class ImportRow:
    line: int
    status: str  # accepted, duplicate or rejected (with a dry run: what would be)
    reason: str | None
    transaction: TransactionView | None


@dataclass(frozen=True)
class ImportReport:
    layout: str
    dry_run: bool
    accepted: int
    duplicates: int
    rejected: int
    rows: tuple[ImportRow, ...]


@dataclass(frozen=True)
class SnapshotsRebuilt:
    days: int
    first: date | None
    last: date | None


@dataclass(frozen=True)
class History:
    """A portfolio's transactions in order, replayed, and (when asked) valued day by day."""

    transactions: list[Transaction]
    ledger: Ledger
    series: DailySeries | None = None


def closes_from_store(store: BarStore) -> ClosePrices:
    """Raw closes from the Parquet bar store (split-unadjusted: splits are portfolio transactions)."""

    async def closes(symbols: Sequence[str], start: date, end: date) -> PriceHistory:
        if not symbols:
            return PriceHistory.empty()
        arrays = await asyncio.to_thread(store.read_matrix, symbols, field="close", start=start, end=end)
        return PriceHistory(arrays.dates, arrays.symbols, arrays.values)

    return closes


class PortfolioService:
    def __init__(self, clock: Clock, closes: ClosePrices) -> None:
        self.clock = clock
        self.closes = closes

    # ---- portfolios ----------------------------------------------------------------------------------

    async def create(
        self, session: AsyncSession, user: CurrentUser, name: str, *, account_id: str | None = None,
        description: str = "",
    ) -> PortfolioView:  # fmt: skip
        """Open a portfolio: kept by hand, or following the fills of one of your trading accounts."""
        _may_write(user)
        name = name.strip()
        if not 1 <= len(name) <= 80:
            raise Rejected("a portfolio name needs 1 to 80 characters")
        repo = PortfolioRepository(session)
        if await repo.portfolio_named(name, owner_id=user.id) is not None:
            raise Rejected(f"you already have a portfolio named {name!r}", hint="Pick another name.")
        if account_id is not None:
            from marketdesk.trading.repository import TradingRepository

            if await TradingRepository(session).account(account_id, owner_id=user.id) is None:
                raise NotFound(f"no trading account {account_id!r}", hint="List yours: GET /api/v1/accounts.")
        now = self.clock.now()
        portfolio = Portfolio(
            id=uuid.uuid4().hex, owner_id=user.id, name=name, description=description.strip()[:2000],
            account_id=account_id, created_at=now, updated_at=now,
        )  # fmt: skip
        repo.add(portfolio)
        await session.flush()
        return _view(portfolio, 0)

    async def list_portfolios(self, session: AsyncSession, user: CurrentUser) -> list[PortfolioView]:
        repo = PortfolioRepository(session)
        portfolios = await repo.portfolios(owner_id=user.id)
        counts = await repo.transaction_counts([p.id for p in portfolios])
        return [_view(p, counts.get(p.id, 0)) for p in portfolios]

    async def get(self, session: AsyncSession, user: CurrentUser, portfolio_id: str) -> PortfolioView:
        portfolio = await self._portfolio(session, user, portfolio_id)
        counts = await PortfolioRepository(session).transaction_counts([portfolio.id])
        return _view(portfolio, counts.get(portfolio.id, 0))

    async def delete(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, *, confirm: str | None
    ) -> PortfolioView:
        """Delete a portfolio with its transactions and snapshots. `confirm` must repeat its name (or id)."""
        _may_write(user)
        view = await self.get(session, user, portfolio_id)
        if confirm is None or confirm.strip() not in {view.name, view.id}:
            raise Rejected(
                f"deleting portfolio {view.name!r} also deletes its {view.transactions} transactions",
                hint=f"To go ahead, repeat its name: confirm={view.name}.",
            )
        await PortfolioRepository(session).delete_portfolio(view.id, owner_id=user.id)
        return view

    # ---- transactions --------------------------------------------------------------------------------

    async def transactions(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, *, start: date | None = None,
        end: date | None = None, symbol: str | None = None, limit: int = 500, offset: int = 0,
    ) -> list[TransactionView]:  # fmt: skip
        """The portfolio's transactions in the order they happened (a linked portfolio's: its account's fills)."""
        portfolio = await self._portfolio(session, user, portfolio_id)
        wanted = normalize_symbol(symbol) if symbol else None
        views = [
            v for v in await self._views(session, portfolio)
            if (start is None or v.date >= start) and (end is None or v.date <= end)
            and (wanted is None or v.symbol == wanted)
        ]  # fmt: skip
        return views[offset : offset + limit]

    async def add(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, transaction: Transaction, *,
        note: str = "", executed_at: datetime | None = None,
    ) -> TransactionView:  # fmt: skip
        """Record one transaction by hand, if the history can take it (no selling shares not held)."""
        _may_write(user)
        portfolio = await self._manual(session, user, portfolio_id)
        transaction = _normalized(transaction)
        wrong = problem(transaction) or _out_of_time(transaction.day, self.today())
        if wrong is not None:
            raise Rejected(wrong)
        repo = PortfolioRepository(session)
        recorded = await repo.transactions(portfolio.id)
        candidate = Entry(_key(transaction, executed_at, 1 << 62), transaction, tag=0)
        refused = admit([_entry(row) for row in recorded], [candidate])
        if refused:
            raise Rejected(f"cannot record this {transaction.kind}: {refused[0]}")
        row = _record(portfolio.id, transaction, "manual", f"manual:{uuid.uuid4().hex}", note, executed_at,
                      self.clock.now())  # fmt: skip
        await repo.insert_transactions([row])
        await self._touch_and_rebuild(session, portfolio)
        return _transaction_view(row)

    async def remove_transaction(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, transaction_id: str
    ) -> TransactionView:
        """Remove one recorded transaction, unless a later one needs it (a sell of the shares it bought)."""
        _may_write(user)
        portfolio = await self._manual(session, user, portfolio_id)
        repo = PortfolioRepository(session)
        recorded = await repo.transactions(portfolio.id)
        target = next((row for row in recorded if str(row.id) == transaction_id.strip()), None)
        if target is None:
            raise NotFound(f"no transaction {transaction_id!r} in this portfolio")
        remaining = sorted((_entry(row) for row in recorded if row.id != target.id), key=lambda e: e.key)
        try:
            replay([e.transaction for e in remaining])
        except ValueError as exc:
            raise Rejected(f"removing it would leave the history short: {exc}") from None
        await repo.delete_transaction(portfolio.id, target.id)
        await self._touch_and_rebuild(session, portfolio)
        return _transaction_view(target)

    async def import_statement(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, data: bytes, *, layout: str = "auto",
        column_map: Mapping[str, str] | None = None, date_format: str | None = None, dry_run: bool = False,
    ) -> ImportReport:  # fmt: skip
        """Import a broker statement (CSV): each row accepted, a duplicate of one imported before, or rejected
        with the reason. The accepted rows are written together, or (a dry run) not at all."""
        _may_write(user)
        portfolio = await self._manual(session, user, portfolio_id)
        statement = read_statement(_text(data), layout=layout, column_map=column_map, date_format=date_format)
        repo = PortfolioRepository(session)
        rows = [r for r in statement.rows if r.fingerprint is not None]
        known = await repo.fingerprints(portfolio.id, [r.fingerprint for r in rows if r.fingerprint])
        fresh = [r for r in rows if r.fingerprint not in known]
        today = self.today()
        dated = {r.line: _out_of_time(r.transaction.day, today) for r in fresh if r.transaction is not None}
        candidates = [
            Entry(_key(r.transaction, r.at, 1 << 62, r.line), r.transaction, tag=r.line)
            for r in fresh
            if r.transaction is not None and dated[r.line] is None
        ]
        refused = admit([_entry(row) for row in await repo.transactions(portfolio.id)], candidates)
        refused.update({line: why for line, why in dated.items() if why is not None})
        now = self.clock.now()
        records: dict[int, PortfolioTransaction] = {}
        for entry in sorted((c for c in candidates if c.tag not in refused), key=lambda c: c.key):
            row = next(r for r in fresh if r.line == entry.tag)
            assert row.transaction is not None  # noqa: S101 - an accepted row has its transaction
            assert row.fingerprint is not None  # noqa: S101 - and its fingerprint
            records[row.line] = _record(
                portfolio.id, row.transaction, statement.layout, row.fingerprint, row.note, row.at, now
            )
        if records and not dry_run:
            await repo.insert_transactions(list(records.values()))
            await self._touch_and_rebuild(session, portfolio)
        return _report(statement, known, refused, records, dry_run)

    # ---- valuation and returns -----------------------------------------------------------------------

    async def valuation(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, as_of: date | None = None
    ) -> Valuation:
        """Holdings at the close of `as_of` (default today), with cost basis, P&L, dividends and total return."""
        portfolio = await self._portfolio(session, user, portfolio_id)
        day = as_of or self.today()
        history = await self._history(session, portfolio, upto=day)
        symbols = [p.symbol for p in history.ledger.open_positions()]
        first = history.transactions[0].day if history.transactions else day
        prices = await self.closes(symbols, first, day)
        return value_holdings(history.ledger, prices, day)

    async def returns(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, start: date | None = None,
        end: date | None = None,
    ) -> Performance:  # fmt: skip
        """Total return with dividends, TWR and XIRR over `start`..`end` (default: from the first transaction to
        the last day valued), from the transactions and price history as they are now."""
        portfolio = await self._portfolio(session, user, portfolio_id)
        history = await self._history(session, portfolio, upto=min(end or self.today(), self.today()), valued=True)
        assert history.series is not None  # noqa: S101 - asked for with valued=True
        return performance(history.series, history.ledger, start, end)

    async def rebuild_snapshots(self, session: AsyncSession, user: CurrentUser, portfolio_id: str) -> SnapshotsRebuilt:
        """Recompute every daily snapshot from the transactions and price history (the same result every time)."""
        _may_write(user)
        portfolio = await self._portfolio(session, user, portfolio_id)
        return await self._rebuild(session, portfolio)

    async def snapshots(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, start: date | None = None,
        end: date | None = None,
    ) -> list[PortfolioSnapshot]:  # fmt: skip
        portfolio = await self._portfolio(session, user, portfolio_id)
        return await PortfolioRepository(session).snapshots(portfolio.id, start, end)

    # ---- targets, allocation and rebalancing ---------------------------------------------------------

    async def targets(self, session: AsyncSession, user: CurrentUser, portfolio_id: str) -> TargetsView:
        """The portfolio's allocation targets (`set` False, with the default band and minimum trade, when none)."""
        portfolio = await self._portfolio(session, user, portfolio_id)
        return targets_view(*await PortfolioRepository(session).targets(portfolio.id))

    async def set_targets(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, targets: Targets
    ) -> TargetsView:
        """Set the portfolio's targets, replacing any before: weights by asset class, sector and symbol, the band
        and the minimum trade. Refused, with what to fix, for an unknown key or weights over 100%."""
        _may_write(user)
        portfolio = await self._portfolio(session, user, portfolio_id)
        checked = await checked_targets(session, targets)
        settings = PortfolioTarget(
            portfolio_id=portfolio.id, band_pp=checked.band_pp, band_relative_pct=checked.band_relative_pct,
            min_trade=checked.min_trade, updated_at=self.clock.now(),
        )  # fmt: skip
        weights = weight_rows(portfolio.id, checked)
        await PortfolioRepository(session).replace_targets(settings, weights)
        return targets_view(settings, weights)

    async def clear_targets(self, session: AsyncSession, user: CurrentUser, portfolio_id: str) -> None:
        """Remove the portfolio's targets (nothing happens when it has none)."""
        _may_write(user)
        portfolio = await self._portfolio(session, user, portfolio_id)
        await PortfolioRepository(session).delete_targets(portfolio.id)

    async def allocation(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, as_of: date | None = None
    ) -> AllocationView:
        """Weights, targets, drift and band status by asset class, sector and symbol at the close of `as_of`."""
        book = await self._book(session, user, portfolio_id, as_of)
        return AllocationView(book.as_of, book.targets, allocate(book.positions, book.cash, book.targets.targets()))

    async def rebalance(
        self, session: AsyncSession, user: CurrentUser, portfolio_id: str, *, prefer_losses: bool = False,
        fractional: bool = False, verdicts: HoldingVerdicts | None = None,
    ) -> RebalanceView:  # fmt: skip
        """The trades that bring every out-of-band line back inside its band at today's marks (never placed: each
        links to the trade ticket's preview), and, given `verdicts`, the actions the screener's verdicts on the
        holdings call for."""
        book = await self._book(session, user, portfolio_id, None)
        advice = rebalance(
            book.positions, book.cash, book.targets.targets(), fractional=fractional, prefer_losses=prefer_losses
        )
        held = [p for p in book.positions if p.qty > 0]
        readings: list[VerdictReading] = []
        note = None
        if verdicts is not None and held:
            board = await verdicts(session, [p.symbol for p in held], owner_id=user.id)
            readings = await verdict_readings(session, board, [p.symbol for p in held], owner_id=user.id)
            note = board.note
        suggestions = verdict_actions(readings, {p.symbol: p.qty for p in held})
        return RebalanceView(book.as_of, book.targets, advice, tuple(readings), tuple(suggestions), note)

    async def _book(self, session: AsyncSession, user: CurrentUser, portfolio_id: str, as_of: date | None) -> Book:
        portfolio = await self._portfolio(session, user, portfolio_id)
        day = as_of or self.today()
        view = targets_view(*await PortfolioRepository(session).targets(portfolio.id))
        history = await self._history(session, portfolio, upto=day)
        held = [p.symbol for p in history.ledger.open_positions()]
        targeted = sorted(s for s in view.weights.get(SYMBOL, {}) if s not in held)
        first = min(history.transactions[0].day if history.transactions else day, day - timedelta(days=14))
        prices = await self.closes([*held, *targeted], first, day)
        valuation = value_holdings(history.ledger, prices, day)
        classes = await classify(session, [*held, *targeted])
        return Book(day, view, positions(history.ledger, valuation, classes, prices, targeted), valuation.cash)

    async def refresh_snapshots(self, session: AsyncSession) -> int:
        """Extend every user's daily snapshots to today (the scheduler's end-of-day job): each portfolio without
        one for today is rebuilt from its transactions and the price history. Returns how many were rebuilt."""
        stale = await PortfolioRepository(session).stale_portfolios(self.today())
        for portfolio in stale:
            await self._rebuild(session, portfolio)
        return len(stale)

    def today(self) -> date:
        """Today on the exchange's calendar (New York)."""
        return self.clock.now().astimezone(NEW_YORK).date()

    # ---- internals -----------------------------------------------------------------------------------

    async def _portfolio(self, session: AsyncSession, user: CurrentUser, portfolio_id: str) -> Portfolio:
        portfolio = await PortfolioRepository(session).portfolio(portfolio_id, owner_id=user.id)
        if portfolio is None:
            raise NotFound(f"no portfolio {portfolio_id!r}", hint="List yours: GET /api/v1/portfolios.")
        return portfolio

    async def _manual(self, session: AsyncSession, user: CurrentUser, portfolio_id: str) -> Portfolio:
        portfolio = await self._portfolio(session, user, portfolio_id)
        if portfolio.account_id is not None:
            raise Rejected(
                f"portfolio {portfolio.name!r} follows a trading account's fills and takes no transactions by hand",
                hint="Record them in a portfolio kept by hand.",
            )
        return portfolio

    async def _views(self, session: AsyncSession, portfolio: Portfolio) -> list[TransactionView]:
        if portfolio.account_id is None:
            rows = sorted(await PortfolioRepository(session).transactions(portfolio.id), key=lambda r: _entry(r).key)
            return [_transaction_view(row) for row in rows]
        return [_fill_view(fill) for fill in await _fills(session, portfolio.account_id)]

    async def _history(
        self, session: AsyncSession, portfolio: Portfolio, *, upto: date | None = None, valued: bool = False
    ) -> History:
        if portfolio.account_id is None:
            entries = sorted(
                (_entry(r) for r in await PortfolioRepository(session).transactions(portfolio.id)), key=lambda e: e.key
            )
            transactions = [e.transaction for e in entries]
        else:
            transactions = [_fill_transaction(fill) for fill in await _fills(session, portfolio.account_id)]
        if upto is not None:
            transactions = [t for t in transactions if t.day <= upto]
        ledger = replay(transactions, allow_short=portfolio.account_id is not None)
        if not valued:
            return History(transactions, ledger)
        end = upto or self.today()
        symbols = sorted({t.symbol for t in transactions if t.symbol and t.kind in {Kind.BUY, Kind.SELL}})
        first = transactions[0].day if transactions else end
        prices = await self.closes(symbols, first, end)
        return History(transactions, ledger, daily_series(transactions, ledger, prices, end))

    async def _rebuild(self, session: AsyncSession, portfolio: Portfolio) -> SnapshotsRebuilt:
        history = await self._history(session, portfolio, upto=self.today(), valued=True)
        series, ledger = history.series, history.ledger
        assert series is not None  # noqa: S101 - asked for with valued=True
        now = self.clock.now()
        rows = []
        previous = -1
        for i in range(len(series)):
            current = int(series.step[i])
            step = ledger.steps[current]
            flow = sum((s.flow for s in ledger.steps[previous + 1 : current + 1]), Decimal(0))
            previous = current
            rows.append({
                "portfolio_id": portfolio.id, "day": series.dates[i].astype(object),
                "value": exact_value(series, ledger, i), "positions_value": Decimal(f"{series.positions_value[i]:.2f}"),
                "cash": step.cash, "net_flow": flow,
                "cost_basis": money(step.cost_basis), "realized_pnl": money(step.realized),
                "dividend_income": step.dividends, "fees": step.fees, "computed_at": now,
            })  # fmt: skip
        await PortfolioRepository(session).replace_snapshots(portfolio.id, rows)
        first, last = (rows[0]["day"], rows[-1]["day"]) if rows else (None, None)
        return SnapshotsRebuilt(len(rows), first, last)

    async def _touch_and_rebuild(self, session: AsyncSession, portfolio: Portfolio) -> None:
        portfolio.updated_at = self.clock.now()
        await self._rebuild(session, portfolio)


async def portfolio_owner(desk: Desk, portfolio_id: str) -> str | None:
    """The owner of a portfolio (None: no such portfolio): the WebSocket's `portfolio:ID` ownership lookup."""
    async with desk.db.session() as session:
        return await PortfolioRepository(session).owner_of(portfolio_id)


def register_portfolio_channel() -> None:
    """Tell the WebSocket who owns each portfolio (once per process; the desk calls this as it is wired)."""
    from marketdesk.realtime.channels import CHANNELS

    if CHANNELS.owner_lookup("portfolio") is None:
        CHANNELS.register_owner_lookup("portfolio", portfolio_owner)


def _may_write(user: CurrentUser) -> None:
    if not user.can_write:
        raise Forbidden("viewers can read portfolios but not change them", hint="Ask an admin for the trader role.")


def _out_of_time(day: date, today: date) -> str | None:
    if day > today:
        return f"it is dated {day}, after today ({today})"
    if day < EARLIEST_DAY:
        return f"it is dated {day}, before {EARLIEST_DAY}"
    return None


def _text(data: bytes) -> str:
    if len(data) > MAX_STATEMENT_BYTES:
        raise Rejected(f"the statement is larger than {MAX_STATEMENT_BYTES // 1_000_000} MB", hint="Split it.")
    if b"\x00" in data:
        raise Rejected("the statement is not a text file", hint="Export it from your broker as CSV.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # spreadsheets on Windows save CSV in their code page


def _normalized(t: Transaction) -> Transaction:
    return replace(t, symbol=normalize_symbol(t.symbol)) if t.symbol else t


def _key(t: Transaction, at: datetime | None, record_id: int, line: int = 0) -> tuple[Any, ...]:
    return (t.day, ORDER_OF_DAY[t.kind], at or _EARLIEST, record_id, line)


def _entry(row: PortfolioTransaction) -> Entry:
    transaction = Transaction(
        row.trade_date, Kind(row.kind), row.symbol, qty=row.qty, price=row.price, amount=row.amount, fee=row.fee,
        ratio=row.ratio,
    )  # fmt: skip
    return Entry(_key(transaction, row.executed_at, row.id), transaction)


def _record(portfolio_id: str, t: Transaction, source: str, fingerprint: str, note: str, at: datetime | None,
            now: datetime) -> PortfolioTransaction:  # fmt: skip
    return PortfolioTransaction(
        portfolio_id=portfolio_id, kind=t.kind.value, trade_date=t.day, executed_at=at, symbol=t.symbol, qty=t.qty,
        price=t.price, amount=t.amount, fee=t.fee, ratio=t.ratio, note=note[:500], source=source,
        fingerprint=fingerprint, created_at=now,
    )  # fmt: skip


def _transaction_view(row: PortfolioTransaction) -> TransactionView:
    return TransactionView(
        id=None if row.id is None else str(row.id), date=row.trade_date, kind=row.kind, symbol=row.symbol, qty=row.qty, price=row.price,
        amount=row.amount, fee=row.fee, ratio=row.ratio, note=row.note, source=row.source,
        executed_at=row.executed_at,
    )  # fmt: skip


async def _fills(session: AsyncSession, account_id: str) -> list[Any]:
    from marketdesk.trading.repository import TradingRepository

    return await TradingRepository(session).fills_for_account(account_id)


def _fill_transaction(fill: Any) -> Transaction:
    kind = Kind.BUY if fill.side == "buy" else Kind.SELL
    day = fill.time.astimezone(NEW_YORK).date()
    return Transaction(day, kind, fill.symbol, qty=fill.qty, price=fill.price, fee=fill.commission)


def _fill_view(fill: Any) -> TransactionView:
    t = _fill_transaction(fill)
    return TransactionView(
        id=f"fill-{fill.id}", date=t.day, kind=t.kind.value, symbol=t.symbol, qty=t.qty, price=t.price, amount=None,
        fee=t.fee, ratio=None, note=f"order {fill.order_id}", source="fill", executed_at=fill.time,
    )  # fmt: skip


def _view(portfolio: Portfolio, transactions: int) -> PortfolioView:
    return PortfolioView(
        id=portfolio.id, name=portfolio.name, description=portfolio.description, account_id=portfolio.account_id,
        kind="manual" if portfolio.account_id is None else "linked", transactions=transactions,
        created_at=portfolio.created_at, updated_at=portfolio.updated_at,
    )  # fmt: skip


def _report(
    statement: Statement, known: set[str], refused: dict[int, str], records: dict[int, PortfolioTransaction],
    dry_run: bool,
) -> ImportReport:  # fmt: skip
    rows = []
    for row in statement.rows:
        if row.fingerprint in known:
            rows.append(ImportRow(row.line, "duplicate", "imported before", None))
        elif row.line in records:
            record = records[row.line]
            rows.append(ImportRow(row.line, "accepted", None, _transaction_view(record)))
        else:
            rows.append(ImportRow(row.line, "rejected", row.reason or refused.get(row.line), None))
    count = {status: sum(1 for r in rows if r.status == status) for status in ("accepted", "duplicate", "rejected")}
    return ImportReport(
        statement.layout, dry_run, count["accepted"], count["duplicate"], count["rejected"], tuple(rows)
    )
