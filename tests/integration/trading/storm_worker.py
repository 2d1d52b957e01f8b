"""The process that `test_crash_storm.py` kills: a desk placing a seeded storm of market orders at the paper venue.

    python storm_worker.py setup STATE_DIR --seed 7 [--venue separate]   # once: database, user, paper account
    python storm_worker.py run STATE_DIR --go          # start the desk (recovery), then the storm
    python storm_worker.py serve STATE_DIR             # what the test runs (below)

`run` starts a real desk over STATE_DIR/desk.db (`Desk.start`: migrations, then `Reconciler.start`, which
recovers orders a crash left in flight and reconciles the account), retries the last order it had started
(the client's retry with its idempotency key), writes what the paper broker holds to STATE_DIR/checkpoint.json,
says `Y` and waits for SIGUSR1 (the test checks the books meanwhile). Then it places orders `storm-00000`,
`storm-00001`, … (each one's symbol, side and quantity a function of the seed and its number) through
`OrderService.submit`, and after each publishes a quote of its symbol and runs `PaperFeed.step`, the desk's own
fill path (venue fill → `Reconciler.record_fills` → `OrderService.apply_update`). Before each submission it
appends the order's number to STATE_DIR/progress (one write, so a kill leaves a whole line or none).

It says on stdout, one line each, where it is: `S n` before submitting order n, `K n` before its tick, and from
the paper broker `A id` (the desk has committed the order and calls the venue), `V id` (the venue has committed
it; the desk has not recorded the answer) and `F id` (the venue has committed fills; the desk has not recorded
them). `--pause POINT:K:MS` holds still for MS milliseconds at the K-th passage of POINT, so a kill can land in
that window. The code under test is the real desk; only the paper broker is a subclass that speaks and pauses
around its real methods.

`serve` imports everything once and then, for each `run UNTIL [PAUSE]` line on stdin, forks a child that does
`run` (saying `P pid` first) and reports how it ended (`E pid -9` when killed). A fork is a new process with
none of its predecessor's state, only the imported modules: importing the desk from source takes seconds on a
loaded two-core machine, and the test restarts it twenty times.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import random
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.clock import Clock
from marketdesk.config import load_settings
from marketdesk.db import upgrade
from marketdesk.desk import Desk, build_desk
from marketdesk.marketdata.port import Quote
from marketdesk.trading.activity import Side
from marketdesk.trading.broker import BrokerFill, BrokerOrder
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.orders import OrderType, SubmitOrder, TimeInForce
from marketdesk.trading.paper import PaperBroker
from marketdesk.trading.paper_ledger import AccountType

SYMBOLS = ("AAA", "BBB", "CCC")
BASE_PRICES = {"AAA": Decimal(100), "BBB": Decimal(50), "CCC": Decimal(20)}
SESSION_START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday, 10:00 in New York: the session is open
EMAIL = "storm@example.com"
PASSWORD = "violet trombone harbour 42"  # noqa: S105 (the storm's throwaway account)
# limits loose enough that every order of the storm is allowed: a denial would be a finding, not noise
RISK = {"max_position_pct": None, "max_orders_per_minute": None, "allow_short": True, "price_collar_pct": None}


# ---- the storm, as a pure function of the seed ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderSpec:
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal

    @property
    def signed_qty(self) -> Decimal:
        return self.side.sign * self.qty


def client_id(number: int) -> str:
    return f"storm-{number:05d}"


def order_spec(seed: int, number: int) -> OrderSpec:
    """Order `number` of the storm: the same every time it is asked for (that is what makes a retry the same
    order)."""
    rng = random.Random(f"{seed}:order:{number}")
    return OrderSpec(
        client_id(number), rng.choice(SYMBOLS), rng.choice((Side.BUY, Side.SELL)), Decimal(rng.randint(1, 20))
    )


def tick_price(seed: int, number: int, symbol: str) -> Decimal:
    """The price the tick after order `number` shows for `symbol`: within ±2% of its base, in cents."""
    rng = random.Random(f"{seed}:price:{number}:{symbol}")
    return (BASE_PRICES[symbol] * Decimal(10_000 + rng.randint(-200, 200)) / 10_000).quantize(Decimal("0.01"))


# ---- the process -------------------------------------------------------------------------------------------


class SessionClock:
    """The wall clock moved onto an open session: SESSION_START plus the time since `origin` (kept in the state
    file, so every restart continues the same day and time never goes back)."""

    def __init__(self, origin: datetime) -> None:
        self.offset = SESSION_START - origin

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class Signals:
    """One line on stdout per point passed (a single write, so a kill never leaves half a line), and a pause at
    the K-th passage of one point when asked."""

    def __init__(self, pause: tuple[str, int, float] | None) -> None:
        self.pause = pause
        self.passed: dict[str, int] = {}

    async def point(self, name: str, detail: object = "") -> None:
        say(f"{name} {detail}")
        count = self.passed[name] = self.passed.get(name, 0) + 1
        if self.pause is not None and self.pause[0] == name and self.pause[1] == count:
            await asyncio.sleep(self.pause[2])


class SpeakingPaperBroker(PaperBroker):
    """The real paper broker, saying when it passes the points a crash can fall between (see the module doc).

    `joined` (the desk's own way with its paper venue): the venue's writes join the desk's unit of work
    (`OrderService.with_venue`), so `V` and `F` fall inside one transaction with the desk's record. Not joined:
    the venue says its books are elsewhere, as a remote broker's are, and commits on its own, so a crash at `V`
    or `F` leaves the venue ahead of the desk, which recovery and the fill path must then make good."""

    def __init__(self, *args: Any, signals: Signals, joined: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signals = signals
        self.joined = joined

    @property
    def database(self) -> Any:
        return self.store.database if self.joined else None

    async def submit(self, order: SubmitOrder) -> BrokerOrder:
        await self.signals.point("A", order.client_order_id)
        placed = await super().submit(order)
        await self.signals.point("V", order.client_order_id)
        return placed

    async def on_tick(
        self,
        symbol: str,
        price: Decimal,
        time: datetime,
        volume: Decimal | int | None = None,
        *,
        bid: Decimal | None = None,
        ask: Decimal | None = None,
    ) -> list[BrokerFill]:
        fills = await super().on_tick(symbol, price, time, volume, bid=bid, ask=ask)
        if fills:
            await self.signals.point("F", ",".join(f.client_order_id for f in fills))
        return fills


def say(line: str) -> None:
    os.write(1, f"{line}\n".encode())


def make_desk(state_dir: Path, clock: Clock) -> Desk:
    from support.fakes import FakeSource

    settings = load_settings(
        data_dir=state_dir / "data",
        market_data=["files"],
        database_url=f"sqlite:///{state_dir / 'desk.db'}",
    )
    return build_desk(settings, clock, source=FakeSource(clock))


async def setup(state_dir: Path, seed: int, venue: str = "joined") -> None:
    """The database, the desk's user and its paper account; their ids and the venue's mode (`joined` or
    `separate`, see SpeakingPaperBroker) in STATE_DIR/state.json."""
    origin = datetime.now(UTC)
    desk = make_desk(state_dir, SessionClock(origin))
    await asyncio.to_thread(upgrade, desk.settings.effective_database_url)
    async with desk.db.session() as session:
        await desk.market.fetch(session, desk.source, [*SYMBOLS, "ETF1"], start=date(2025, 1, 1), end=date(2025, 3, 31))
        created = await desk.accounts.create_user(session, EMAIL, PASSWORD, Role.ADMIN)
    user = CurrentUser(created.id, created.email, Role.ADMIN, session_id="storm")
    account = await desk.trading_accounts.open(user, "Storm", risk=RISK)
    state = {
        "seed": seed, "origin": origin.isoformat(), "user_id": user.id, "account_id": account["id"], "venue": venue,
    }  # fmt: skip
    (state_dir / "state.json").write_text(json.dumps(state))
    await desk.db.dispose()


def last_started(progress: Path) -> int | None:
    if not progress.exists():
        return None
    lines = progress.read_text().split()
    return int(lines[-1]) if lines else None


async def run(state_dir: Path, until: int, pause: tuple[str, int, float] | None, *, go: bool = False) -> None:
    state = json.loads((state_dir / "state.json").read_text())
    seed = int(state["seed"])
    clock = SessionClock(datetime.fromisoformat(state["origin"]))
    desk = make_desk(state_dir, clock)
    async with desk.db.session() as session:
        account = await session.get(TradingAccount, state["account_id"])
    assert account is not None, "storm_worker setup has not run"
    signals = Signals(pause)
    # the desk's broker for the account, made as `Brokers` makes it, only speaking (see SpeakingPaperBroker)
    desk.brokers._brokers[account.id] = SpeakingPaperBroker(
        desk.db, clock, account_id=account.id, calendar=desk.brokers.paper_calendar,
        account_type=AccountType.MARGIN, signals=signals, joined=state.get("venue", "joined") == "joined",
    )  # fmt: skip
    user = CurrentUser(state["user_id"], EMAIL, Role.ADMIN, session_id="storm")
    say("R")
    await desk.start()  # migrations, then recovery and reconciliation of the account
    # the storm runs the desk's paper feed itself, a step after each order, so the books are still while the
    # test reads them; the feed's own loop would fill and record at moments of its choosing
    await desk.paper_feed.stop()
    volume = 1_000_000

    async def tick(number: int, symbol: str) -> None:
        nonlocal volume
        volume += 100
        quote = Quote(symbol, clock.now(), tick_price(seed, number, symbol), volume=volume, source="storm")
        await desk.quotes.publish([quote])
        await desk.paper_feed.step()

    async def submit(number: int) -> str:
        spec = order_spec(seed, number)
        order = SubmitOrder(
            client_order_id=spec.client_order_id, account_id=account.id, symbol=spec.symbol, side=spec.side,
            qty=spec.qty, order_type=OrderType.MARKET, time_in_force=TimeInForce.DAY,
        )  # fmt: skip
        return (await desk.orders.submit(user, order)).status

    for symbol in SYMBOLS:  # a new process has no quotes yet: risk and compliance need a price
        await desk.quotes.publish([Quote(symbol, clock.now(), BASE_PRICES[symbol], volume=volume, source="storm")])
    progress = state_dir / "progress"
    retry = last_started(progress)
    if retry is not None:
        await submit(retry)  # the client's retry of the order it was placing, under the same client_order_id
    started = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, started.set)
    if go:
        started.set()
    await write_checkpoint(desk, account, state_dir / "checkpoint.json")
    say("Y")
    await started.wait()
    number = 0 if retry is None else retry + 1
    descriptor = os.open(progress, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        while number < until:
            os.write(descriptor, f"{number}\n".encode())  # one write: a kill leaves a whole line or none
            await signals.point("S", number)
            status = await submit(number)
            if status == "rejected":
                say(f"X {number}")
            await signals.point("K", number)
            await tick(number, order_spec(seed, number).symbol)
            number += 1
        await settle(desk, account, lambda symbol: tick(number, symbol))
    finally:
        os.close(descriptor)
    await write_checkpoint(desk, account, state_dir / "checkpoint.json")
    say("D")
    await desk.stop()


async def settle(desk: Desk, account: TradingAccount, tick: Callable[[str], Any]) -> None:
    """Tick every symbol a working order waits on until none is left."""
    broker = await desk.brokers(account)
    assert isinstance(broker, PaperBroker)
    for _ in range(10):
        waiting = await broker.waiting_symbols()
        if not waiting:
            return
        for symbol in waiting:
            await tick(symbol)
    raise RuntimeError(f"orders still working after ten rounds of ticks: {await broker.waiting_symbols()}")


async def write_checkpoint(desk: Desk, account: TradingAccount, path: Path) -> None:
    """What the paper broker holds, through its own API (its memory, not its tables)."""
    broker = await desk.brokers(account)
    balances = await broker.account()
    checkpoint = {
        "orders": {
            o.client_order_id: {"id": o.broker_order_id, "status": o.status.value, "filled_qty": str(o.filled_qty)}
            for o in await broker.orders(open_only=False)
        },
        "fills": {
            f.fill_id: [f.client_order_id, f.symbol, f.side.value, str(f.qty), str(f.price), str(f.commission)]
            for f in await broker.fills()
        },
        "positions": {p.symbol: [str(p.qty), str(p.average_price)] for p in await broker.positions()},
        "cash": str(balances.cash),
    }
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(checkpoint))
    temporary.replace(path)


def parse_pause(text: str | None) -> tuple[str, int, float] | None:
    if not text:
        return None
    point, count, millis = text.split(":")
    return point, int(count), int(millis) / 1000


def serve(state_dir: Path) -> None:
    """Fork a child per command line on stdin (see the module doc); the children share only imported code."""
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "quit":
            return
        pid = os.fork()
        if pid == 0:  # the child: a desk process of its own
            code = 0
            try:
                if command == "setup":
                    asyncio.run(setup(state_dir, int(rest[0]), *rest[1:2]))
                else:
                    asyncio.run(run(state_dir, int(rest[0]), parse_pause(rest[1] if len(rest) > 1 else None)))
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        say(f"P {pid}")
        _, status = os.waitpid(pid, 0)
        say(f"E {pid} {-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["setup", "run", "serve"])
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--until", type=int, default=1_000_000, help="stop before this order number")
    parser.add_argument("--pause", help="POINT:K:MS, e.g. V:3:300")
    parser.add_argument("--go", action="store_true", help="start the storm without waiting for SIGUSR1")
    parser.add_argument("--venue", choices=["joined", "separate"], default="joined", help="setup: the venue's mode")
    args = parser.parse_args()
    if args.command == "setup":
        asyncio.run(setup(args.state_dir, args.seed, args.venue))
    elif args.command == "run":
        asyncio.run(run(args.state_dir, args.until, parse_pause(args.pause), go=args.go))
    else:
        warm_up()
        say("Z")
        serve(args.state_dir)


def warm_up() -> None:
    """Import what a desk imports only when it is built or started, so a forked child starts at once."""
    for module in WARM_MODULES:
        importlib.import_module(module)


WARM_MODULES = (
    "aiosqlite",
    "alembic.command",
    "alembic.runtime.migration",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "marketdesk.marketdata.files",
    "marketdesk.realtime.channels",
    "marketdesk.trading.accounts",
    "marketdesk.trading.adapters.alpaca",
    "marketdesk.trading.reconcile",
    "marketdesk.trading.venue",
    "support.fakes",
)


if __name__ == "__main__":
    main()
