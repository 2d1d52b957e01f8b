"""`marketdesk decisions …` on a desk's data dir: list, stats and measure read the same log the API writes;
backtest runs the screener point-in-time over the stored history."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from marketdesk.accounts.passwords import Argon2Parameters, PasswordHasher
from marketdesk.app import create_app
from marketdesk.cli import app
from marketdesk.clock import SimClock
from marketdesk.desk import Desk
from support.auth import api_desk, create_user, register_admin

FILES = {"MARKETDESK_MARKET_DATA": '["files"]'}  # the data dir holds imported prices, no simulated market


def fetch(desk: Desk, start: date, end: date) -> None:
    async def run() -> None:
        async with desk.db.session() as session:
            await desk.market.fetch(session, desk.source, ["AAA", "BBB", "CCC", "ETF1"], start=start, end=end)
        await desk.db.dispose()

    asyncio.run(run())


@pytest.fixture(scope="module")
def desk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with two users; the admin logged two verdicts on 2025-03-31's close; prices run to year end.
    Shared by the module's tests: only the first measures outcomes, the others run backtests."""
    folder = tmp_path_factory.mktemp("decisions-cli") / "desk"
    desk = api_desk(folder, SimClock(datetime(2025, 4, 1, 15, tzinfo=UTC)))
    fetch(desk, date(2024, 1, 2), date(2024, 12, 31))
    desk.screener.loader.benchmark_symbol = "ETF1"
    desk.accounts.hasher = PasswordHasher(Argon2Parameters(memory_kib=8, time_cost=1, parallelism=1))
    with TestClient(create_app(desk=desk, web=False)) as client:
        admin = register_admin(client)
        for symbol in ("AAA", "BBB"):
            logged = client.post("/api/v1/decisions", json={"symbol": symbol}, headers=admin.headers)
            assert logged.status_code == 201, logged.text
        create_user(client, admin, "bo@example.com", "trader")
    fetch(desk, date(2025, 4, 1), date(2025, 12, 31))
    return folder


def run(runner: CliRunner, *args: str) -> object:
    result = runner.invoke(app, ["decisions", *args], env=FILES)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout) if "--json" in args else result


def test_list_stats_and_measure_read_the_log_the_api_wrote(runner: CliRunner, desk_dir: Path) -> None:
    where = ["--data-dir", str(desk_dir)]
    unsure = runner.invoke(app, ["decisions", "list", *where], env=FILES)
    assert unsure.exit_code == 2
    assert "the desk has 2 users" in unsure.stderr
    assert "--user EMAIL" in unsure.stderr
    nobody = runner.invoke(app, ["decisions", "stats", "--user", "zed@example.com", *where], env=FILES)
    assert (nobody.exit_code, "no user 'zed@example.com'" in nobody.stderr) == (2, True)

    # every window of 2025-03-31 is due by now (a live clock) and the prices are in: measure writes 6 outcomes
    measured = run(runner, "measure", "--json", *where)
    assert measured == {"checked": 2, "measured": 6, "waiting": 0}
    assert run(runner, "measure", "--json", *where) == {"checked": 0, "measured": 0, "waiting": 0}

    rows = run(runner, "list", "--user", "admin@example.com", "--json", *where)
    assert isinstance(rows, list)
    assert {r["symbol"] for r in rows} == {"AAA", "BBB"}
    assert all(o["status"] == "measured" for r in rows for o in r["outcomes"])
    stats = run(runner, "stats", "--user", "ADMIN@example.com", "--json", *where)
    assert isinstance(stats, dict)
    assert stats["total"] == 2
    assert sum(g["horizons"][2]["measured"] for g in stats["by_verdict"]) == 2
    empty = run(runner, "stats", "--user", "bo@example.com", "--json", *where)
    assert empty == {"total": 0, "horizons": [30, 60, 90], "by_verdict": [], "by_preset": [], "by_signal": []}
    people = run(runner, "list", "--user", "admin@example.com", *where)
    assert "AAA" in people.stdout  # type: ignore[attr-defined]
    assert "%" in people.stdout  # type: ignore[attr-defined]  # measured excess returns, as percentages


def test_backtest_reports_each_verdict_against_the_benchmark(runner: CliRunner, desk_dir: Path) -> None:
    where = ["--data-dir", str(desk_dir)]
    report = run(runner, "backtest", "--start", "2025-01-01", "--end", "2025-06-30", "--benchmark", "ETF1", "--json",
                 *where)  # fmt: skip
    assert isinstance(report, dict)
    assert (report["rebalances"], report["every"], report["benchmark"], report["universe"]) == (6, "month", "ETF1", 3)
    assert report["observations"] == sum(g["count"] for g in report["by_verdict"])
    assert report["observations"] > 0
    assert "90 days" in report["fundamentals_lag"]
    for group in report["by_verdict"]:
        assert group["key"] in {"Strong Buy", "Buy", "Hold", "Avoid"}
        assert [h["horizon_days"] for h in group["horizons"]] == [30, 60, 90]
        for h in group["horizons"]:
            assert h["win_rate"] is None or 0 <= h["win_rate"] <= 1
    people = run(runner, "backtest", "--start", "2025-01-01", "--end", "2025-03-31", "--every", "quarter",
                 "--benchmark", "ETF1", *where)  # fmt: skip
    assert "by verdict" in people.stdout  # type: ignore[attr-defined]
    assert "screening point-in-time" in people.stderr  # type: ignore[attr-defined]  # the progress bar


def test_backtest_refuses_bad_input_with_the_fix(runner: CliRunner, desk_dir: Path) -> None:
    where = ["--data-dir", str(desk_dir)]
    cases = [
        (["--start", "2025-01-01", "--end", "2025-06-30", "--every", "daily"], "unknown schedule 'daily'"),
        (["--start", "2025-13-01", "--end", "2025-06-30"], "--start '2025-13-01' is not a date"),
        (["--start", "2025-01-01", "--end", "2025-06-30", "--benchmark", "SPY"], "no prices for the benchmark SPY"),
        (["--start", "2025-01-01", "--end", "2025-06-30", "--preset", "yolo"], "unknown preset 'yolo'"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["decisions", "backtest", *args, *where], env=FILES)
        assert result.exit_code == 2, (args, result.stderr)
        assert message in result.stderr
