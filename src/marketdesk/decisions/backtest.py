"""The historical verdict backtest: run the screener point-in-time on a schedule over real history and report,
per verdict, how the names it judged did against the benchmark 30, 60 and 90 days later.

    history = await load_history(session, store, start=date(2013, 4, 1), end=date(2017, 12, 31))
    report = run_backtest(history, schedule(history, date(2013, 4, 1), date(2017, 12, 31), "month"))
    report.by_verdict[0].at(90).win_rate

Pure: the history comes in, a report goes out. Each rebalance date's verdicts come only from
`point_in_time(history, as_of)` (no look-ahead); the outcomes then read the prices after `as_of`, which is
what measuring them means. The outcome conventions are `outcomes.py`'s and the statistics `stats.py`'s,
the same as the decision log's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from marketdesk.decisions.outcomes import HORIZONS_DAYS, exit_row, last_date, window_returns
from marketdesk.decisions.pointintime import History, point_in_time, verdicts_at
from marketdesk.decisions.stats import VERDICT_ORDER, GroupStats, group_stats
from marketdesk.errors import Rejected
from marketdesk.screener.config import ScoringConfig, resolve
from marketdesk.screener.model import RegimeState

EVERY = ("week", "month", "quarter")
FUNDAMENTALS_LAG = (
    "a fundamental counts from its filing date, else from its period end plus 90 days (annual) or 45 days "
    "(quarterly); the 10-K importer stores period end + 90 days as the filing date of the Kaggle NYSE set"
)
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Observation:
    """One verdict on one rebalance date and its excess returns (NaN: not measurable within the history)."""

    as_of: date
    symbol: str
    verdict: str
    score: float
    signals: tuple[str, ...]
    excess: tuple[float, ...]  # one per horizon


@dataclass(frozen=True)
class BacktestReport:
    start: date
    end: date
    every: str
    preset: str
    scoring_version: str
    benchmark: str
    horizons: tuple[int, ...]
    dates: tuple[date, ...]  # the rebalance sessions
    regimes: tuple[RegimeState, ...]  # the regime called on each
    universe: int  # symbols with prices (the benchmark excluded)
    observations: tuple[Observation, ...]
    by_verdict: tuple[GroupStats, ...]
    by_signal: tuple[GroupStats, ...]


def check_schedule(start: date, end: date, every: str) -> None:
    """Refuse a schedule that cannot be run, before any data is loaded."""
    if every not in EVERY:
        raise Rejected(f"unknown schedule {every!r}", hint=f"Use one of: {', '.join(EVERY)}.")
    if end < start:
        raise Rejected(f"the end {end} is before the start {start}", hint="Swap them.")


def schedule(history: History, start: date, end: date, every: str = "month") -> list[date]:
    """The rebalance sessions from `start` to `end`: the last session of each week, month or quarter."""
    check_schedule(start, end, every)
    dates = history.dates[(history.dates >= np.datetime64(start, "D")) & (history.dates <= np.datetime64(end, "D"))]
    if len(dates) == 0:
        first, last = (history.dates[0], history.dates[-1]) if len(history.dates) else ("none", "none")
        raise Rejected(f"no prices from {start} to {end}", hint=f"The stored prices run from {first} to {last}.")
    if every == "week":
        period = (dates.astype("datetime64[D]").astype(np.int64) - 4) // 7  # Monday to Sunday (1970-01-05 a Monday)
    else:
        period = dates.astype("datetime64[M]").astype(np.int64) // (3 if every == "quarter" else 1)
    last_of_period = np.flatnonzero(np.append(period[1:] != period[:-1], True))
    return [dates[i].astype("datetime64[D]").item() for i in last_of_period]


def _signal_ids(config: ScoringConfig, flags: np.ndarray) -> list[tuple[str, ...]]:
    ids = [f.id for f in config.flags]
    return [tuple(ids[k] for k in np.flatnonzero(row)) for row in flags]


def _forward_excess(history: History, as_of: date, columns: np.ndarray, horizons: Sequence[int]) -> np.ndarray:
    """(len(columns) × horizons) excess returns of the given symbol columns entered at the close of `as_of`."""
    adjusted = history.prices["adj_close"].values
    bench = history.column(history.benchmark_symbol)
    dates = history.dates
    start = int(np.searchsorted(dates, np.datetime64(as_of, "D"), side="right")) - 1
    reached = last_date(dates, adjusted[:, bench])
    out = np.full((len(columns), len(horizons)), np.nan)
    for j, horizon in enumerate(horizons):
        end = None if reached is None else exit_row(dates, as_of, horizon, reached)
        if end is None:
            continue
        block = adjusted[start : end + 1][:, [*columns.tolist(), bench]]
        returns = window_returns(block, 0, end - start)
        out[:, j] = returns[:-1] - returns[-1]
    return out


def run_backtest(
    history: History,
    dates: Sequence[date],
    *,
    config: ScoringConfig | None = None,
    horizons: Sequence[int] = HORIZONS_DAYS,
    every: str = "custom",
    progress: Progress | None = None,
) -> BacktestReport:
    """Screen `history` point-in-time on each of `dates` under `config` (Balanced when None, adjusted for the
    regime of each date) and measure every verdict's excess return at each horizon. `every` names the
    schedule in the report; `progress(done, total)` is called after each date."""
    if not dates:
        raise Rejected("no rebalance dates", hint="Widen --start/--end.")
    config = config or resolve(None)
    if config.regime is not None:
        raise Rejected("give the backtest a config resolved without a regime", hint="Each date's regime is its own.")
    benchmark = history.benchmark_symbol
    observations: list[Observation] = []
    regimes: list[RegimeState] = []
    for k, as_of in enumerate(dates):
        screened = verdicts_at(point_in_time(history, as_of), config)
        regimes.append(screened.regime.state)
        table = screened.result.table
        names = [str(s) for s in table.index]
        keep = [int(i) for i in np.flatnonzero(table["verdict_rank"].to_numpy() >= 0) if names[i] != benchmark]
        symbols = [names[i] for i in keep]
        columns = np.array([history.column(s) for s in symbols], dtype=int)
        excess = _forward_excess(history, as_of, columns, horizons)
        verdicts = table["verdict"].to_numpy()[keep]
        scores = table["score"].to_numpy()[keep]
        signals = _signal_ids(screened.result.config, screened.result.evaluation.flags[keep])
        for i, symbol in enumerate(symbols):
            observations.append(
                Observation(as_of, symbol, str(verdicts[i]), float(scores[i]), signals[i], tuple(excess[i].tolist()))
            )
        if progress is not None:
            progress(k + 1, len(dates))
    matrix = np.array([o.excess for o in observations], dtype=float).reshape(len(observations), len(horizons))
    verdicts_column = [o.verdict for o in observations]
    signal_keys = [s for o in observations for s in (o.signals or ("none",))]
    signal_rows = [i for i, o in enumerate(observations) for _ in (o.signals or ("none",))]
    return BacktestReport(
        start=dates[0],
        end=dates[-1],
        every=every,
        preset=config.preset,
        scoring_version=config.version,
        benchmark=benchmark,
        horizons=tuple(horizons),
        dates=tuple(dates),
        regimes=tuple(regimes),
        universe=len([s for s in history.symbols if s != benchmark]),
        observations=tuple(observations),
        by_verdict=group_stats(verdicts_column, matrix, horizons, VERDICT_ORDER),
        by_signal=group_stats(signal_keys, matrix[np.array(signal_rows, dtype=int)], horizons),
    )


def _group_dict(group: GroupStats) -> dict[str, Any]:
    return {
        "key": group.key,
        "count": group.count,
        "horizons": [
            {"horizon_days": h.horizon_days, "measured": h.measured, "wins": h.wins, "win_rate": h.win_rate,
             "mean_excess": h.mean_excess, "median_excess": h.median_excess}
            for h in group.horizons
        ],
    }  # fmt: skip


def report_dict(report: BacktestReport) -> dict[str, Any]:
    """The report as JSON-able data (without the per-observation rows)."""
    regimes = {state.value: sum(1 for r in report.regimes if r is state) for state in RegimeState}
    return {
        "start": report.start,
        "end": report.end,
        "every": report.every,
        "rebalances": len(report.dates),
        "preset": report.preset,
        "scoring_version": report.scoring_version,
        "benchmark": report.benchmark,
        "universe": report.universe,
        "observations": len(report.observations),
        "horizons": list(report.horizons),
        "regimes": regimes,
        "fundamentals_lag": FUNDAMENTALS_LAG,
        "by_verdict": [_group_dict(g) for g in report.by_verdict],
        "by_signal": [_group_dict(g) for g in report.by_signal],
    }
