"""Retry with exponential backoff and jitter, for `Temporary` failures only.

Only a `Temporary` (a rate limit, a timeout, a provider that is briefly down) is worth another try;
`Rejected` and `Operational` are raised at once. A provider's `retry_after_s` is honoured: the wait is
never shorter than what the provider asked for. When the provider asks for more than `max_delay_s`, the
error is raised at once instead, so the caller (a fallback chain, a job) can move on rather than block.

>>> policy = RetryPolicy(attempts=3, base_delay_s=1.0, jitter=0.0)
>>> [policy.backoff_s(n) for n in (1, 2)]
[1.0, 2.0]
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from marketdesk.errors import Temporary

T = TypeVar("T")

Sleep = Callable[[float], None]
"""Something that waits a number of seconds; `time.sleep` in production, a recorder in tests."""

OnRetry = Callable[[int, Temporary, float], None]
"""Called before each wait with (retry number from 1, the error, the wait in seconds)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to try and how long to wait in between.

    `attempts` counts every try, the first included. The n-th wait is `base_delay_s × multiplier^(n-1)`,
    capped at `max_delay_s`; `jitter` is the share of that wait drawn at random (0 = none, 1 = "full
    jitter"), which spreads out clients that failed together.
    """

    attempts: int = 4
    base_delay_s: float = 0.5
    multiplier: float = 2.0
    max_delay_s: float = 30.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts counts the first try too, so it must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("RetryPolicy delays must not be negative")
        if self.multiplier < 1:
            raise ValueError("RetryPolicy.multiplier must be at least 1 (waits never shrink)")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("RetryPolicy.jitter is a share between 0 and 1")

    def backoff_s(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Return the wait before retry `retry_number` (1 for the first retry)."""
        if retry_number < 1:
            raise ValueError("retry_number starts at 1")
        ceiling = min(self.max_delay_s, self.base_delay_s * self.multiplier ** (retry_number - 1))
        if self.jitter == 0.0 or ceiling == 0.0:
            return ceiling
        draw = (rng or _RNG).random()
        return ceiling * (1.0 - self.jitter) + ceiling * self.jitter * draw


NO_RETRY = RetryPolicy(attempts=1)
"""Try once; for callers that do their own retrying."""

_RNG = random.Random()  # noqa: S311 - jitter needs spread, not secrecy


def retry_call(
    call: Callable[[], T],
    *,
    policy: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    rng: random.Random | None = None,
    on_retry: OnRetry | None = None,
) -> T:
    """Call `call()` until it returns, retrying `Temporary` errors as `policy` allows.

    The last `Temporary` is re-raised when the attempts run out, or at once when the provider's
    `retry_after_s` exceeds `policy.max_delay_s`. Any other exception propagates immediately.

    >>> waits: list[float] = []
    >>> outcomes = iter([Temporary("busy"), "ok"])
    >>> def flaky() -> str:
    ...     outcome = next(outcomes)
    ...     if isinstance(outcome, Exception):
    ...         raise outcome
    ...     return outcome
    >>> retry_call(flaky, policy=RetryPolicy(jitter=0.0), sleep=waits.append)
    'ok'
    >>> waits
    [0.5]
    """
    policy = policy or RetryPolicy()
    retry_number = 0
    while True:
        try:
            return call()
        except Temporary as exc:
            retry_number += 1
            if retry_number >= policy.attempts:
                raise
            wait_s = policy.backoff_s(retry_number, rng)
            if exc.retry_after_s is not None:
                if exc.retry_after_s > policy.max_delay_s:
                    raise
                wait_s = max(wait_s, exc.retry_after_s)
            if on_retry is not None:
                on_retry(retry_number, exc, wait_s)
            sleep(wait_s)
