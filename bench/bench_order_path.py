"""Benchmark the order path. Prints one JSON line per figure: {"bench": NAME, "value": X, "unit": U}.

One order is what the desk does for a market order and its paper fill, in process through the services:
`OrderService.submit` (idempotency, `broker.account()`, risk, compliance, the order, the venue's acceptance and
the desk's record of it, committed together: with the paper venue, placing is one unit of work,
`OrderService.with_venue`), then what the paper feed does with a quote (`PaperFeed.step`): in one unit of work,
`PaperBroker.on_tick` for its symbol (the venue's fill) and `Reconciler.record_fills` →
`OrderService.apply_update` (the desk's fill, position and audit entries), committed. Two commits per order;
the timer stops after the last.

- order_path_p50_ms / order_path_p99_ms: SQLite in WAL mode (synchronous=NORMAL: a commit survives the process
  dying, not the machine losing power), one account, orders one after another;
- order_path_pg_p50_ms / order_path_pg_p99_ms: the same on PostgreSQL at 127.0.0.1:5432 (a scratch database,
  created from `test` and dropped after; skipped, saying so, when the server is not there);
- order_path_aiosqlite_p50_ms / order_path_aiosqlite_p99_ms: the same SQLite run through aiosqlite (a worker
  thread per connection) instead of the desk's inline driver (`marketdesk.sqlite_driver`): the baseline the
  driver is measured against, in the same run;
- order_path_cpu_ms: the CPU time of one order on SQLite (this process, every thread, over the same run), which
  a busy shared machine disturbs less than the wall time; 1,000 orders/s needs it under 1 ms;
- orders_per_s: orders one after another on SQLite, per second of wall time;
- orders_per_s_concurrent: the same with CONCURRENT accounts, each placing its orders one after another, all
  at once in one event loop (what a desk with several busy accounts does);
- orders_per_s_with_feed: the desk as it runs: CONCURRENT accounts place FEED_ORDERS market orders one after
  another, each order a request of its own, while the paper feed shows the venues a quote of each symbol every
  FEED_INTERVAL_S and fills whatever is waiting (`PaperFeed.step`: per account and symbol, the venue's fills
  and the desk's record of them are one unit of work), from the first order to the commit of the last fill;
- feed_orders_per_fill_unit: in that run's busiest feed step, the orders filled per unit of work (how much the
  feed's batching shares a commit).

Each run warms up first (WARMUP orders, not timed) and then times MEASURED orders. Symbols alternate, and
buys and sells alternate, so positions stay small; the account's risk limits are loosened so that none is
refused (a refusal would be a shorter path). With `--profile` a cProfile of the SQLite run goes to stderr.

Run: .venv/bin/python bench/bench_order_path.py [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text

from benchkit import emit
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.desk import Desk, build_desk
from marketdesk.marketdata.port import AssetClass, Quote, SymbolInfo
from marketdesk.trading.activity import Side
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.orders import SubmitOrder
from marketdesk.trading.paper import PaperBroker

WARMUP = 50
MEASURED = 500
CONCURRENT = 4  # accounts placing orders at once in the concurrent run
FEED_ORDERS = 2000  # orders of the run with the paper feed
FEED_INTERVAL_S = 0.1  # its quotes' interval (`MARKETDESK_TICK_INTERVAL_S`; 1 s by default)
SYMBOLS = ("AAA", "BBB", "CCC")
PRICE = Decimal("100.00")
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday, 10:00 New York: the session is open
PG = ("127.0.0.1", 5432)
PASSWORD = "violet trombone harbour 42"  # noqa: S105 (the benchmark's throwaway account)
LOOSE = {"max_position_pct": None, "max_orders_per_minute": None, "allow_short": True}


@dataclass
class Trader:
    """One account of the benchmark's user, and its paper broker."""

    desk: Desk
    user: CurrentUser
    account_id: str
    broker: PaperBroker
    placed: int = 0

    async def order(self) -> float:
        """Place one market order and fill it at the venue; the milliseconds it took."""
        desk, clock = self.desk, self.desk.clock
        assert isinstance(clock, SimClock)
        number = self.placed
        self.placed += 1
        symbol = SYMBOLS[number % len(SYMBOLS)]
        side = Side.BUY if (number // len(SYMBOLS)) % 2 == 0 else Side.SELL
        command = SubmitOrder(f"bench-{number}", self.account_id, symbol, side, Decimal(1))
        started = time.perf_counter()
        view = await desk.orders.submit(self.user, command)
        clock.advance(timedelta(milliseconds=1))
        async with desk.orders.with_venue(self.broker):  # as the paper feed does (`PaperFeed.step`)
            fills = await self.broker.on_tick(symbol, PRICE, clock.now())
            await desk.reconciler.record_fills(self.account_id, fills)
        elapsed = (time.perf_counter() - started) * 1000
        if view.status != "accepted" or len(fills) != 1:
            raise SystemExit(f"order {command.client_order_id} was {view.status} ({view.reason}), fills {fills}")
        return elapsed


async def open_desk(folder: Path, database_url: str | None, accounts: int) -> tuple[Desk, list[Trader]]:
    settings = load_settings(data_dir=folder, market_data=["files"], database_url=database_url)
    desk = build_desk(settings, SimClock(START))
    await desk.start()
    await desk.paper_feed.stop()  # the benchmark shows the venue its prices itself
    async with desk.db.session() as session:
        created = await desk.accounts.create_user(session, "bench@example.com", PASSWORD, Role.ADMIN)
    user = CurrentUser(created.id, created.email, Role.ADMIN, session_id="bench")
    await desk.quotes.publish([Quote(s, desk.clock.now(), PRICE, volume=1_000_000) for s in SYMBOLS])
    async with desk.db.session() as session:  # known instruments, as on a desk with market data
        infos = [SymbolInfo(s, f"{s} Inc", AssetClass.EQUITY) for s in SYMBOLS]
        await desk.market.load_bulk(session, source="bench", infos=infos)
    traders = []
    for index in range(accounts):
        account_id = (await desk.trading_accounts.open(user, f"Bench {index}", risk=LOOSE))["id"]
        async with desk.db.session() as session:
            account = await session.get(TradingAccount, account_id)
        assert account is not None
        broker = await desk.brokers(account)
        assert isinstance(broker, PaperBroker)
        traders.append(Trader(desk, user, account_id, broker))
    return desk, traders


async def sequential(
    folder: Path, database_url: str | None, profile: cProfile.Profile | None
) -> tuple[list[float], float, float]:
    """Per-order milliseconds of MEASURED orders one after another, their wall time in seconds, and the CPU
    time (this process, all threads) in seconds."""
    desk, (trader,) = await open_desk(folder, database_url, 1)
    try:
        for _ in range(WARMUP):
            await trader.order()
        if profile is not None:
            profile.enable()
        started, cpu = time.perf_counter(), time.process_time()
        timings = [await trader.order() for _ in range(MEASURED)]
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profile is not None:
            profile.disable()
        return timings, wall, cpu
    finally:
        await desk.stop()


async def concurrent(folder: Path) -> float:
    """Orders per second with CONCURRENT accounts trading at once on SQLite."""
    desk, traders = await open_desk(folder, None, CONCURRENT)
    per_account = MEASURED // CONCURRENT
    try:

        async def run(trader: Trader, orders: int) -> None:
            for _ in range(orders):
                await trader.order()

        await asyncio.gather(*(run(t, WARMUP // CONCURRENT) for t in traders))
        started = time.perf_counter()
        await asyncio.gather(*(run(t, per_account) for t in traders))
        return per_account * CONCURRENT / (time.perf_counter() - started)
    finally:
        await desk.stop()


async def with_feed(folder: Path) -> tuple[float, float]:
    """Orders per second through the desk as it runs (`orders_per_s_with_feed` in the module docstring), and
    the orders filled per unit of work in the busiest feed step."""
    desk, traders = await open_desk(folder, None, CONCURRENT)
    clock = desk.clock
    assert isinstance(clock, SimClock)
    per_account = FEED_ORDERS // CONCURRENT
    placed = [0] * CONCURRENT
    filled = 0
    largest = 0

    async def client(index: int, trader: Trader, orders: int) -> None:
        for _ in range(orders):
            number = trader.placed
            trader.placed += 1
            symbol = SYMBOLS[number % len(SYMBOLS)]
            side = Side.BUY if (number // len(SYMBOLS)) % 2 == 0 else Side.SELL
            command = SubmitOrder(f"feed-{number}", trader.account_id, symbol, side, Decimal(1))
            view = await desk.orders.submit(trader.user, command)
            if view.status != "accepted":
                raise SystemExit(f"order {command.client_order_id} was {view.status} ({view.reason})")
            placed[index] += 1
            await asyncio.sleep(0)  # the next order is another request: the loop runs what else is due (the feed)

    async def feed(total: int) -> None:
        nonlocal filled, largest
        while filled < total:
            await asyncio.sleep(FEED_INTERVAL_S)
            clock.advance(timedelta(milliseconds=FEED_INTERVAL_S * 1000))
            await desk.quotes.publish([Quote(s, clock.now(), PRICE, volume=1_000_000) for s in SYMBOLS])
            made = await desk.paper_feed.step()
            filled += made
            largest = max(largest, made)

    try:
        warm = [client(i, t, WARMUP // CONCURRENT) for i, t in enumerate(traders)]
        await asyncio.gather(feed(WARMUP // CONCURRENT * CONCURRENT), *warm)
        filled = largest = 0
        started = time.perf_counter()
        await asyncio.gather(
            feed(per_account * CONCURRENT), *(client(i, t, per_account) for i, t in enumerate(traders))
        )
        elapsed = time.perf_counter() - started
        return per_account * CONCURRENT / elapsed, largest / (CONCURRENT * len(SYMBOLS))
    finally:
        await desk.stop()


def p99(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=100)[-1]


def postgres_up() -> bool:
    try:
        with socket.create_connection(PG, timeout=1):
            return True
    except OSError:
        return False


async def on_postgres() -> list[float] | None:
    if not postgres_up():
        print(
            f"bench_order_path: PostgreSQL is not running at {PG[0]}:{PG[1]}; its figures are skipped", file=sys.stderr
        )
        return None
    name = f"marketdesk_bench_{os.getpid()}"
    admin = create_engine(f"postgresql+psycopg://{PG[0]}:{PG[1]}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-order-pg-") as folder:
            timings, _, _ = await sequential(Path(folder), f"postgresql://{PG[0]}:{PG[1]}/{name}", None)
        return timings
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def main(profile: bool) -> None:
    profiler = cProfile.Profile() if profile else None
    with tempfile.TemporaryDirectory(prefix="bench-order-") as folder:
        timings, wall, cpu = await sequential(Path(folder), None, profiler)
    tenth = MEASURED // 10
    print(
        f"bench_order_path: SQLite p50 of the first {tenth} measured orders {statistics.median(timings[:tenth]):.2f} ms, "
        f"of the last {tenth} {statistics.median(timings[-tenth:]):.2f} ms",
        file=sys.stderr,
    )
    emit("order_path_p50_ms", statistics.median(timings), "ms")
    emit("order_path_p99_ms", p99(timings), "ms")
    emit("order_path_cpu_ms", cpu * 1000 / MEASURED, "ms")
    with tempfile.TemporaryDirectory(prefix="bench-order-aiosqlite-") as folder:
        baseline, _, _ = await sequential(Path(folder), f"sqlite+aiosqlite:///{folder}/marketdesk.db", None)
    emit("order_path_aiosqlite_p50_ms", statistics.median(baseline), "ms")
    emit("order_path_aiosqlite_p99_ms", p99(baseline), "ms")
    pg = await on_postgres()
    if pg is not None:
        emit("order_path_pg_p50_ms", statistics.median(pg), "ms")
        emit("order_path_pg_p99_ms", p99(pg), "ms")
    emit("orders_per_s", MEASURED / wall, "orders/s")
    with tempfile.TemporaryDirectory(prefix="bench-order-many-") as folder:
        emit("orders_per_s_concurrent", await concurrent(Path(folder)), "orders/s")
    with tempfile.TemporaryDirectory(prefix="bench-order-feed-") as folder:
        rate, batch = await with_feed(Path(folder))
    emit("orders_per_s_with_feed", rate, "orders/s")
    emit("feed_orders_per_fill_unit", batch, "orders")
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(40)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Benchmark the order path (submit → risk → compliance → fill).")
    parser.add_argument("--profile", action="store_true", help="cProfile the SQLite run (to stderr)")
    asyncio.run(main(parser.parse_args().profile))
