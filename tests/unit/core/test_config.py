from pathlib import Path

import pytest

from marketdesk.config import load_settings, masked
from marketdesk.errors import ConfigError


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(__import__("os").environ):
        if key.startswith("MARKETDESK_"):
            monkeypatch.delenv(key)


def test_defaults_run_offline_on_sqlite_and_the_simulated_market(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.market_data == ["sim"]
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'marketdesk.db'}"
    assert settings.bus == "memory"


def test_precedence_is_flags_then_env_then_dotenv_then_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "marketdesk.toml").write_text("port = 7000\nseed = 1\nsim_symbols = 100\nlog_level = 'DEBUG'\n")
    (tmp_path / ".env").write_text("MARKETDESK_SEED=2\nMARKETDESK_SIM_SYMBOLS=200\n")
    monkeypatch.setenv("MARKETDESK_SIM_SYMBOLS", "300")
    settings = load_settings(port=9000)
    assert (settings.port, settings.seed, settings.sim_symbols, settings.log_level) == (9000, 2, 300, "DEBUG")


def test_unknown_toml_key_is_rejected_with_the_valid_names(tmp_path: Path) -> None:
    (tmp_path / "marketdesk.toml").write_text("prot = 7000\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'") as caught:
        load_settings()
    assert "port" in caught.value.one_line()


def test_unknown_environment_variable_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETDESK_PROT", "1")
    with pytest.raises(ConfigError, match="MARKETDESK_PROT"):
        load_settings()


def test_bad_value_gives_one_line_naming_the_setting_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETDESK_PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    line = caught.value.one_line()
    assert "port" in line and "'eighty'" in line and "MARKETDESK_PORT" in line
    assert "\n" not in line


def test_malformed_toml_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "marketdesk.toml").write_text("port = = 1\n")
    with pytest.raises(ConfigError, match="cannot read settings"):
        load_settings()


def test_secrets_are_masked_when_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETDESK_FINNHUB_API_KEY", "supersecretvalue42")
    monkeypatch.setenv("MARKETDESK_DATABASE_URL", "postgresql://md:hunter2@db/marketdesk")
    shown = masked(load_settings())
    assert shown["finnhub_api_key"] == "********42"
    assert "hunter2" not in str(shown) and "supersecretvalue42" not in str(shown)
    assert shown["database_url"] == "postgresql://md:********@db/marketdesk"
