"""How the account pages word a session's device, a user's status, the password rules and a vault key's name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketdesk.accounts.passwords import MIN_LENGTH, password_problem
from marketdesk.accounts.roles import Role
from marketdesk.accounts.views import UserView
from marketdesk.vault.checks import KINDS
from marketdesk.web.account_text import PASSWORD_RULES, UNKNOWN_DEVICE, capitalised, device_of, user_status
from marketdesk.web.vault_panel import kind_title

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/155.0.0.0 "
            "Safari/537.36",
            "Chrome (headless) on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Safari/537.36 Edg/131.0.2903.86",
            "Edge on Windows",
        ),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on macOS"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/18.1 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("python-httpx/0.28.1", "python-httpx 0.28.1"),
        ("curl/8.5.0", "curl 8.5.0"),
        ("marketdesk", "marketdesk"),
        ("", UNKNOWN_DEVICE),
        ("   ", UNKNOWN_DEVICE),
        ("(((", UNKNOWN_DEVICE),
    ],
)
def test_a_sessions_device_reads_as_browser_and_system(user_agent: str, device: str) -> None:
    assert device_of(user_agent) == device


def user(*, disabled: bool = False, locked_until: datetime | None = None) -> UserView:
    return UserView("u1", "ann@example.com", Role.TRADER, disabled, NOW - timedelta(days=3), locked_until)


def test_a_users_status_is_active_disabled_or_locked_while_the_lock_lasts() -> None:
    assert user_status(user(), NOW) == "Active"
    assert user_status(user(disabled=True, locked_until=NOW + timedelta(hours=1)), NOW) == "Disabled"
    assert user_status(user(locked_until=NOW + timedelta(minutes=15)), NOW) == "Locked until Fri 20 Nov 2026 15:15 UTC"
    assert user_status(user(locked_until=NOW - timedelta(seconds=1)), NOW) == "Active"


def test_the_rules_shown_match_the_policy_that_is_enforced() -> None:
    assert PASSWORD_RULES[0].startswith(f"At least {MIN_LENGTH} characters")
    assert password_problem("x" * (MIN_LENGTH - 1), email="ann@example.com") is not None
    assert "common" in PASSWORD_RULES[1]
    assert password_problem("password1234", email="ann@example.com") is not None
    assert "email" in PASSWORD_RULES[2]
    assert password_problem("annabel keeps 4 goats", email="annabel@example.com") is not None


def test_every_vault_kind_gets_a_title_without_its_article() -> None:
    titles = {name: kind_title(kind) for name, kind in KINDS.items()}
    assert titles["alpaca_key_id"] == "Alpaca API key id"
    assert titles["openai_api_key"] == "OpenAI API key"
    assert all(title[0].isupper() and not title.startswith(("A ", "An ")) for title in titles.values())


def test_capitalised_only_touches_the_first_letter() -> None:
    assert capitalised("email or password is not right") == "Email or password is not right"
    assert capitalised("") == ""
    assert capitalised("OK then") == "OK then"
