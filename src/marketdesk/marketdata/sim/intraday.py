"""Intraday prices: a deterministic path through each session that honours its daily bar.

For each session a one-minute grid is drawn for every instrument at once: a Brownian bridge from the open to
the close, stretched monotonically so that its highest point is the bar's high and its lowest the bar's low.
Between grid points the price moves linearly, plus a per-second jitter (think bid-ask bounce) that is a pure
hash of (seed, session, second, instrument) and keeps a watched price visibly alive from one second to the
next. So the price is a function of time alone: same seed, same path, whatever order it is asked in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from marketdesk.marketdata.sim.streams import Stream, hashed_normals, rng

SESSION_SECONDS = 23_400.0  # 09:30–16:00
MINUTES = 390
JITTER_SHARE_OF_RANGE = 0.03
MIN_JITTER = 0.0002  # 2 basis points
_CACHED_SESSIONS = 4


@dataclass(frozen=True)
class SessionBars:
    """One session's daily bar of every instrument, as log prices."""

    ordinal: int  # the session date's proleptic ordinal
    log_open: np.ndarray
    log_high: np.ndarray
    log_low: np.ndarray
    log_close: np.ndarray


class IntradayModel:
    """Intraday log prices of every instrument; session grids are cached (a few sessions)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._grids: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def grid(self, bars: SessionBars) -> np.ndarray:
        """The (MINUTES + 1, instruments) grid of log prices of one session."""
        with self._lock:
            cached = self._grids.get(bars.ordinal)
            if cached is not None:
                self._grids.move_to_end(bars.ordinal)
                return cached
        grid = _draw_grid(self.seed, bars)
        with self._lock:
            self._grids[bars.ordinal] = grid
            while len(self._grids) > _CACHED_SESSIONS:
                self._grids.popitem(last=False)
        return grid

    def log_prices(self, bars: SessionBars, second: float, columns: np.ndarray) -> np.ndarray:
        """Log prices of `columns` at `second` into the session (0 = the open, SESSION_SECONDS = the close)."""
        grid = self.grid(bars)
        second = min(max(second, 0.0), SESSION_SECONDS)
        minute = min(int(second // 60.0), MINUTES - 1)
        within = (second - 60.0 * minute) / 60.0
        path = grid[minute, columns] * (1.0 - within) + grid[minute + 1, columns] * within
        if second <= 0.0 or second >= SESSION_SECONDS:  # the open and the close are exact
            return path
        low, high = bars.log_low[columns], bars.log_high[columns]
        amplitude = np.maximum(JITTER_SHARE_OF_RANGE * (high - low), MIN_JITTER)
        jitter = hashed_normals(self.seed, bars.ordinal, int(second), columns) * amplitude
        return np.clip(path + jitter, low, high)


def cumulative_volume_share(second: float) -> float:
    """Share of the day's volume traded by `second`: U-shaped intensity, busy at the open and the close."""
    x = min(max(second / SESSION_SECONDS, 0.0), 1.0)
    return float(x + 0.5 * np.sin(2.0 * np.pi * x) / (2.0 * np.pi))


def _draw_grid(seed: int, bars: SessionBars) -> np.ndarray:
    n = len(bars.log_open)
    span = np.maximum(bars.log_high - bars.log_low, 1e-6)
    steps = rng(seed, Stream.INTRADAY, bars.ordinal).standard_normal((MINUTES, n)) * (span / np.sqrt(MINUTES))
    walk = np.vstack([np.zeros((1, n)), np.cumsum(steps, axis=0)])
    time = np.linspace(0.0, 1.0, MINUTES + 1)[:, None]
    path = bars.log_open + time * (bars.log_close - bars.log_open) + (walk - time * walk[-1])

    top = np.maximum(bars.log_open, bars.log_close)
    bottom = np.minimum(bars.log_open, bars.log_close)
    interior = path[1:-1]
    # make sure the path pokes above its top and below its bottom somewhere, so the stretch can reach the bar
    flat_top = interior.max(axis=0) <= top
    peak = np.argmax(interior, axis=0)
    interior[peak[flat_top], np.flatnonzero(flat_top)] = top[flat_top] + 1e-9
    flat_bottom = interior.min(axis=0) >= bottom
    trough = np.argmin(interior, axis=0)
    interior[trough[flat_bottom], np.flatnonzero(flat_bottom)] = bottom[flat_bottom] - 1e-9

    highest, lowest = path.max(axis=0), path.min(axis=0)
    up = (bars.log_high - top) / np.maximum(highest - top, 1e-12)
    down = (bottom - bars.log_low) / np.maximum(bottom - lowest, 1e-12)
    stretched = np.where(path > top, top + (path - top) * up, path)
    stretched = np.where(path < bottom, bottom - (bottom - path) * down, stretched)
    stretched[0], stretched[-1] = bars.log_open, bars.log_close
    return stretched
