"""`marketdesk compliance check` and `day-trades` on history files: the answer, the reason and the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from marketdesk.cli import app

HISTORY = """time,symbol,side,qty,price
2026-05-11T09:45,AAA,buy,10,100
2026-05-11T10:45,AAA,sell,10,101
2026-05-12T09:45,BBB,buy,100,50
2026-05-12T09:50,BBB,buy,100,50
2026-05-12T10:45,BBB,sell,200,51
2026-05-13T09:45,CCC,buy,10,20
2026-05-13T10:45,CCC,sell,10,21
2026-05-13T11:45,CCC,buy,10,20
2026-05-14T09:45,DDD,buy,10,30
"""


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "trades.csv"
    path.write_text(HISTORY)
    return path


def check(runner: CliRunner, history: Path, order: str, at: str, equity: str, policy: str = "legacy-pdt") -> Result:
    args = ["compliance", "check", "--policy", policy, "--history", str(history), "--order", order,
            "--at", at, "--equity", equity, "--json"]  # fmt: skip
    return runner.invoke(app, args)


def test_the_fourth_day_trade_under_25k_is_denied_with_exit_code_1(runner: CliRunner, history: Path) -> None:
    result = check(runner, history, "SELL 10 DDD @ 31", "2026-05-14T11:00", "18000")
    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    assert body["allowed"] is False
    assert body["policy"] == "legacy-pdt"
    assert body["day_trades"] == 3
    assert "day trade number 4" in body["reason"]
    assert body["status"]["next_drop_off"] == "2026-05-18"


def test_the_same_order_passes_at_25k(runner: CliRunner, history: Path) -> None:
    result = check(runner, history, "SELL 10 DDD @ 31", "2026-05-14T11:00", "25000")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["allowed"] is True


def test_only_rows_before_the_time_asked_count(runner: CliRunner, history: Path) -> None:
    # on the 12th at 09:00 only the 11th's day trade has happened
    body = json.loads(check(runner, history, "BUY 1 EEE @ 5", "2026-05-12T09:00", "18000").stdout)
    assert body["day_trades"] == 1


def test_intraday_margin_reports_requirement_and_headroom(runner: CliRunner, history: Path) -> None:
    # holding 10 CCC ($20) and 10 DDD ($30): $125 required; 1,000 EEE at $5 adds $1,250 against $1,000 equity
    result = check(runner, history, "BUY 1000 EEE @ 5", "2026-06-15T10:00", "1000", policy="auto")
    body = json.loads(result.stdout)
    assert result.exit_code == 1
    assert body["policy"] == "intraday-margin"
    assert body["status"]["requirement"] == "125.00"
    assert body["status"]["headroom"] == "875.00"
    assert "create an intraday margin deficit" in body["reason"]


def test_day_trades_are_listed_per_day(runner: CliRunner, history: Path) -> None:
    result = runner.invoke(app, ["compliance", "day-trades", "--history", str(history), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["total"] == 3
    assert [(d["date"], d["day_trades"], d["symbols"]) for d in body["days"]] == [
        ("2026-05-11", 1, ["AAA"]), ("2026-05-12", 1, ["BBB"]), ("2026-05-13", 1, ["CCC"]),
    ]  # fmt: skip


def test_human_output_says_allowed_or_denied(runner: CliRunner, history: Path) -> None:
    args = ["compliance", "check", "--policy", "legacy-pdt", "--history", str(history), "--order", "BUY 1 EEE",
            "--at", "2026-05-14T11:00", "--equity", "18000"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "ALLOWED under legacy-pdt" in result.output
    assert "day trades in the last 5 business days: 3 (0 left)" in result.output


@pytest.mark.parametrize(
    ("content", "order", "needle"),
    [
        ("time,symbol,side,qty\n", "BUY 1 AAA", "lacks the column(s) price"),
        (
            "time,symbol,side,qty,price\n2026-05-11T09:45,AAA,hold,1,10\n2026-05-11,AAA,buy,-1,10\n",
            "BUY 1 AAA",
            "2 bad row(s): line 2: side: 'hold' is not buy or sell; line 3: AAA: an execution's quantity must be positive",
        ),
        (HISTORY, "PURCHASE AAPL", "cannot read the order"),
        (HISTORY, "BUY 5 ZZZ", "no price for ZZZ"),
    ],
)
def test_bad_input_gets_one_line_and_a_non_zero_exit(
    runner: CliRunner, tmp_path: Path, content: str, order: str, needle: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = check(runner, path, order, "2026-06-15T10:00", "1000", policy="intraday-margin")
    assert result.exit_code == 2, result.output
    assert needle in " ".join(result.stderr.split())


def test_an_unknown_policy_names_the_valid_ones(runner: CliRunner, history: Path) -> None:
    result = check(runner, history, "BUY 1 AAA", "2026-05-14T11:00", "1000", policy="yolo")
    assert result.exit_code == 2
    assert "legacy-pdt, intraday-margin, cash-account, off, auto" in result.stderr
