"""Driving `marketdesk trade` against a running desk: a small, fast simulated desk and one call of the CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from marketdesk.cli import app

SMALL_DESK = {
    "MARKETDESK_SIM_SYMBOLS": "30",
    "MARKETDESK_SIM_HISTORY_YEARS": "1",
    "MARKETDESK_TICK_INTERVAL_S": "0.2",
    "MARKETDESK_LOG_LEVEL": "WARNING",
}


def trade(runner: CliRunner, url: str, token: str, *args: str) -> tuple[int, object, str]:
    """`marketdesk trade ARGS --json` against `url`: its exit code, the JSON it printed (or None) and stderr."""
    result = runner.invoke(app, ["trade", *args, "--url", url, "--token", token, "--json"])
    body = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, body, result.stderr
