"""Orders placed through POST /api/v1/orders land in the decision log as acted on, over the real API, the real
screener and the paper venue, on SQLite and PostgreSQL: once per user, symbol, side and New York day; never for a
denied order nor for a name the screener does not rate; and a decision log that fails leaves the order placed and
its answer unchanged, with a warning in the log."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from marketdesk.accounts.passwords import Argon2Parameters, PasswordHasher
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.decisions.service import VerdictSnapshot
from marketdesk.desk import Desk
from marketdesk.marketdata.port import Quote
from support.auth import SignedIn, api_desk, login, register_admin

RATED = ["AAA", "BBB", "ETF1"]  # a year and a quarter of history: each has a verdict
UNRATED = "CCC"  # only the first quarter of 2025: too little to score, so no verdict
START = datetime(2025, 4, 1, 15, tzinfo=UTC)  # Tuesday 11:00 in New York, the morning after the 2025-03-31 close


@pytest.fixture
def desk(tmp_path: Path, database: Database) -> Desk:
    desk = api_desk(tmp_path / "desk", SimClock(START), database_url=database.url)

    async def history() -> None:
        async with desk.db.session() as session:
            await desk.market.fetch(session, desk.source, RATED, start=date(2024, 1, 2), end=date(2024, 12, 31))
        await desk.db.dispose()

    asyncio.run(history())
    desk.screener.loader.benchmark_symbol = "ETF1"
    desk.accounts.hasher = PasswordHasher(Argon2Parameters(memory_kib=8, time_cost=1, parallelism=1))
    return desk


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        test_client.portal.call(desk.paper_feed.stop)  # type: ignore[union-attr]  # the tests feed the quotes
        for symbol in (*RATED, UNRATED):
            quote = Quote(symbol=symbol, ts=desk.clock.now(), last=Decimal("100"), volume=1_000_000)
            test_client.portal.call(desk.quotes.publish, [quote])  # type: ignore[union-attr]
        yield test_client


@pytest.fixture
def trader(client: TestClient) -> tuple[SignedIn, str]:
    """The desk's admin (who may trade) and their paper account."""
    admin = register_admin(client)
    opened = client.post("/api/v1/accounts", json={"name": "Paper"}, headers=admin.headers)
    assert opened.status_code == 201, opened.text
    return admin, str(opened.json()["id"])


def place(client: TestClient, user: SignedIn, account: str, symbol: str, side: str, qty: str = "2",
          **extra: Any) -> dict[str, Any]:  # fmt: skip
    """Place a market order; it works until the next quote (`fill`)."""
    body = {"account_id": account, "symbol": symbol, "side": side, "qty": qty, **extra}
    answer = client.post("/api/v1/orders", json=body, headers=user.headers)
    assert answer.status_code in {200, 201}, answer.text
    return dict(answer.json())


def fill(client: TestClient, desk: Desk, symbol: str) -> int:
    """Show the paper venue a quote of `symbol` one second on; the number of fills made."""
    desk.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    quote = Quote(symbol=symbol, ts=desk.clock.now(), last=Decimal("100"), volume=1_000_000)
    client.portal.call(desk.quotes.publish, [quote])  # type: ignore[union-attr]
    return int(client.portal.call(desk.paper_feed.step))  # type: ignore[union-attr]


def acted(client: TestClient, user: SignedIn) -> list[tuple[str, str | None, str | None]]:
    """The user's acted-on decisions as (symbol, side, order id), oldest first."""
    log = client.get("/api/v1/decisions", headers=user.headers)
    assert log.status_code == 200, log.text
    return [(d["symbol"], d["side"], d["order_id"]) for d in reversed(log.json()) if d["action"] == "acted"]


