"""The desk: every long-lived component, wired once from Settings. Transports hold a Desk and call its services."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.ratelimit import RateLimiter
from marketdesk.accounts.service import AccountService
from marketdesk.audit.service import AuditService
from marketdesk.bus import Bus, InMemoryBus, RedisBus
from marketdesk.clock import Clock, LiveClock
from marketdesk.config import Settings
from marketdesk.db import Database, upgrade
from marketdesk.decisions.service import DecisionService, adjusted_closes_from_store, screener_verdicts
from marketdesk.errors import ConfigError
from marketdesk.journal.ports import closes_from_store as journal_closes
from marketdesk.journal.ports import screener_metrics
from marketdesk.journal.service import JournalService
from marketdesk.logs import get_logger
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.calendar import ExchangeCalendar, MarketClock
from marketdesk.marketdata.port import MarketData, QuoteStream
from marketdesk.marketdata.service import DEFAULT_WATCHLIST, MarketDataService
from marketdesk.marketdata.universes import UniverseService
from marketdesk.portfolio.service import PortfolioService, closes_from_store, register_portfolio_channel
from marketdesk.portfolio.sizing_service import SizingService
from marketdesk.realtime.quotes import QuoteHub
from marketdesk.screener.loader import UniverseLoader
from marketdesk.screener.service import ScreenerService
from marketdesk.vault.crypto import Keyring
from marketdesk.vault.service import VaultService

if TYPE_CHECKING:
    from marketdesk.marketdata.sim import SimMarketData
    from marketdesk.trading.accounts import AccountService as TradingAccountService
    from marketdesk.trading.corporate_actions import CorporateActionsApplier
    from marketdesk.trading.reconcile import Reconciler
    from marketdesk.trading.service import OrderService
    from marketdesk.trading.venue import Brokers, PaperFeed

log = get_logger(__name__)
StartupStep = Callable[[str], None]
FIRST_WATCHLIST_SIZE = 8


@dataclass
class Desk:
    """The running desk's components."""

    settings: Settings
    clock: Clock
    calendar: ExchangeCalendar
    db: Database
    bus: Bus
    store: BarStore
    source: MarketData
    market: MarketDataService
    universes: UniverseService
    quotes: QuoteHub
    screener: ScreenerService
    keyring: Keyring
    audit: AuditService
    accounts: AccountService
    vault: VaultService
    limiter: RateLimiter
    brokers: Brokers
    orders: OrderService
    trading_accounts: TradingAccountService
    reconciler: Reconciler
    paper_feed: PaperFeed
    corporate_actions: CorporateActionsApplier
    portfolios: PortfolioService
    sizing: SizingService
    decisions: DecisionService
    journal: JournalService
    sim: SimMarketData | None = None
    started: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        """True when the simulated market is a data source: every view then says SIMULATED."""
        return self.sim is not None

    def market_clock(self) -> MarketClock:
        """Open/closed and the next open/close: the sim's always-open session unless real hours are asked for."""
        if self.sim is not None:
            return self.sim.market_clock()
        return self.calendar.clock(self.clock.now())

    async def start(self, step: StartupStep | None = None) -> None:
        """Migrate the database, load the simulated market when it is a source, and start the live quotes."""
        say = step or (lambda _text: None)
        say("applying database migrations")
        revision = await asyncio.to_thread(upgrade, self.settings.effective_database_url)
        log.info("database ready", revision=revision)
        if isinstance(self.bus, RedisBus):
            await self.bus.ping()
        async with self.db.session() as session:
            await self.accounts.start(session)  # the JWT signing key
        if self.sim is not None:
            await self._load_simulated_market(say)
        await self.quotes.start()
        await self._start_trading()
        self.started = True
        if self.sim is not None:
            # build today's screener snapshot now, so the first screen and the regime light are instant
            async with self.db.session() as session:
                await self.screener.snapshot(session)
        # What start-up built (the simulated market, the snapshot, the modules) lives as long as the desk. Left
        # to the garbage collector, each full collection walks all of it: a quarter of a million objects, about
        # 170 ms in which no order moves (bench/bench_order_path.py). Frozen, collections see only what is new.
        gc.collect()
        gc.freeze()

    async def _load_simulated_market(self, say: StartupStep) -> None:
        sim = self.sim
        if sim is None:
            return
        say("generating the simulated market")
        await asyncio.to_thread(sim.warm)  # generation is CPU work: keep the event loop free
        marker_path = self.settings.data_dir / "sim-loaded.json"
        marker = {
            "seed": self.settings.seed,
            "symbols": self.settings.sim_symbols,
            "years": self.settings.sim_history_years,
            "last_session": str(sim.history_end()),
        }
        loaded = json.loads(marker_path.read_text()) if marker_path.exists() else None
        async with self.db.session() as session:
            if loaded != marker:
                say("storing the simulated market's history")
                report = await self.market.load_bulk(
                    session,
                    source="sim",
                    infos=sim.symbols(),
                    history=await asyncio.to_thread(sim.history_frame),
                    fundamentals=sim.all_fundamentals(),
                    earnings=sim.all_earnings(),
                    actions=sim.all_corporate_actions(),
                )
                log.info("simulated market stored", bars=report.bars_inserted + report.bars_updated)
            await self.market.ensure_watchlist(session, DEFAULT_WATCHLIST, first_watchlist(sim), owner_id=None)
            await self._give_users_the_shared_lists(session)
        marker_path.parent.mkdir(parents=True, exist_ok=True)
        marker_path.write_text(json.dumps(marker))

    async def _give_users_the_shared_lists(self, session: AsyncSession) -> None:
        # a user created before the first-run watchlist existed (`marketdesk users create` on a new data
        # dir) gets their copy here; users with a list of their own are left alone
        for user in await self.accounts.users(session):
            if not await self.market.watchlists(session, owner_id=user.id):
                await self.market.copy_shared_watchlists(session, owner_id=user.id)

    async def _start_trading(self) -> None:
        """Resolve orders a crash left in flight and reconcile every account, then feed the paper venue."""
        from marketdesk.trading.repository import TradingRepository

        async with self.db.session() as session:
            accounts = await TradingRepository(session).all_accounts()
        for problem in await self.reconciler.start([a for a in accounts if a.broker == "paper"]):
            log.warning("trading account not reconciled at start-up", problem=problem)
        await self.corporate_actions.start()  # splits and dividends due, then as each New York day begins
        self.paper_feed.start()

    async def stop(self) -> None:
        gc.unfreeze()  # what start-up froze is collectable again once the desk is gone
        await self.paper_feed.stop()
        await self.corporate_actions.stop()
        await self.quotes.stop()
        await self.bus.close()
        await self.limiter.close()
        await self.db.dispose()
        self.started = False


