"""Stopping a background task for certain, even when a library under it swallows a cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

RECANCEL_S = 0.5  # how long a cancelled task gets to end before it is cancelled again


async def cancel_and_wait(task: asyncio.Task[Any], recancel_s: float = RECANCEL_S) -> None:
    """Cancel `task` and wait until it has ended; what it raised on the way out is not raised here.

    One `cancel()` is not always enough: a cancellation that lands inside a library's call can be swallowed
    there (redis-py has done so while it read a command's answer), and the task then runs on. A desk server
    waiting for its quote task to end hung that way at start-up. So the task is cancelled again every
    `recancel_s` until it ends; a task that ends at the first cancellation costs no wait."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=recancel_s)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()  # retrieved, so that asyncio does not log it as never retrieved
