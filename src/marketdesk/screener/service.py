"""The screener service: the one place transports ask for screens, the regime, research tearsheets and dips.

It loads the universe point-in-time from storage (cached), computes metrics, the regime and the DCF once
per data version, and runs the pure engine per request. Takes a session per call; never commits.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.clock import Clock
from marketdesk.errors import NotFound, Rejected
from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.repository import MarketDataRepository
from marketdesk.marketdata.service import MarketDataService, normalize_symbol
from marketdesk.marketdata.universes import WATCHLIST_PREFIX, UniverseService
from marketdesk.screener.catalog import METRICS, Group
from marketdesk.screener.config import ScoringConfig, resolve
from marketdesk.screener.dcf import DcfResult, DcfSettings, dcf_for_symbol, dcf_table
from marketdesk.screener.dips import check_threshold, find_dips, suggested_play
from marketdesk.screener.engine import ScreenResult, screen
from marketdesk.screener.events import earnings_stats
from marketdesk.screener.loader import LoadedUniverse, UniverseLoader
from marketdesk.screener.metrics import compute_metrics
from marketdesk.screener.model import VERDICT_RANK, Regime, UniverseData, Verdict
from marketdesk.screener.regime import assess_regime
from marketdesk.screener.research import multiples_history, peers, risk_breakdown, valuation_context

ASSET_ALIASES = {
    "stock": "equity",
    "stocks": "equity",
    "equity": "equity",
    "etf": "etf",
    "etfs": "etf",
    "bond": "bond",
    "bonds": "bond",
}
DEFAULT_UNIVERSE = "all"
MAX_PAGE = 1000
DIPS_TTL = timedelta(hours=24)
SCREEN_CACHE = 32


@dataclass(frozen=True)
class Snapshot:
    """What every screen on one data version shares: the data, the metrics, the DCF and the regime."""

    loaded: LoadedUniverse
    metrics: pd.DataFrame
    dcf: pd.DataFrame
    regime: Regime
    names: dict[str, str]
    dcf_rows: dict[str, dict[str, Any]]

    @property
    def data(self) -> UniverseData:
        return self.loaded.data


def _dcf_rows(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    out = {}
    for symbol, value, margin, refusal in zip(
        frame.index, frame["intrinsic_value"], frame["margin_of_safety"], frame["refusal"], strict=True
    ):
        out[str(symbol)] = {
            "intrinsic_value": _num(value),
            "margin_of_safety": _num(margin),
            "refusal": refusal if isinstance(refusal, str) else None,
        }
    return out


@dataclass(frozen=True)
class ScreenPage:
    rows: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    as_of: date
    universe: str
    preset: str
    version: str
    regime: Regime
    message: str | None


@dataclass
class DipReport:
    rows: list[dict[str, Any]]
    universe: str
    threshold_pct: float
    min_verdict: str
    as_of: date
    computed_at: datetime
    regime: Regime
    cached: bool = False
    message: str | None = None


@dataclass
class _DipEntry:
    report: DipReport
    key: tuple[object, ...]


class ScreenerService:
    """Screens, regime, research and dips over the desk's stored data."""

    def __init__(
        self,
        market: MarketDataService,
        universes: UniverseService,
        loader: UniverseLoader,
        clock: Clock,
        dcf_settings: DcfSettings | None = None,
    ) -> None:
        self.market = market
        self.universes = universes
        self.loader = loader
        self.clock = clock
        self.dcf_settings = dcf_settings or DcfSettings()
        self._snapshots: OrderedDict[int, Snapshot] = OrderedDict()
        self._screens: OrderedDict[tuple[object, ...], ScreenResult] = OrderedDict()
        self._dips: dict[tuple[object, ...], _DipEntry] = {}

    # ---- shared state ----------------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.now().astimezone(NEW_YORK).date()

    async def snapshot(
        self,
        session: AsyncSession,
        universe: str = DEFAULT_UNIVERSE,
        as_of: date | None = None,
        *,
        owner_id: str | None = None,
    ) -> Snapshot:
        """The universe's data, metrics, DCF and regime on `as_of` (today by default). A `watchlist:NAME`
        universe is `owner_id`'s list (None: the desk's shared lists); nobody reaches another user's list."""
        symbols = await self.universes.members(session, universe, owner_id=owner_id)
        if not symbols:
            raise NotFound(
                f"the universe {universe!r} is empty",
                hint="Import prices (`marketdesk data import prices FILE`), or pick another universe.",
            )
        loaded = await self.loader.load(session, symbols, as_of or self.today())
        key = id(loaded)
        cached = self._snapshots.get(key)
        if cached is not None and cached.loaded is loaded:
            return cached
        metrics = await asyncio.to_thread(compute_metrics, loaded.data)
        dcf = await asyncio.to_thread(dcf_table, loaded.data, metrics, self.dcf_settings)
        regime = assess_regime(loaded.data, metrics)
        names = {i.symbol: i.name for i in loaded.instruments}
        snap = Snapshot(loaded, metrics, dcf, regime, names, _dcf_rows(dcf))
        self._snapshots[key] = snap
        while len(self._snapshots) > 8:
            self._snapshots.popitem(last=False)
        return snap

    def _result(self, snap: Snapshot, config: ScoringConfig, where: tuple[str, ...]) -> ScreenResult:
        key = (id(snap), config.preset, config.version, where)
        cached = self._screens.get(key)
        if cached is not None:
            return cached
        frame = snap.metrics
        result = screen(
            frame,
            asset_class=snap.data.asset_class,
            sector=snap.data.sector,
            regime=snap.regime,
            config=config,
            where=where,
        )
        self._screens[key] = result
        while len(self._screens) > SCREEN_CACHE:
            self._screens.popitem(last=False)
        return result

    # ---- screens ---------------------------------------------------------------------------------------

    async def regime(
        self,
        session: AsyncSession,
        universe: str = DEFAULT_UNIVERSE,
        as_of: date | None = None,
        *,
        owner_id: str | None = None,
    ) -> Regime:
        return (await self.snapshot(session, universe, as_of, owner_id=owner_id)).regime

    async def screen(
        self,
        session: AsyncSession,
        *,
        preset: str | None = None,
        where: Sequence[str] = (),
        universe: str = DEFAULT_UNIVERSE,
        asset: str | None = None,
        sort: str | None = None,
        descending: bool = True,
        limit: int = 50,
        offset: int = 0,
        as_of: date | None = None,
        owner_id: str | None = None,
    ) -> ScreenPage:
        """A page of screened rows, best first (or by `sort`)."""
        if not 0 <= limit <= MAX_PAGE:
            raise Rejected(f"limit {limit} is out of range", hint=f"Use 0 to {MAX_PAGE}.")
        if offset < 0:
            raise Rejected("offset must not be negative")
        asset_filter = _asset(asset)
        config = resolve(preset)
        expressions = tuple(w for w in where if w.strip())
        if asset_filter:
            expressions = (*expressions, f'asset_class == "{asset_filter}"')
        snap = await self.snapshot(session, universe, as_of, owner_id=owner_id)
        result = self._result(
            snap, config.with_regime(snap.regime.state) if config.regime is None else config, expressions
        )
        view = result.view(sort, descending=descending)
        page = view.iloc[offset : offset + limit]
        rows = [self._row(result, snap, str(symbol)) for symbol in page.index]
        message = result.message
        if not len(view):
            message = message or "No names match these filters. Loosen a filter or pick a wider universe."
        return ScreenPage(
            rows=rows,
            total=len(view),
            limit=limit,
            offset=offset,
            as_of=snap.data.as_of,
            universe=universe,
            preset=result.preset,
            version=result.version,
            regime=snap.regime,
            message=message,
        )

    def _row(self, result: ScreenResult, snap: Snapshot, symbol: str) -> dict[str, Any]:
        row = result.row(symbol)
        row["dcf"] = snap.dcf_rows.get(symbol)
        row["name"] = snap.names.get(symbol, symbol)
        return row

    async def frame(self, session: AsyncSession, **kwargs: Any) -> pd.DataFrame:
        """A screen as a DataFrame (for notebooks): one row per symbol, verdict, score, metrics."""
        page = await self.screen(session, **{"limit": MAX_PAGE, **kwargs})
        records = [
            {"symbol": r["symbol"], "name": r["name"], "verdict": r["verdict"], "score": r["score"], **r["metrics"]}
            for r in page.rows
        ]
        return pd.DataFrame.from_records(records, index="symbol") if records else pd.DataFrame()

    # ---- research --------------------------------------------------------------------------------------

    async def research(
        self,
        session: AsyncSession,
        symbol: str,
        *,
        preset: str | None = None,
        universe: str = DEFAULT_UNIVERSE,
        owner_id: str | None = None,
    ) -> dict[str, Any]:
        """The tearsheet of one symbol: seven sections plus the verdict, flags, explanation and DCF."""
        symbol = normalize_symbol(symbol)
        snap = await self.snapshot(session, universe, owner_id=owner_id)
        if symbol not in snap.data.symbols:
            info = await self.market.symbol(session, symbol)  # raises UnknownSymbol for names nobody knows
            raise NotFound(f"{info.symbol} is not in the {universe!r} universe", hint="Pick a universe that holds it.")
        config = resolve(preset)
        result = self._result(snap, config.with_regime(snap.regime.state) if config.regime is None else config, ())
        row = self._row(result, snap, symbol)
        table = snap.metrics.assign(sector=snap.data.sector, industry=snap.data.industry)
        records = await MarketDataRepository(session).fundamentals(symbol)
        bars = await self.market.bars(symbol, snap.data.as_of - timedelta(days=5 * 366), snap.data.as_of)
        history = multiples_history(bars["close"], records) if len(bars) else None
        events = await self.market.earnings(session, symbol)
        actions = await self.market.actions(symbol)
        dcf = dcf_for_symbol(snap.data, snap.metrics, symbol, self.dcf_settings)
        peer_rows = []
        for peer in peers(table, symbol):
            peer_row = result.row(peer.symbol)
            peer_rows.append(
                {"symbol": peer.symbol, "same": peer.same, "market_cap": peer.market_cap, "verdict": peer_row["verdict"],
                 "score": peer_row["score"], "pe": peer_row["metrics"].get("pe"), "roe": peer_row["metrics"].get("roe")}
            )  # fmt: skip
        explanation = result.explain(symbol)
        sections = {
            "core_metrics": _grouped(row["metrics"]),
            "valuation_context": [asdict(r) for r in valuation_context(table, symbol, history)],
            "decision_framework": {"gates": row["gates"], "explanation": explanation.to_dict()},
            "risk_breakdown": [asdict(r) for r in risk_breakdown(cast(pd.Series, snap.metrics.loc[symbol]))],
            "threshold_sensitivity": result.sensitivity(symbol).to_dict(),
            "peers": peer_rows,
            "events": asdict(
                earnings_stats(
                    events, bars["adj_close"] if len(bars) else pd.Series(dtype=float), actions, snap.data.as_of
                )
            ),
        }
        return to_jsonable(
            {
                "symbol": symbol,
                "name": row["name"],
                "as_of": snap.data.as_of,
                "verdict": row["verdict"],
                "score": row["score"],
                "flags": row["flags"],
                "reasons": row["reasons"],
                "plain": explanation.plain_text(),
                "dcf": _dcf_dict(dcf),
                "regime": {"state": snap.regime.state.value, "reason": snap.regime.reason},
                "version": result.version,
                "preset": result.preset,
                "sections": sections,
            }
        )

    # ---- dips --------------------------------------------------------------------------------------------

    async def dips(
        self,
        session: AsyncSession,
        *,
        universe: str = "largecap",
        threshold_pct: float = 5.0,
        min_verdict: str = Verdict.HOLD.value,
        refresh: bool = False,
        owner_id: str | None = None,
    ) -> DipReport:
        """Quality names at least `threshold_pct` below their 52-week high, why they fell, and a suggested
        play. Results are kept for 24 hours unless `refresh` is asked for."""
        check_threshold(threshold_pct)
        floor = _verdict(min_verdict)
        snap = await self.snapshot(session, universe, owner_id=owner_id)
        # a watchlist's name means a different list for each owner, so its owner is part of the cache key
        owner = owner_id if universe.startswith(WATCHLIST_PREFIX) else None
        key = (universe, owner, threshold_pct, floor, snap.data.as_of)
        now = self.clock.now()
        entry = self._dips.get(key)
        if entry is not None and not refresh and now - entry.report.computed_at < DIPS_TTL:
            cached = DipReport(**{**entry.report.__dict__, "cached": True})
            return cached
        result = self._result(snap, resolve(None).with_regime(snap.regime.state), ())
        data = snap.data
        equities = np.array([c == "equity" for c in data.asset_class])
        found = find_dips(
            data.symbols, data.adj_close, data.adj_high, data.benchmark, data.sector, threshold_pct=threshold_pct
        )
        rows = []
        for dip in found:
            if not equities[data.symbols.index(dip.symbol)]:
                continue
            row = result.row(dip.symbol)
            if row["verdict"] is None or VERDICT_RANK[Verdict(row["verdict"])] < VERDICT_RANK[floor]:
                continue
            verdict = Verdict(row["verdict"])
            rows.append(
                {
                    "symbol": dip.symbol,
                    "name": snap.loaded.instruments[data.symbols.index(dip.symbol)].name,
                    "price": row["metrics"].get("price"),
                    "dip_pct": dip.dip_pct,
                    "verdict": verdict.value,
                    "score": row["score"],
                    "cause": dip.cause.value,
                    "why": dip.why,
                    "play": suggested_play(dip.cause, verdict),
                    "benchmark_fall_pct": dip.benchmark_fall_pct,
                    "sector_fall_pct": dip.sector_fall_pct,
                }
            )
        message = (
            None
            if rows
            else f"No {universe} name of verdict {floor.value} or better is {threshold_pct:g}% below its high."
        )
        report = DipReport(rows, universe, threshold_pct, floor.value, data.as_of, now, snap.regime, message=message)
        self._dips[key] = _DipEntry(report, key)
        return report


def _asset(asset: str | None) -> str | None:
    if asset is None:
        return None
    try:
        return ASSET_ALIASES[asset.strip().lower()]
    except KeyError:
        raise Rejected(f"unknown asset kind {asset!r}", hint="Use stock, etf or bond.") from None


def _verdict(text: str) -> Verdict:
    for verdict in Verdict:
        if text.strip().lower().replace("_", " ") == verdict.value.lower():
            return verdict
    raise Rejected(f"unknown verdict {text!r}", hint=f"Use one of: {', '.join(v.value for v in Verdict)}.")


def _num(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _grouped(metrics: dict[str, float | None]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for name, value in metrics.items():
        group = METRICS[name].group
        if value is None and group in {Group.FUND, Group.BOND}:
            continue
        out.setdefault(group.value, {})[name] = value
    return out


def _dcf_dict(result: object) -> dict[str, Any]:
    if isinstance(result, DcfResult):
        data = to_jsonable(result)
        data["refused"] = None
        return data
    refused = to_jsonable(result)
    return {"refused": refused}
