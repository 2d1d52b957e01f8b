"""Benchmark the simulated market. Prints one JSON line per figure: {"bench": NAME, "value": X, "unit": U}.

- sim_generate_10y_500_s: a fresh market of 500 equities (plus ETFs and treasuries), 10 years of daily
  history, fundamentals and earnings, generated from scratch (best of 3);
- sim_baseline_randn_s: numpy drawing as many standard normals as that history has daily bar cells, in the
  same run, so figures from noisy or different machines can be compared (best of 3);
- sim_history_frame_s: the whole history as the bar store's long frame (best of 3);
- sim_quotes_all_ms: one live batch of quotes of every instrument, as each ticker tick does (best of 20).

Run: .venv/bin/python bench/bench_sim.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from benchkit import emit
from marketdesk.clock import SimClock
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.marketdata.sim import SimMarketData

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def best_of(repeats: int, action: Callable[[], object]) -> float:
    """The fastest of `repeats` timed runs, in seconds."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def fresh_market() -> SimMarketData:
    sim = SimMarketData(SimClock(NOW), seed=42, n_symbols=500, history_years=10)
    sim.warm()
    return sim


def main() -> None:
    ExchangeCalendar()  # the XNYS session table is built once per process; keep it out of the figures
    sim = fresh_market()
    frame = sim.history_frame()
    cells = len(frame)
    assert cells > 500 * 252 * 9, f"unexpectedly small history: {cells} bars"

    emit("sim_generate_10y_500_s", best_of(3, fresh_market), "s")
    generator = np.random.default_rng(0)
    emit("sim_baseline_randn_s", best_of(3, lambda: generator.standard_normal(cells)), "s")
    emit("sim_history_frame_s", best_of(3, sim.history_frame), "s")
    emit("sim_quotes_all_ms", best_of(20, sim.quotes) * 1000.0, "ms")


if __name__ == "__main__":
    main()
