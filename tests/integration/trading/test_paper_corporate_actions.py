"""Splits and dividends from the market data store reach the paper accounts (SQLite and PostgreSQL).

The desk's clock starts on Friday 2026-11-20 at 10:00 New York, when the account is opened; the actions below go
ex on Monday 2026-11-23 unless a test says otherwise, and the tests apply them before Monday's open.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from marketdesk.app import create_app
from marketdesk.cli import app as cli_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.desk import Desk
from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, Quote
from marketdesk.realtime.channels import private_channel
from marketdesk.trading.activity import Side
from marketdesk.trading.corporate_actions import APPLIED, CorporateActionsRun, effective_at
from marketdesk.trading.orders import OrderType, SubmitOrder, TimeInForce
from support.auth import api_desk, login, register_admin
from support.books import Books
from support.servers import free_port
from support.trading_cli import trade

D = Decimal
SPLIT, DIVIDEND = CorporateActionKind.SPLIT, CorporateActionKind.DIVIDEND
MONDAY = date(2026, 11, 23)
BEFORE_MONDAYS_OPEN = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 08:00 New York


@pytest.fixture
async def books(books: Books) -> Books:
    """The desk of conftest's `books`, with AAA's first trade at 100.00."""
    await books.tick("100.00")
    return books


async def buy(books: Books, client_order_id: str, qty: str, price: str) -> None:
    """A market buy of AAA, filled at the next tick's `price`."""
    order = SubmitOrder(client_order_id, books.account_id, "AAA", Side.BUY, D(qty))
    await books.desk.orders.submit(books.me, order)
    fills = await books.tick(price)
    assert [(f.qty, f.price) for f in fills] == [(D(qty), D(price))]


def store(books: Books, *actions: tuple[str, date, CorporateActionKind, str]) -> None:
    """Put actions in the desk's market data store, as `marketdesk data fetch` does."""
    books.desk.store.write_actions(
        CorporateAction(symbol, ex_date, kind, D(value), "test") for symbol, ex_date, kind, value in actions
    )


async def apply(books: Books) -> CorporateActionsRun:
    return await books.desk.corporate_actions.apply_due()


async def venue(books: Books) -> tuple[Decimal, dict[str, tuple[Decimal, Decimal]]]:
    """The paper venue's cash and its positions (quantity, average price)."""
    broker = await books.broker()
    positions = {p.symbol: (p.qty, p.average_price) for p in await broker.positions()}
    return (await broker.account()).cash, positions


async def test_a_two_for_one_split_doubles_both_books_halves_the_average_and_cancels_the_working_limit(
    books: Books,
) -> None:
    await buy(books, "buy-1", "10", "100.00")
    await buy(books, "buy-2", "10", "101.00")  # 20 held at (1000 + 1010) / 20 = 100.50
    resting = SubmitOrder(
        "rest-1", books.account_id, "AAA", Side.BUY, D(5), OrderType.LIMIT, TimeInForce.GTC, limit_price=D(95)
    )
    assert (await books.desk.orders.submit(books.me, resting)).status == "accepted"
    books.clock.set(BEFORE_MONDAYS_OPEN)
    store(books, ("AAA", MONDAY, SPLIT, "2"))
    subscription = await books.desk.bus.subscribe(private_channel("orders", books.me.id))

    run = await apply(books)

    assert [(a.symbol, a.kind, a.value, a.ex_date) for a in run.applied] == [("AAA", "split", D(2), MONDAY)]
    applied = run.applied[0]
    assert (applied.shares_before, applied.shares_after, applied.cash, applied.canceled_orders) == (
        D(20), D(40), D(0), 1,
    )  # fmt: skip
    assert applied.effective_at == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 09:30 New York (EST)
    assert (run.not_applied, run.problems) == ([], [])
    _, positions = await venue(books)
    assert positions == {"AAA": (D(40), D("50.25"))}  # 20 × 2 at 100.50 / 2
    desk_position = await books.position()
    assert desk_position is not None
    assert (desk_position.qty, desk_position.average_price) == (D(40), D("50.25"))
    assert (await books.orders())["rest-1"].status == "canceled"
    at_venue = await (await books.broker()).order(client_order_id="rest-1")
    assert at_venue is not None
    assert at_venue.status.value == "canceled"
    assert await books.desk.reconciler.reconcile(await books.account()) == []

    pushed = []
    while (message := await subscription.get(timeout_s=0.5)) is not None:
        pushed.append(message.data)
    await subscription.close()
    assert [(m["event"], m.get("order", {}).get("client_order_id")) for m in pushed] == [
        ("canceled", "rest-1"), ("corporate_action", None),
    ]  # fmt: skip
    assert pushed[1]["action"]["shares_after"] == "40"

    again = await apply(books)
    assert (again.applied, again.not_applied) == ([], [])
    assert (await venue(books))[1] == {"AAA": (D(40), D("50.25"))}
    desk_position = await books.position()
    assert desk_position is not None
    assert desk_position.qty == D(40)
    assert (await books.audit_actions()).count(APPLIED) == 1


