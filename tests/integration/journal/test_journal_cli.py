"""`marketdesk journal …` against a desk served over real HTTP (uvicorn in a thread, the small fake market, SQLite):
the commands call the same API as every other client, print one JSON document with --json, and refuse bad input
with one line and exit code 2. (Storage on PostgreSQL is covered by test_journal_storage.py and the API tests.)"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from marketdesk.app import create_app
from marketdesk.cli import app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.desk import Desk
from marketdesk.trading.models import FillRecord, OrderRecord, TradingAccount
from support.auth import api_desk
from support.servers import first_admin_token, free_port

START = datetime(2025, 2, 3, 15, tzinfo=UTC)  # a Monday, 10:00 in New York; the fake market has closes to March


@dataclass
class Served:
    url: str
    desk: Desk

    def token(self) -> str:
        return first_admin_token(self.url)  # registers the admin the first time, signs it in after


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    desk = api_desk(tmp_path / "desk", SimClock(START))
    port = free_port()
    config = uvicorn.Config(create_app(desk=desk, web=False), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="journal-cli-desk", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the desk did not start serving")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", desk)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A CLI runner in an empty folder, with no MARKETDESK_* settings leaking in from the environment."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MARKETDESK_"):
            monkeypatch.delenv(key)
    return CliRunner()


def journal(runner: CliRunner, served: Served, token: str, *args: str) -> tuple[int, Any, str]:
    result = runner.invoke(app, ["journal", *args, "--url", served.url, "--token", token])
    body = json.loads(result.stdout) if "--json" in args and result.stdout.strip() else result.stdout
    return result.exit_code, body, result.stderr


def test_a_thesis_is_added_listed_and_checked_in_on_from_the_command_line(runner: CliRunner, served: Served) -> None:
    token = served.token()
    code, thesis, err = journal(runner, served, token, "thesis", "add", "aaa", "--reason", "Momentum", "--watch",
                                "price", "--watch", "return_1m_pct:up", "--note", "trend", "--json")  # fmt: skip
    assert code == 0, err
    assert (thesis["symbol"], thesis["review_on"], [m["metric"] for m in thesis["metrics"]]) == (
        "AAA", "2025-03-05", ["price", "return_1m_pct"]
    )  # fmt: skip
    code, rows, err = journal(runner, served, token, "thesis", "list", "--json")
    assert (code, [r["id"] for r in rows]) == (0, [thesis["id"]]), err
    code, human, err = journal(runner, served, token, "thesis", "list")
    assert code == 0 and "AAA" in human and "momentum" in human, err

    code, preview, err = journal(runner, served, token, "thesis", "checkin", thesis["id"])
    assert code == 0, err
    assert "derived status:" in preview and "broken: a watched metric moved more than 25%" in preview
    code, result, err = journal(runner, served, token, "thesis", "checkin", thesis["id"], "--action", "extend_review",
                                "--next-review-days", "7", "--json")  # fmt: skip
    assert code == 0, err
    assert (result["checkin"]["action"], result["thesis"]["review_on"]) == ("extend_review", "2025-02-10")
    code, due, err = journal(runner, served, token, "thesis", "list", "--due", "--json")
    assert (code, due) == (0, []), err


BAD_INPUT = [
    (["thesis", "add", "AAA", "--reason", "growth", "--watch", "moon"], "unknown metric 'moon'"),
    (["thesis", "add", "AAA", "--reason", "hunch", "--watch", "price"], "reason"),
    (["thesis", "add", "AAA", "--reason", "growth", "--watch", "price", "--review-on", "2025-02-30"],
     "--review-on: '2025-02-30' is not a date; write it as YYYY-MM-DD"),
    (["thesis", "checkin", "th_nope"], "no thesis 'th_nope'"),
    (["trades", "--from", "2025-13-01"], "--from: '2025-13-01' is not a date"),
    (["calls", "add", "AAA", "above", "abc", "--by", "2025-02-14"], "level 'abc' is not a number"),
    (["calls", "add", "AAA", "sideways", "100", "--by", "2025-02-14"], "must be above or below"),
    (["calls", "add", "AAA", "above", "100", "--by", "14/02/2025"], "--by: '14/02/2025' is not a date"),
    (["calls", "add", "AAA", "above", "100", "--by", "2025-01-01"], "is not after today"),
]  # fmt: skip


def test_bad_input_is_one_line_with_the_fix_and_exit_code_2(runner: CliRunner, served: Served) -> None:
    token = served.token()
    for args, needle in BAD_INPUT:
        code, _, err = journal(runner, served, token, *args)
        assert code == 2, (args, err)
        assert err.startswith("error:"), err
        assert needle in " ".join(err.split()), (args, err)
    assert json.loads(runner.invoke(app, ["journal", "thesis", "list", "--state", "all", "--json", "--url", served.url,
                                          "--token", token]).stdout) == []  # fmt: skip


async def _book(url: str, owner: str) -> None:
    database = Database(url)
    try:
        async with database.session() as session:
            session.add(TradingAccount(id="acct-cli", owner_id=owner, name="Book", broker="paper", live=False,
                                       kind="margin", compliance_policy="off", compliance_json="{}", risk_json="{}",
                                       state="active", state_reason="", created_at=START, updated_at=START))  # fmt: skip
            await session.flush()
            rows = [("o1", "buy", "10", "100", "breakout"), ("o2", "sell", "10", "104.5", None),
                    ("o3", "sell", "4", "105", "fade"), ("o4", "buy", "4", "106", None)]  # fmt: skip
            for n, (order_id, side, qty, price, tag) in enumerate(rows):
                at = START + timedelta(minutes=n)
                session.add(OrderRecord(
                    id=order_id, account_id="acct-cli", owner_id=owner, client_order_id=order_id, symbol="AAA",
                    side=side, qty=Decimal(qty), order_type="market", time_in_force="day", limit_price=None,
                    stop_price=None, extended_hours=False, take_profit=None, stop_loss=None, tag=tag,
                    order_class="simple", status="filled", filled_qty=Decimal(qty), average_fill_price=Decimal(price),
                    broker_order_id=None, reason=None, parent_id=None, created_at=at, updated_at=at,
                ))  # fmt: skip
                await session.flush()
                session.add(FillRecord(fill_id=f"x-{order_id}", order_id=order_id, account_id="acct-cli",
                                       symbol="AAA", side=side, qty=Decimal(qty), price=Decimal(price),
                                       commission=Decimal(0), time=at))  # fmt: skip
    finally:
        await database.dispose()


def test_trades_list_round_trips_with_their_statistics_and_take_notes(runner: CliRunner, served: Served) -> None:
    token = served.token()
    me = httpx.get(f"{served.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    asyncio.run(_book(served.desk.settings.effective_database_url, me["id"]))

    code, book, err = journal(runner, served, token, "trades", "--json")
    assert code == 0, err
    assert [(t["id"], t["tag"], t["pnl"]) for t in book["round_trips"]] == [
        ("o3", "fade", "-4"),
        ("o1", "breakout", "45.0"),
    ]
    stats = book["stats"]
    assert (stats["count"], stats["wins"], stats["losses"], stats["pnl"], stats["profit_factor"]) == (
        2, 1, 1, "41.0", pytest.approx(45 / 4)
    )  # fmt: skip
    assert (stats["best_signal"]["tag"], stats["worst_signal"]["tag"]) == ("breakout", "fade")
    code, tagged, err = journal(runner, served, token, "trades", "--tag", "breakout", "--from", "2025-02-03",
                                "--to", "2025-02-03", "--symbol", "aaa", "--json")  # fmt: skip
    assert code == 0, err
    assert [t["id"] for t in tagged["round_trips"]] == ["o1"]
    assert (tagged["stats"]["profit_factor"], tagged["stats"]["notes"][0]) == (None, "profit factor: no losing trades")
    code, human, err = journal(runner, served, token, "trades")
    assert code == 0 and "breakout" in human and "win rate 50%" in " ".join(human.split()), err

    code, noted, err = journal(runner, served, token, "note", "o3", "--reason", "faded the gap", "--json")
    assert (code, noted["reason"], noted["notes"]) == (0, "faded the gap", ""), err
    code, _, err = journal(runner, served, token, "note", "nope", "--reason", "x")
    assert code == 2 and "no round trip 'nope'" in err


def test_calls_are_made_judged_and_counted_from_the_command_line(runner: CliRunner, served: Served) -> None:
    token = served.token()
    bars = httpx.get(f"{served.url}/api/v1/symbols/AAA/bars", params={"start": "2025-01-27", "end": "2025-02-03"},
                     headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    far = (Decimal(repr(bars["close"][-1])) * 2).quantize(Decimal("0.01"))  # twice the price: not in two weeks
    code, call, err = journal(runner, served, token, "calls", "add", "aaa", "above", str(far), "--by", "2025-02-14",
                              "--note", "moonshot", "--json")  # fmt: skip
    assert code == 0, err
    assert (call["statement"], call["outcome"]) == (f"AAA closes above {far} on 2025-02-14", "open")
    code, touch, err = journal(runner, served, token, "calls", "add", "AAA", "below", "1.5", "--by", "2025-03-14",
                               "--any-time", "--json")  # fmt: skip
    assert (code, touch["mode"]) == (0, "any_time"), err

    served.desk.clock.set(datetime(2025, 2, 20, 15, tzinfo=UTC))  # type: ignore[attr-defined]
    token = served.token()  # the old access token has expired meanwhile
    code, calls, err = journal(runner, served, token, "calls", "list", "--json")
    assert code == 0, err
    assert [(c["id"], c["outcome"]) for c in calls] == [(call["id"], "miss"), (touch["id"], "open")]
    code, human, err = journal(runner, served, token, "calls", "list", "--outcome", "miss")
    assert code == 0 and "miss" in human and "not above" in human, err
    code, stats, err = journal(runner, served, token, "calls", "stats", "--json")
    assert (code, stats["total"]["misses"], stats["total"]["open"], stats["total"]["hit_rate"]) == (0, 1, 1, 0.0), err
    code, months, err = journal(runner, served, token, "calls", "calendar", "--from", "2025-02-01", "--json")
    assert (code, [m["month"] for m in months]) == (0, ["2025-02", "2025-03"]), err
