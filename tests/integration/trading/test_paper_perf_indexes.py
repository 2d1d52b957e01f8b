"""The paper broker's indexes of its working orders stay true to the orders themselves: the orders per symbol
(`PaperStore.working_by_symbol`), the next expiry (`PaperStore.next_expiry`) and the buying-power check that
reads them (`PaperBroker._refusal`), after any sequence of submits, fills, cancels, replacements, expiries and a
rolled-back write. Each is compared with a plain recomputation from `PaperStore.working`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import Rejected
from marketdesk.trading.activity import OrderIntent, Side
from marketdesk.trading.orders import Bracket, OrderClass, OrderType, SubmitOrder, TimeInForce
from marketdesk.trading.paper import PaperBroker
from marketdesk.trading.paper_ledger import exposure_added, refusal
from support.databases import sqlite_copy

D = Decimal
ACCOUNT = "paper-perf"
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 10:00 New York
SYMBOLS = ("AAA", "BBB", "CCC")


def check_indexes(broker: PaperBroker) -> None:
    store = broker.store
    by_symbol: dict[str, list[str]] = {}
    for order_id, record in store.working.items():
        by_symbol.setdefault(record.request.symbol, []).append(order_id)
    assert {s: list(orders) for s, orders in store.working_by_symbol.items()} == by_symbol
    for orders in store.working_by_symbol.values():
        assert all(record is store.working[order_id] for order_id, record in orders.items())
    expiries = [r.working.expires_at for r in store.working.values() if r.working.expires_at is not None]
    assert store.next_expiry() == min(expiries, default=None)


def scanned_refusal(broker: PaperBroker, order: SubmitOrder, exclude: str | None = None) -> str | None:
    """The buying-power check as it read every working order for every order."""
    reserved = committed_sells = D(0)
    ledger = broker.store.ledger
    groups: set[str] = set()
    for record in broker.store.working.values():
        if record.id == exclude:
            continue
        if broker.links.in_group(record):
            root = record.parent_id or record.id
            if root in groups:
                continue
            groups.add(root)
        request = record.request
        if request.symbol == order.symbol and request.side is Side.SELL:
            committed_sells += record.working.remaining_qty
        price = broker._expected_price(request)
        if price is not None:
            reserved += exposure_added(ledger.qty(request.symbol), request.side, record.working.remaining_qty) * price
    intent = OrderIntent(order.symbol, order.side, order.qty, broker._expected_price(order))
    return refusal(
        ledger, intent, broker.store.prices, broker.policy, reserved=reserved, committed_sells=committed_sells
    )


def candidate(symbol: str, side: Side, qty: int, limit: int | None) -> SubmitOrder:
    return SubmitOrder(
        client_order_id="candidate", account_id=ACCOUNT, symbol=symbol, side=side, qty=D(qty),
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        limit_price=None if limit is None else D(limit),
    )  # fmt: skip


def check_refusals(broker: PaperBroker, symbol: str, limit: int | None) -> None:
    for qty in (1, 250, 700, 1200, 2500):  # from nothing to beyond the buying power, with open orders in between
        for side in Side:
            order = candidate(symbol, side, qty, limit)
            assert broker._refusal(order) == scanned_refusal(broker, order)
        for order_id in list(broker.store.working)[:3]:
            order = candidate(symbol, Side.SELL, qty, limit)
            assert broker._refusal(order, exclude=order_id) == scanned_refusal(broker, order, order_id)


submits = st.tuples(
    st.just("submit"),
    st.sampled_from(SYMBOLS),
    st.sampled_from(list(Side)),
    st.sampled_from([1, 10, 100, 400, 900]),  # shares: large ones come near the buying power, or beyond
    st.one_of(st.none(), st.integers(90, 110)),  # a limit price, or a market order
    st.sampled_from(["day", "gtc", "bracket", "oco", "extended"]),
)
ticks = st.tuples(st.just("tick"), st.sampled_from(SYMBOLS), st.integers(90, 110))
cancels = st.tuples(st.just("cancel"), st.integers(0, 30))
replaces = st.tuples(st.just("replace"), st.integers(0, 30), st.integers(90, 110))
waits = st.tuples(st.just("wait"), st.sampled_from([1, 60, 3 * 3600, 26 * 3600]))  # seconds: past a close, too
steps = st.lists(st.one_of(submits, submits, ticks, cancels, replaces, waits), min_size=1, max_size=40)


async def run_steps(broker: PaperBroker, clock: SimClock, path: list[tuple[Any, ...]]) -> None:
    placed: list[str] = []
    for number, step in enumerate(path):
        kind = step[0]
        try:
            if kind == "submit":
                _, symbol, side, qty, limit, flavour = step
                placed.append(
                    (await broker.submit(submitted(f"o{number}", symbol, side, qty, limit, flavour))).broker_order_id
                )
            elif kind == "tick":
                clock.advance(timedelta(seconds=1))
                await broker.on_tick(step[1], D(step[2]), clock.now())
            elif kind == "cancel" and placed:
                await broker.cancel(placed[step[1] % len(placed)])
            elif kind == "replace" and placed:
                order_id = placed[step[1] % len(placed)]
                # not an OCO's price: its stored take-profit keeps the old one, and a restart refuses the row
                if broker.store.orders[order_id].request.order_class is not OrderClass.OCO:
                    await broker.replace(order_id, limit_price=D(step[2]))
            elif kind == "wait":
                clock.advance(timedelta(seconds=step[1]))
                await broker.orders()
                now = clock.now()
                assert all(
                    r.working.expires_at is None or r.working.expires_at > now for r in broker.store.working.values()
                )
        except Rejected:
            pass
        check_indexes(broker)
        symbol = SYMBOLS[number % len(SYMBOLS)]
        check_refusals(broker, symbol, None if number % 2 else 100)


def submitted(client_order_id: str, symbol: str, side: Side, qty: int, limit: int | None, flavour: str) -> SubmitOrder:
    order_class, bracket = OrderClass.SIMPLE, None
    if flavour == "extended" and limit is None:
        limit = 95
    order_type = OrderType.MARKET if limit is None else OrderType.LIMIT
    limit_price = None if limit is None else D(limit)
    if flavour == "bracket":
        order_class = OrderClass.BRACKET
        offsets = (D(5), D(-5)) if side is Side.BUY else (D(-5), D(5))
        base = limit_price or D(100)
        bracket = Bracket(take_profit=base + offsets[0] * 2, stop_loss=base + offsets[1] * 2)
    elif flavour == "oco":  # an exit of what is held: a take-profit limit and a stop-loss
        order_class, order_type = OrderClass.OCO, OrderType.LIMIT
        up, down = D(120), D(80)
        limit_price, bracket = (
            (up, Bracket(take_profit=up, stop_loss=down))
            if side is Side.SELL
            else (down, Bracket(take_profit=down, stop_loss=up))
        )
    return SubmitOrder(
        client_order_id=client_order_id, account_id=ACCOUNT, symbol=symbol, side=side, qty=D(qty),
        order_type=order_type, limit_price=limit_price, order_class=order_class, bracket=bracket,
        time_in_force=TimeInForce.DAY if flavour in {"day", "extended"} else TimeInForce.GTC,
        extended_hours=flavour == "extended",  # a day limit that expires four hours after the close
    )  # fmt: skip


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=steps)
def test_working_order_indexes_match_the_working_orders_after_any_sequence(
    sqlite_template: Path, tmp_path: Path, path: list[tuple[Any, ...]]
) -> None:
    async def run() -> None:
        clock = SimClock(START)
        async with sqlite_copy(sqlite_template, tmp_path / f"perf-{abs(hash(tuple(path)))}.db") as db:
            broker = PaperBroker(db, clock, account_id=ACCOUNT)
            for symbol in SYMBOLS:
                await broker.on_tick(symbol, D(100), clock.now())
                await broker.submit(submitted(f"held-{symbol}", symbol, Side.BUY, 200, None, "gtc"))
            clock.advance(timedelta(seconds=1))
            for symbol in SYMBOLS:  # the prices move between 90 and 110: these orders rest
                await broker.on_tick(symbol, D(100), clock.now())
                await broker.submit(submitted(f"oco-{symbol}", symbol, Side.SELL, 100, None, "oco"))
                await broker.submit(submitted(f"late-{symbol}", symbol, Side.BUY, 10, 85, "extended"))
                for number in range(3):
                    await broker.submit(submitted(f"rest-buy-{symbol}{number}", symbol, Side.BUY, 100, 85, "gtc"))
                    await broker.submit(submitted(f"rest-sell-{symbol}{number}", symbol, Side.SELL, 50, 115, "gtc"))
            await run_steps(broker, clock, path)
            again = PaperBroker(db, clock, account_id=ACCOUNT)  # the indexes of a broker that loads the orders
            await again.orders()
            check_indexes(again)
            assert list(again.store.working) == sorted(broker.store.working, key=lambda i: broker.store.working[i].seq)

    asyncio.run(run())


async def test_a_rolled_back_unit_puts_the_indexes_back_with_the_orders(sqlite_db: Database) -> None:
    clock = SimClock(START)
    broker = PaperBroker(sqlite_db, clock, account_id=ACCOUNT)
    await broker.on_tick("AAA", D(100), clock.now())
    await broker.submit(submitted("gtc-1", "BBB", Side.BUY, 10, 95, "gtc"))
    with pytest.raises(RuntimeError):  # the venue's change is kept once written, and undone with the unit
        async with sqlite_db.unit():
            await broker.submit(submitted("day-0", "AAA", Side.BUY, 10, None, "day"))
            assert broker.store.next_expiry() is not None
            raise RuntimeError("the desk's own record failed")
    check_indexes(broker)
    assert broker.store.next_expiry() is None

    day = await broker.submit(submitted("day-1", "AAA", Side.BUY, 10, None, "day"))
    clock.advance(timedelta(seconds=1))
    with pytest.raises(RuntimeError):
        async with sqlite_db.unit():
            assert len(await broker.on_tick("AAA", D(101), clock.now())) == 1
            assert "AAA" not in broker.store.working_by_symbol
            raise RuntimeError("the desk's own record failed")
    assert list(broker.store.working_by_symbol["AAA"]) == [day.broker_order_id]
    check_indexes(broker)
    clock.set(datetime(2026, 11, 20, 21, 0, tzinfo=UTC))  # the close: the day order expires, the gtc one works on
    assert [o.client_order_id for o in await broker.orders()] == ["gtc-1"]
    check_indexes(broker)
    assert broker.store.next_expiry() is None
