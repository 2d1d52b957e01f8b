"""Benchmark loading a universe from the bar store. Prints {"bench": NAME, "value": X, "unit": U} lines.

- load_universe_arrays_s: 504 symbols × 21 years of daily closes from the bar store into one numpy matrix
  with `BarStore.read_matrix` (best of 5); the store is filled from the S&P 500 daily file first, untimed.
  Goal < 0.5 s.

The data is `$MARKETDESK_SHARED_DATA`, else `<repo>/../shared/data`; without it the benchmark says so on stderr
and exits 0.

Run: .venv/bin/python bench/bench_universe.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from benchkit import SP500_DAILY, emit, shared_data
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.files import import_prices

REPEATS = 5


def main() -> None:
    path = shared_data() / SP500_DAILY
    if not path.is_file():
        print(f"bench_universe: skipped, {path} not found (set MARKETDESK_SHARED_DATA)", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory(prefix="bench-universe-") as folder:
        store = BarStore(Path(folder) / "bars")
        report = import_prices([path], store)
        assert report.rows_accepted == 2_402_891, report.summary()
        timings = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            matrix = store.read_matrix(field="close")
            timings.append(time.perf_counter() - started)
        assert matrix.values.shape == (5_402, 504), matrix.values.shape
        emit("load_universe_arrays_s", min(timings), "s")


if __name__ == "__main__":
    main()
