"""The Python API behind `import marketdesk as md`: each call prepares a desk on the embedded defaults (or
the given settings) and returns pandas objects or plain data. Works inside a running event loop (Jupyter)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from marketdesk.clock import LiveClock
from marketdesk.config import load_settings
from marketdesk.desk import Desk, build_desk

T = TypeVar("T")


def _run(coroutine_factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coroutine_factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:  # a notebook's loop is already running
        return pool.submit(asyncio.run, main()).result()


async def prepared_desk(data_dir: Path | str | None = None, **settings: Any) -> Desk:
    """A desk with migrations applied and the simulated market stored (when it is a source); no live parts."""
    desk = build_desk(load_settings(data_dir=data_dir, **settings), LiveClock())
    await desk.start()
    await desk.quotes.stop()
    return desk


async def _with_desk(data_dir: Path | str | None, action: Callable[[Desk], Awaitable[T]], **settings: Any) -> T:
    desk = await prepared_desk(data_dir, **settings)
    try:
        return await action(desk)
    finally:
        await desk.stop()


def screen(
    preset: str | None = None,
    where: Sequence[str] | str = (),
    *,
    universe: str = "all",
    asset: str | None = None,
    sort: str | None = None,
    limit: int = 1000,
    data_dir: Path | str | None = None,
) -> pd.DataFrame:
    """Screen a universe; one row per symbol with verdict, score and metrics, best first.

    >>> md.screen("value", "pe < 15 and roe > 0.12", limit=10)  # doctest: +SKIP
    """
    expressions = [where] if isinstance(where, str) else list(where)

    async def action(desk: Desk) -> pd.DataFrame:
        async with desk.db.session() as session:
            return await desk.screener.frame(
                session, preset=preset, where=expressions, universe=universe, asset=asset, sort=sort, limit=limit
            )

    return _run(lambda: _with_desk(data_dir, action))


def tearsheet(symbol: str, *, preset: str | None = None, data_dir: Path | str | None = None) -> dict[str, Any]:
    """The research tearsheet of one symbol (seven sections, verdict, flags, explanation, DCF)."""

    async def action(desk: Desk) -> dict[str, Any]:
        async with desk.db.session() as session:
            return await desk.screener.research(session, symbol, preset=preset)

    return _run(lambda: _with_desk(data_dir, action))


def dips(
    threshold: float = 5.0, *, universe: str = "largecap", min_verdict: str = "Hold", data_dir: Path | str | None = None
) -> pd.DataFrame:
    """Quality names below their 52-week high, with why they dipped and a suggested play."""

    async def action(desk: Desk) -> pd.DataFrame:
        async with desk.db.session() as session:
            report = await desk.screener.dips(
                session, universe=universe, threshold_pct=threshold, min_verdict=min_verdict
            )
        return pd.DataFrame.from_records(report.rows, index="symbol") if report.rows else pd.DataFrame()

    return _run(lambda: _with_desk(data_dir, action))
