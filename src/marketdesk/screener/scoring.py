"""Scores: each metric 0–1 against its rule, each factor the weighted mean of its metrics, the total 0–10.

One scorer serves stocks, ETFs and bonds: each asset class brings its own factors and rules from the config
(valuation, quality, growth, momentum and risk for stocks; cost, size, liquidity, momentum and concentration
for ETFs; yield, duration, credit quality and curve for bonds). A missing metric drops out of its factor and
a factor without data drops out of the total, so the weights of what is known are renormalised; `coverage`
says how much of the configured weight had data, and below the config's `min_coverage` a row gets a stated
reason instead of a score. Everything is vectorized over the universe, per asset class.

The total is `10 × Σ share_r × score_r` over the scored metrics, where `rule_share[i, r]` is each metric's
share of the total (each scored row's shares sum to 1). The shares make explanations ("P/E adds 1.2 points")
and threshold sensitivity exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from marketdesk.screener.gates import METRIC_INDEX

if TYPE_CHECKING:
    from marketdesk.screener.config import ScoringConfig

# a metric scoring at least this (0–1) is a reason for; at most NEUTRAL_LOW a reason against
NEUTRAL_HIGH, NEUTRAL_LOW = 0.6, 0.4
TOP_REASONS = 3


@dataclass(frozen=True, slots=True)
class MetricRule:
    """Score `metric` 0 at `bad` and 1 at `good`, linearly in between (log10 when `scale` is "log")."""

    metric: str
    bad: float
    good: float
    weight: float
    scale: str = "linear"

    @property
    def higher_is_better(self) -> bool:
        return self.good > self.bad


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    label: str
    weight: float
    pro: str  # headword for a reason for, e.g. "Cheap"
    con: str  # headword for a reason against, e.g. "Expensive"
    rules: tuple[MetricRule, ...]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One scored metric of one factor of one asset class (a column of `Scores.rule_score`)."""

    asset_class: str
    factor: int  # index into `Scores.factors`
    rule: MetricRule


@dataclass(frozen=True, slots=True)
class FactorSpec:
    asset_class: str
    factor: Factor


@dataclass(frozen=True)
class Scores:
    """Scores for a universe of n rows; NaN where a metric is missing or belongs to another asset class."""

    rules: tuple[RuleSpec, ...]
    factors: tuple[FactorSpec, ...]
    rule_score: np.ndarray  # (n, R) 0–1
    rule_share: np.ndarray  # (n, R) each metric's share of the total; 0 where not scored
    factor_score: np.ndarray  # (n, F) 0–10
    factor_share: np.ndarray  # (n, F) each factor's share of the total; 0 where it has no data
    total: np.ndarray  # (n,) 0–10, NaN with a reason in `no_score`
    coverage: np.ndarray  # (n,) 0–1: the share of the configured weight that had data
    no_score: np.ndarray  # (n,) object: None, or why there is no score
    pros: np.ndarray  # (n, 3) rule indices of the strongest reasons for, strongest first (−1: none)
    cons: np.ndarray  # (n, 3) the same against

    def rules_of(self, asset_class: str) -> list[int]:
        return [r for r, spec in enumerate(self.rules) if spec.asset_class == asset_class]

    def factors_of(self, asset_class: str) -> list[int]:
        return [f for f, spec in enumerate(self.factors) if spec.asset_class == asset_class]

    def factor_columns(self) -> dict[str, np.ndarray]:
        """One `<factor>_score` column per factor name across asset classes (NaN for other classes)."""
        out: dict[str, np.ndarray] = {}
        for f, spec in enumerate(self.factors):
            name = f"{spec.factor.name}_score"
            column = out.setdefault(name, np.full(self.total.shape[0], np.nan))
            values = self.factor_score[:, f]
            np.copyto(column, values, where=~np.isnan(values))
        return out


def to_scale(values: np.ndarray | float, rule: MetricRule) -> np.ndarray:
    """Values on the rule's scale: as they are, or log10 for "log" rules (−inf at or below 0, NaN stays NaN)."""
    x = np.asarray(values, dtype=float)
    if rule.scale != "log":
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.log10(np.where(x > 0, x, np.nan))
    return np.where(x <= 0, -np.inf, logged)


