"""Benchmark the screener over HTTP and the tearsheet. Prints {"bench": NAME, "value": X, "unit": U} lines.

- screener_api_500_p50_ms: median of 60 `GET /api/v1/screener?limit=50` over the simulated market's 500
  stocks (plus its ETFs and bonds), through the full ASGI app in process (routing, validation, the service,
  serialisation; no network stack), after one warm-up request builds the day's snapshot. Goal < 30 ms.
- screener_api_preset_p50_ms: the same, switching among the six presets (each one's first use is excluded).
- healthz_p50_ms: `GET /healthz` the same way: the framework's own floor, as a same-run baseline.
- tearsheet_ms: median `GET /api/v1/research/{symbol}` over 20 stocks (the day's snapshot warm). Goal < 100 ms.

Run: .venv/bin/python bench/bench_screener_api.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchkit import emit
from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.desk import build_desk

PRESETS = ("balanced", "momentum", "value", "value-trap", "growth-at-fair-price", "dip-opportunity")


async def timed(client: httpx.AsyncClient, url: str, params: dict[str, object] | None = None) -> float:
    started = time.perf_counter()
    response = await client.get(url, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-screener-"))
    desk = build_desk(load_settings(data_dir=folder), SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC)))
    await desk.start()
    await desk.quotes.stop()
    app = create_app(desk=desk, web=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        first = await client.get("/api/v1/screener", params={"limit": 50})
        total = first.json()["total"]
        if total < 500:
            raise SystemExit(f"expected at least 500 names, got {total}")
        screens = [await timed(client, "/api/v1/screener", {"limit": 50}) for _ in range(60)]
        for preset in PRESETS:
            await timed(client, "/api/v1/screener", {"limit": 50, "preset": preset})
        presets = [await timed(client, "/api/v1/screener", {"limit": 50, "preset": PRESETS[i % 6]}) for i in range(60)]
        health = [await timed(client, "/healthz") for _ in range(60)]
        stocks = (await client.get("/api/v1/screener", params={"asset": "stock", "limit": 20})).json()["rows"]
        sheets = [await timed(client, f"/api/v1/research/{row['symbol']}") for row in stocks]
    await desk.stop()
    emit("screener_api_500_p50_ms", statistics.median(screens), "ms")
    emit("screener_api_preset_p50_ms", statistics.median(presets), "ms")
    emit("healthz_p50_ms", statistics.median(health), "ms")
    emit("tearsheet_ms", statistics.median(sheets), "ms")


if __name__ == "__main__":
    asyncio.run(main())