def first_watchlist(sim: SimMarketData, size: int = FIRST_WATCHLIST_SIZE) -> list[str]:
    """The first-run watchlist: the benchmark ETF and the largest simulated companies."""
    from marketdesk.marketdata.port import AssetClass

    equities = {i.symbol for i in sim.symbols() if i.asset_class is AssetClass.EQUITY}
    latest: dict[str, tuple[Any, float]] = {}
    for record in sim.all_fundamentals():
        if record.symbol in equities and record.market_cap is not None:
            known = latest.get(record.symbol)
            if known is None or record.period_end >= known[0]:
                latest[record.symbol] = (record.period_end, record.market_cap)
    largest = sorted(latest, key=lambda symbol: -latest[symbol][1])[: size - 1]
    return [sim.benchmark, *largest]


def build_bus(settings: Settings) -> Bus:
    if settings.bus == "redis":
        if not settings.redis_url:
            raise ConfigError("bus = redis needs redis_url", hint="Set MARKETDESK_REDIS_URL=redis://host:6379/0.")
        return RedisBus(settings.redis_url)
    return InMemoryBus()


def build_sources(settings: Settings, clock: Clock, store: BarStore) -> tuple[MarketData, SimMarketData | None]:
    """The configured sources, in fallback order, as one MarketData (a chain when there are several)."""
    sources: list[MarketData] = []
    sim: SimMarketData | None = None
    for name in settings.market_data:
        if name == "sim":
            from marketdesk.marketdata.sim import SimMarketData

            sim = SimMarketData(
                clock,
                seed=settings.seed,
                n_symbols=settings.sim_symbols,
                history_years=settings.sim_history_years,
                speed=settings.sim_speed,
                real_hours=settings.real_hours,
            )
            sources.append(sim)
        elif name == "files":
            from marketdesk.marketdata.files import FilesMarketData

            sources.append(FilesMarketData(store))
        else:
            from marketdesk.marketdata.adapters import build_online_source

            cache_dir = settings.data_dir / "cache" / name
            sources.append(build_online_source(name, clock=clock, keys=provider_keys(settings), cache_dir=cache_dir))
    if len(sources) == 1:
        return sources[0], sim
    from marketdesk.marketdata.chain import FallbackChain

    return FallbackChain(sources, clock, ttl_s=settings.cache_ttl_s), sim


def provider_keys(settings: Settings) -> dict[str, str | None]:
    """The data-provider keys from settings (the vault adds per-user keys later)."""
    names = ("alpaca_key_id", "alpaca_secret_key", "finnhub_api_key", "alphavantage_api_key", "fred_api_key")
    keys: dict[str, str | None] = {}
    for name in names:
        secret = getattr(settings, name)
        keys[name] = None if secret is None else secret.get_secret_value()
    return keys


