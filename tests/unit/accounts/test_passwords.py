"""The password policy (length, the common list and small changes to it, the email's name) and argon2id."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.accounts.passwords import (
    DEFAULT_ARGON2,
    MIN_LENGTH,
    Argon2Parameters,
    PasswordHasher,
    PasswordRejected,
    check_password,
    common_passwords,
    password_problem,
)

EMAIL = "ann.smith@example.com"
FAST = Argon2Parameters(memory_kib=8, time_cost=1, parallelism=1)  # for tests that hash many times


@pytest.mark.parametrize(
    "password",
    [
        "violet trombone harbour",
        "Tr0ub4dor&3 kestrel",
        "my cat eats 7 lemons",
        "zqx-Wvut-Plim-9",
        "correct staple horse piano",
        "ünïcödé pässwörd ok!",
    ],
)
def test_long_uncommon_passwords_pass(password: str) -> None:
    check_password(password, email=EMAIL)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 12"),
        ("elevenchars", "at least 12"),
        ("x" * 257, "at most 256"),
        ("aaaaaaaaaaaaaaaa", "too few different"),
        ("121212121212", "too few different"),
        ("password1234", "common"),
        ("Password2024!", "common"),
        ("P@ssw0rd12345", "common"),
        ("p a s s w o r d 1", "common"),
        ("iloveyou12345", "common"),
        ("qwertyuiop123", "common"),
        ("123456789012", "common"),
        ("passwordpassword", "common"),
        ("jessica19841984", "common"),
        ("correct horse battery staple", "common"),
        ("monkeymonkey!!", "common"),
        ("!!!Dragon2025!!!", "common"),
        ("bcdefghijklmnopq", "sequence"),
        ("zxcvbnmasdfg", "sequence"),
        ("9876543210987", "sequence"),
        ("annsmith-rocks-2", "email"),
        ("i am smith forever", "email"),
        ("example-domain-pass", "email"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(PasswordRejected, match=reason) as refused:
        check_password(password, email=EMAIL)
    assert "Choose at least 12 characters" in refused.value.one_line()


def test_the_common_list_is_large_and_lower_case() -> None:
    words = common_passwords()
    assert len(words) > 2000
    assert {"password", "123456", "qwerty", "iloveyou", "dragon", "letmein"} <= words
    assert all(word == word.lower() and word.strip() == word for word in words)


def test_the_length_counts_characters_after_unicode_normalisation() -> None:
    composed = "é" * 6 + "abcdef"
    decomposed = "e\u0301" * 6 + "abcdef"  # 18 code points, 12 characters once composed
    assert password_problem(composed, email=EMAIL) == password_problem(decomposed, email=EMAIL)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="bcdfghjkmnpqrstvwxz", min_size=4, max_size=10), st.text(min_size=0, max_size=20))
def test_a_password_containing_the_email_name_is_always_refused(name: str, rest: str) -> None:
    password = f"{rest}{name}{rest}Qz7!"
    problem = password_problem(password, email=f"{name}@example.org")
    assert problem is not None


def test_argon2id_with_the_stated_parameters() -> None:
    hasher = PasswordHasher()
    stored = hasher.hash_now("violet trombone harbour")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert DEFAULT_ARGON2.describe() == "argon2id m=64MiB t=3 p=4"
    assert hasher.verify_now("violet trombone harbour", stored) == (True, None)
    assert hasher.verify_now("violet trombone harbouR", stored)[0] is False


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in() -> None:
    old = PasswordHasher(FAST).hash_now("violet trombone harbour")
    matches, upgraded = PasswordHasher().verify_now("violet trombone harbour", old)
    assert matches and upgraded is not None and upgraded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_damaged_hash_never_matches_and_never_crashes() -> None:
    hasher = PasswordHasher(FAST)
    for stored in ("", "not a hash", "$argon2id$v=19$m=8,t=1,p=1$garbage", "$2b$12$" + "x" * 53):
        assert hasher.verify_now("anything at all here", stored) == (False, None)


async def test_hashing_runs_off_the_event_loop_and_equals_the_sync_result() -> None:
    hasher = PasswordHasher(FAST)
    stored = await hasher.hash("violet trombone harbour")
    assert await hasher.verify("violet trombone harbour", stored) == (True, None)
    await hasher.verify_decoy("anything")  # spends the time of a verification, for unknown emails


def test_passwords_are_compared_after_normalisation() -> None:
    hasher = PasswordHasher(FAST)
    stored = hasher.hash_now("caf\u00e9 au lait 12")  # é composed
    assert hasher.verify_now("cafe\u0301 au lait 12", stored)[0]  # e + combining accent


def test_min_length_is_twelve() -> None:
    assert MIN_LENGTH == 12
