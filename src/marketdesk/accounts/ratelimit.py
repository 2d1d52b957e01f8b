"""Rate limits per client, with the `limits` library: in memory by default, in Redis when the desk is scaled
(settings.bus = "redis"), so every worker counts against the same budget.

Two budgets apply: `rate_limit_global` to every API call, `rate_limit_auth` to the sign-in endpoints. Both are
moving windows keyed by the client's address. A refused call gets 429 and `Retry-After` (seconds until the
window lets the next call through). Behind a reverse proxy, run uvicorn with `--proxy-headers` and
`--forwarded-allow-ips` so the address is the client's, not the proxy's.

If Redis does not answer, calls are let through (and logged): the account lock still guards passwords, and a
desk that refuses every request because its counter store is down helps nobody.
"""

from __future__ import annotations

import math
import time

import redis.asyncio as redis
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from marketdesk.config import Settings
from marketdesk.errors import ConfigError
from marketdesk.logs import get_logger

log = get_logger(__name__)
KEY_PREFIX = "marketdesk-limits"


def parse_limit(text: str, *, name: str) -> RateLimitItem:
    """A limit in the `limits` syntax ("10/minute", "600 per hour"); a `ConfigError` naming the setting if not."""
    try:
        return parse(text)
    except ValueError:
        raise ConfigError(
            f"setting {name} = {text!r} is not a rate limit", hint='Write it like "10/minute" or "600 per hour".'
        ) from None


class RateLimiter:
    """Counts calls per client against the desk's limits."""

    def __init__(self, settings: Settings) -> None:
        self.auth_limit = parse_limit(settings.rate_limit_auth, name="rate_limit_auth")
        self.global_limit = parse_limit(settings.rate_limit_global, name="rate_limit_global")
        self.storage: Storage
        self._pool: redis.ConnectionPool | None = None
        if settings.bus == "redis" and settings.redis_url:
            url = settings.redis_url.removeprefix("async+")
            self._pool = redis.ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            self.storage = RedisStorage(
                f"async+{url}",
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                wrap_exceptions=True,
                connection_pool=self._pool,  # type: ignore[arg-type]  # handed on to redis-py, not a limits option
            )
        else:
            self.storage = MemoryStorage()
        self.limiter = MovingWindowRateLimiter(self.storage)

    async def check_auth(self, client: str) -> float | None:
        """Count one sign-in call of `client`; None when allowed, else the seconds until it would be."""
        return await self._hit(self.auth_limit, "auth", client)

    async def check_global(self, client: str) -> float | None:
        """Count one API call of `client`; None when allowed, else the seconds until it would be."""
        return await self._hit(self.global_limit, "api", client)

    async def _hit(self, item: RateLimitItem, scope: str, client: str) -> float | None:
        try:
            if await self.limiter.hit(item, scope, client):
                return None
            stats = await self.limiter.get_window_stats(item, scope, client)
        except Exception as exc:  # the counter store is down: let the call through, say so in the log
            log.warning("rate limit store failed; allowing the call", scope=scope, error=str(exc))
            return None
        # limits reports the window's reset as a wall-clock epoch: compare it with the same clock
        return max(1.0, math.ceil(stats.reset_time - time.time()))

    async def reset(self) -> None:
        """Forget every count (tests, and an admin after a false alarm)."""
        await self.storage.reset()

    async def close(self) -> None:
        """Close the Redis connections, if any (the desk calls this when it stops)."""
        if self._pool is not None:
            await self._pool.aclose()