async def test_a_dividend_credits_qty_times_amount_once_across_runs_and_a_restart(books: Books) -> None:
    await buy(books, "buy-1", "10", "100.00")
    cash_before, _ = await venue(books)
    assert cash_before == D("99000.00")  # 100,000 − 10 × 100.00, no commission
    books.clock.set(BEFORE_MONDAYS_OPEN)
    store(books, ("AAA", MONDAY, DIVIDEND, "0.24"))

    run = await apply(books)
    assert [(a.symbol, a.kind, a.shares_before, a.cash) for a in run.applied] == [("AAA", "dividend", D(10), D("2.40"))]
    assert (await venue(books))[0] == D("99002.40")  # 10 × 0.24 credited
    assert (await apply(books)).applied == []
    assert (await venue(books))[0] == D("99002.40")

    await books.restart()  # a new desk, so a new paper broker, on the same database
    assert (await apply(books)).applied == []
    cash, positions = await venue(books)
    assert (cash, positions) == (D("99002.40"), {"AAA": (D(10), D("100.00"))})
    assert (await books.audit_actions()).count(APPLIED) == 1


async def test_actions_before_the_account_opened_or_of_a_symbol_not_held_change_nothing(books: Books) -> None:
    await buy(books, "buy-1", "10", "100.00")
    books.clock.set(BEFORE_MONDAYS_OPEN)
    store(
        books,
        ("AAA", date(2026, 11, 19), SPLIT, "2"),  # the day before the account was opened
        ("AAA", date(2026, 11, 20), DIVIDEND, "0.50"),  # the day it was opened: the ex-date began before it
        ("BBB", MONDAY, SPLIT, "3"),  # never held
        ("BBB", MONDAY, DIVIDEND, "1.00"),
    )

    run = await apply(books)

    assert (run.applied, run.not_applied, run.problems) == ([], [], [])
    assert await venue(books) == (D("99000.00"), {"AAA": (D(10), D("100.00"))})
    desk_position = await books.position()
    assert desk_position is not None
    assert (desk_position.qty, desk_position.average_price) == (D(10), D("100.00"))
    assert APPLIED not in await books.audit_actions()


async def test_a_one_for_ten_reverse_split_leaves_a_fractional_position_as_the_paper_venue_allows(
    books: Books,
) -> None:
    await buy(books, "buy-1", "15", "100.00")
    books.clock.set(BEFORE_MONDAYS_OPEN)
    store(books, ("AAA", MONDAY, SPLIT, "0.1"))

    run = await apply(books)

    assert [(a.shares_before, a.shares_after) for a in run.applied] == [(D(15), D("1.5"))]
    assert (await venue(books))[1] == {"AAA": (D("1.5"), D(1000))}  # 15 × 0.1 at 100.00 / 0.1: no cash in lieu
    desk_position = await books.position()
    assert desk_position is not None
    assert (desk_position.qty, desk_position.average_price) == (D("1.5"), D(1000))
    assert await books.desk.reconciler.reconcile(await books.account()) == []


