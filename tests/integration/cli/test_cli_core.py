"""The command line: --json on stdout, one-line errors on stderr with the right exit code."""

import json
import os
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from marketdesk.cli import app
from marketdesk.errors import Rejected
from marketdesk.kit import datadir_lock


def test_config_show_json_masks_secrets(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["config", "show", "--json", "--data-dir", str(tmp_path)],
        env={"MARKETDESK_FRED_API_KEY": "abcdefgh12345"},
    )
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["fred_api_key"] == "********45"
    assert shown["data_dir"] == str(tmp_path)
    assert "abcdefgh12345" not in result.output


def test_a_bad_setting_is_one_line_on_stderr_and_exit_code_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "show", "--data-dir", str(tmp_path)], env={"MARKETDESK_PORT": "0"})
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "port" in lines[0] and "MARKETDESK_PORT" in lines[0]


def test_data_dir_comes_from_the_environment_too(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "show", "--json"], env={"MARKETDESK_DATA_DIR": str(tmp_path / "d")})
    assert json.loads(result.stdout)["data_dir"] == str(tmp_path / "d")


def test_db_upgrade_reports_the_revision_and_is_repeatable(runner: CliRunner, tmp_path: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parents[3] / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    for _ in range(2):
        result = runner.invoke(app, ["db", "upgrade", "--json", "--data-dir", str(tmp_path)])
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["revision"] == head
    assert (tmp_path / "marketdesk.db").is_file()


def test_data_info_on_an_empty_desk_says_what_to_do(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "info", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "marketdesk data import prices" in result.stderr
    as_json = runner.invoke(app, ["data", "info", "--json", "--data-dir", str(tmp_path)])
    assert json.loads(as_json.stdout) == []


def test_data_info_of_an_unknown_symbol_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "info", "ZZZZ", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown symbol 'ZZZZ'" in result.stderr


def test_fetch_from_an_unknown_provider_names_the_valid_ones(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "fetch", "--provider", "bloomberg", "AAPL", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown provider 'bloomberg'" in result.stderr and "yahoo" in result.stderr


def test_importing_a_missing_file_says_so(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "import", "prices", str(tmp_path / "nope.csv"), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_a_malformed_map_override_is_explained(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Date,Close\n2024-01-02,1\n")
    result = runner.invoke(app, ["data", "import", "prices", str(path), "--map", "close", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "FIELD=COLUMN" in result.stderr


def test_up_refuses_a_data_dir_another_process_is_running(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "desk"
    holder = datadir_lock.hold(data_dir, "an md.Desk")
    try:
        result = runner.invoke(app, ["up", "--data-dir", str(data_dir), "--port", "8765"])
    finally:
        datadir_lock.release(holder)
    assert result.exit_code != 0
    assert f"is already running in an md.Desk (process {os.getpid()})" in result.stderr
    assert "stop it first" in result.stderr
    again = datadir_lock.hold(data_dir, "marketdesk up")  # released: the next process may take it
    assert (data_dir / datadir_lock.LOCK_FILE).read_text() == f"marketdesk up (process {os.getpid()})\n"
    datadir_lock.release(again)


def test_up_holds_the_data_dir_while_it_serves_and_lets_go_after(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "desk"
    while_serving: list[str] = []

    def serve(*_args: object, **_kwargs: object) -> None:  # in place of uvicorn: who else may open the data dir?
        with pytest.raises(Rejected) as refused:
            datadir_lock.hold(data_dir, "a second desk")
        while_serving.append(refused.value.message)

    monkeypatch.setattr(uvicorn, "run", serve)
    result = runner.invoke(
        app, ["up", "--data-dir", str(data_dir), "--port", "8765"], env={"MARKETDESK_SIM_SYMBOLS": "11"}
    )
    assert result.exit_code == 0, result.stderr
    assert while_serving == [f"{data_dir} is already running in marketdesk up (process {os.getpid()})"]
    datadir_lock.release(datadir_lock.hold(data_dir, "the next desk"))  # released when `up` returned
