"""Win rate and excess return by group (verdict, preset, signal type): the dashboard of the decision log and
the report of the verdict backtest. Pure: rows in, frozen dataclasses out.

Per group and horizon: `measured` is how many of the group's rows have an outcome at that horizon (the rest
are pending), `wins` how many beat the benchmark (excess return > 0), `win_rate` = wins / measured, and the
mean and median excess return over the measured rows. A group with nothing measured yet states None, never
NaN. A row with several signals counts once in each; a row with none counts under `NO_SIGNAL`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from marketdesk.decisions.outcomes import HORIZONS_DAYS
from marketdesk.screener.model import Verdict

NO_SIGNAL = "none"
VERDICT_ORDER: tuple[str, ...] = tuple(v.value for v in Verdict)  # Strong Buy first, Avoid last


@dataclass(frozen=True, slots=True)
class Scored:
    """One verdict and its excess returns by horizon (None while pending)."""

    verdict: str
    preset: str
    signals: tuple[str, ...]
    excess: Mapping[int, float | None]


@dataclass(frozen=True, slots=True)
class HorizonStats:
    horizon_days: int
    measured: int
    wins: int
    win_rate: float | None
    mean_excess: float | None
    median_excess: float | None


@dataclass(frozen=True, slots=True)
class GroupStats:
    key: str
    count: int
    horizons: tuple[HorizonStats, ...]

    def at(self, horizon_days: int) -> HorizonStats:
        """The figures at one horizon."""
        for stats in self.horizons:
            if stats.horizon_days == horizon_days:
                return stats
        raise KeyError(horizon_days)


@dataclass(frozen=True, slots=True)
class DecisionStats:
    by_verdict: tuple[GroupStats, ...]
    by_preset: tuple[GroupStats, ...]
    by_signal: tuple[GroupStats, ...]
    total: int


def horizon_stats(horizon_days: int, excess: np.ndarray) -> HorizonStats:
    """The figures of one group at one horizon from its excess returns (NaN: pending).

    >>> s = horizon_stats(30, np.array([0.02, -0.01, 0.0, np.nan]))
    >>> s.measured, s.wins, round(s.win_rate, 4), round(s.mean_excess, 4), s.median_excess
    (3, 1, 0.3333, 0.0033, 0.0)
    """
    measured = excess[np.isfinite(excess)]
    if len(measured) == 0:
        return HorizonStats(horizon_days, 0, 0, None, None, None)
    wins = int((measured > 0).sum())
    return HorizonStats(
        horizon_days, len(measured), wins, wins / len(measured), float(measured.mean()), float(np.median(measured))
    )


def group_stats(
    keys: Sequence[str], excess: np.ndarray, horizons: Sequence[int] = HORIZONS_DAYS, order: Sequence[str] = ()
) -> tuple[GroupStats, ...]:
    """Figures per distinct key. `excess` is (rows × horizons), NaN where pending; groups come in `order`, then
    the others alphabetically, `NO_SIGNAL` last."""
    labels = np.asarray(keys, dtype=object)
    rank = {key: i for i, key in enumerate(order)}
    distinct = sorted(set(labels.tolist()), key=lambda k: (rank.get(k, len(rank)), k == NO_SIGNAL, k))
    out = []
    for key in distinct:
        rows = excess[labels == key]
        out.append(GroupStats(key, len(rows), tuple(horizon_stats(h, rows[:, j]) for j, h in enumerate(horizons))))
    return tuple(out)


def _matrix(rows: Sequence[Scored], horizons: Sequence[int]) -> np.ndarray:
    out = np.full((len(rows), len(horizons)), np.nan)
    for i, row in enumerate(rows):
        for j, horizon in enumerate(horizons):
            value = row.excess.get(horizon)
            if value is not None:
                out[i, j] = value
    return out


def _exploded(
    rows: Sequence[Scored], matrix: np.ndarray, labels: Callable[[Scored], Iterable[str]]
) -> tuple[list[str], np.ndarray]:
    keys: list[str] = []
    take: list[int] = []
    for i, row in enumerate(rows):
        for label in labels(row):
            keys.append(label)
            take.append(i)
    return keys, matrix[np.array(take, dtype=int)] if take else matrix[:0]


def decision_stats(rows: Iterable[Scored], horizons: Sequence[int] = HORIZONS_DAYS) -> DecisionStats:
    """Win rate and excess return by verdict, by preset and by signal type.

    >>> rows = [Scored("Buy", "value", ("dip",), {30: 0.05}), Scored("Buy", "value", (), {30: -0.01})]
    >>> stats = decision_stats(rows, (30,))
    >>> [(g.key, g.count, g.at(30).win_rate) for g in stats.by_verdict]
    [('Buy', 2, 0.5)]
    >>> [(g.key, g.at(30).mean_excess) for g in stats.by_signal]
    [('dip', 0.05), ('none', -0.01)]
    """
    listed = list(rows)
    matrix = _matrix(listed, horizons)
    signal_keys, signal_rows = _exploded(listed, matrix, lambda r: r.signals or (NO_SIGNAL,))
    return DecisionStats(
        by_verdict=group_stats([r.verdict for r in listed], matrix, horizons, VERDICT_ORDER),
        by_preset=group_stats([r.preset for r in listed], matrix, horizons),
        by_signal=group_stats(signal_keys, signal_rows, horizons),
        total=len(listed),
    )