async def test_an_action_that_arrives_after_the_symbol_traded_again_is_held_back_with_the_reason(
    books: Books,
) -> None:
    await buy(books, "buy-1", "10", "100.00")
    books.clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # Monday 10:00 New York, the market open
    await buy(books, "buy-2", "5", "100.00")
    store(books, ("AAA", MONDAY, DIVIDEND, "0.24"))  # Monday's dividend reaches the store only now

    run = await apply(books)

    assert run.applied == []
    assert [(n.symbol, n.kind) for n in run.not_applied] == [("AAA", "dividend")]
    assert "10 held before it, 15 now" in run.not_applied[0].reason
    assert (await venue(books))[0] == D("98500.00")  # 100,000 − 15 × 100.00: nothing credited
    assert APPLIED not in await books.audit_actions()


async def test_shares_first_bought_on_the_ex_date_are_owed_nothing(books: Books) -> None:
    books.clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    await buy(books, "buy-1", "10", "100.00")
    store(books, ("AAA", MONDAY, DIVIDEND, "0.24"), ("AAA", MONDAY, SPLIT, "2"))

    run = await apply(books)

    assert (run.applied, run.not_applied) == ([], [])
    assert await venue(books) == (D("99000.00"), {"AAA": (D(10), D("100.00"))})


async def test_a_dividend_and_a_split_on_one_ex_date_pay_on_the_shares_held_before_the_split(books: Books) -> None:
    await buy(books, "buy-1", "10", "100.00")
    books.clock.set(BEFORE_MONDAYS_OPEN)
    store(books, ("AAA", MONDAY, SPLIT, "2"), ("AAA", MONDAY, DIVIDEND, "0.50"))

    run = await apply(books)

    assert [(a.kind, a.shares_before, a.shares_after, a.cash) for a in run.applied] == [
        ("dividend", D(10), D(10), D("5.00")), ("split", D(10), D(20), D(0)),
    ]  # fmt: skip
    assert await venue(books) == (D("99005.00"), {"AAA": (D(20), D(50))})  # 10 × 0.50; 10 × 2 at 100 / 2


async def test_the_desk_applies_what_is_due_at_start_up_and_again_as_each_new_york_day_begins(books: Books) -> None:
    await buy(books, "buy-1", "10", "100.00")
    books.clock.set(BEFORE_MONDAYS_OPEN)
    store(books, ("AAA", MONDAY, DIVIDEND, "0.24"), ("AAA", date(2026, 11, 24), DIVIDEND, "0.10"))
    applier = books.desk.corporate_actions

    await applier.start()  # start-up: Monday's dividend is due, Tuesday's not yet
    try:
        assert (await venue(books))[0] == D("99002.40")  # 10 × 0.24
        assert await applier.step() is None  # Monday's pass has run
        books.clock.set(datetime(2026, 11, 24, 5, 1, tzinfo=UTC))  # Tuesday 00:01 New York
        run = await applier.step()
    finally:
        await applier.stop()

    assert run is not None
    assert [(a.ex_date, a.cash) for a in run.applied] == [(date(2026, 11, 24), D("1.00"))]  # 10 × 0.10
    assert (await venue(books))[0] == D("99003.40")
    assert effective_at(date(2026, 11, 24)) == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


# ---- the command line, against the desk's API served in this process ------------------------------------------


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A CLI runner in an empty folder with no MARKETDESK_* settings from the environment (as tests/integration/cli)."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MARKETDESK_"):
            monkeypatch.delenv(key)
    return CliRunner()


@contextmanager
def serving(client: TestClient) -> Iterator[str]:
    """Serve the test client's app over HTTP on its own event loop (where the desk lives); yield the address."""
    port = free_port()
    config = uvicorn.Config(
        client.app, host="127.0.0.1", port=port, lifespan="off", log_config=None, ws="none", log_level="warning"
    )
    server = uvicorn.Server(config)
    assert client.portal is not None
    serving = client.portal.start_task_soon(server.serve)
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the in-process server did not start"
        assert not serving.done(), serving.exception()
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        serving.result(timeout=10)


