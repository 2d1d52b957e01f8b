"""Count the instructions of one order on the order path: a figure a busy shared machine does not disturb.

Wall and CPU times of `bench_order_path.py` move by 10% from run to run on a shared machine, and by a factor
of three from one day's machine to another's, so a change worth 2% cannot be seen in them. The number of
instructions the process runs per order does not depend on the machine's load: two runs of the same code
agree within 0.5%. This benchmark runs `bench_order_path`'s order (a market order placed and filled through
the paper venue, two commits) under valgrind's callgrind, with counting switched on only around the measured
orders (`callgrind_control`), and prints:

- order_path_instructions: instructions per order in user space (the process's own code, Python's and
  SQLite's), averaged over ORDERS orders after WARMUP. What the kernel does for the process (writing the
  write-ahead log) is not counted, so it ranks changes to the desk's own work, not to its I/O.

Compare two commits by running each one's copy of this file with `PYTHONPATH=<that checkout>/src`. It needs valgrind (Debian's package: `apt-get
install valgrind`); without it, it says so and prints nothing. It takes about two minutes.

Run: .venv/bin/python bench/bench_order_instructions.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WARMUP = 30
ORDERS = 200
POLL_S = 0.05
SIGNAL_TIMEOUT_S = 900.0  # under valgrind, start-up takes a minute or two on a slow machine


def wait_for(path: Path, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until `path` exists (or `process` has ended, which is an error)."""
    deadline = time.monotonic() + SIGNAL_TIMEOUT_S
    while not path.exists():
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the measured process ended early (exit {process.returncode})")
        if time.monotonic() > deadline:
            raise SystemExit(f"no {path.name} after {SIGNAL_TIMEOUT_S:.0f} s")
        time.sleep(POLL_S)


async def child(signals: Path, orders: int) -> None:
    """Under valgrind: open the benchmark's desk, warm up, and place `orders` orders between two signals."""
    sys.path.insert(0, str(Path(__file__).parent))
    import bench_order_path as path_bench

    with tempfile.TemporaryDirectory() as folder:
        desk, (trader,) = await path_bench.open_desk(Path(folder), None, 1)
        try:
            for _ in range(WARMUP):
                await trader.order()
            (signals / "ready").touch()
            wait_for(signals / "counting")
            for _ in range(orders):
                await trader.order()
            (signals / "done").touch()
            wait_for(signals / "stopped")
        finally:
            await desk.stop()


def switch(control: str, state: str, pid: int) -> None:
    """Turn callgrind's counting on or off in the running process."""
    subprocess.run([control, f"--instr={state}", str(pid)], check=True, capture_output=True)  # noqa: S603 - valgrind's tool


def measure(orders: int) -> float | None:
    """Instructions per order, or None (said on stderr) when valgrind is not installed."""
    valgrind, control = shutil.which("valgrind"), shutil.which("callgrind_control")
    if valgrind is None or control is None:
        print("valgrind is not installed (apt-get install valgrind): order_path_instructions not measured",
              file=sys.stderr)  # fmt: skip
        return None
    with tempfile.TemporaryDirectory() as scratch:
        signals = Path(scratch)
        command = [
            valgrind, "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={signals / 'callgrind.out'}",
            sys.executable, __file__, "--child", str(signals), "--orders", str(orders),
        ]  # fmt: skip
        environment = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict layouts in every run
        with subprocess.Popen(  # noqa: S603 - valgrind running this file
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment
        ) as run:
            wait_for(signals / "ready", run)
            switch(control, "on", run.pid)
            (signals / "counting").touch()
            wait_for(signals / "done", run)
            switch(control, "off", run.pid)
            (signals / "stopped").touch()
            _, errors = run.communicate()
        report = errors.decode(errors="replace")
        if run.returncode != 0:
            raise SystemExit(f"the measured process failed (exit {run.returncode}):\n{report[-2000:]}")
        found = re.search(r"Collected\s*:\s*([\d,]+)", report)
        if found is None:
            raise SystemExit(f"callgrind reported no count:\n{report[-2000:]}")
        return int(found.group(1).replace(",", "")) / orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--orders", type=int, default=ORDERS)
    arguments = parser.parse_args()
    if arguments.child is not None:
        asyncio.run(child(arguments.child, arguments.orders))
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from benchkit import emit

    per_order = measure(arguments.orders)
    if per_order is not None:
        emit("order_path_instructions", per_order, "instructions")


if __name__ == "__main__":
    main()
