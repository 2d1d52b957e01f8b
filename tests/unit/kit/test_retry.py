"""kit/retry: exponential backoff with jitter, for Temporary errors only, honouring retry_after_s."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketdesk.errors import Operational, RateLimited, Rejected, Temporary
from marketdesk.kit.retry import NO_RETRY, RetryPolicy, retry_call


def scripted(*outcomes: object) -> tuple[Callable[[], str], list[int]]:
    """A call that raises or returns the given outcomes in turn, and counts its calls."""
    remaining = list(outcomes)
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        outcome = remaining.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return str(outcome)

    return call, calls


def test_a_first_success_returns_without_waiting() -> None:
    waits: list[float] = []
    call, calls = scripted("ok")
    assert retry_call(call, sleep=waits.append) == "ok"
    assert calls == [1]
    assert waits == []


def test_temporary_errors_are_retried_with_exponential_backoff() -> None:
    waits: list[float] = []
    call, calls = scripted(Temporary("busy"), Temporary("busy"), Temporary("busy"), "ok")
    policy = RetryPolicy(attempts=4, base_delay_s=0.5, multiplier=2.0, jitter=0.0)
    assert retry_call(call, policy=policy, sleep=waits.append) == "ok"
    assert len(calls) == 4
    assert waits == [0.5, 1.0, 2.0]


def test_the_last_temporary_is_raised_when_attempts_run_out_keeping_its_class() -> None:
    waits: list[float] = []
    call, calls = scripted(RateLimited("slow down"), RateLimited("slow down, again"))
    with pytest.raises(RateLimited, match="again"):
        retry_call(call, policy=RetryPolicy(attempts=2, jitter=0.0), sleep=waits.append)
    assert len(calls) == 2
    assert waits == [0.5]


@pytest.mark.parametrize("error", [Rejected("bad input"), Operational("broken"), KeyError("vendor bug")])
def test_errors_other_than_temporary_are_raised_at_once(error: Exception) -> None:
    waits: list[float] = []
    call, calls = scripted(error, "never reached")
    with pytest.raises(type(error)):
        retry_call(call, sleep=waits.append)
    assert calls == [1]
    assert waits == []


def test_retry_after_is_a_floor_for_the_wait() -> None:
    waits: list[float] = []
    call, _ = scripted(RateLimited("wait", retry_after_s=7.5), "ok")
    assert retry_call(call, policy=RetryPolicy(base_delay_s=0.5, jitter=0.0), sleep=waits.append) == "ok"
    assert waits == [7.5]


def test_a_short_retry_after_does_not_shorten_the_backoff() -> None:
    waits: list[float] = []
    call, _ = scripted(RateLimited("wait", retry_after_s=0.1), "ok")
    assert retry_call(call, policy=RetryPolicy(base_delay_s=2.0, jitter=0.0), sleep=waits.append) == "ok"
    assert waits == [2.0]


def test_a_retry_after_beyond_the_longest_wait_is_raised_at_once() -> None:
    waits: list[float] = []
    call, calls = scripted(RateLimited("come back tomorrow", retry_after_s=86_400.0), "ok")
    with pytest.raises(RateLimited, match="tomorrow"):
        retry_call(call, policy=RetryPolicy(max_delay_s=30.0), sleep=waits.append)
    assert calls == [1]
    assert waits == []


def test_backoff_is_capped_at_the_longest_wait() -> None:
    policy = RetryPolicy(base_delay_s=1.0, multiplier=10.0, max_delay_s=25.0, jitter=0.0)
    assert [policy.backoff_s(n) for n in (1, 2, 3, 4)] == [1.0, 10.0, 25.0, 25.0]


def test_on_retry_is_told_each_retry_number_error_and_wait() -> None:
    seen: list[tuple[int, str, float]] = []
    call, _ = scripted(Temporary("one"), Temporary("two"), "ok")
    retry_call(
        call,
        policy=RetryPolicy(jitter=0.0),
        sleep=lambda s: None,
        on_retry=lambda number, error, wait: seen.append((number, error.message, wait)),
    )
    assert seen == [(1, "one", 0.5), (2, "two", 1.0)]


def test_no_retry_tries_exactly_once() -> None:
    call, calls = scripted(Temporary("busy"), "ok")
    with pytest.raises(Temporary):
        retry_call(call, policy=NO_RETRY, sleep=lambda s: None)
    assert calls == [1]


def test_jitter_spreads_waits_with_a_seeded_generator() -> None:
    policy = RetryPolicy(base_delay_s=4.0, jitter=1.0)
    waits = {policy.backoff_s(1, random.Random(seed)) for seed in range(20)}
    assert len(waits) > 10, "full jitter draws different waits"
    assert all(0.0 <= w <= 4.0 for w in waits)


@given(
    retry_number=st.integers(min_value=1, max_value=30),
    base=st.floats(min_value=0.0, max_value=10.0),
    multiplier=st.floats(min_value=1.0, max_value=5.0),
    cap=st.floats(min_value=0.0, max_value=120.0),
    jitter=st.floats(min_value=0.0, max_value=1.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_wait_always_lies_between_the_unjittered_share_and_the_ceiling(
    retry_number: int, base: float, multiplier: float, cap: float, jitter: float, seed: int
) -> None:
    policy = RetryPolicy(base_delay_s=base, multiplier=multiplier, max_delay_s=cap, jitter=jitter)
    ceiling = min(cap, base * multiplier ** (retry_number - 1))
    wait = policy.backoff_s(retry_number, random.Random(seed))
    assert ceiling * (1 - jitter) - 1e-9 <= wait <= ceiling + 1e-9


@pytest.mark.parametrize(
    "arguments",
    [{"attempts": 0}, {"base_delay_s": -1.0}, {"multiplier": 0.5}, {"jitter": 1.5}, {"max_delay_s": -2.0}],
)
def test_a_nonsensical_policy_is_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**arguments)  # type: ignore[arg-type]
