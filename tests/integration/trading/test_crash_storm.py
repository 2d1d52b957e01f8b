"""Kill -9 storm: a desk placing a seeded storm of market orders at the paper venue is SIGKILLed at 20 points,
restarted each time (`Desk.start` recovers and reconciles), and then run to completion. After every restart
and at the end, nothing is lost or doubled and the books agree exactly:

- every order the worker started is in the desk's `orders` exactly once, and no other;
- every one of them is at the paper venue exactly once, under the broker id the desk recorded, in the same
  status with the same filled quantity; the paper broker's own view (its API, from memory) equals its tables;
- the desk's fills are the venue's fills (same ids, same quantities and prices), and each fill is of the order
  that was asked for (symbol, side, quantity from the seeded sequence);
- the desk's positions equal the venue's exactly (Decimal quantity and average price), and both equal the sum
  of the fills; at the end, the sum of every order of the sequence;
- the venue's cash is the opening cash less buys (qty × price + commission) plus sells (qty × price −
  commission), exactly;
- reconciliation never had to correct the desk's books (no findings), and each order has one `intent` event.

The kills land where a crash hurts (the worker pauses at the K-th passage of a point when told, so a kill lands
in that window; see storm_worker.py): before the outbox commit, between the outbox commit and the venue,
between the venue's writes and the desk's record of them (of the order, and of its fills), during start-up
(including a recovery's own resubmission) and at seeded random moments. Where each kill landed is read back
from the database, not assumed, and printed.

The storm runs twice. `joined` is the desk's own way with its paper venue: placing an order (the order, the
venue's acceptance, the desk's record of it) is one unit of work, and so is a fill at the venue and on the
desk's books (`OrderService.with_venue`), so a kill anywhere in between finds nothing half done. `separate`
has the venue commit on its own, as a remote broker does: the outbox commits before the venue is called, and
kills leave the order in the outbox only, or the venue ahead of the desk, for recovery and the fill path to
make good.

Below the storm, two regressions found while building it: a venue refusing an order that recovery resubmits,
and a cancel that crosses a fill.
"""

from __future__ import annotations

import json
import os
import queue
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import storm_worker
from storm_worker import client_id, order_spec

from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.db import Database
from marketdesk.desk import Desk, build_desk
from marketdesk.marketdata.port import Quote
from marketdesk.trading.activity import Side
from marketdesk.trading.broker import Broker, BrokerOrder
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.orders import SubmitOrder, TimeInForce
from marketdesk.trading.paper import PaperBroker
from marketdesk.trading.service import OrderService
from support.auth import PASSWORD
from support.fakes import FakeSource
from support.servers import server_env

SEED = 20261120
WORKER = Path(storm_worker.__file__)
TESTS = Path(__file__).resolve().parents[2]
PAUSE_MS = 400  # long enough that a kill sent on seeing the point lands inside the window it opens
LINE_TIMEOUT_S = 90.0  # the first line waits for the desk's imports (seconds on a loaded machine)
FINAL_ORDERS = 40  # the last run places this many more and runs to completion
SAID = re.compile(r"[RYSKAVFXD](?: .*)?")  # what a desk process says (storm_worker.py); its log lines are not

# where a crash can leave the books, as read back from the database after a kill
BEFORE_OUTBOX = "the order was not yet committed at the desk (deciding)"
OUTBOX_ONLY = "outbox committed, venue not yet called"
VENUE_UNTOLD = "venue placed it, desk not yet told"
FILL_UNTOLD = "venue filled it, desk not yet told"
AGREE = "books agree"


@dataclass(frozen=True)
class Kill:
    kind: str  # anywhere, startup, outbox, venue, fill, recovery
    delay_s: float = 0.0  # anywhere: how long after the go to kill; startup: the fraction of a start-up's time
    pause: str | None = None  # POINT:K:MS for the worker; the kill is sent on the K-th POINT line


