"""Seeded random streams of the simulated market, and the fixed epoch it starts from.

Each stream is keyed by the seed, its purpose and (for time-dependent draws) the year or the session, so a
year's draws never depend on how many years are generated. That is what keeps every past price the same
whatever the clock says today: a desk restarted tomorrow shows the same history, one day longer.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum

import numpy as np

EPOCH = date(2000, 1, 3)
"""The first simulated session (the first session of the exchange calendar's table). Paths start here."""

EPOCH_YEAR = EPOCH.year


class Stream(IntEnum):
    UNIVERSE = 1
    MARKET = 2
    QUARTER = 3
    DAILY = 4
    INTRADAY = 5
    STATEMENTS = 6


def rng(seed: int, stream: Stream, *keys: int) -> np.random.Generator:
    """The generator of one stream: same (seed, stream, keys), same numbers."""
    return np.random.default_rng([seed, int(stream), *keys])


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix(values: np.ndarray) -> np.ndarray:
    # SplitMix64 finalizer on uint64 arrays; array arithmetic wraps modulo 2**64 by design.
    z = values + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def hashed_normals(seed: int, session_ordinal: int, second: int, columns: np.ndarray) -> np.ndarray:
    """Standard normals that are a pure function of (seed, session, second, column): no state, any order."""
    base = np.array([seed, session_ordinal, second], dtype=np.uint64)
    key = _splitmix(base[:1])
    key = _splitmix(key ^ base[1:2])
    key = _splitmix(key ^ base[2:3])
    lanes = _splitmix(key ^ (columns.astype(np.uint64) * np.uint64(2) + np.uint64(1)))
    other = _splitmix(lanes)
    u1 = ((lanes >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
    u2 = (other >> np.uint64(11)).astype(np.float64) / 2.0**53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
