"""Where the desk's accounts trade, and the prices the order path sees.

- `Brokers`: the broker of each trading account, made once and kept: a persisted `PaperBroker` per paper
  account (the embedded default), or Alpaca with the owner's keys from the vault. A live (real-money) Alpaca
  account gets its broker only on a desk that allows live trading and once its owner has confirmed it.
- `PaperFeed`: shows every paper broker with working orders the latest live quote of each symbol it waits on,
  once per tick, so market orders fill at the next tick and limits and stops trigger as prices move.
- `DeskMarketView`: last prices (the live quote, else the last stored close) and asset classes for the order
  path.

With the simulated market on its always-open clock, the paper venue trades around the clock too
(`AlwaysOpen`); with `real_hours` or a real feed it keeps XNYS hours.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol

import structlog

from marketdesk.clock import Clock
from marketdesk.db import Database
from marketdesk.errors import MarketdeskError, Rejected
from marketdesk.kit.tasks import cancel_and_wait
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.repository import MarketDataRepository
from marketdesk.marketdata.service import MarketDataService
from marketdesk.realtime.quotes import QuoteHub, quote_payload
from marketdesk.trading.adapters.alpaca import live_not_confirmed, live_trading_off
from marketdesk.trading.broker import Broker, BrokerFill
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.paper import PaperBroker
from marketdesk.trading.paper_feed import QuoteFeed
from marketdesk.trading.paper_hours import TradingCalendar
from marketdesk.trading.paper_ledger import AccountType

log = structlog.get_logger("marketdesk.trading")


class AlwaysOpen:
    """A calendar whose every day is a session from 00:00 to 24:00 New York (the simulated market's clock)."""

    def is_session(self, day: date) -> bool:
        return True

    def previous_session(self, day: date) -> date:
        return day - timedelta(days=1)

    def next_session(self, day: date) -> date:
        return day + timedelta(days=1)

    def session_open_close(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time(0), tzinfo=NEW_YORK)
        return start, start + timedelta(days=1) - timedelta(microseconds=1)


class AlpacaFactory(Protocol):
    """Builds the Alpaca broker of an account (`adapters.alpaca.alpaca_broker_from_vault` with its owner's keys)."""

    async def __call__(self, account: TradingAccount, *, paper: bool, live_confirmed: bool) -> Broker: ...


LiveConfirmed = Callable[[TradingAccount], Awaitable[bool]]
"""Whether a live account's owner has typed the confirmation phrase (`accounts.AccountService.is_live_confirmed`)."""


class Brokers:
    """The broker of each account, kept for the life of the desk.

    A live Alpaca account (`TradingAccount.live`) is sent to Alpaca's live API only when `allow_live` (the desk
    setting `allow_live_trading`) is on and `live_confirmed` says its owner typed the phrase; otherwise every
    call that needs its broker, placing an order first of all, is refused with what to do.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        paper_calendar: TradingCalendar,
        *,
        alpaca: AlpacaFactory | None = None,
        allow_live: bool = False,
        live_confirmed: LiveConfirmed | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.paper_calendar = paper_calendar
        self.alpaca = alpaca
        self.allow_live = allow_live
        self.live_confirmed = live_confirmed
        self._brokers: dict[str, Broker] = {}
        self._lock = asyncio.Lock()

    async def __call__(self, account: TradingAccount) -> Broker:
        broker = self._brokers.get(account.id)
        if broker is not None:
            return broker
        async with self._lock:
            broker = self._brokers.get(account.id)
            if broker is None:
                broker = await self._make(account)
                self._brokers[account.id] = broker
        return broker

    async def _make(self, account: TradingAccount) -> Broker:
        if account.broker == "paper":
            kind = AccountType.CASH if account.kind == "cash" else AccountType.MARGIN
            return PaperBroker(
                self.db, self.clock, account_id=account.id, calendar=self.paper_calendar, account_type=kind
            )
        if account.broker == "alpaca":
            if self.alpaca is None:
                raise Rejected(
                    "Alpaca is not set up on this desk", hint="Add your Alpaca keys in Settings → Key vault."
                )
            # nothing is cached while a live account is refused, so its first broker is made after the confirmation
            confirmed = await self._live_allowed(account) if account.live else False
            return await self.alpaca(account, paper=not account.live, live_confirmed=confirmed)
        raise Rejected(f"account {account.name} names an unknown broker {account.broker!r}")

    async def _live_allowed(self, account: TradingAccount) -> bool:
        """True for a live account that may trade; refused, saying what is missing, otherwise."""
        if not self.allow_live:
            raise live_trading_off(f"account {account.name} trades real money at Alpaca")
        if self.live_confirmed is None or not await self.live_confirmed(account):
            raise live_not_confirmed(account.id)
        return True

    def paper(self) -> list[PaperBroker]:
        return [b for b in self._brokers.values() if isinstance(b, PaperBroker)]

    def forget(self, account_id: str) -> None:
        self._brokers.pop(account_id, None)


class DeskMarketView:
    """Last prices (the live quote, else the market-data service's fallbacks) and asset classes (cached)."""

    def __init__(self, quotes: QuoteHub, market: MarketDataService, db: Database) -> None:
        self.quotes = quotes
        self.market = market
        self.db = db
        self._classes: dict[str, str] = {}

    async def prices(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        out = {}
        for symbol in symbols:
            quote = self.quotes.get(symbol)
            if quote is None:
                try:
                    quote = await self.market.quote(symbol)
                except MarketdeskError:
                    continue
            out[symbol] = quote.last
        return out

    async def asset_classes(self, symbols: Iterable[str]) -> dict[str, str]:
        wanted = set(symbols)
        if wanted - set(self._classes):
            async with self.db.session() as session:
                for info in await MarketDataRepository(session).instruments():
                    self._classes[info.symbol] = info.asset_class.value
        return {s: self._classes[s] for s in wanted if s in self._classes}


OnFills = Callable[[PaperBroker, list[BrokerFill]], Awaitable[None]]


class PaperFeed:
    """Shows every paper broker with working orders the newest quote of each symbol it waits on, once per
    tick, and hands the fills it makes to `on_fills` (the order service records them), both inside one unit of
    work from `together` (`OrderService.with_venue`): a fill is on the venue's books and the desk's, or on
    neither and made again at the next quote."""

    def __init__(
        self,
        brokers: Brokers,
        quotes: QuoteHub,
        on_fills: OnFills,
        interval_s: float,
        together: Callable[[PaperBroker], AbstractAsyncContextManager[None]] = lambda _: contextlib.nullcontext(),
    ) -> None:
        self.brokers = brokers
        self.quotes = quotes
        self.on_fills = on_fills
        self.together = together  # one unit of work for a tick's fills at the venue and on the desk's books
        self.interval_s = max(interval_s, 0.05)
        self._feeds: dict[str, QuoteFeed] = {}
        self._seen: dict[tuple[str, str], datetime] = {}
        self._task: asyncio.Task[None] | None = None

    async def step(self) -> int:
        """One pass over the waiting orders; the number of fills made."""
        made = 0
        for broker in self.brokers.paper():
            feed = self._feeds.setdefault(broker.account_id, QuoteFeed(broker))
            for symbol in await broker.waiting_symbols():
                quote = self.quotes.get(symbol)
                if quote is None or self._seen.get((broker.account_id, symbol)) == quote.ts:
                    continue
                self._seen[(broker.account_id, symbol)] = quote.ts
                async with self.together(broker):  # the venue's fills and the desk's record of them: one commit
                    fills = await feed.handle(quote_payload(quote))
                    if fills:
                        await self.on_fills(broker, fills)
                made += len(fills)
        return made

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except MarketdeskError as exc:
                log.warning("paper feed step failed", error=exc.one_line())
            except Exception:
                log.exception("paper feed step failed")
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="paper-feed")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