def rule_score(values: np.ndarray | float, rule: MetricRule) -> np.ndarray:
    """Score values 0 at `bad` and 1 at `good`, linearly in between (on the rule's scale), clipped; NaN stays NaN."""
    x = to_scale(values, rule)
    bad, good = (np.log10(rule.bad), np.log10(rule.good)) if rule.scale == "log" else (rule.bad, rule.good)
    with np.errstate(invalid="ignore"):
        return np.clip((x - bad) / (good - bad), 0.0, 1.0)


def _no_data(asset_class: str, coverage: float, minimum: float) -> str:
    if coverage == 0:
        return f"No score: none of the measures the {asset_class} score uses is available."
    return (
        f"No score: only {coverage:.0%} of the measures the {asset_class} score uses are available "
        f"(at least {minimum:.0%} needed)."
    )


def _specs(config: ScoringConfig) -> tuple[tuple[RuleSpec, ...], tuple[FactorSpec, ...]]:
    rules: list[RuleSpec] = []
    factors: list[FactorSpec] = []
    for cls in config.classes:
        for factor in cls.factors:
            factors.append(FactorSpec(cls.name, factor))
            rules.extend(RuleSpec(cls.name, len(factors) - 1, rule) for rule in factor.rules)
    return tuple(rules), tuple(factors)


def _rows(rows: np.ndarray, n: int) -> slice | np.ndarray:
    """Index rows as a slice when they are all of them (a view instead of a gather)."""
    return slice(None) if len(rows) == n else rows


def _per_factor(matrix: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Row sums of each factor's (contiguous) columns; a factor without rules sums to 0."""
    out = np.zeros((matrix.shape[0], len(starts)))
    has_rules = np.append(starts[1:], matrix.shape[1]) > starts
    if has_rules.any():
        out[:, has_rules] = np.add.reduceat(matrix, starts[has_rules], axis=1)
    return out


def _score_class(out: Scores, rows: np.ndarray, values: np.ndarray, name: str, min_coverage: float) -> None:
    """Fill `out`'s arrays for the rows of one asset class, as one block of matrix arithmetic."""
    rule_ids, factor_ids = out.rules_of(name), out.factors_of(name)
    if not rule_ids or len(rows) == 0:
        return
    take = _rows(rows, values.shape[0])
    first, last = rule_ids[0], rule_ids[-1] + 1  # a class's rules are contiguous
    rules = [out.rules[r].rule for r in rule_ids]
    raw = values[np.ix_(rows, np.array([METRIC_INDEX[r.metric] for r in rules]))]
    logs = [j for j, r in enumerate(rules) if r.scale == "log"]
    if logs:
        with np.errstate(divide="ignore", invalid="ignore"):
            raw[:, logs] = np.where(
                raw[:, logs] > 0, np.log10(np.abs(raw[:, logs])), np.where(np.isnan(raw[:, logs]), np.nan, -np.inf)
            )
    bad = np.array([np.log10(r.bad) if r.scale == "log" else r.bad for r in rules])
    good = np.array([np.log10(r.good) if r.scale == "log" else r.good for r in rules])
    weight = np.array([r.weight for r in rules])
    of = np.array([factor_ids.index(out.rules[r].factor) for r in rule_ids])
    starts = np.searchsorted(of, np.arange(len(factor_ids)))  # a factor's rules are contiguous too
    score = raw
    score -= bad
    score *= 1.0 / (good - bad)
    np.maximum(score, 0.0, out=score)  # NaN stays NaN
    np.minimum(score, 1.0, out=score)
    # few full-size temporaries (fresh pages cost as much as the arithmetic) and numpy's reduceat, not BLAS
    has = ~np.isnan(score)
    buffer = np.nan_to_num(score)
    buffer *= weight
    num = _per_factor(buffer, starts)  # (m, F): Σ weight × score per factor
    np.multiply(has, weight, out=buffer)
    den = _per_factor(buffer, starts)  # Σ weight of the metrics with data
    all_weight = _per_factor(weight[None, :], starts)[0]
    factor_weight = np.where(all_weight > 0, [out.factors[f].factor.weight for f in factor_ids], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        known = den > 0
        factor_score = np.where(known, 10.0 * num / den, np.nan)
        total_den = (known * factor_weight).sum(axis=1)
        total = (np.where(known, factor_score, 0.0) * factor_weight).sum(axis=1) / total_den
        coverage = (den / np.where(all_weight > 0, all_weight, 1.0) * factor_weight).sum(axis=1)
        coverage /= max(factor_weight.sum(), 1e-300)
        scored = (total_den > 0) & (coverage >= min_coverage)
        # shares: the factor's weight over the known factors' weight, times the rule's over the factor's known weight
        factor_share = np.where(scored[:, None] & known, factor_weight / total_den[:, None], 0.0)
        per_weight = np.divide(factor_share, den, out=np.zeros_like(den), where=known)
        rule_share = per_weight[:, of]
        rule_share *= weight
        rule_share[~has] = 0.0
    pros, cons = _reasons(score, rule_share, out.pros.shape[1], buffer)
    out.pros[take] = np.where(pros >= 0, pros + first, -1)
    out.cons[take] = np.where(cons >= 0, cons + first, -1)
    out.rule_score[take, first:last] = score
    out.rule_share[take, first:last] = rule_share
    out.factor_score[take, factor_ids[0] : factor_ids[-1] + 1] = factor_score
    out.factor_share[take, factor_ids[0] : factor_ids[-1] + 1] = factor_share
    out.total[take] = np.where(scored, np.clip(total, 0.0, 10.0), np.nan)
    out.coverage[take] = coverage
    for k in np.flatnonzero(~scored):
        out.no_score[rows[k]] = _no_data(name, float(coverage[k]), min_coverage)


def score_universe(
    values: np.ndarray,
    asset_class: np.ndarray,
    rows_of: Mapping[str, np.ndarray],
    config: ScoringConfig,
) -> Scores:
    """Score every row. `values` is (n, len(METRIC_NAMES)) in catalogue order; `rows_of` each class's rows."""
    n = values.shape[0]
    rules, factors = _specs(config)
    out = Scores(
        rules=rules,
        factors=factors,
        rule_score=np.full((n, len(rules)), np.nan),
        rule_share=np.zeros((n, len(rules))),
        factor_score=np.full((n, len(factors)), np.nan),
        factor_share=np.zeros((n, len(factors))),
        total=np.full(n, np.nan),
        coverage=np.zeros(n),
        no_score=np.full(n, None, dtype=object),
        pros=np.full((n, TOP_REASONS), -1, dtype=np.int32),
        cons=np.full((n, TOP_REASONS), -1, dtype=np.int32),
    )
    for cls in config.classes:
        _score_class(out, rows_of[cls.name], values, cls.name, config.min_coverage)
    unscored = np.flatnonzero(np.isnan(out.total) & pd.isna(out.no_score))
    for i in unscored:  # asset classes the config does not score (e.g. an index)
        valid = ", ".join(sorted(rows_of))
        out.no_score[i] = f"No score: there are no scoring rules for asset class {asset_class[i]!r} (scored: {valid})."
    return out


def _reasons(score: np.ndarray, share: np.ndarray, top: int, buffer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column indices of each row's strongest reasons for and against (−1: none), strongest first.

    A metric argues for a row when it scores at least NEUTRAL_HIGH and against it at most NEUTRAL_LOW; its
    strength is the points it moves the total from a neutral 0.5 (`10 × share × |score − 0.5|`). One sort
    per row ranks both: the largest positive strengths are the reasons for, the most negative against.
    `buffer` is scratch space of the same shape.
    """
    signed = buffer
    with np.errstate(invalid="ignore"):
        np.subtract(score, 0.5, out=signed)
        signed *= share
        signed[((score > NEUTRAL_LOW) & (score < NEUTRAL_HIGH)) | np.isnan(signed)] = 0.0
    k = min(top, signed.shape[1])
    # equal strengths rank in config order: nudge each by far less than any real difference, away from zero
    key = np.sign(signed)
    key *= np.arange(signed.shape[1]) * 1e-12
    key -= signed  # the negated strength, nudged: an ascending sort puts reasons for first, against last
    order = np.argsort(key, axis=1)
    pros = np.full((signed.shape[0], top), -1, dtype=np.int32)
    cons = np.full((signed.shape[0], top), -1, dtype=np.int32)
    if k:
        best = order[:, :k]
        worst = order[:, ::-1][:, :k]
        pros[:, :k] = np.where(np.take_along_axis(signed, best, axis=1) > 0, best, -1)
        cons[:, :k] = np.where(np.take_along_axis(signed, worst, axis=1) < 0, worst, -1)
    return pros, cons
