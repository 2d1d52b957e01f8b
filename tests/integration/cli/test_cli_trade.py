"""`marketdesk trade …` against a running desk: an order placed from the command line takes the same road as
the web desk's (risk, compliance, the paper broker) and fills on the simulated market's next tick."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from marketdesk.cli import app
from support.servers import first_admin_token, running_desk
from support.trading_cli import SMALL_DESK, trade


@pytest.mark.slow
def test_buy_fills_then_kill_switch_denies_and_cancel_passes(runner: CliRunner, tmp_path: Path) -> None:
    with running_desk(tmp_path, SMALL_DESK) as desk:
        token = first_admin_token(desk.url)
        symbols = httpx.get(f"{desk.url}/api/v1/symbols", params={"asset_class": "equity", "limit": 1},
                            headers={"Authorization": f"Bearer {token}"}).json()["items"]  # fmt: skip
        symbol = symbols[0]["symbol"]

        code, placed, err = trade(runner, desk.url, token, "buy", symbol, "1")
        assert code == 0, err
        assert placed["status"] in {"accepted", "filled"}  # type: ignore[index]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the paper venue fills a market order on the next tick
            _, rows, _ = trade(runner, desk.url, token, "orders")
            if rows[0]["status"] == "filled":  # type: ignore[index]
                break
            time.sleep(0.2)
        assert rows[0]["status"] == "filled", rows  # type: ignore[index]
        _, positions, _ = trade(runner, desk.url, token, "positions")
        assert [(p["symbol"], p["qty"]) for p in positions] == [(symbol, "1")]  # type: ignore[attr-defined, index]

        code, resting, err = trade(runner, desk.url, token, "buy", symbol, "1", "--limit", "1", "--tif", "gtc")
        assert code == 1, err  # a limit that far from the market is outside the price collar
        assert "collar" in resting["reason"]  # type: ignore[index]

        code, halted, err = trade(runner, desk.url, token, "kill-switch", "on", "--reason", "test")
        assert (code, halted["state"]) == (0, "halted"), err  # type: ignore[index]
        code, denied, _ = trade(runner, desk.url, token, "sell", symbol, "1")
        assert code == 1
        assert "kill switch is on" in denied["reason"]  # type: ignore[index]


def test_without_a_token_it_says_how_to_get_one(runner: CliRunner) -> None:
    result = runner.invoke(app, ["trade", "orders", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "MARKETDESK_TOKEN" in result.stderr


def test_an_unreachable_desk_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["trade", "orders", "--url", "http://127.0.0.1:9", "--token", "x"])
    assert result.exit_code != 0
    assert "cannot reach the desk" in result.stderr
    assert "marketdesk up" in result.stderr


def test_a_running_desk_prints_where_each_thread_is_on_sigusr1(tmp_path: Path) -> None:
    with running_desk(tmp_path, SMALL_DESK) as desk:
        desk.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        log = ""
        while time.monotonic() < deadline and "most recent call first" not in log:
            time.sleep(0.1)
            log = desk.log_path.read_text(errors="replace")
        assert desk.process.poll() is None  # printed, and still serving
        assert httpx.get(f"{desk.url}/readyz", timeout=5).status_code == 200
    assert "Current thread" in log and "most recent call first" in log, log[-2000:]
    assert "uvicorn" in log  # the main thread's stack: it is serving
