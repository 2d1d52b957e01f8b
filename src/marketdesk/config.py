"""Settings: one frozen object, read from init arguments, the environment, `.env` and `marketdesk.toml`.

Precedence, highest first: explicit arguments (CLI flags), `MARKETDESK_*` environment variables, `.env`,
then the TOML file (`$MARKETDESK_CONFIG`, else `./marketdesk.toml`, else `<data dir>/marketdesk.toml`).
Unknown keys are rejected everywhere, with the list of valid ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from marketdesk.errors import ConfigError

ENV_PREFIX = "MARKETDESK_"
_NOT_SETTINGS = {"MARKETDESK_CONFIG"}  # env vars we read that are not fields

ProviderName = Literal["sim", "files", "yahoo", "alpaca", "finnhub", "alphavantage", "fred"]


def default_data_dir() -> Path:
    """The platform's per-user data folder, e.g. ~/.local/share/marketdesk on Linux."""
    return Path(platformdirs.user_data_dir("marketdesk", appauthor=False))


class Settings(BaseSettings):
    """The effective configuration of one desk. Frozen: build a new one to change it."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir, description="where the database and bar store live")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite in the data dir (postgresql+asyncpg://… to scale)",
    )
    redis_url: str | None = Field(default=None, description="redis://host:port/db, used when bus = redis")
    bus: Literal["memory", "redis"] = "memory"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    seed: int = Field(default=42, ge=0, description="seed of the simulated market: same seed, same market")
    sim_symbols: int = Field(default=500, ge=11, le=5000)
    sim_history_years: int = Field(default=10, ge=1, le=40)
    sim_speed: float = Field(default=1.0, gt=0, le=100_000, description="simulated seconds per real second")
    tick_interval_s: float = Field(default=1.0, gt=0, le=60)
    quote_stream: bool = Field(
        default=True, description="run the live quote stream in this process (with several workers, run it in one)"
    )
    real_hours: bool = Field(default=False, description="follow XNYS hours instead of an always-open sim session")
    allow_live_trading: bool = Field(
        default=False,
        description="let users open live (real-money) Alpaca accounts; each still needs its owner's typed "
        "confirmation before the first order goes out",
    )
    market_data: list[ProviderName] = Field(
        default_factory=lambda: list[ProviderName](["sim"]), description="fallback chain, first wins"
    )
    cache_ttl_s: float = Field(default=60.0, ge=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    master_key: SecretStr | None = Field(
        default=None,
        description='base64 of 32 bytes sealing the vault, or versions "2:<new>,1:<old>" (current first); '
        "default: a 0600 key file in the data dir",
    )
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    login_max_failures: int = Field(default=5, ge=1, le=100, description="failures before a temporary lock")
    login_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    rate_limit_auth: str = Field(default="10/minute", description="per client, on the auth endpoints (limits syntax)")
    rate_limit_global: str = Field(default="600/minute", description="per client, on every API call")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed to call the API from a browser")
    max_request_bytes: int = Field(default=1_000_000, ge=1_000, le=100_000_000)
    alpaca_key_id: SecretStr | None = None
    alpaca_secret_key: SecretStr | None = None
    finnhub_api_key: SecretStr | None = None
    alphavantage_api_key: SecretStr | None = None
    fred_api_key: SecretStr | None = None

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("market_data", mode="after")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one provider, e.g. ['sim']")
        return value

    @property
    def effective_database_url(self) -> str:
        """The database URL in force: the configured one, or SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'marketdesk.db'}"

    @property
    def bar_store_dir(self) -> Path:
        return self.data_dir / "bars"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _toml_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


def _toml_path() -> Path | None:
    explicit = os.environ.get("MARKETDESK_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"MARKETDESK_CONFIG points at {path}, which is not a file", hint="Fix the path.")
        return path
    local = Path("marketdesk.toml")
    if local.is_file():
        return local
    data_dir = os.environ.get(f"{ENV_PREFIX}DATA_DIR")
    candidate = Path(data_dir).expanduser() / "marketdesk.toml" if data_dir else default_data_dir() / "marketdesk.toml"
    return candidate if candidate.is_file() else None


def _check_unknown_env() -> None:
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    unknown = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in fields | _NOT_SETTINGS)
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]}",
            hint=f"Valid names: {', '.join(sorted(fields))}.",
        )


def load_settings(**overrides: Any) -> Settings:
    """Build the effective Settings, turning any problem into one `ConfigError` line.

    `overrides` are the highest-precedence values (CLI flags); `None` means "not given".
    """
    _check_unknown_env()
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise _config_error(exc) from None
    except (ValueError, OSError) as exc:  # a malformed TOML or .env file
        raise ConfigError(f"cannot read settings: {exc}", hint="Fix the file named above.") from None


def _config_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    name = ".".join(str(p) for p in first["loc"]) or "settings"
    if first["type"] == "extra_forbidden":
        valid = ", ".join(sorted(Settings.model_fields))
        return ConfigError(f"unknown setting {name!r}", hint=f"Valid names: {valid}.")
    value = first.get("input")
    shown = "***" if "key" in name or "secret" in name else repr(value)
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return ConfigError(
        f"setting {name} = {shown} is invalid: {first['msg']}{more}",
        hint=f"Fix {ENV_PREFIX}{name.upper()} or `{name}` in marketdesk.toml.",
    )


def masked(settings: Settings) -> dict[str, Any]:
    """The settings as plain data with every secret masked, for `marketdesk config show`."""
    shown: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            raw = value.get_secret_value()
            shown[name] = f"{'*' * 8}{raw[-2:]}" if len(raw) >= 8 else "********"
        elif isinstance(value, Path):
            shown[name] = str(value)
        else:
            shown[name] = value
    url = settings.effective_database_url
    shown["database_url"] = _mask_url_password(url)
    if settings.redis_url:
        shown["redis_url"] = _mask_url_password(settings.redis_url)
    return shown


def _mask_url_password(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:********@{host}"
    return url
