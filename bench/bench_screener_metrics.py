"""Benchmark the screener's metric engine. Prints {"bench": NAME, "value": X, "unit": U} lines.

- metrics_500_ms: `compute_metrics` on the simulated market (500 stocks plus its ETFs and treasuries,
  300 sessions), best of 7.
- metrics_10k_ms: the same on 10,000 symbols built by tiling the simulated market 20 times, each copy's prices
  bent by its own random walk and its fundamentals scaled, so no two columns are equal; best of 7.
- dcf_10k_ms: `dcf_table` (the whole-universe DCF) on the same 10,000 symbols, best of 7.

Building the universes is not timed. The simulated market needs no data files.

Run: .venv/bin/python bench/bench_screener_metrics.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import UTC, datetime

import numpy as np

from benchkit import emit
from marketdesk.clock import SimClock
from marketdesk.marketdata.sim import SimMarketData
from marketdesk.screener.catalog import METRIC_NAMES
from marketdesk.screener.dcf import dcf_table
from marketdesk.screener.metrics import compute_metrics
from marketdesk.screener.model import FundamentalArrays, UniverseData
from marketdesk.screener.universe import universe_from_sim

REPEATS = 7
LARGE = 10_000


def best_ms(work: Callable[[], object]) -> float:
    work()  # warm caches and TA-Lib
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings) * 1000.0


def tiled(data: UniverseData, size: int, seed: int = 1) -> UniverseData:
    """`data` repeated until it has `size` symbols; each copy after the first is perturbed."""
    rng = np.random.default_rng(seed)
    copies = -(-size // data.size)
    t = len(data.dates)
    bends, scales = [np.ones((t, data.size))], [np.ones(data.size)]
    for _ in range(copies - 1):
        bends.append(np.exp(np.cumsum(rng.normal(0.0, 0.004, size=(t, data.size)), axis=0)))
        scales.append(np.exp(rng.normal(0.0, 0.3, size=data.size)))
    bend = np.concatenate(bends, axis=1)[:, :size]
    scale = np.concatenate(scales)[:size]

    def columns(matrix: np.ndarray) -> np.ndarray:
        return np.tile(matrix, (1, copies))[:, :size]

    def per_symbol(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else np.tile(values, (copies,) + (1,) * (values.ndim - 1))[:size]

    fundamentals = {}
    for f in fields(FundamentalArrays):
        values = per_symbol(getattr(data.fundamentals, f.name))
        assert values is not None
        fundamentals[f.name] = values * (scale if values.ndim == 1 else scale[:, None])
    symbols = tuple(f"{s}.{k}" if k else s for k in range(copies) for s in data.symbols)[:size]
    return replace(
        data,
        symbols=symbols,
        asset_class=per_symbol(data.asset_class),
        sector=per_symbol(data.sector),
        industry=per_symbol(data.industry),
        close=columns(data.close) * bend,
        adj_close=columns(data.adj_close) * bend,
        adj_high=columns(data.adj_high) * bend,
        adj_low=columns(data.adj_low) * bend,
        volume=columns(data.volume),
        fundamentals=FundamentalArrays(**fundamentals),
        expense_ratio_pct=per_symbol(data.expense_ratio_pct),
        net_assets=per_symbol(data.net_assets),
        top10_weight_pct=per_symbol(data.top10_weight_pct),
        maturity_years=per_symbol(data.maturity_years),
        coupon_pct=per_symbol(data.coupon_pct),
        credit_rating=per_symbol(data.credit_rating),
    )


def main() -> None:
    sim = SimMarketData(SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC)), seed=42, n_symbols=500, history_years=2)
    small = universe_from_sim(sim)
    large = tiled(small, LARGE)
    assert large.size == LARGE
    assert len(set(large.symbols)) == LARGE
    metrics = compute_metrics(large)
    assert list(metrics.columns) == list(METRIC_NAMES)
    assert len(metrics) == LARGE
    assert metrics["rsi14"].notna().sum() > 9_000
    emit("metrics_500_ms", best_ms(lambda: compute_metrics(small)), "ms")
    emit("metrics_10k_ms", best_ms(lambda: compute_metrics(large)), "ms")
    emit("dcf_10k_ms", best_ms(lambda: dcf_table(large, metrics)), "ms")


if __name__ == "__main__":
    main()
