"""What the portfolio service needs for allocation targets and rebalancing: the targets as stored and checked,
the asset class and sector of each symbol (from the market data's instruments), the positions with their open
lots, and the screener's verdicts on the holdings beside the last ones the user logged (the decision log).

The pure computations live in `allocation.py` and `rebalance.py`; this module gathers their inputs. Takes a
session; never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.errors import MarketdeskError, Rejected
from marketdesk.marketdata.port import GICS_SECTORS
from marketdesk.marketdata.repository import MarketDataRepository
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.portfolio.allocation import (
    ASSET_CLASS,
    DEFAULT_BAND_PP,
    DEFAULT_MIN_TRADE,
    DIMENSIONS,
    SYMBOL,
    UNKNOWN,
    Allocation,
    OpenLot,
    Position,
    Targets,
    targets_problem,
)
from marketdesk.portfolio.ledger import Ledger
from marketdesk.portfolio.models import PortfolioTarget, PortfolioTargetWeight
from marketdesk.portfolio.rebalance import Advice, Suggestion, VerdictReading
from marketdesk.portfolio.valuation import PriceHistory, Valuation

if TYPE_CHECKING:
    from marketdesk.screener.service import ScreenerService

ASSET_CLASSES = ("equity", "etf", "bond")
ASSET_ALIASES = {"stock": "equity", "stocks": "equity", "equities": "equity", "etfs": "etf", "bonds": "bond"}
MAX_KEYS = 200


@dataclass(frozen=True)
class TargetsView:
    """A portfolio's targets as stored; `set` is False (and the defaults show) when none are."""

    set: bool
    weights: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    band_pp: Decimal = DEFAULT_BAND_PP
    band_relative_pct: Decimal | None = None
    min_trade: Decimal = DEFAULT_MIN_TRADE
    updated_at: datetime | None = None

    def targets(self) -> Targets:
        return Targets(self.weights, self.band_pp, self.band_relative_pct, self.min_trade)


@dataclass(frozen=True)
class AllocationView:
    """A portfolio's allocation on `as_of` against its targets."""

    as_of: date
    targets: TargetsView
    allocation: Allocation


@dataclass(frozen=True)
class RebalanceView:
    """The rebalancing advice today, and the screener's verdicts on the holdings with the actions they call for."""

    as_of: date
    targets: TargetsView
    advice: Advice
    readings: tuple[VerdictReading, ...]
    suggestions: tuple[Suggestion, ...]
    verdict_note: str | None  # why there are no verdicts, when there are none


@dataclass(frozen=True)
class Book:
    """What the allocation and the advisor start from: the positions (with their lots) and the cash on a day."""

    as_of: date
    targets: TargetsView
    positions: list[Position]
    cash: Decimal


def targets_view(settings: PortfolioTarget | None, weights: Sequence[PortfolioTargetWeight]) -> TargetsView:
    if settings is None:
        return TargetsView(set=False)
    grouped: dict[str, dict[str, Decimal]] = {d: {} for d in DIMENSIONS}
    for row in weights:
        grouped.setdefault(row.dimension, {})[row.key] = row.weight_pct
    return TargetsView(
        set=True, weights=grouped, band_pp=settings.band_pp, band_relative_pct=settings.band_relative_pct,
        min_trade=settings.min_trade, updated_at=settings.updated_at,
    )  # fmt: skip


async def checked_targets(session: AsyncSession, targets: Targets) -> Targets:
    """The targets with their keys in canonical form (symbols upper-case, sector names as the market data spells
    them, asset-class aliases resolved); `Rejected` with what to fix when any is unknown or a weight is wrong."""
    weights: dict[str, dict[str, Decimal]] = {}
    sectors = await _known_sectors(session)
    for dimension, given in targets.weights.items():
        if dimension not in DIMENSIONS:
            raise Rejected(f"unknown target dimension {dimension!r}", hint="Use asset_class, sector or symbol.")
        if len(given) > MAX_KEYS:
            raise Rejected(f"{len(given)} {dimension} targets given", hint=f"Give at most {MAX_KEYS}.")
        out: dict[str, Decimal] = {}
        for raw, weight in given.items():
            key = _key(dimension, raw, sectors)
            if key in out:
                raise Rejected(f"{key} has two {dimension} targets", hint="Give each one once.")
            out[key] = weight
        weights[dimension] = out
    checked = Targets(weights, targets.band_pp, targets.band_relative_pct, targets.min_trade)
    if checked.empty:
        raise Rejected(
            "give at least one target weight (by symbol, sector or asset class)",
            hint="To remove a portfolio's targets, clear them (DELETE …/targets).",
        )
    problem = targets_problem(checked)
    if problem is not None:
        raise Rejected(problem)
    return checked


def _key(dimension: str, raw: str, sectors: Mapping[str, str]) -> str:
    text = raw.strip()
    if dimension == SYMBOL:
        return normalize_symbol(text)
    if dimension == ASSET_CLASS:
        name = ASSET_ALIASES.get(text.lower(), text.lower())
        if name == UNKNOWN.lower():
            return UNKNOWN
        if name not in ASSET_CLASSES:
            raise Rejected(f"unknown asset class {raw!r}", hint=f"Use one of {', '.join(ASSET_CLASSES)}.")
        return name
    found = sectors.get(text.lower())
    if found is None:
        raise Rejected(f"unknown sector {raw!r}", hint=f"Use one of: {', '.join(sorted(set(sectors.values())))}.")
    return found


