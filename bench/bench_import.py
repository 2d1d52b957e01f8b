"""Benchmark the price import. Prints one JSON line per figure: {"bench": NAME, "value": X, "unit": U}.

- import_sp500_daily_s: `import_prices` of the 2.4M-row S&P 500 daily file into an empty bar store, timed
  inside a fresh Python process (best of 3); goal < 20 s;
- import_sp500_daily_peak_mb: the peak resident memory of those processes (the largest of the 3); goal < 2 GB;
- read_csv_sp500_daily_s: `pandas.read_csv` of the same file in this process, the same run (best of 3);
- import_vs_read_csv_ratio: the import's time over read_csv's; goal ≤ 3.

The data is `$MARKETDESK_SHARED_DATA`, else `<repo>/../shared/data`; without it the benchmark says so on stderr
and exits 0.

Run: .venv/bin/python bench/bench_import.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchkit import SP500_DAILY, emit, shared_data

REPEATS = 3


def child(path: Path, store_dir: Path) -> None:
    """Run in a fresh process: import once, print the seconds and this process's peak RSS as JSON."""
    from marketdesk.marketdata.barstore import BarStore
    from marketdesk.marketdata.files import import_prices

    started = time.perf_counter()
    report = import_prices([path], BarStore(store_dir))
    seconds = time.perf_counter() - started
    if not report.ok or report.rows_accepted != 2_402_891:
        raise SystemExit(f"unexpected import: {report.summary()}")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))


def timed_import(path: Path) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        result = subprocess.run(  # noqa: S603 - our own interpreter running this file
            [sys.executable, __file__, "--child", str(path), str(Path(folder) / "bars")],
            check=True,
            capture_output=True,
            text=True,
        )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return float(figures["seconds"]), float(figures["peak_mb"])


def timed_read_csv(path: Path) -> float:
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_csv(path)
    seconds = time.perf_counter() - started
    assert len(frame) == 2_402_891
    return seconds


def main() -> None:
    path = shared_data() / SP500_DAILY
    if not path.is_file():
        print(f"bench_import: skipped, {path} not found (set MARKETDESK_SHARED_DATA)", file=sys.stderr)
        return
    imports, peaks, reads = [], [], []
    for _ in range(REPEATS):  # alternate, so both see the same machine load
        seconds, peak = timed_import(path)
        imports.append(seconds)
        peaks.append(peak)
        reads.append(timed_read_csv(path))
    emit("import_sp500_daily_s", min(imports), "s")
    emit("import_sp500_daily_peak_mb", max(peaks), "MB")
    emit("read_csv_sp500_daily_s", min(reads), "s")
    emit("import_vs_read_csv_ratio", min(imports) / min(reads), "x")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
