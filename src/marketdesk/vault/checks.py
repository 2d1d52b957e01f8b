"""Offline format checks of the secrets the vault knows: the shape of each provider's keys, never a network call.

A check catches the common mistakes (a key pasted into the wrong field, a truncated copy, a stray space) and
says what the key should look like. It never echoes the value. Passing a check does not prove a key works.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from marketdesk.errors import Rejected

MAX_SECRET_CHARS = 2048
HINT_BULLETS = "••••••"


@dataclass(frozen=True)
class SecretKind:
    """A secret the vault accepts: its name, the provider that uses it, and what a valid value looks like."""

    name: str
    provider: str
    label: str  # e.g. "an Alpaca API key id"
    expected: str  # what a valid value looks like, for the error message
    where: str  # where the user finds it
    matches: Callable[[str], bool]


def _pattern(regex: str) -> Callable[[str], bool]:
    compiled = re.compile(regex)
    return lambda value: compiled.fullmatch(value) is not None


def _any_of(*checks: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda value: any(check(value) for check in checks)


def _email_url(value: str) -> bool:
    parts = urlsplit(value)
    host = parts.hostname or ""
    return parts.scheme in {"mailto", "mailtos"} and "." in host and not host.startswith(".")


# Apprise's URL schemes (https://github.com/caronc/apprise/wiki): the format, not a registry
APPRISE_SCHEMES = frozenset(
    {
        "apprise", "apprises", "bark", "barks", "discord", "form", "forms", "gotify", "gotifys", "ifttt", "join",
        "json", "jsons", "mailto", "mailtos", "matrix", "matrixs", "mmost", "mmosts", "msteams", "ntfy", "ntfys",
        "opsgenie", "pagerduty", "pbul", "pover", "rocket", "rockets", "signal", "signals", "slack", "tgram",
        "twilio", "whatsapp", "xml", "xmls", "zulip",
    }
)  # fmt: skip


def _apprise_url(value: str) -> bool:
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme.lower() in APPRISE_SCHEMES and len(rest) >= 3


_DISCORD_HTTPS = r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_-]{60,100}/?"
_DISCORD_APPRISE = r"discord://(?:[^/@\s]+@)?\d{17,20}/[A-Za-z0-9_-]{60,100}/?(?:\?\S*)?"
_SLACK_HTTPS = r"https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}"
_SLACK_APPRISE = (
    r"slack://(?:[^/@\s]+@)?(?:T[A-Z0-9]{8,12}/[A-Z][A-Z0-9]{7,11}/[A-Za-z0-9]{24}|xox[bp]-[A-Za-z0-9-]{20,})(?:/\S*)?"
)
_TELEGRAM = r"tgram://\d{6,12}:[A-Za-z0-9_-]{30,}(?:/[^/\s]+)*/?(?:\?\S*)?"

KINDS: dict[str, SecretKind] = {
    kind.name: kind
    for kind in (
        SecretKind(
            "alpaca_key_id", "alpaca", "an Alpaca API key id",
            "20 capital letters and digits starting with PK (paper) or AK (live)",
            "the Alpaca dashboard, under API Keys", _pattern(r"(?:PK|AK)[A-Z0-9]{18}"),
        ),
        SecretKind(
            "alpaca_secret_key", "alpaca", "an Alpaca API secret key", "40 letters and digits",
            "the Alpaca dashboard, shown once when the key is generated", _pattern(r"[A-Za-z0-9]{40}"),
        ),
        SecretKind(
            "finnhub_api_key", "finnhub", "a Finnhub API key", "20 lower-case letters and digits",
            "finnhub.io, on the dashboard", _pattern(r"[a-z0-9]{20}"),
        ),
        SecretKind(
            "alphavantage_api_key", "alphavantage", "an Alpha Vantage API key", "16 capital letters and digits",
            "the e-mail Alpha Vantage sent when you claimed the key", _pattern(r"[A-Z0-9]{16}"),
        ),
        SecretKind(
            "fred_api_key", "fred", "a FRED API key", "32 lower-case hexadecimal characters (0-9, a-f)",
            "fredaccount.stlouisfed.org, under API Keys", _pattern(r"[0-9a-f]{32}"),
        ),
        SecretKind(
            "anthropic_api_key", "anthropic", "an Anthropic API key",
            "sk-ant- followed by at least 20 letters, digits, - or _", "console.anthropic.com, under API Keys",
            _pattern(r"sk-ant-[A-Za-z0-9_-]{20,}"),
        ),
        SecretKind(
            "openai_api_key", "openai", "an OpenAI API key",
            "sk- followed by at least 20 letters, digits, - or _ (and not an Anthropic sk-ant- key)",
            "platform.openai.com, under API keys", _pattern(r"sk-(?!ant-)[A-Za-z0-9_-]{20,}"),
        ),
        SecretKind(
            "discord_url", "discord", "a Discord webhook URL",
            "https://discord.com/api/webhooks/<id>/<token> or discord://<id>/<token>",
            "Discord: Server Settings, Integrations, Webhooks, Copy Webhook URL",
            _any_of(_pattern(_DISCORD_HTTPS), _pattern(_DISCORD_APPRISE)),
        ),
        SecretKind(
            "slack_url", "slack", "a Slack webhook URL",
            "https://hooks.slack.com/services/T…/B…/<24 characters> or slack://T…/B…/<token>",
            "Slack: your app's Incoming Webhooks page",
            _any_of(_pattern(_SLACK_HTTPS), _pattern(_SLACK_APPRISE)),
        ),
        SecretKind(
            "telegram_url", "telegram", "a Telegram notification URL", "tgram://<bot id>:<bot token>/<chat id>",
            "Telegram's @BotFather gives the bot token", _pattern(_TELEGRAM),
        ),
        SecretKind(
            "email_url", "email", "an e-mail notification URL", "mailto://user:password@example.com (or mailtos://)",
            "your mail provider's SMTP settings", _email_url,
        ),
        SecretKind(
            "apprise_url", "apprise", "an Apprise notification URL",
            f"<scheme>://… with one of the schemes {', '.join(sorted(APPRISE_SCHEMES))}",
            "the Apprise wiki, one page per service", _apprise_url,
        ),
    )
}  # fmt: skip


def kind_of(name: str) -> SecretKind:
    """The kind of secret called `name`; an unknown name is `Rejected`, listing the known ones."""
    kind = KINDS.get(name)
    if kind is None:
        raise Rejected(
            f"the vault does not know a secret called {name[:64]!r}",
            hint=f"Use one of: {', '.join(KINDS)}.",
        )
    return kind


def check_secret(name: str, value: str) -> tuple[SecretKind, str]:
    """Check `value` against the format of secret `name`; return the kind and the value without surrounding spaces.

    A value of the wrong shape is `Rejected` with what it should look like; the message never includes it.
    """
    kind = kind_of(name)
    cleaned = value.strip()
    if not cleaned:
        raise Rejected(f"{name} is empty", hint=f"Paste {kind.label} ({kind.expected}).")
    if len(cleaned) > MAX_SECRET_CHARS:
        raise Rejected(f"{name} is longer than {MAX_SECRET_CHARS} characters", hint=f"Paste {kind.label} only.")
    if any(character.isspace() or not character.isprintable() for character in cleaned):
        raise Rejected(
            f"{name} contains spaces or control characters",
            hint=f"Copy {kind.label} again from {kind.where}, without line breaks.",
        )
    if not kind.matches(cleaned):
        raise Rejected(
            f"{name} does not look like {kind.label} (got {len(cleaned)} characters): expected {kind.expected}",
            hint=f"Copy it again from {kind.where}.",
        )
    return kind, cleaned


def mask(value: str) -> str:
    """The masked form shown back to the user: bullets and the last two characters."""
    return f"{HINT_BULLETS}{value[-2:]}"