def build_desk(
    settings: Settings,
    clock: Clock | None = None,
    *,
    source: MarketData | None = None,
    stream: QuoteStream | None = None,
) -> Desk:
    """Wire a desk from settings. Nothing starts until `await desk.start()`.

    `source` and `stream` replace the configured ones (tests pass small real sources here).
    """
    clock = clock or LiveClock()
    store = BarStore(settings.bar_store_dir)
    sim: SimMarketData | None = None
    if source is None:
        source, sim = build_sources(settings, clock, store)
    calendar = ExchangeCalendar()
    bus = build_bus(settings)
    if stream is None and sim is not None and settings.quote_stream:
        from marketdesk.marketdata.sim import SimTicker

        stream = SimTicker(sim, tick_interval_s=settings.tick_interval_s)
    quotes = QuoteHub(bus, stream)
    market = MarketDataService(source, store, clock, calendar, live_quotes=quotes.get)
    universes = UniverseService(store)
    loader = UniverseLoader(store, source, sim.benchmark if sim is not None else None)
    keyring = Keyring.load(settings)
    audit = AuditService(clock)

    async def on_user_created(session: AsyncSession, user_id: str) -> None:
        await market.copy_shared_watchlists(session, owner_id=user_id)

    accounts = AccountService(settings, clock, keyring, audit, on_user_created=on_user_created)
    db = Database(settings.effective_database_url)
    vault = VaultService(keyring, audit, clock)
    trading = build_trading(settings, clock, calendar, db, bus, audit, vault, quotes, market, simulated=sim is not None)
    register_portfolio_channel()  # the WebSocket's `portfolio:ID` is served to the portfolio's owner only
    screener = ScreenerService(market, universes, loader, clock)
    portfolios = PortfolioService(clock, closes_from_store(store))
    return Desk(
        settings=settings,
        clock=clock,
        calendar=calendar,
        db=db,
        bus=bus,
        store=store,
        source=source,
        market=market,
        universes=universes,
        quotes=quotes,
        screener=screener,
        journal=JournalService(clock, journal_closes(store), screener_metrics(screener)),
        portfolios=portfolios,
        sizing=SizingService(screener, market, trading["trading_accounts"], portfolios),
        decisions=DecisionService(clock, screener_verdicts(screener), adjusted_closes_from_store(store)),
        keyring=keyring,
        audit=audit,
        accounts=accounts,
        vault=vault,
        limiter=RateLimiter(settings),
        **trading,
        sim=sim,
    )


def build_trading(
    settings: Settings,
    clock: Clock,
    calendar: ExchangeCalendar,
    db: Database,
    bus: Bus,
    audit: AuditService,
    vault: VaultService,
    quotes: QuoteHub,
    market: MarketDataService,
    *,
    simulated: bool,
) -> dict[str, Any]:
    """The trading components: brokers per account, the order and account services, reconciliation and the
    paper venue's quote feed. With the simulated market on its always-open clock the paper venue trades around
    the clock; compliance always counts XNYS sessions."""
    from marketdesk.realtime.channels import private_channel
    from marketdesk.trading.accounts import AccountService as TradingAccountService
    from marketdesk.trading.adapters.alpaca import alpaca_broker_from_vault
    from marketdesk.trading.corporate_actions import CorporateActionsApplier, stored_actions
    from marketdesk.trading.reconcile import Reconciler
    from marketdesk.trading.service import OrderService
    from marketdesk.trading.venue import AlwaysOpen, Brokers, DeskMarketView, PaperFeed

    async def alpaca(account: Any, *, paper: bool, live_confirmed: bool) -> Any:
        async with db.session() as session:
            return await alpaca_broker_from_vault(
                vault, session, account.owner_id, paper=paper, live_confirmed=live_confirmed, clock=clock
            )

    async def live_confirmed(account: Any) -> bool:
        return await trading_accounts.is_live_confirmed(account)

    paper_calendar = AlwaysOpen() if simulated and not settings.real_hours else calendar
    allow_live = settings.allow_live_trading
    brokers = Brokers(db, clock, paper_calendar, alpaca=alpaca, allow_live=allow_live, live_confirmed=live_confirmed)
    view = DeskMarketView(quotes, market, db)

    async def publish(owner_id: str, family: str, payload: dict[str, Any]) -> None:
        await bus.publish(private_channel(family, owner_id), payload)

    orders = OrderService(db, clock, calendar, audit, brokers, view, publish=publish)
    trading_accounts = TradingAccountService(
        db, clock, calendar, audit, brokers, view, allow_live=allow_live, vault=vault, publish=publish
    )
    reconciler = Reconciler(db, clock, audit, orders, brokers)

    async def on_fills(broker: Any, fills: list[Any]) -> None:
        await reconciler.record_fills(broker.account_id, fills)

    return {
        "brokers": brokers,
        "orders": orders,
        "trading_accounts": trading_accounts,
        "reconciler": reconciler,
        "paper_feed": PaperFeed(brokers, quotes, on_fills, settings.tick_interval_s, together=orders.with_venue),
        "corporate_actions": CorporateActionsApplier(
            db, clock, audit, brokers, reconciler, stored_actions(market.store), publish=publish
        ),
    }


def describe_started(desk: Desk, now: datetime) -> dict[str, Any]:
    """A summary of a started desk, for logs and `marketdesk up`."""
    return {
        "data_dir": str(desk.settings.data_dir),
        "database": desk.db.dialect,
        "bus": type(desk.bus).__name__,
        "sources": list(desk.settings.market_data),
        "simulated": desk.simulated,
        "started_at": now.isoformat(),
    }
