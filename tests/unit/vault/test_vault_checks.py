"""Offline format checks: each provider's key shape is accepted, mistakes are refused without echoing the value."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.errors import Rejected
from marketdesk.vault.checks import KINDS, check_secret, kind_of, mask

WEBHOOK_PART = "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9dE1fG3hI5jK7lM9nO1pQ3rS5tU7"
VALID = {
    "alpaca_key_id": ["PKA1B2C3D4E5F6G7H8I9", "AKZ9Y8X7W6V5U4T3S2R1"],
    "alpaca_secret_key": ["aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b"],
    "finnhub_api_key": ["c1a2b3d4e5f6g7h8i9j0"],
    "alphavantage_api_key": ["A1B2C3D4E5F6G7H8"],
    "fred_api_key": ["0123456789abcdef0123456789abcdef"],
    "anthropic_api_key": ["sk-ant-api03-" + "Ab1_" * 20],
    "openai_api_key": ["sk-proj-" + "Zx9-" * 10, "sk-" + "a" * 48],
    "discord_url": [
        f"https://discord.com/api/webhooks/123456789012345678/{WEBHOOK_PART}",
        f"https://discordapp.com/api/webhooks/123456789012345678/{WEBHOOK_PART}",
        f"discord://123456789012345678/{WEBHOOK_PART}",
    ],
    "slack_url": [
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general",
        "slack://xoxb-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d/#general",
    ],
    "telegram_url": ["tgram://123456789:AAH1234567890abcdefghijklmnopqrstuv/-1001234567890"],
    "email_url": ["mailtos://alerts:app-pass@example.com", "mailto://user:pass@gmail.com?to=me@example.com"],
    "apprise_url": ["ntfy://ntfy.sh/my-desk-alerts", "pover://user@token", "jsons://hooks.example.com/desk"],
}
INVALID = {
    "alpaca_key_id": ["PKA1B2C3D4E5F6G7H8I", "XKA1B2C3D4E5F6G7H8I9", "pka1b2c3d4e5f6g7h8i9"],
    "alpaca_secret_key": ["PKA1B2C3D4E5F6G7H8I9", "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b!"],
    "finnhub_api_key": ["C1A2B3D4E5F6G7H8I9J0", "c1a2b3d4e5f6g7h8i9j"],
    "alphavantage_api_key": ["a1b2c3d4e5f6g7h8", "A1B2C3D4E5F6G7H89"],
    "fred_api_key": ["0123456789abcdef0123456789abcdeg", "0123456789ABCDEF0123456789ABCDEF"],
    "anthropic_api_key": ["sk-" + "a" * 48, "sk-ant-short"],
    "openai_api_key": ["sk-ant-api03-" + "Ab1_" * 20, "pk-" + "a" * 48],
    "discord_url": [
        f"https://example.com/api/webhooks/123456789012345678/{WEBHOOK_PART}",
        "https://discord.com/api/webhooks/123/short",
        f"http://discord.com/api/webhooks/123456789012345678/{WEBHOOK_PART}",
    ],
    "slack_url": ["https://hooks.slack.com/services/nope", "https://evil.example/services/T0/B0/X"],
    "telegram_url": ["tgram://notabot/123", "https://t.me/mybot"],
    "email_url": ["https://example.com", "mailto://nohost"],
    "apprise_url": ["ftp://example.com/x", "no-scheme-at-all"],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in VALID.items() for v in values])
def test_a_well_formed_value_passes_its_check(name: str, value: str) -> None:
    kind, cleaned = check_secret(name, value)
    assert kind.name == name
    assert cleaned == value


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in INVALID.items() for v in values])
def test_a_malformed_value_is_refused_saying_what_it_should_look_like(name: str, value: str) -> None:
    with pytest.raises(Rejected) as caught:
        check_secret(name, value)
    line = caught.value.one_line()
    assert name in line
    assert KINDS[name].expected in line
    assert value not in line


def test_every_known_name_has_valid_and_invalid_examples() -> None:
    assert set(VALID) == set(KINDS) == set(INVALID)


def test_surrounding_whitespace_is_dropped_but_inner_whitespace_is_refused() -> None:
    _, cleaned = check_secret("fred_api_key", "  0123456789abcdef0123456789abcdef\n")
    assert cleaned == "0123456789abcdef0123456789abcdef"
    with pytest.raises(Rejected, match="spaces or control characters"):
        check_secret("fred_api_key", "0123456789abcdef 0123456789abcdef")
    with pytest.raises(Rejected, match="is empty"):
        check_secret("fred_api_key", "   ")


def test_an_unknown_name_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(Rejected, match="does not know a secret called 'binance_key'") as caught:
        kind_of("binance_key")
    for name in KINDS:
        assert name in caught.value.one_line()


def test_providers_are_the_ones_the_adapters_ask_for() -> None:
    providers = {kind.name: kind.provider for kind in KINDS.values()}
    assert providers["alpaca_key_id"] == providers["alpaca_secret_key"] == "alpaca"
    assert providers["discord_url"] == "discord"
    assert {"finnhub", "alphavantage", "fred", "anthropic", "openai"} <= set(providers.values())


def test_the_hint_shows_bullets_and_the_last_two_characters_only() -> None:
    assert mask("0123456789abcdef0123456789abcdef") == "••••••ef"
    assert len(mask("x" * 2048)) <= 16  # fits the hint column


@settings(deadline=None)  # timing is not under test; a loaded CI worker must not flake
@given(
    name=st.sampled_from(sorted(KINDS)),
    value=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=12),
)
def test_a_refusal_never_echoes_the_value(name: str, value: str) -> None:
    # the message of a refused value is the message of any refused value of the same length: nothing of it leaks
    message = refusal(name, value)
    if message is not None:
        assert message == refusal(name, "~" * len(value))


def refusal(name: str, value: str) -> str | None:
    try:
        check_secret(name, value)
    except Rejected as exc:
        return exc.one_line()
    return None