async def _known_sectors(session: AsyncSession) -> dict[str, str]:
    """Sector names by their lower case: the GICS sectors, the ones the market data uses, and Unknown."""
    names = {*GICS_SECTORS, UNKNOWN}
    names.update(i.sector for i in await MarketDataRepository(session).instruments() if i.sector)
    return {name.lower(): name for name in names}


def weight_rows(portfolio_id: str, targets: Targets) -> list[PortfolioTargetWeight]:
    return [
        PortfolioTargetWeight(portfolio_id=portfolio_id, dimension=dimension, key=key, weight_pct=weight)
        for dimension in DIMENSIONS
        for key, weight in sorted(targets.of(dimension).items())
    ]


async def classify(session: AsyncSession, symbols: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each symbol's (asset class, sector) from the market data's instruments; "Unknown" where it has none."""
    repository = MarketDataRepository(session)
    out = {}
    for symbol in symbols:
        info = await repository.instrument(symbol)
        if info is None:
            out[symbol] = (UNKNOWN, UNKNOWN)
        else:
            out[symbol] = (info.asset_class.value, info.sector or UNKNOWN)
    return out


def positions(
    ledger: Ledger, valuation: Valuation, classes: Mapping[str, tuple[str, str]], prices: PriceHistory,
    targeted: Sequence[str],
) -> list[Position]:  # fmt: skip
    """The holdings as the allocation sees them (with their open lots, FIFO), plus a position of 0 shares for
    each targeted symbol not held, marked at its last close on or before the valuation's day (None: no close)."""
    out = []
    for holding in valuation.holdings:
        asset_class, sector = classes.get(holding.symbol, (UNKNOWN, UNKNOWN))
        lots = tuple(OpenLot(lot.day, lot.qty, lot.cost) for lot in ledger.positions[holding.symbol].lots)
        out.append(Position(holding.symbol, holding.qty, holding.price, asset_class, sector, lots))
    held = {p.symbol for p in out}
    for symbol in targeted:
        if symbol not in held:
            asset_class, sector = classes.get(symbol, (UNKNOWN, UNKNOWN))
            out.append(Position(symbol, Decimal(0), last_close(prices, symbol, valuation.as_of), asset_class, sector))
    return out


def last_close(prices: PriceHistory, symbol: str, day: date) -> Decimal | None:
    """The symbol's last close on or before `day`, exact as stored; None when there is none."""
    if symbol not in prices.symbols:
        return None
    upto = int(np.searchsorted(prices.dates, np.datetime64(day, "D"), side="right"))
    column = prices.close[:upto, prices.symbols.index(symbol)]
    known = np.flatnonzero(~np.isnan(column))
    return Decimal(repr(float(column[known[-1]]))) if len(known) else None


# ---- the screener's verdicts on the holdings ---------------------------------------------------------------


@dataclass(frozen=True)
class VerdictBoard:
    """The screener's verdict and score per symbol on `as_of` (None: it has none), or why there are none."""

    as_of: date | None
    verdicts: Mapping[str, tuple[str | None, float | None]]
    note: str | None = None


class HoldingVerdicts(Protocol):
    """The screener's verdicts now on `symbols`, as `owner_id` would see them on the screener's default screen."""

    async def __call__(self, session: AsyncSession, symbols: Sequence[str], *, owner_id: str) -> VerdictBoard: ...


def screener_holding_verdicts(screener: ScreenerService, universe: str = "all") -> HoldingVerdicts:
    """The desk's verdict source for holdings: the screener's snapshot of `universe` today, screened with the
    default preset under the day's regime (what `GET /screener` shows)."""
    from marketdesk.screener.config import resolve
    from marketdesk.screener.engine import screen
    from marketdesk.screener.verdicts import VERDICT_BY_RANK

    async def lookup(session: AsyncSession, symbols: Sequence[str], *, owner_id: str) -> VerdictBoard:
        try:
            snap = await screener.snapshot(session, universe, owner_id=owner_id)
        except MarketdeskError as exc:
            return VerdictBoard(None, {}, f"The screener has no verdicts: {exc.one_line()}")
        data = snap.data
        result = screen(snap.metrics, asset_class=data.asset_class, sector=data.sector, regime=snap.regime,
                        config=resolve(None))  # fmt: skip
        evaluation = result.evaluation
        found: dict[str, tuple[str | None, float | None]] = {}
        for symbol in symbols:
            if symbol not in data.symbols:
                found[symbol] = (None, None)
                continue
            row = evaluation.symbols.get_loc(symbol)
            rank, total = int(evaluation.rank[row]), float(evaluation.scores.total[row])
            found[symbol] = (
                VERDICT_BY_RANK[rank].value if rank >= 0 else None,
                None if np.isnan(total) else round(total, 2),
            )
        return VerdictBoard(data.as_of, found)

    return lookup


async def verdict_readings(
    session: AsyncSession, board: VerdictBoard, symbols: Sequence[str], *, owner_id: str
) -> list[VerdictReading]:
    """Each holding's verdict now beside the last one the user logged for it (newest decision first)."""
    from marketdesk.decisions.repository import DecisionRepository

    repository = DecisionRepository(session)
    readings = []
    for symbol in symbols:
        verdict, score = board.verdicts.get(symbol, (None, None))
        logged = await repository.decisions(owner_id=owner_id, symbol=symbol, limit=1)
        last = logged[0] if logged else None
        readings.append(
            VerdictReading(
                symbol, verdict, score, board.as_of, None if last is None else last.verdict,
                None if last is None else last.price_date,
            )
        )  # fmt: skip
    return readings