def test_a_placed_order_is_logged_as_acted_once_a_day_per_symbol_and_side(
    client: TestClient, desk: Desk, trader: tuple[SignedIn, str]
) -> None:
    user, account = trader
    first = place(client, user, account, "AAA", "buy", tag="Breakout")
    assert first["status"] == "accepted"
    [decision] = client.get("/api/v1/decisions", headers=user.headers).json()
    assert (decision["action"], decision["side"], decision["order_id"]) == ("acted", "buy", first["id"])
    assert "breakout" in decision["signals"]  # the order's tag is a signal of the decision
    assert decision["scoring_version"] and decision["config_hash"] and decision["price_date"] == "2025-03-31"

    assert fill(client, desk, "AAA") == 1
    second = place(client, user, account, "AAA", "buy", qty="1")
    assert second["status"] == "accepted"
    again = place(client, user, account, "AAA", "buy", client_order_id=first["client_order_id"])
    assert again["id"] == first["id"]  # the same client order id: the first order, placed once
    sold = place(client, user, account, "AAA", "sell", qty="1")
    assert sold["status"] == "accepted"
    assert acted(client, user) == [("AAA", "buy", first["id"]), ("AAA", "sell", sold["id"])]

    denied = place(client, user, account, "BBB", "buy", qty="5000")  # $500,000 in a $100,000 account
    assert denied["status"] == "rejected"
    assert [symbol for symbol, _, _ in acted(client, user)] == ["AAA", "AAA"]  # a denied order is no decision

    desk.clock.set(datetime(2025, 4, 2, 1, 30, tzinfo=UTC))  # type: ignore[attr-defined]  # 21:30 on 1 April in New York
    user = login(client, user.email, "admin")
    evening = place(client, user, account, "AAA", "buy", qty="1", type="limit", limit_price="100")
    assert evening["status"] != "rejected", evening
    assert len(acted(client, user)) == 2  # still the same New York day, though UTC's has turned

    desk.clock.set(START + timedelta(days=1))  # type: ignore[attr-defined]  # the next New York day
    user = login(client, user.email, "admin")
    tomorrow = place(client, user, account, "AAA", "buy", qty="1")
    assert acted(client, user)[-1] == ("AAA", "buy", tomorrow["id"])
    assert len(acted(client, user)) == 3


def test_an_order_on_a_name_without_a_verdict_is_placed_and_not_logged(
    client: TestClient, trader: tuple[SignedIn, str]
) -> None:
    user, account = trader
    no_verdict = client.post("/api/v1/decisions", json={"symbol": UNRATED}, headers=user.headers)
    assert no_verdict.status_code == 422, no_verdict.text  # what the screener says of it
    with capture_logs() as logs:
        order = place(client, user, account, UNRATED, "buy")
    assert order["status"] == "accepted"
    assert client.get("/api/v1/decisions", headers=user.headers).json() == []
    assert [e for e in logs if e["log_level"] in {"warning", "error"}] == []  # skipped silently


@dataclass
class BrokenVerdicts:
    """A verdict source that fails the way a broken screener would."""

    calls: int = 0

    async def __call__(
        self, session: AsyncSession, symbol: str, *, preset: str | None, universe: str, owner_id: str
    ) -> VerdictSnapshot:
        self.calls += 1
        raise RuntimeError("the screener's snapshot is corrupt")


def test_an_order_is_placed_and_answered_unchanged_when_the_decision_log_fails(
    client: TestClient, desk: Desk, trader: tuple[SignedIn, str]
) -> None:
    user, account = trader
    working, broken = desk.decisions.verdicts, BrokenVerdicts()
    desk.decisions.verdicts = broken
    with capture_logs() as logs:
        order = place(client, user, account, "AAA", "buy")
    assert broken.calls == 1
    assert order["status"] == "accepted"
    listed = client.get("/api/v1/orders", headers=user.headers).json()
    assert [(o["id"], o["status"]) for o in listed] == [(order["id"], "accepted")]
    assert client.get("/api/v1/decisions", headers=user.headers).json() == []
    [warning] = [e for e in logs if e["log_level"] == "warning"]
    assert warning["event"] == "a placed order could not be logged as a decision"
    assert (warning["order_id"], warning["symbol"]) == (order["id"], "AAA")
    assert "the screener's snapshot is corrupt" in warning["error"]

    desk.decisions.verdicts = working  # nothing was written, so the next order of the day is logged
    later = place(client, user, account, "AAA", "buy", qty="1")
    assert acted(client, user) == [("AAA", "buy", later["id"])]


@dataclass(frozen=True)
class Placed:
    id: str
    symbol: str
    side: str
    tag: str | None
    status: str


def test_two_placed_orders_logged_in_the_same_instant_make_one_decision(
    client: TestClient, desk: Desk, trader: tuple[SignedIn, str]
) -> None:
    signed_in, _ = trader
    user = CurrentUser(signed_in.id, signed_in.email, Role.ADMIN, "sid-test")

    async def both() -> list[object]:
        hooks = [
            desk.decisions.record_placed_order(
                desk.db.session, user, Placed(f"ord_{n}", "BBB", "buy", None, "accepted")
            )
            for n in (1, 2)
        ]
        return list(await asyncio.gather(*hooks))

    written = client.portal.call(both)  # type: ignore[union-attr]
    assert sum(view is not None for view in written) == 1
    assert [symbol for symbol, _, _ in acted(client, signed_in)] == ["BBB"]
    denied = Placed("ord_3", "ETF1", "buy", None, "rejected")
    assert client.portal.call(desk.decisions.record_placed_order, desk.db.session, user, denied) is None  # type: ignore[union-attr]
    assert [symbol for symbol, _, _ in acted(client, signed_in)] == ["BBB"]
