"""`marketdesk data …` end to end: import, re-import, fetch from the simulated market, coverage."""

import json
import os
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from marketdesk.cli import app
from marketdesk.marketdata.calendar import ExchangeCalendar

YAHOO = "Date,Open,High,Low,Close,Adj Close,Volume\n"


def test_import_reports_rejections_and_a_second_import_changes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    prices = tmp_path / "ACME.csv"
    prices.write_text(
        YAHOO
        + "2024-01-02,10,11,9,10.5,10.4,1000\n"
        + "2024-01-03,10.5,10,11,10.7,10.6,1000\n"  # high < low
        + "2024-01-04,10.7,11.2,10.1,-1,10.8,1000\n"  # non-positive close
        + "2024-01-05,10.8,11.5,10.6,11.1,11.0,1200\n"
    )
    args = ["data", "import", "prices", str(prices), "--json", "--data-dir", str(tmp_path)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["rows_accepted"], report["rows_rejected"]) == (2, 2)
    assert report["rejections"] == {"high < low": 1, "non-positive price": 1}
    assert sorted(s["line"] for s in report["samples"]) == [3, 4]
    again = json.loads(runner.invoke(app, args).stdout)
    assert again["rows_accepted"] == 2
    assert (again["inserted"], again["unchanged"]) == (0, 2)
    info = json.loads(runner.invoke(app, ["data", "info", "ACME", "--json", "--data-dir", str(tmp_path)]).stdout)
    assert info == [
        {"symbol": "ACME", "first": "2024-01-02", "last": "2024-01-05", "bars": 2, "fundamentals": 0, "earnings": 0}
    ]


def test_a_garbage_file_is_refused_and_leaves_stored_bars_alone(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "ACME.csv"
    good.write_text(YAHOO + "2024-01-02,10,11,9,10.5,10.4,1000\n")
    runner.invoke(app, ["data", "import", "prices", str(good), "--data-dir", str(tmp_path)])
    garbage = tmp_path / "BAD.csv.gz"
    garbage.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(64))
    result = runner.invoke(app, ["data", "import", "prices", str(garbage), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "BAD.csv.gz" in result.stderr
    info = json.loads(runner.invoke(app, ["data", "info", "--json", "--data-dir", str(tmp_path)]).stdout)
    assert [(row["symbol"], row["bars"]) for row in info] == [("ACME", 1)]


def test_fetch_from_the_simulated_market_stores_bars_and_reports_unknown_symbols(
    runner: CliRunner, tmp_path: Path
) -> None:
    args = ["data", "fetch", "--provider", "sim", "SIMX", "NOPE", "--start", "2025-01-01", "--end", "2025-06-30"]
    result = runner.invoke(
        app,
        [*args, "--json", "--data-dir", str(tmp_path)],
        env={"MARKETDESK_SIM_SYMBOLS": "40", "MARKETDESK_SIM_HISTORY_YEARS": "2"},
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["symbols"] == ["SIMX"]
    assert "unknown symbol 'NOPE'" in report["failures"]["NOPE"]
    # one bar per XNYS session: 122 in the first half of 2025 (holidays and the 2025-01-09 closure)
    assert report["bars_inserted"] == len(ExchangeCalendar().sessions(date(2025, 1, 1), date(2025, 6, 30))) == 122


def test_bad_dates_are_one_line_errors(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["data", "fetch", "--provider", "sim", "SIMX", "--start", "2025-13-01", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr
