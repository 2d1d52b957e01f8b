"""The screen: gates, scores, verdicts, reasons, flags and filters over a whole universe, in one call.

    from marketdesk.screener.config import resolve
    from marketdesk.screener.engine import screen

    result = screen(metrics, asset_class=classes, sector=sectors, regime=regime, config=resolve("value"))
    result.view(limit=20)            # the selected rows, best first
    result.explain("AAPL").plain_text()
    result.sensitivity("AAPL").text()

Everything per universe is computed here as arrays (10,000 rows in a few milliseconds); per-row text
(explanations, reasons, gate sentences, sensitivity) is built when asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import numpy as np
import pandas as pd

from marketdesk.errors import NotFound, Rejected
from marketdesk.screener.catalog import METRIC_NAMES
from marketdesk.screener.config import ScoringConfig, resolve
from marketdesk.screener.filters import compile_filter, match_all
from marketdesk.screener.gates import GateResult, class_rows, evaluate_gates
from marketdesk.screener.model import Regime
from marketdesk.screener.scoring import score_universe
from marketdesk.screener.sensitivity import Sensitivity, sensitivity
from marketdesk.screener.verdicts import (
    VERDICT_BY_RANK,
    Evaluation,
    Explanation,
    Reason,
    apply_gates,
    explain,
    reasons,
    score_rank,
    verdict_labels,
)

_CONTEXT_COLUMNS = ("asset_class", "sector")


def _labels(
    values: Sequence[str | None] | Sequence[str] | np.ndarray | pd.Series | str | None,
    n: int,
    name: str,
    default: str | None,
) -> np.ndarray:
    if values is None or isinstance(values, str):
        return np.full(n, values if values is not None else default, dtype=object)
    out = np.array(values, dtype=object)
    if out.shape != (n,):
        raise Rejected(f"{name} has {out.size} values for {n} rows", hint=f"Give one {name} per row of metrics.")
    missing = pd.isna(out)
    if missing.any():
        out[missing] = None
    return out


def _metric_matrix(metrics: pd.DataFrame) -> np.ndarray:
    unknown = [c for c in metrics.columns if c not in METRIC_NAMES and c not in _CONTEXT_COLUMNS]
    if unknown:
        raise Rejected(
            f"unknown metric column {unknown[0]!r}",
            hint=f"Metric columns must be catalogue names: {', '.join(METRIC_NAMES)}.",
        )
    try:
        if tuple(metrics.columns) == METRIC_NAMES and all(t == np.float64 for t in metrics.dtypes):
            values = metrics.to_numpy(dtype=np.float64, copy=True)  # compute_metrics' layout: one copy
        else:
            values = np.full((len(metrics), len(METRIC_NAMES)), np.nan)
            present = [c for c in METRIC_NAMES if c in metrics.columns]
            if present:
                block = metrics[present].to_numpy(dtype=np.float64, na_value=np.nan)
                values[:, [METRIC_NAMES.index(c) for c in present]] = block
    except (TypeError, ValueError) as error:
        raise Rejected("metric columns must be numbers (NaN or None where missing)", hint=str(error)) from None
    infinite = np.isinf(values)
    if infinite.any():
        values[infinite] = np.nan
    return values


def _class_column(classes: np.ndarray, rows_of: Mapping[str, np.ndarray]) -> pd.Categorical:
    """The asset class as a categorical, from the row numbers already found (others factorized)."""
    codes = np.full(len(classes), -1, dtype=np.int16)
    names = list(rows_of)
    for k, rows in enumerate(rows_of.values()):
        codes[rows] = k
    rest = np.flatnonzero(codes < 0)
    if len(rest):
        extra_codes, extra = pd.factorize(classes[rest])
        codes[rest] = np.where(extra_codes >= 0, extra_codes + len(names), -1)
        names += [str(e) for e in extra]
    return _categorical(codes, names)


def _flag_text(flags: np.ndarray, labels: Sequence[str]) -> pd.Categorical:
    """One comma-separated string per row, rendered once per distinct combination."""
    n = flags.shape[0]
    if not labels or n == 0:
        return _categorical(np.zeros(n, dtype=np.int8), [""])
    codes = flags.astype(np.int64) @ (1 << np.arange(len(labels), dtype=np.int64))
    distinct, inverse = np.unique(codes, return_inverse=True)
    text = [", ".join(lab for k, lab in enumerate(labels) if code >> k & 1) for code in distinct]
    return _categorical(inverse, text)


def _categorical(codes: np.ndarray, categories: list[str], ordered: bool = False) -> pd.Categorical:
    dtype = pd.CategoricalDtype(categories, ordered=ordered)
    return cast("pd.Categorical", pd.Categorical.from_codes(codes, dtype=dtype))


def _constant(value: str, n: int) -> pd.Categorical:
    return _categorical(np.zeros(n, dtype=np.int8), [value])


@dataclass(frozen=True)
class ScreenResult:
    """The outcome of one screen: `table` (every row) and per-symbol detail on demand.

    `table` is indexed by symbol, with the verdict, score, factor scores, coverage, failed and unknown gate
    counts, flags, `selected` (matches the preset's filters and `where`), the scoring version and preset,
    and every catalogue metric. `view()` gives the selected rows, best first.
    """

    table: pd.DataFrame
    evaluation: Evaluation
    where: tuple[str, ...]

    @property
    def version(self) -> str:
        return self.evaluation.config.version

    @property
    def preset(self) -> str:
        return self.evaluation.config.preset

    @property
    def config(self) -> ScoringConfig:
        return self.evaluation.config

    @property
    def regime(self) -> Regime | None:
        return self.evaluation.regime

    @property
    def message(self) -> str | None:
        """Why there is nothing to show, or None when some rows are selected."""
        if self.table.empty:
            return "The universe is empty: there is nothing to screen. Import prices or pick another universe."
        if not self.table["selected"].any():
            rules = [*self.config.filters, *self.where]
            return f"No names match the filters ({' and '.join(rules)}). Loosen them or try another preset."
        return None

    @cached_property
    def _position(self) -> dict[str, int]:
        return {symbol: i for i, symbol in enumerate(self.evaluation.symbols)}

    @cached_property
    def _factor_columns(self) -> dict[str, np.ndarray]:
        return self.evaluation.scores.factor_columns()

    def _row(self, symbol: str) -> int:
        try:
            return self._position[symbol]
        except KeyError:
            raise NotFound(f"{symbol!r} is not in this screen", hint="Check the symbol or the universe.") from None

    def gates(self, symbol: str) -> tuple[GateResult, ...]:
        """Every gate result for one symbol, failures first."""
        return self.evaluation.gates.for_row(self._row(symbol))

    def reasons(self, symbol: str) -> dict[str, tuple[Reason, ...]]:
        """The top reasons for and against one symbol: {"for": …, "against": …}."""
        pros, cons = reasons(self.evaluation, self._row(symbol))
        return {"for": pros, "against": cons}

    def flags(self, symbol: str) -> tuple[str, ...]:
        return self.evaluation.flag_labels(self._row(symbol))

    def explain(self, symbol: str) -> Explanation:
        """Plain reasons and pro detail for one symbol (`.plain_text()`, `.pro_text()`, `.to_dict()`)."""
        return explain(self.evaluation, self._row(symbol))

    def sensitivity(self, symbol: str) -> Sensitivity:
        """The smallest change in each metric alone that would change the symbol's verdict."""
        return sensitivity(self.evaluation, self._row(symbol))

    def view(
        self,
        sort: str | None = None,
        *,
        descending: bool = True,
        limit: int | None = None,
        selected_only: bool = True,
    ) -> pd.DataFrame:
        """The selected rows, best verdict then highest score first (or by the column `sort`; missing last)."""
        frame = self.table[self.table["selected"]] if selected_only else self.table
        if sort is None:
            keys, ascending = ["verdict_rank", "score", "symbol"], [False, False, True]
        elif sort in frame.columns:
            keys, ascending = [sort, "symbol"], [not descending, True]
        else:
            raise Rejected(f"cannot sort by {sort!r}", hint=f"Sort keys: {', '.join(map(str, frame.columns))}.")
        ordered = frame.rename_axis("symbol").sort_values(keys, ascending=ascending, na_position="last", kind="stable")
        if limit is not None:
            if limit < 0:
                raise Rejected(f"limit {limit} is negative", hint="Give 0 or more rows.")
            ordered = ordered.head(limit)
        return ordered

    def row(self, symbol: str) -> dict[str, Any]:
        """One symbol as JSON-able data: verdict, score, metrics (None when missing), gates, reasons, flags."""
        i = self._row(symbol)
        ev = self.evaluation
        total = float(ev.scores.total[i])
        gates = ev.gates.for_row(i)
        pros, cons = reasons(ev, i, gates=gates)
        factors = {name: float(col[i]) for name, col in self._factor_columns.items() if not math.isnan(col[i])}
        return {
            "symbol": symbol,
            "asset_class": ev.asset_class[i],
            "sector": ev.sector[i],
            "verdict": VERDICT_BY_RANK[ev.rank[i]].value if ev.rank[i] >= 0 else None,
            "score": None if math.isnan(total) else total,
            "no_score": ev.scores.no_score[i],
            "coverage": float(ev.scores.coverage[i]),
            "factors": factors,
            "metrics": {
                m: (float(v) if math.isfinite(v) else None) for m, v in zip(METRIC_NAMES, ev.values[i], strict=True)
            },
            "gates": [g.to_dict() for g in gates],
            "reasons": {"for": [r.text for r in pros], "against": [r.text for r in cons]},
            "flags": list(ev.flag_labels(i)),
            "version": self.version,
            "preset": self.preset,
            "regime": None if self.config.regime is None else self.config.regime.value,
        }

    def rows(
        self, sort: str | None = None, *, descending: bool = True, limit: int | None = None, selected_only: bool = True
    ) -> Iterator[dict[str, Any]]:
        """The rows of `view(...)` as JSON-able dicts (see `row`)."""
        for symbol in self.view(sort, descending=descending, limit=limit, selected_only=selected_only).index:
            yield self.row(str(symbol))


def _config_for(config: ScoringConfig | None, regime: Regime | None) -> ScoringConfig:
    state = None if regime is None else regime.state
    if config is None:
        return resolve(None, state)
    if state is None or config.regime == state:
        return config
    if config.regime is None:
        return config.with_regime(state)
    raise Rejected(
        f"the config was resolved for a {config.regime.value} market, but the screen is for {state.value}",
        hint="Resolve the config without a regime, or with the same one.",
    )


def screen(
    metrics: pd.DataFrame,
    *,
    asset_class: Sequence[str] | np.ndarray | str | None = None,
    sector: Sequence[str | None] | np.ndarray | None = None,
    regime: Regime | None = None,
    config: ScoringConfig | None = None,
    where: Sequence[str] | str = (),
) -> ScreenResult:
    """Gate, score, judge and explain every row of `metrics` (indexed by symbol, catalogue columns).

    `asset_class` and `sector` give one value per row (or one for all); when None they are read from the
    columns of the same names, else every row is an equity with no sector. `config` defaults to the Balanced
    preset; a config resolved without a regime is adjusted for `regime`. `where` adds filter expressions,
    combined with the preset's filters by `and`, to decide `selected`.
    """
    if not isinstance(metrics, pd.DataFrame):
        raise Rejected(f"metrics must be a DataFrame indexed by symbol, not {type(metrics).__name__}")
    duplicated = metrics.index[metrics.index.duplicated()]
    if len(duplicated):
        raise Rejected(f"symbol {duplicated[0]!r} appears more than once", hint="Give one row per symbol.")
    n = len(metrics)
    classes = _labels(metrics.get("asset_class") if asset_class is None else asset_class, n, "asset_class", "equity")
    sectors = _labels(metrics.get("sector") if sector is None else sector, n, "sector", None)
    config = _config_for(config, regime)
    expressions = (where,) if isinstance(where, str) else tuple(where)
    for expression in expressions:
        compile_filter(expression)  # reject a bad filter before doing any work

    values = _metric_matrix(metrics)
    rows_of = class_rows(classes, config)
    gates = evaluate_gates(values, rows_of, config)
    scores = score_universe(values, classes, rows_of, config)
    by_score = score_rank(scores.total, config.cutoffs)
    rank = apply_gates(by_score, gates.cap_failed, gates.avoid_failed)

    symbols = metrics.index if pd.api.types.is_string_dtype(metrics.index) else metrics.index.astype(str)
    symbols = symbols.rename("symbol")
    columns: dict[str, Any] = {
        "asset_class": classes,
        "sector": sectors,
        "verdict": verdict_labels(rank),
        "verdict_rank": rank,
        "score": scores.total,
        **scores.factor_columns(),
        "coverage": scores.coverage,
        "failed_gates": gates.failed,
        "unknown_gates": gates.unknown,
    }
    lookup = {**columns, **{name: values[:, j] for j, name in enumerate(METRIC_NAMES)}}
    flags = np.zeros((n, len(config.flags)), dtype=bool)
    for k, flag in enumerate(config.flags):
        flags[:, k] = compile_filter(flag.when).mask(lookup)
    columns["asset_class"] = _class_column(classes, rows_of)
    columns["sector"] = pd.Categorical(sectors)
    columns["verdict"] = _categorical(rank, [v.value for v in VERDICT_BY_RANK], ordered=True)
    columns["flags"] = _flag_text(flags, [f.label for f in config.flags])
    columns["selected"] = match_all((*config.filters, *expressions), lookup, n)
    columns["no_score"] = pd.Series(scores.no_score, index=symbols, dtype=object)
    columns["scoring_version"] = _constant(config.version, n)
    columns["preset"] = _constant(config.preset, n)
    table = pd.concat(
        [pd.DataFrame(columns, index=symbols), pd.DataFrame(values, index=symbols, columns=list(METRIC_NAMES))], axis=1
    )
    evaluation = Evaluation(
        symbols=symbols,
        values=values,
        asset_class=classes,
        sector=sectors,
        config=config,
        regime=regime,
        scores=scores,
        gates=gates,
        score_rank=by_score,
        rank=rank,
        flags=flags,
    )
    return ScreenResult(table=table, evaluation=evaluation, where=expressions)