def kill_plan(rng: random.Random) -> list[Kill]:
    """Twenty kills, seeded: three outbox kills each followed by a kill during the recovery that resubmits the
    order, one more outbox kill, three in each of the venue windows, five at random moments of the storm and
    two at random moments of `Desk.start`."""

    def at(point: str, kind: str, most: int = 8) -> Kill:
        return Kill(kind, pause=f"{point}:{rng.randint(1, most)}:{PAUSE_MS}")

    units: list[list[Kill]] = [[at("A", "outbox"), Kill("recovery", pause=f"V:1:{PAUSE_MS}")] for _ in range(3)]
    units += [[at("A", "outbox")]]
    units += [[at("V", "venue")] for _ in range(3)] + [[at("F", "fill")] for _ in range(3)]
    units += [[Kill("anywhere", delay_s=rng.uniform(0.02, 0.8))] for _ in range(5)]
    units += [[Kill("startup", delay_s=rng.uniform(0.0, 1.0))] for _ in range(2)]
    rng.shuffle(units)
    return [kill for unit in units for kill in unit]


# ---- the worker -------------------------------------------------------------------------------------------


class Zygote:
    """storm_worker.py `serve`: forks a desk process per `run` and reports its end. Lines arrive on a queue."""

    def __init__(self, state_dir: Path, log_path: Path) -> None:
        self.state_dir = state_dir
        self.log_path = log_path
        self.lines: queue.Queue[tuple[float, str] | None] = queue.Queue()
        env = server_env({"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])})
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own helper script
                [sys.executable, str(WORKER), "serve", str(state_dir)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, cwd=state_dir.parent, text=True,
            )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()
        self.child: int | None = None
        self.said: list[str] = []  # the current child's lines
        self.started_at: dict[str, float] = {}  # when the current child said R and Y
        self.venue = "joined"  # the paper venue's mode (the fixture's parameter)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))
        self.lines.put(None)

    def next_line(self, timeout_s: float = LINE_TIMEOUT_S) -> str:
        try:
            item = self.lines.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"the storm worker said nothing for {timeout_s:.0f} s\n{self.log_tail()}") from None
        if item is None:
            raise AssertionError(f"the storm worker exited ({self.process.poll()})\n{self.log_tail()}")
        at, line = item
        if line in {"R", "Y"}:
            self.started_at[line] = at
        return line

    def wait_for(self, wanted: Callable[[str], bool]) -> str:
        """Lines until one is `wanted`; a child that ends on its own first fails the test with its stderr."""
        while True:
            line = self.next_line()
            if line.startswith("E ") and not wanted(line):
                raise AssertionError(f"the desk process ended on its own ({line}); its stderr:\n{self.log_tail()}")
            if self.child is not None and SAID.fullmatch(line):
                self.said.append(line)
            if wanted(line):
                return line

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def start(self, command: str) -> int:
        self.send(command)
        self.child = int(self.wait_for(lambda line: line.startswith("P ")).split()[1])
        self.said = []
        self.started_at = {}
        return self.child

    def go(self) -> None:
        assert self.child is not None
        os.kill(self.child, signal.SIGUSR1)

    def kill(self) -> list[str]:
        """SIGKILL the desk process; what it said in its life (all of it: it is dead before the E line)."""
        assert self.child is not None
        os.kill(self.child, signal.SIGKILL)
        end = self.wait_for(lambda line: line.startswith("E "))
        assert end == f"E {self.child} -9", f"the desk process was not killed but ended with {end}\n{self.log_tail()}"
        self.child = None
        return self.said

    def finish(self) -> None:
        end = self.wait_for(lambda line: line.startswith("E "))
        assert end == f"E {self.child} 0", f"the last run ended with {end}\n{self.log_tail()}"
        self.child = None

    def close(self) -> None:
        if self.child is not None:
            os.kill(self.child, signal.SIGKILL)
        if self.process.poll() is None:
            self.send("quit")
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])


