"""Benchmark the screener engine. Prints {"bench": NAME, "value": X, "unit": U} lines.

- screen_10k_ms: `screen(...)` over 10,000 simulated tickers (equities, ETFs and treasuries from the sim
  market, through `compute_metrics`), best of 30. Inside the timing: input checks, every gate for every row,
  metric/factor/total scores, verdicts with gate caps, the top-3 reasons for and against every row (ranked,
  as rule indices), flags, the preset's filters and the result table. Outside: building the sim and its
  metrics (untimed setup), and rendering sentences, which happens per row on demand. Goal < 50 ms.
- screen_10k_page_ms: the same screen plus the first page (50 rows, best first) rendered as JSON-able rows
  with their reason and gate sentences: what the API and CLI do per request. Best of 30.
- explain_one_ms: one symbol's full explanation (plain and pro text) and threshold sensitivity from a
  finished 10k screen. Best of 30.

Without `marketdesk.screener.metrics` the same figures come from a synthetic 10k metric frame (said on
stderr). Run: .venv/bin/python bench/bench_screener.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from benchkit import emit
from marketdesk.screener.catalog import METRIC_NAMES
from marketdesk.screener.config import resolve
from marketdesk.screener.engine import screen

ROWS = 10_000
REPEATS = 30
PAGE = 50


def _sim_universe() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    from marketdesk.clock import SimClock
    from marketdesk.marketdata.sim import SimMarketData
    from marketdesk.screener.metrics import compute_metrics
    from marketdesk.screener.universe import universe_from_sim

    sim = SimMarketData(SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC)), n_symbols=ROWS, history_years=2)
    universe = universe_from_sim(sim)
    metrics = compute_metrics(universe)
    keep = np.flatnonzero(universe.asset_class != "index")[:ROWS]
    return metrics.iloc[keep], universe.asset_class[keep], universe.sector[keep]


def _synthetic_universe() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    g = np.random.default_rng(2026)
    values = g.lognormal(0.0, 1.0, (ROWS, len(METRIC_NAMES))) * g.choice(
        [-1.0, 1.0], (ROWS, len(METRIC_NAMES)), p=[0.1, 0.9]
    )
    values[g.random(values.shape) < 0.08] = np.nan
    frame = pd.DataFrame(values, columns=list(METRIC_NAMES), index=[f"S{i:05d}" for i in range(ROWS)])
    classes = g.choice(np.array(["equity", "etf", "bond"], dtype=object), ROWS, p=[0.9, 0.07, 0.03])
    sectors = g.choice(np.array(["Energy", "Utilities", "Financials", None], dtype=object), ROWS)
    return frame, classes, sectors


def _best_ms(run: Callable[[], object]) -> float:
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings) * 1000.0


def main() -> None:
    try:
        metrics, classes, sectors = _sim_universe()
    except ImportError as error:
        print(f"bench_screener: no metrics module ({error}); using a synthetic 10k frame", file=sys.stderr)
        metrics, classes, sectors = _synthetic_universe()
    assert len(metrics) == ROWS, len(metrics)
    config = resolve()
    result = screen(metrics, asset_class=classes, sector=sectors, config=config)
    assert result.table["verdict"].notna().sum() > ROWS * 0.9

    emit("screen_10k_ms", _best_ms(lambda: screen(metrics, asset_class=classes, sector=sectors, config=config)), "ms")

    def page() -> list[dict[str, object]]:
        done = screen(metrics, asset_class=classes, sector=sectors, config=config)
        return list(done.rows(limit=PAGE))

    assert len(page()) == PAGE
    emit("screen_10k_page_ms", _best_ms(page), "ms")

    symbol = str(result.view().index[0])

    def explain() -> None:
        explanation = result.explain(symbol)
        explanation.plain_text()
        explanation.pro_text()
        result.sensitivity(symbol)

    emit("explain_one_ms", _best_ms(explain), "ms")


if __name__ == "__main__":
    main()
