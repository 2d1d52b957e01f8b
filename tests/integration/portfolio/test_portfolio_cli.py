"""`marketdesk portfolio …` against a desk served by uvicorn on a free port (the small fake market): create, import
the Alpaca sample twice, add, list transactions, show, and the refusals on stderr with exit code 2."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from marketdesk.app import create_app
from marketdesk.cli import app
from marketdesk.clock import SimClock
from support.auth import PASSWORD, api_desk

SAMPLE = Path(__file__).parents[2] / "unit" / "portfolio" / "data" / "alpaca_account_activities.csv"


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
def desk_url(tmp_path: Path, clock: SimClock) -> Iterator[tuple[str, str]]:
    """A served desk's address and its admin's access token."""
    desk = api_desk(tmp_path / "desk", clock)
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
    try:
        yield url, tokens.json()["access_token"]
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def run(runner: CliRunner, served: tuple[str, str], *args: str) -> tuple[int, object, str]:
    url, token = served
    result = runner.invoke(app, ["portfolio", *args, "--url", url, "--token", token, "--json"])
    body = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, body, result.stderr


def test_a_portfolio_from_the_command_line(runner: CliRunner, desk_url: tuple[str, str]) -> None:
    code, created, stderr = run(runner, desk_url, "create", "Long term")
    assert code == 0, stderr
    assert created["kind"] == "manual"  # type: ignore[index]

    code, report, stderr = run(runner, desk_url, "import", "Long term", str(SAMPLE))
    assert code == 0, stderr
    assert (report["accepted"], report["rejected"]) == (11, 4)  # type: ignore[index]
    _, again, _ = run(runner, desk_url, "import", "Long term", str(SAMPLE))
    assert (again["accepted"], again["duplicates"]) == (0, 11)  # type: ignore[index]

    code, added, stderr = run(runner, desk_url, "add", "Long term", "buy", "AAA", "--qty", "2", "--price", "101",
                              "--date", "2025-03-03")  # fmt: skip
    assert code == 0, stderr
    assert (added["symbol"], added["qty"], added["date"]) == ("AAA", "2", "2025-03-03")  # type: ignore[index]
    _, rows, _ = run(runner, desk_url, "transactions", "Long term", "--symbol", "AAA")
    assert [(r["kind"], r["qty"]) for r in rows] == [("buy", "2")]  # type: ignore[union-attr]

    code, shown, stderr = run(runner, desk_url, "show", "Long term")
    assert code == 0, stderr
    holdings = {h["symbol"]: h["qty"] for h in shown["valuation"]["holdings"]}  # type: ignore[index]
    assert holdings == {"AAA": "2", "AAPL": "5", "MSFT": "3"}
    assert shown["returns"]["twr"] is not None  # type: ignore[index]

    human = runner.invoke(app, ["portfolio", "show", "Long term", "--url", desk_url[0], "--token", desk_url[1]])
    assert human.exit_code == 0, human.stderr
    assert "TWR" in human.stdout and "XIRR" in human.stdout


def test_refusals_are_one_line_on_stderr_with_exit_code_2(runner: CliRunner, desk_url: tuple[str, str]) -> None:
    code, _, stderr = run(runner, desk_url, "show", "Nope")
    assert code == 2
    assert "no portfolio 'Nope'" in stderr
    _, book, _ = run(runner, desk_url, "create", "Book")
    code, _, stderr = run(runner, desk_url, "add", "Book", "sell", "AAA", "--qty", "1", "--price", "1",
                          "--date", "2025-03-03")  # fmt: skip
    assert code == 2
    assert "sells 1 AAA on 2025-03-03 but holds only 0 then" in stderr
    code, _, stderr = run(runner, desk_url, "delete", "Book")
    assert code == 2
    assert "repeat its name: confirm=Book" in stderr
    code, deleted, _ = run(runner, desk_url, "delete", "Book", "--confirm", "Book")
    assert code == 0
    assert deleted == {"deleted": book["id"]}  # type: ignore[index]
    _, listed, _ = run(runner, desk_url, "list")
    assert listed == []
