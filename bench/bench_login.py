"""Benchmark signing in. Prints {"bench": NAME, "value": X, "unit": U} lines.

Password hashing is argon2id with m=64 MiB, t=3, p=4 (RFC 9106's second recommended setting; pwdlib over
argon2-cffi), stated again on stderr when the benchmark runs.

- login_p50_ms / login_p95_ms: 40 `POST /api/v1/auth/login` with the right password, through the full ASGI app
  in process (routing, validation, the rate limit, argon2id verification in a worker thread, a new
  refresh-token family, a signed JWT, an audit-log entry, the commit, the cookies), on SQLite in a temp dir.
- argon2id_verify_p50_ms: one verification alone, in the calling thread: the floor of the figure above.

Run: .venv/bin/python bench/bench_login.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchkit import emit
from marketdesk.accounts.passwords import DEFAULT_ARGON2, PasswordHasher
from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.desk import build_desk

EMAIL = "bench@example.com"
PASSWORD = "violet trombone harbour 42"  # noqa: S105 (the benchmark's throwaway account)
LOGINS = 40


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-login-"))
    settings = load_settings(data_dir=folder, market_data=["files"], rate_limit_auth="100000/minute")
    desk = build_desk(settings, SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC)))
    await desk.start()
    app = create_app(desk=desk, web=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        registered = await client.post("/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD})
        if registered.status_code != 201:
            raise SystemExit(f"register answered {registered.status_code}: {registered.text[:300]}")
        timings = []
        for _ in range(LOGINS):
            started = time.perf_counter()
            response = await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"login answered {response.status_code}: {response.text[:300]}")
    await desk.stop()
    hasher = PasswordHasher()
    stored = hasher.hash_now(PASSWORD)
    verifies = []
    for _ in range(10):
        started = time.perf_counter()
        hasher.verify_now(PASSWORD, stored)
        verifies.append((time.perf_counter() - started) * 1000)
    emit("login_p50_ms", statistics.median(timings), "ms")
    emit("login_p95_ms", statistics.quantiles(timings, n=20)[-1], "ms")
    emit("argon2id_verify_p50_ms", statistics.median(verifies), "ms")
    print(f"bench_login: password hashing is {DEFAULT_ARGON2.describe()}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
