"""One process at a time runs a data dir's live parts (the paper venue, its feed, reconciliation).

`marketdesk up` and `md.Desk` hold `<data dir>/desk.lock` while they run; the operating system releases it when
the process ends, however it ends, so a crash never leaves a stale lock behind. The file says who holds it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from marketdesk.errors import Rejected

LOCK_FILE = "desk.lock"


def hold(data_dir: Path, holder: str) -> IO[str]:
    """Take `<data_dir>/desk.lock` for `holder` ("marketdesk up", "an md.Desk"); refuse when another process
    has it, naming that process."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        current = handle.read().strip() or "another process"
        handle.close()
        raise Rejected(
            f"{data_dir} is already running in {current}",
            hint="Use that desk, or stop it first; one process at a time runs a data dir's paper venue.",
        ) from None
    handle.truncate(0)
    handle.write(f"{holder} (process {os.getpid()})\n")
    handle.flush()
    return handle


def release(handle: IO[str]) -> None:
    if not handle.closed:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