@pytest.fixture(params=["joined", "separate"])
def zygote(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Zygote]:
    """The worker, set up with its paper venue `joined` to the desk's units of work (the desk's way) or
    `separate` (committing on its own, as a remote broker does; see storm_worker.SpeakingPaperBroker)."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    worker = Zygote(state_dir, tmp_path / "worker.log")
    worker.venue = request.param
    try:
        worker.wait_for(lambda line: line == "Z")
        worker.start(f"setup {SEED} {request.param}")
        worker.finish()
        yield worker
    finally:
        worker.close()


# ---- the books, read straight from the database -------------------------------------------------------------


@dataclass
class Books:
    desk_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    desk_order_ids: Counter[str] = field(default_factory=Counter)
    intents: Counter[str] = field(default_factory=Counter)
    desk_fills: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    desk_positions: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    findings: list[tuple[str, str, str]] = field(default_factory=list)
    venue_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    venue_order_ids: Counter[str] = field(default_factory=Counter)
    venue_fills: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    venue_positions: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    opening_cash: Decimal = Decimal(0)
    cash: Decimal = Decimal(0)


def read_books(database: Path) -> Books:
    books = Books()
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT client_order_id, id, status, broker_order_id, filled_qty, qty, reason FROM orders"
        ).fetchall()
        for cid, order_id, status, broker_id, filled, qty, reason in rows:
            books.desk_order_ids[cid] += 1
            books.desk_orders[cid] = {
                "id": order_id, "status": status, "broker_order_id": broker_id, "filled_qty": Decimal(filled),
                "qty": Decimal(qty), "reason": reason,
            }  # fmt: skip
        events = (
            "SELECT o.client_order_id FROM order_events e JOIN orders o ON o.id = e.order_id WHERE e.kind = 'intent'"
        )
        books.intents.update(cid for (cid,) in connection.execute(events))
        fills = connection.execute(
            "SELECT f.fill_id, o.client_order_id, f.symbol, f.side, f.qty, f.price, f.commission "
            "FROM fills f JOIN orders o ON o.id = f.order_id"
        )
        for fill_id, cid, symbol, side, qty, price, commission in fills:
            books.desk_fills[fill_id] = (cid, symbol, side, Decimal(qty), Decimal(price), Decimal(commission))
        for symbol, qty, average in connection.execute("SELECT symbol, qty, average_price FROM positions"):
            if Decimal(qty) != 0:
                books.desk_positions[symbol] = (Decimal(qty), Decimal(average))
        books.findings = connection.execute(
            "SELECT subject, desk_value, broker_value FROM reconciliation_findings"
        ).fetchall()
        for cid, order_id, status, filled in connection.execute(
            "SELECT client_order_id, id, status, filled_qty FROM paper_orders"
        ):
            books.venue_order_ids[cid] += 1
            books.venue_orders[cid] = {"id": order_id, "status": status, "filled_qty": Decimal(filled)}
        for fill_id, cid, symbol, side, qty, price, commission in connection.execute(
            "SELECT id, client_order_id, symbol, side, qty, price, commission FROM paper_fills"
        ):
            books.venue_fills[fill_id] = (cid, symbol, side, Decimal(qty), Decimal(price), Decimal(commission))
        for symbol, qty, average in connection.execute("SELECT symbol, qty, average_price FROM paper_positions"):
            books.venue_positions[symbol] = (Decimal(qty), Decimal(average))
        accounts = connection.execute("SELECT opening_cash, cash FROM paper_accounts").fetchall()
        assert len(accounts) == 1, accounts
        books.opening_cash, books.cash = (Decimal(v) for v in accounts[0])
    finally:
        connection.close()
    return books


def last_started(state_dir: Path) -> int | None:
    return storm_worker.last_started(state_dir / "progress")


def landed(books: Books, started: int | None) -> str:
    """Where a kill left the books."""
    if started is not None and client_id(started) not in books.desk_orders:
        return BEFORE_OUTBOX
    stuck = [c for c, o in books.desk_orders.items() if o["status"] == "new" and o["broker_order_id"] is None]
    if any(c not in books.venue_orders for c in stuck):
        return OUTBOX_ONLY
    if stuck:
        return VENUE_UNTOLD
    if set(books.venue_fills) - set(books.desk_fills):
        return FILL_UNTOLD
    return AGREE


def check_books(books: Books, checkpoint: dict[str, Any], started: int | None, *, final: bool) -> None:
    """Every invariant of the module docstring; `final`: every order has also filled completely."""
    expected = Counter(client_id(n) for n in range(started + 1)) if started is not None else Counter()
    assert books.desk_order_ids == expected, (
        f"desk orders lost or doubled: {expected - books.desk_order_ids} missing, {books.desk_order_ids - expected} extra"
    )
    denied = {c: o["reason"] for c, o in books.desk_orders.items() if o["status"] == "rejected"}
    assert not denied, f"orders refused (the storm's limits allow every order): {denied}"
    assert books.intents == expected, "each order has exactly one intent event"
    assert books.venue_order_ids == expected, (
        f"venue orders lost or doubled: {expected - books.venue_order_ids} missing, {books.venue_order_ids - expected} extra"
    )
    for cid, ours in books.desk_orders.items():
        theirs = books.venue_orders[cid]
        assert (ours["broker_order_id"], ours["status"], ours["filled_qty"]) == (
            theirs["id"], theirs["status"], theirs["filled_qty"],
        ), f"{cid}: desk {ours} against venue {theirs}"  # fmt: skip
    assert books.desk_fills == books.venue_fills, (
        f"fills differ: desk only {set(books.desk_fills) - set(books.venue_fills)}, "
        f"venue only {set(books.venue_fills) - set(books.desk_fills)}"
    )
    filled: Counter[str] = Counter()
    positions: dict[str, Decimal] = {}
    for cid, symbol, side, qty, _price, _commission in books.venue_fills.values():
        spec = order_spec(SEED, int(cid.removeprefix("storm-")))
        assert (symbol, side) == (spec.symbol, spec.side.value), f"a fill of {cid} is not the order asked for"
        filled[cid] += qty
        positions[symbol] = positions.get(symbol, Decimal(0)) + spec.side.sign * qty
    for cid, order in books.desk_orders.items():
        assert order["qty"] == order_spec(SEED, int(cid.removeprefix("storm-"))).qty, f"{cid} is not the order asked"
        assert filled[cid] == order["filled_qty"] <= order["qty"], f"{cid}: fills {filled[cid]} against {order}"
        if final:
            assert (order["status"], order["filled_qty"]) == ("filled", order["qty"]), f"{cid} did not fill: {order}"
    positions = {s: q for s, q in positions.items() if q != 0}
    assert {s: q for s, (q, _) in books.venue_positions.items()} == positions, "venue positions are not its fills"
    assert books.desk_positions == books.venue_positions, "desk and venue positions differ"
    if final:
        asked: dict[str, Decimal] = {}
        for n in range(started + 1 if started is not None else 0):
            spec = order_spec(SEED, n)
            asked[spec.symbol] = asked.get(spec.symbol, Decimal(0)) + spec.signed_qty
        assert positions == {s: q for s, q in asked.items() if q != 0}, "positions are not the sum of the storm"
    cash = books.opening_cash
    for _cid, _symbol, side, qty, price, commission in books.venue_fills.values():
        cash += -(qty * price + commission) if side == "buy" else qty * price - commission
    assert books.cash == cash, f"venue cash {books.cash} but its fills make it {cash}"
    assert books.findings == [], f"reconciliation had to correct the desk's books: {books.findings}"
    # the paper broker's own answers (from memory) equal its tables
    memory_orders = {
        c: {"id": o["id"], "status": o["status"], "filled_qty": Decimal(o["filled_qty"])}
        for c, o in checkpoint["orders"].items()
    }
    assert memory_orders == books.venue_orders, "PaperBroker.orders() differs from paper_orders"
    memory_fills = {
        f: (c, s, side, Decimal(q), Decimal(p), Decimal(m)) for f, (c, s, side, q, p, m) in checkpoint["fills"].items()
    }
    assert memory_fills == books.venue_fills, "PaperBroker.fills() differs from paper_fills"
    memory_positions = {s: (Decimal(q), Decimal(a)) for s, (q, a) in checkpoint["positions"].items()}
    assert memory_positions == books.venue_positions, "PaperBroker.positions() differs from paper_positions"
    assert Decimal(checkpoint["cash"]) == books.cash, "PaperBroker.account().cash differs from paper_accounts"


# ---- the storm ----------------------------------------------------------------------------------------------


def check_now(zygote: Zygote, started: int | None, *, final: bool = False) -> Books:
    state_dir = zygote.state_dir
    books = read_books(state_dir / "desk.db")
    check_books(books, json.loads((state_dir / "checkpoint.json").read_text()), started, final=final)
    return books


def ready_and_checked(zygote: Zygote) -> None:
    """Wait for the restarted desk to say it is ready (recovered, the last order retried), then check its books."""
    zygote.wait_for(lambda line: line == "Y")
    check_now(zygote, last_started(zygote.state_dir))


def nth(point: str, count: int) -> Callable[[str], bool]:
    seen = 0

    def wanted(line: str) -> bool:
        nonlocal seen
        if line.startswith(f"{point} "):
            seen += 1
        return seen == count

    return wanted


def storm_once(zygote: Zygote, kill: Kill, startup_s: float) -> tuple[bool, str]:
    """One life of the desk: start it (recovery), check its books, let it trade, kill it. Returns whether the
    storm had begun (else the kill fell in start-up) and the last thing the desk said."""
    zygote.start(f"run 1000000 {kill.pause or ''}".strip())
    trading = False
    if kill.kind == "startup":  # a moment of `Desk.start` (migrations, recovery, reconciliation) and the retry
        zygote.wait_for(lambda line: line == "R")
        time.sleep(kill.delay_s * startup_s)
    elif kill.kind == "recovery":
        line = zygote.wait_for(lambda line: line == "Y" or line.startswith("V "))
        if line == "Y":  # nothing was left to resubmit: the pause waits at the storm's first venue commit instead
            check_now(zygote, last_started(zygote.state_dir))
            zygote.go()
            trading = True
            zygote.wait_for(lambda line: line.startswith("V "))
    else:
        ready_and_checked(zygote)
        zygote.go()
        trading = True
        if kill.kind == "anywhere":
            time.sleep(kill.delay_s)
        else:
            assert kill.pause is not None
            point, count, _ = kill.pause.split(":")
            zygote.wait_for(nth(point, int(count)))
    said = zygote.kill()
    return trading, said[-1] if said else "(nothing)"


@pytest.mark.slow
def test_twenty_sigkills_lose_and_double_nothing_and_the_books_agree(zygote: Zygote) -> None:
    plan = kill_plan(random.Random(SEED))
    assert len(plan) == 20
    landings: Counter[str] = Counter()
    log = []
    startup_s = 0.3  # how long the last start-up took, from R to Y (measured as the storm goes)
    for number, kill in enumerate(plan, 1):
        trading, last_said = storm_once(zygote, kill, startup_s)
        if {"R", "Y"} <= zygote.started_at.keys():
            startup_s = zygote.started_at["Y"] - zygote.started_at["R"]
        books = read_books(zygote.state_dir / "desk.db")
        where = landed(books, last_started(zygote.state_dir))
        phase = "storm" if trading else "start-up" if "Y" not in zygote.said else "ready, before the storm"
        landings[f"{phase}: {where}"] += 1
        log.append(
            f"kill {number:2d} {kill.kind:8s} {kill.pause or f'{kill.delay_s:.2f}':12s} in {phase:8s} after "
            f"order {last_started(zygote.state_dir)}: {where} (last said {last_said!r})"
        )
    started = last_started(zygote.state_dir)
    until = (started or 0) + 1 + FINAL_ORDERS
    zygote.start(f"run {until}")
    ready_and_checked(zygote)
    zygote.go()
    zygote.wait_for(lambda line: line == "D")
    zygote.finish()
    assert last_started(zygote.state_dir) == until - 1
    books = check_now(zygote, until - 1, final=True)
    print("\n".join(["", *log, f"{until} orders, {len(books.venue_fills)} fills; kills by landing:"]))
    for where, count in sorted(landings.items()):
        print(f"  {count:2d}  {where}")
    # the harness itself: the kills must have landed in each window where a crash can hurt
    if zygote.venue == "separate":
        for window in (OUTBOX_ONLY, VENUE_UNTOLD, FILL_UNTOLD):
            assert landings[f"storm: {window}"] >= 1, f"no kill landed in '{window}': {dict(landings)}"
    else:  # placing an order is one unit of work, and so is a fill: a kill at A, V or F finds nothing half done
        placing = landings[f"storm: {BEFORE_OUTBOX}"]
        assert placing >= 7, f"the 4 kills at A and 3 at V must find the order nowhere: {dict(landings)}"
        for window in (OUTBOX_ONLY, VENUE_UNTOLD, FILL_UNTOLD):
            assert landings[f"storm: {window}"] == 0, f"a kill landed in '{window}': {dict(landings)}"
    assert sum(c for w, c in landings.items() if w.startswith("start-up")) >= 1, f"no kill during start-up: {landings}"


# ---- recovery when the venue refuses the resubmission ------------------------------------------------------


class ProcessDied(BaseException):
    """The process ends here (a kill -9 between the outbox commit and the venue's answer)."""


class DiesAtTheVenue(PaperBroker):
    """The paper broker of a process that dies as it sends an order. It says its books are elsewhere, as a
    remote broker's are, so the outbox commits before it is called (the paper venue of the desk's own
    database would place the order in the same unit of work, and a death there would leave nothing)."""

    @property
    def database(self) -> None:
        return None

    async def submit(self, order: SubmitOrder) -> BrokerOrder:
        raise ProcessDied


async def test_an_order_the_venue_refuses_at_recovery_is_rejected_and_the_account_still_reconciles(
    tmp_path: Path, clock: SimClock, database: Database
) -> None:
    # An IOC order is committed to the outbox at 15:59:30 New York and the process dies before the venue has
    # it; the desk restarts after the close, when the venue refuses IOC orders. Recovery must record the
    # refusal as it would at submission (rejected, with the venue's reason) and go on to reconcile, not stop
    # on the refusal at every start with the order stuck in `new`.
    settings = load_settings(data_dir=tmp_path, market_data=["files"], database_url=database.url)
    desk = build_desk(settings, clock, source=FakeSource(clock))
    try:
        await _refused_at_recovery(desk, clock)
    finally:
        await desk.stop()


async def _refused_at_recovery(desk: Desk, clock: SimClock) -> None:
    clock.set(datetime(2026, 11, 20, 20, 59, 30, tzinfo=UTC))
    async with desk.db.session() as session:
        created = await desk.accounts.create_user(session, "late@example.com", PASSWORD, Role.ADMIN)
    user = CurrentUser(created.id, created.email, Role.ADMIN, session_id="test")
    account_id = (await desk.trading_accounts.open(user, "Paper"))["id"]
    await desk.quotes.publish([Quote("AAA", clock.now(), Decimal("100.00"), volume=1000)])

    async def dying(account: TradingAccount) -> Broker:
        return DiesAtTheVenue(desk.db, clock, account_id=account.id, calendar=desk.brokers.paper_calendar)

    before_the_crash = OrderService(desk.db, clock, desk.calendar, desk.audit, dying, desk.orders.market)
    ioc = SubmitOrder("late-ioc", account_id, "AAA", Side.BUY, Decimal(5), time_in_force=TimeInForce.IOC)
    with pytest.raises(ProcessDied):
        await before_the_crash.submit(user, ioc)
    assert [(o.status, o.broker_order_id) for o in await desk.orders.orders(user)] == [("new", None)]

    clock.set(datetime(2026, 11, 20, 21, 30, tzinfo=UTC))  # 16:30 New York: the restart, after the close
    async with desk.db.session() as session:
        account = await session.get(TradingAccount, account_id)
    assert account is not None
    problems = await desk.reconciler.start([account])

    assert problems == []
    (stored,) = await desk.orders.orders(user)
    assert stored.status == "rejected"
    assert stored.reason is not None and "the broker refused it" in stored.reason and "regular hours" in stored.reason
    broker = await desk.brokers(account)
    assert await broker.orders(open_only=False) == []


async def test_a_cancel_that_crosses_a_fill_counts_the_fill_once(
    tmp_path: Path, clock: SimClock, database: Database
) -> None:
    # The venue fills an order; before the feed has recorded the fill, the owner's cancel comes back with the
    # order filled (its totals, without the fill itself). When the fill is then recorded, the order must show
    # its 5 shares once, not 10.
    settings = load_settings(data_dir=tmp_path, market_data=["files"], database_url=database.url)
    desk = build_desk(settings, clock, source=FakeSource(clock))
    try:
        async with desk.db.session() as session:
            created = await desk.accounts.create_user(session, "quick@example.com", PASSWORD, Role.ADMIN)
        user = CurrentUser(created.id, created.email, Role.ADMIN, session_id="test")
        account_id = (await desk.trading_accounts.open(user, "Paper"))["id"]
        await desk.quotes.publish([Quote("AAA", clock.now(), Decimal("100.00"), volume=1000)])
        placed = await desk.orders.submit(user, SubmitOrder("quick-1", account_id, "AAA", Side.BUY, Decimal(5)))
        assert placed.status == "accepted"
        clock.advance(timedelta(seconds=1))
        (broker,) = desk.brokers.paper()
        fills = await broker.on_tick("AAA", Decimal("101.00"), clock.now())  # the venue fills …
        canceled = await desk.orders.cancel(user, placed.id)  # … the cancel crosses it …
        assert (canceled.status, canceled.filled_qty) == ("filled", Decimal(5))
        await desk.reconciler.record_fills(account_id, fills)  # … and the feed records the fill

        (order,) = await desk.orders.orders(user)
        assert (order.status, order.filled_qty, order.average_fill_price) == ("filled", Decimal(5), Decimal(101))
        positions = await desk.trading_accounts.positions(user, account_id)
        assert [(p.symbol, p.qty) for p in positions] == [("AAA", Decimal(5))]
    finally:
        await desk.stop()
