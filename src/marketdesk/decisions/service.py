"""The decision log: every verdict a user saves or acts on, as the desk gave it at that moment, and how it did.

`log_decision` asks the screener for the symbol's verdict now (the same screen the user sees: preset, universe,
regime) and records it with its score, signals, the scoring-config version and fingerprint, the close it was
given on and that close's date. Nobody types a verdict in: the log holds what the desk said.

Outcomes are measured at 30, 60 and 90 days against the benchmark (see `outcomes.py`) by `measure_due(now)`,
which a scheduler calls and which is idempotent; a user's own due outcomes are also measured whenever their
log is read, so it is current without a scheduler. Until then an outcome is "pending" with the day it is due.

The scoring-config version is two things: `scoring_version`, the rules' hand-bumped version
(`screener.rules.SCORING_VERSION`), and `config_hash`, the first 16 hex digits of the SHA-256 of the resolved
config's canonical JSON (`ScoringConfig.to_dict()`: the merged rules, preset and regime, keys sorted). The
hash tells apart two configs that share a version: another preset, another regime, or an edit nobody bumped.

Every call takes a session (the caller's unit of work commits) and acts on the signed-in user's decisions only;
another user's answer 404 like ones that do not exist. Logging needs a role that may write. The one exception is
`record_placed_order`, the hook REST and the web desk call once an order is placed: the order's own unit of work
has committed by then, so the hook opens one of its own (the caller passes `desk.db.session`) and never raises.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.errors import Forbidden
from marketdesk.accounts.roles import CurrentUser
from marketdesk.clock import Clock
from marketdesk.decisions.models import Decision, DecisionOutcome
from marketdesk.decisions.outcomes import HORIZONS_DAYS, Outcome, measure, target_day
from marketdesk.decisions.repository import DecisionRepository
from marketdesk.decisions.stats import DecisionStats, Scored, decision_stats
from marketdesk.errors import NotFound, Rejected
from marketdesk.kit.ids import new_id
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.logs import get_logger
from marketdesk.marketdata.barstore import UniverseArrays
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.screener.config import ScoringConfig, resolve
from marketdesk.screener.engine import screen

if TYPE_CHECKING:
    from marketdesk.marketdata.barstore import BarStore
    from marketdesk.screener.service import ScreenerService

log = get_logger(__name__)
ACTIONS = ("saved", "acted")
SIDES = ("buy", "sell")
SIGNAL_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")
MAX_SIGNALS = 8
DEFAULT_UNIVERSE = "all"
ACTED_PAGE = 50  # rows read at a time when looking for today's acted-on decision


@dataclass(frozen=True)
class VerdictSnapshot:
    """What the desk said about one symbol at one moment, and the close it said it on."""

    symbol: str
    verdict: str
    score: float
    preset: str
    signals: tuple[str, ...]
    scoring_version: str
    config_hash: str
    regime: str | None
    universe: str
    benchmark: str | None
    price: Decimal
    price_date: date


class VerdictSource(Protocol):
    """The desk's verdict on `symbol` now, under `preset` (Balanced when None), in `universe` as `owner_id` sees
    it. Raises `NotFound` when the symbol is not in the universe and `Rejected` when it has no verdict."""

    async def __call__(
        self, session: AsyncSession, symbol: str, *, preset: str | None, universe: str, owner_id: str
    ) -> VerdictSnapshot: ...


AdjustedCloses = Callable[[Sequence[str], date, date], Awaitable[UniverseArrays]]
"""Adjusted daily closes of `symbols` from `start` to `end` (the bar store's, in the desk)."""


class OrderLike(Protocol):
    """What the trade path's hook needs of an order (`trading.service.OrderView` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def tag(self) -> str | None: ...


class PlacedOrder(OrderLike, Protocol):
    """An order as the order service answered its placing (`trading.service.OrderView`): with its status."""

    @property
    def status(self) -> str: ...


UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]
"""Opens a unit of work that commits when it ends (`desk.db.session`)."""


@dataclass(frozen=True)
class OutcomeView:
    horizon_days: int
    status: str  # measured, pending (not due, or due and waiting for prices), unmeasurable (no benchmark)
    due_on: date  # the window's target day
    end_date: date | None = None
    symbol_return: float | None = None
    benchmark_return: float | None = None
    excess_return: float | None = None

    @property
    def win(self) -> bool | None:
        return None if self.excess_return is None else self.excess_return > 0


@dataclass(frozen=True)
class DecisionView:
    id: str
    symbol: str
    action: str
    side: str | None
    order_id: str | None
    verdict: str
    score: float
    preset: str
    signals: tuple[str, ...]
    scoring_version: str
    config_hash: str
    regime: str | None
    universe: str
    benchmark: str | None
    price: Decimal
    price_date: date
    note: str
    decided_at: datetime
    outcomes: tuple[OutcomeView, ...]


@dataclass(frozen=True)
class MeasureReport:
    """What one `measure_due` did: decisions with a window due, outcomes written, windows still waiting."""

    checked: int
    measured: int
    waiting: int


def config_fingerprint(config: ScoringConfig) -> str:
    """The first 16 hex digits of the SHA-256 of the config's canonical JSON (rules, preset, regime).

    >>> config_fingerprint(resolve("value")) == config_fingerprint(resolve("value"))
    True
    >>> config_fingerprint(resolve("value")) == config_fingerprint(resolve("momentum"))
    False
    """
    text = json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def signal_ids(config: ScoringConfig, flags: np.ndarray) -> tuple[str, ...]:
    """The ids of the config's flags raised in one row of `Evaluation.flags`."""
    return tuple(flag.id for flag, raised in zip(config.flags, flags, strict=True) if raised)


def screener_verdicts(screener: ScreenerService) -> VerdictSource:
    """The verdict source of the desk: its screener's snapshot of the universe today, screened under the preset
    and the day's regime, exactly as `GET /screener` shows it."""

    async def lookup(
        session: AsyncSession, symbol: str, *, preset: str | None, universe: str, owner_id: str
    ) -> VerdictSnapshot:
        snap = await screener.snapshot(session, universe, owner_id=owner_id)
        data = snap.data
        if symbol not in data.symbols:
            raise NotFound(f"{symbol} is not in the {universe!r} universe", hint="Pick a universe that holds it.")
        result = screen(
            snap.metrics, asset_class=data.asset_class, sector=data.sector, regime=snap.regime, config=resolve(preset)
        )
        row = result.row(symbol)
        if row["verdict"] is None:
            raise Rejected(f"{symbol} has no verdict to log", hint=row["no_score"] or "It could not be scored.")
        column = data.symbols.index(symbol)
        closes = data.close[:, column]
        valid = np.flatnonzero(np.isfinite(closes) & (closes > 0))
        if len(valid) == 0:
            raise Rejected(f"{symbol} has no stored close", hint="Import or fetch its prices first.")
        at = int(valid[-1])
        position = result.evaluation.symbols.get_loc(symbol)
        return VerdictSnapshot(
            symbol=symbol,
            verdict=str(row["verdict"]),
            score=float(row["score"]),
            preset=result.preset,
            signals=signal_ids(result.config, result.evaluation.flags[position]),
            scoring_version=result.version,
            config_hash=config_fingerprint(result.config),
            regime=row["regime"],
            universe=universe,
            benchmark=data.benchmark_symbol or None,
            price=Decimal(repr(float(closes[at]))),
            price_date=data.dates[at].astype("datetime64[D]").item(),
        )

    return lookup


def adjusted_closes_from_store(store: BarStore) -> AdjustedCloses:
    """Adjusted closes (splits and dividends) from the Parquet bar store."""

    async def closes(symbols: Sequence[str], start: date, end: date) -> UniverseArrays:
        return await asyncio.to_thread(store.read_matrix, symbols, field="adj_close", start=start, end=end)

    return closes


def _clean_signals(signals: Sequence[str]) -> tuple[str, ...]:
    out = []
    for signal in signals:
        text = signal.strip().lower()
        if not SIGNAL_PATTERN.match(text):
            raise Rejected(f"signal {signal!r} is not a signal id", hint="Use 1–40 lowercase letters, digits, - or _.")
        out.append(text)
    if len(set(out)) > MAX_SIGNALS:
        raise Rejected(f"{len(set(out))} signals given", hint=f"Give at most {MAX_SIGNALS}.")
    return tuple(out)


def _may_write(user: CurrentUser) -> None:
    if not user.can_write:
        raise Forbidden("viewers can read the decision log but not add to it", hint="Ask an admin for the trader role.")


class DecisionService:
    def __init__(
        self, clock: Clock, verdicts: VerdictSource, closes: AdjustedCloses, horizons: Sequence[int] = HORIZONS_DAYS
    ) -> None:
        self.clock = clock
        self.verdicts = verdicts
        self.closes = closes
        self.horizons = tuple(sorted(horizons))
        # one placed-order hook at a time per (user, symbol, side, day), so two orders in the same instant log once
        self._acting: dict[tuple[str, str, str, date], _Turn] = {}

    def today(self, now: datetime | None = None) -> date:
        return (now or self.clock.now()).astimezone(NEW_YORK).date()

    # ---- logging -------------------------------------------------------------------------------------

    async def log_decision(
        self,
        session: AsyncSession,
        user: CurrentUser,
        symbol: str,
        *,
        action: str = "saved",
        preset: str | None = None,
        universe: str = DEFAULT_UNIVERSE,
        signals: Sequence[str] = (),
        note: str = "",
        side: str | None = None,
        order_id: str | None = None,
    ) -> DecisionView:
        """Log the desk's verdict on `symbol` now, as saved (`action="saved"`) or acted on (`"acted"`, with the
        order's `side`). `signals` adds your own signal ids to the screener's flags."""
        _may_write(user)
        if action not in ACTIONS:
            raise Rejected(f"unknown action {action!r}", hint=f"Use one of: {', '.join(ACTIONS)}.")
        if side is not None and side not in SIDES:
            raise Rejected(f"unknown side {side!r}", hint="Use buy or sell.")
        if side is not None and action != "acted":
            raise Rejected("a side goes with an acted-on decision", hint='Send action "acted", or leave side out.')
        extra = _clean_signals(signals)
        if len(note) > 500:
            raise Rejected(f"the note has {len(note)} characters", hint="Keep it to 500.")
        snap = await self.verdicts(
            session, normalize_symbol(symbol), preset=preset, universe=universe, owner_id=user.id
        )
        decision = Decision(
            id=new_id(self.clock, "dec_"), owner_id=user.id, symbol=snap.symbol, action=action, side=side,
            order_id=order_id, verdict=snap.verdict, score=snap.score, preset=snap.preset,
            signals=",".join(sorted({*snap.signals, *extra})), scoring_version=snap.scoring_version,
            config_hash=snap.config_hash, regime=snap.regime, universe=snap.universe, benchmark=snap.benchmark or "",
            price=snap.price, price_date=snap.price_date, note=note.strip(), decided_at=self.clock.now(),
        )  # fmt: skip
        await DecisionRepository(session).add(decision)
        return self._view(decision, [])

    async def log_order(
        self, session: AsyncSession, user: CurrentUser, order: OrderLike, *, preset: str | None = None
    ) -> DecisionView | None:
        """The trade path's hook: log the verdict behind an order the user placed (acted on, with its side, id
        and its tag as a signal). Returns None, and logs why, when the symbol has no verdict: an order is never
        refused because the decision log could not judge it."""
        tag = (order.tag or "").strip().lower()
        try:
            return await self.log_decision(
                session, user, order.symbol, action="acted", preset=preset, side=order.side, order_id=order.id,
                signals=(tag,) if tag and SIGNAL_PATTERN.match(tag) else (),
            )  # fmt: skip
        except Rejected as error:  # NotFound is a Rejected too
            log.info("order not in the decision log", order_id=order.id, symbol=order.symbol, why=error.one_line())
            return None

    async def log_order_once(
        self, session: AsyncSession, user: CurrentUser, order: OrderLike, *, preset: str | None = None
    ) -> DecisionView | None:
        """Log an order as acted on (`log_order`) unless this user's log already holds an acted-on decision on the
        same symbol and side today (New York): a second order the same day adds nothing. Returns None when nothing
        was written: logged already, or no verdict to log."""
        symbol = normalize_symbol(order.symbol)
        if await self.acted_today(session, user, symbol, order.side):
            return None
        return await self.log_order(session, user, order, preset=preset)

    async def acted_today(self, session: AsyncSession, user: CurrentUser, symbol: str, side: str) -> bool:
        """Whether the user's log holds an acted-on decision on `symbol` and `side` decided today (New York)."""
        today = self.today()
        repo = DecisionRepository(session)
        offset = 0
        while True:  # newest first: stop at the first decision of an earlier day
            rows = await repo.decisions(owner_id=user.id, symbol=symbol, limit=ACTED_PAGE, offset=offset)
            for row in rows:
                day = row.decided_at.astimezone(NEW_YORK).date()
                if day < today:
                    return False
                if day == today and row.action == "acted" and row.side == side:
                    return True
            if len(rows) < ACTED_PAGE:
                return False
            offset += ACTED_PAGE

    async def record_placed_order(
        self, unit_of_work: UnitOfWork, user: CurrentUser, order: PlacedOrder
    ) -> DecisionView | None:
        """The trade path's hook, called by REST and the web desk once an order is placed: log it as acted on, at
        most once per user, symbol, side and New York day, in a unit of work of its own. A denied order is no
        decision, and a symbol with no verdict is skipped. Never raises: a failure is logged as a warning, and
        the order stands as placed. Returns the decision written, or None."""
        if order.status == "rejected":
            return None
        try:
            key = (user.id, normalize_symbol(order.symbol), order.side, self.today())
            async with self._turn(key), unit_of_work() as session:
                return await self.log_order_once(session, user, order)
        except Exception as error:  # the order is placed whatever happens here: say so, and move on
            log.warning(
                "a placed order could not be logged as a decision",
                order_id=order.id, symbol=order.symbol, side=order.side, error=repr(error),
            )  # fmt: skip
            return None

    @asynccontextmanager
    async def _turn(self, key: tuple[str, str, str, date]) -> AsyncIterator[None]:
        turn = self._acting.setdefault(key, _Turn())
        turn.waiting += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.waiting -= 1
            if turn.waiting == 0:
                del self._acting[key]

    # ---- reading -------------------------------------------------------------------------------------

    async def decisions(
        self,
        session: AsyncSession,
        user: CurrentUser,
        *,
        symbol: str | None = None,
        verdict: str | None = None,
        preset: str | None = None,
        start: date | None = None,
        end: date | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DecisionView]:
        """Your decisions, newest first, each with its outcomes (measured first when due)."""
        await self.measure_due(session, owner_id=user.id)
        repo = DecisionRepository(session)
        rows = await repo.decisions(
            owner_id=user.id, symbol=None if symbol is None else normalize_symbol(symbol), verdict=verdict,
            preset=preset, start=start, end=end, limit=limit, offset=offset,
        )  # fmt: skip
        outcomes = await repo.outcomes([r.id for r in rows])
        return [self._view(r, outcomes.get(r.id, [])) for r in rows]

    async def decision(self, session: AsyncSession, user: CurrentUser, decision_id: str) -> DecisionView:
        """One of your decisions with its outcomes."""
        await self.measure_due(session, owner_id=user.id)
        repo = DecisionRepository(session)
        row = await repo.decision(decision_id, owner_id=user.id)
        if row is None:
            raise NotFound(f"no decision {decision_id!r}", hint="List yours with GET /api/v1/decisions.")
        return self._view(row, (await repo.outcomes([row.id])).get(row.id, []))

    async def stats(
        self, session: AsyncSession, user: CurrentUser, *, start: date | None = None, end: date | None = None
    ) -> DecisionStats:
        """Win rate and excess return of your decisions by verdict, preset and signal type."""
        await self.measure_due(session, owner_id=user.id)
        repo = DecisionRepository(session)
        rows = await repo.decisions(owner_id=user.id, start=start, end=end)
        outcomes = await repo.outcomes([r.id for r in rows])
        scored = [
            Scored(
                r.verdict,
                r.preset,
                _signals(r.signals),
                {o.horizon_days: o.excess_return for o in outcomes.get(r.id, [])},
            )
            for r in rows
        ]
        return decision_stats(scored, self.horizons)

    def _view(self, row: Decision, outcomes: Sequence[DecisionOutcome]) -> DecisionView:
        measured = {o.horizon_days: o for o in outcomes}
        views = []
        for horizon in self.horizons:
            due_on = target_day(row.price_date, horizon)
            found = measured.get(horizon)
            if found is not None:
                views.append(
                    OutcomeView(horizon, "measured", due_on, found.end_date, found.symbol_return,
                                found.benchmark_return, found.excess_return)
                )  # fmt: skip
            else:
                views.append(OutcomeView(horizon, "pending" if row.benchmark else "unmeasurable", due_on))
        return DecisionView(
            id=row.id, symbol=row.symbol, action=row.action, side=row.side, order_id=row.order_id,
            verdict=row.verdict, score=row.score, preset=row.preset, signals=_signals(row.signals),
            scoring_version=row.scoring_version, config_hash=row.config_hash, regime=row.regime,
            universe=row.universe, benchmark=row.benchmark or None, price=row.price, price_date=row.price_date,
            note=row.note, decided_at=row.decided_at, outcomes=tuple(views),
        )  # fmt: skip

    # ---- outcomes ------------------------------------------------------------------------------------

    async def measure_due(
        self, session: AsyncSession, now: datetime | None = None, *, owner_id: str | None = None
    ) -> MeasureReport:
        """Measure every outcome whose window has ended by `now` (the clock's when None) and whose prices are
        in: everyone's, or `owner_id`'s only. Idempotent: a measured outcome is never measured again."""
        today = self.today(now)
        repo = DecisionRepository(session)
        due = await repo.due(entered_by=today - timedelta(days=self.horizons[0]), horizons=len(self.horizons),
                             owner_id=owner_id)  # fmt: skip
        due = [d for d in due if d.benchmark]
        if not due:
            return MeasureReport(0, 0, 0)
        have = await repo.outcomes([d.id for d in due])
        by_benchmark: dict[str, list[Decision]] = defaultdict(list)
        for decision in due:
            by_benchmark[decision.benchmark].append(decision)
        rows: list[dict[str, object]] = []
        waiting = 0
        measured_at = now or self.clock.now()
        for benchmark, group in by_benchmark.items():
            first = min(d.price_date for d in group)
            closes = await self.closes(sorted({benchmark, *(d.symbol for d in group)}), first, today)
            for decision in group:
                done = {o.horizon_days for o in have.get(decision.id, [])}
                wanted = [h for h in self.horizons if h not in done and target_day(decision.price_date, h) <= today]
                found = _measure(closes, decision, benchmark, wanted)
                waiting += len(wanted) - len(found)
                rows.extend(_outcome_row(decision.id, o, measured_at) for o in found.values())
        await repo.add_outcomes(rows)
        return MeasureReport(len(due), len(rows), waiting)


class _Turn:
    """A lock and how many hooks hold or wait for it (the entry goes when the last one is done)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.waiting = 0


def _measure(closes: UniverseArrays, decision: Decision, benchmark: str, horizons: Sequence[int]) -> dict[int, Outcome]:
    if not horizons or decision.symbol not in closes.symbols or benchmark not in closes.symbols:
        return {}
    values = closes.values
    return measure(
        closes.dates,
        values[:, closes.symbols.index(decision.symbol)],
        values[:, closes.symbols.index(benchmark)],
        decision.price_date,
        horizons,
    )


def _outcome_row(decision_id: str, outcome: Outcome, measured_at: datetime) -> dict[str, object]:
    return {
        "decision_id": decision_id,
        "horizon_days": outcome.horizon_days,
        "end_date": outcome.end_date,
        "symbol_return": outcome.symbol_return,
        "benchmark_return": outcome.benchmark_return,
        "excess_return": outcome.excess_return,
        "measured_at": measured_at,
    }


def _signals(text: str) -> tuple[str, ...]:
    return tuple(s for s in text.split(",") if s)
