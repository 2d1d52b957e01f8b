"""`marketdesk portfolio targets set|show|clear`, `allocation` and `rebalance` against a desk served by uvicorn on
a free port (the small fake market), on SQLite and PostgreSQL: the JSON documents, the human tables, the empty
states and a refusal on stderr with exit code 2."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from marketdesk.app import create_app
from marketdesk.cli import app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from support.auth import PASSWORD, api_desk

D = Decimal


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A CLI runner in an empty folder, with no MARKETDESK_* settings leaking in from the environment."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MARKETDESK_"):
            monkeypatch.delenv(key)
    return CliRunner()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[tuple[str, str]]:
    """A served desk's address and its admin's access token; the admin holds the portfolio "Core"."""
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(desk=desk, web=False), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the desk did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    tokens = httpx.post(f"{url}/api/v1/auth/register", json={"email": "me@example.com", "password": PASSWORD})
    assert tokens.status_code == 201, tokens.text
    token = tokens.json()["access_token"]
    with httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}) as api:
        pid = api.post("/portfolios", json={"name": "Core"}).json()["id"]
        for body in (
            {"kind": "buy", "date": "2025-01-02", "symbol": "AAA", "qty": "70", "price": "100"},
            {"kind": "buy", "date": "2025-01-02", "symbol": "BBB", "qty": "30", "price": "100"},
        ):
            assert api.post(f"/portfolios/{pid}/transactions", json=body).status_code == 201
    try:
        yield url, token
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def run(runner: CliRunner, served: tuple[str, str], *args: str, as_json: bool = True) -> tuple[int, object, str]:
    url, token = served
    result = runner.invoke(app, ["portfolio", *args, "--url", url, "--token", token, *(["--json"] if as_json else [])])
    body = json.loads(result.stdout) if as_json and result.stdout.strip() else result.stdout
    return result.exit_code, body, result.stderr


def test_targets_allocation_and_rebalance_from_the_command_line(runner: CliRunner, served: tuple[str, str]) -> None:
    code, _, stderr = run(runner, served, "targets", "show", "Core", as_json=False)
    assert code == 0, stderr
    assert "No targets yet: set them with `marketdesk portfolio targets set NAME --symbol AAA=60" in stderr

    code, saved, stderr = run(runner, served, "targets", "set", "Core", "--symbol", "AAA=50", "--symbol", "bbb=50",
                              "--band", "5", "--min-trade", "100")  # fmt: skip
    assert code == 0, stderr
    assert saved["symbol"] == {"AAA": "50", "BBB": "50"}  # type: ignore[index]
    _, shown, _ = run(runner, served, "targets", "show", "Core")
    assert shown == saved

    code, allocation, stderr = run(runner, served, "allocation", "Core")
    assert code == 0, stderr
    lines = {line["key"]: line for line in allocation["symbol"]}  # type: ignore[index]
    # 70 AAA and 30 BBB at their last closes (no cash: the buys were implicit deposits)
    value_a, value_b = D(lines["AAA"]["value"]), D(lines["BBB"]["value"])
    total = D(allocation["total_value"])  # type: ignore[index]
    assert total == value_a + value_b
    assert D(lines["AAA"]["weight_pct"]) == (value_a * 100 / total).quantize(D("0.01"))
    assert lines["AAA"]["status"] == "out_of_band"

    code, advice, stderr = run(runner, served, "rebalance", "Core", "--prefer-losses")
    assert code == 0, stderr
    sell, buy = advice["trades"]  # type: ignore[index]
    price_a = D(sell["price"])
    # AAA sells what it holds over 50%, rounded up to a whole share
    assert (sell["symbol"], sell["side"], D(sell["qty"])) == (
        "AAA", "sell", ((value_a - total / 2) / price_a).quantize(D(1), rounding=ROUND_CEILING)
    )  # fmt: skip
    assert (buy["symbol"], buy["side"]) == ("BBB", "buy")
    assert advice["prefer_losses"] is True  # type: ignore[index]
    assert sell["preview_url"] == f"/trade?symbol=AAA&side=sell&qty={sell['qty']}"

    code, text, stderr = run(runner, served, "rebalance", "Core", as_json=False)
    assert code == 0, stderr
    assert "Nothing is placed" in str(text) and "/trade?symbol=AAA&side=sell" in str(text)
    code, text, stderr = run(runner, served, "allocation", "Core", as_json=False)
    assert code == 0, stderr
    assert "By symbol" in str(text) and "out of band" in str(text)

    code, cleared, _ = run(runner, served, "targets", "clear", "Core")
    assert code == 0
    assert "cleared" in cleared  # type: ignore[operator]
    _, shown, _ = run(runner, served, "targets", "show", "Core")
    assert shown["set"] is False  # type: ignore[index]


def test_a_bad_target_is_one_line_on_stderr_with_exit_code_2(runner: CliRunner, served: tuple[str, str]) -> None:
    code, _, stderr = run(runner, served, "targets", "set", "Core", "--symbol", "AAA=70", "--symbol", "BBB=40")
    assert code == 2
    assert "the symbol targets sum to 110%" in stderr
    code, _, stderr = run(runner, served, "targets", "set", "Core", "--symbol", "AAA")
    assert code == 2
    assert "--symbol 'AAA' is not KEY=PERCENT" in stderr
    code, _, stderr = run(runner, served, "rebalance", "Nope")
    assert code == 2
    assert "no portfolio 'Nope'" in stderr
