"""`marketdesk screen`, `research` and `dips` on a small simulated market."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketdesk.cli import app

SMALL = {"MARKETDESK_SIM_SYMBOLS": "40", "MARKETDESK_SIM_HISTORY_YEARS": "2"}


@pytest.fixture
def data_dir(tmp_path: Path) -> str:
    return str(tmp_path / "desk")


def test_screen_json_is_a_list_of_rows(runner: CliRunner, data_dir: str) -> None:
    result = runner.invoke(
        app, ["screen", "--preset", "momentum", "--asset", "stock", "--limit", "5", "--json", "--data-dir", data_dir],
        env=SMALL,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert 0 < len(rows) <= 5
    assert {"symbol", "verdict", "score", "metrics", "gates", "reasons"} <= set(rows[0])


def test_screen_for_people_prints_the_table_and_the_regime(runner: CliRunner, data_dir: str) -> None:
    result = runner.invoke(app, ["screen", "--limit", "3", "--data-dir", data_dir], env=SMALL)
    assert result.exit_code == 0, result.stderr
    assert "Verdict" in result.stdout
    assert "200-day average" in result.stderr


def test_research_and_dips_json(runner: CliRunner, data_dir: str) -> None:
    top = json.loads(
        runner.invoke(
            app, ["screen", "--asset", "stock", "--limit", "1", "--json", "--data-dir", data_dir], env=SMALL
        ).stdout
    )[0]["symbol"]
    sheet = json.loads(runner.invoke(app, ["research", top, "--json", "--data-dir", data_dir], env=SMALL).stdout)
    assert sheet["symbol"] == top
    assert len(sheet["sections"]) == 7
    dips = runner.invoke(
        app, ["dips", "--universe", "all", "--threshold", "10", "--json", "--data-dir", data_dir], env=SMALL
    )
    assert dips.exit_code == 0, dips.stderr
    assert all(r["dip_pct"] >= 10 for r in json.loads(dips.stdout))


def test_an_unknown_preset_lists_the_valid_ones(runner: CliRunner, data_dir: str) -> None:
    result = runner.invoke(app, ["screen", "--preset", "yolo", "--data-dir", data_dir], env=SMALL)
    assert result.exit_code == 2
    assert "Valid presets" in result.stderr
    assert "momentum" in result.stderr
