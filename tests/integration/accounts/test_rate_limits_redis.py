"""Scaled rate limits: with the Redis bus, every worker counts against the same budget in the real Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketdesk.accounts.ratelimit import RateLimiter
from marketdesk.config import Settings

pytestmark = pytest.mark.redis


async def test_two_workers_share_one_budget_in_redis(redis_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, bus="redis", redis_url=redis_url, rate_limit_auth="3/minute")
    first, second = RateLimiter(settings), RateLimiter(settings)
    assert type(first.storage).__name__ == "RedisStorage"
    assert await first.check_auth("198.51.100.1") is None
    assert await second.check_auth("198.51.100.1") is None
    assert await first.check_auth("198.51.100.1") is None
    wait = await second.check_auth("198.51.100.1")  # the fourth call, whichever worker takes it
    assert wait is not None and 1 <= wait <= 60
    assert await second.check_auth("198.51.100.2") is None
    await first.reset()
    await first.close()
    await second.close()


async def test_an_unreachable_redis_lets_calls_through(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, bus="redis", redis_url="redis://127.0.0.1:1/0", rate_limit_auth="1/minute")
    limiter = RateLimiter(settings)
    assert await limiter.check_auth("198.51.100.1") is None
    assert await limiter.check_auth("198.51.100.1") is None  # not counted, not refused: the lock still guards
    await limiter.close()