def tick(client: TestClient, desk: Desk, price: str) -> int:
    """A live AAA quote one second on, shown to the paper venue; the number of fills made."""
    desk.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    quote = Quote(symbol="AAA", ts=desk.clock.now(), last=D(price), volume=1_000_000)
    assert client.portal is not None
    client.portal.call(desk.quotes.publish, [quote])
    return int(client.portal.call(desk.paper_feed.step))


def test_the_cli_applies_what_is_due_and_lists_only_what_it_applied(
    runner: CliRunner, tmp_path: Path, clock: SimClock, database: Database
) -> None:
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url)
    with TestClient(create_app(desk=desk, web=False)) as client:
        assert client.portal is not None
        client.portal.call(desk.paper_feed.stop)  # the test shows the venue each quote
        client.portal.call(desk.corporate_actions.stop)  # and applies the actions through the CLI only
        admin = register_admin(client)
        opened = client.post("/api/v1/accounts", json={"name": "Paper"}, headers=admin.headers)
        assert opened.status_code == 201, opened.text
        account_id = opened.json()["id"]
        tick(client, desk, "100.00")
        order = {"account_id": account_id, "symbol": "AAA", "side": "buy", "qty": "10"}
        assert client.post("/api/v1/orders", json=order, headers=admin.headers).status_code == 201
        assert tick(client, desk, "100.00") == 1
        clock.set(BEFORE_MONDAYS_OPEN)
        desk.store.write_actions([CorporateAction("AAA", MONDAY, DIVIDEND, D("0.24"), "test")])

        with serving(client) as url:
            token = login(client, admin.email, "admin").access_token  # the clock moved past the first token
            shown = runner.invoke(
                cli_app, ["trade", "corporate-actions", "--url", url, "--token", token], env={"COLUMNS": "200"}
            )
            assert shown.exit_code == 0, shown.stderr
            row = next(line for line in shown.stdout.splitlines() if "AAA" in line)
            assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
                "Paper",
                "AAA",
                "dividend 0.24 a share",
                "2026-11-23",
                "10",
                "10",
                "2.40",
                "0",
            ]

            code, again, err = trade(runner, url, token, "corporate-actions")
            assert (code, again) == (0, {"applied": [], "not_applied": [], "problems": []}), err
            nothing = runner.invoke(cli_app, ["trade", "corporate-actions", "--url", url, "--token", token])
            assert "nothing was due" in nothing.stderr
            assert "AAA" not in nothing.stdout

            clock.set(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))  # Tuesday, before the open
            desk.store.write_actions([CorporateAction("AAA", date(2026, 11, 24), SPLIT, D(2), "test")])
            admin = login(client, admin.email, "admin")
            token = admin.access_token
            code, split, err = trade(runner, url, token, "corporate-actions", "--account", "Paper")
            assert code == 0, err
            assert split == {
                "applied": [{
                    "account_id": account_id, "account": "Paper", "symbol": "AAA", "kind": "split", "value": "2",
                    "ex_date": "2026-11-24", "effective_at": "2026-11-24T14:30:00+00:00", "shares_before": "10",
                    "shares_after": "20", "cash": "0", "canceled_orders": 0,
                }],
                "not_applied": [],
                "problems": [],
            }  # fmt: skip

        balances = client.get(f"/api/v1/accounts/{account_id}", headers=admin.headers).json()
        assert D(balances["balances"]["cash"]) == D("99002.40")  # 100,000 − 10 × 100.00 + 10 × 0.24
        audit = client.get("/api/v1/audit", params={"action": APPLIED}, headers=admin.headers).json()
        assert [(e["target"], e["detail"]["kind"], e["detail"]["cash"]) for e in audit["items"]] == [
            (account_id, "split", "0"), (account_id, "dividend", "2.4"),
        ]  # fmt: skip
