"""Verdicts and explanations.

The verdict comes from the score and the cut-offs, then the gates: a failed `cap` gate holds it at Hold at
best and a failed `avoid` gate makes it Avoid. So a name that fails a gate is never above Hold, and the same
inputs always give the same verdict. A row without a score gets no verdict (unless an `avoid` gate failed,
which is enough to say Avoid) and a sentence saying why.

Explanations come in two registers from the same data: plain language (the top reasons for and against, and
what the verdict means) and pro detail (every metric against its thresholds with its score, weight and share,
factor by factor, then gate by gate). Both are built per row on demand from arrays computed once per screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.screener.catalog import METRICS
from marketdesk.screener.config import Cutoffs, ScoringConfig
from marketdesk.screener.gates import METRIC_INDEX, GateResult, GateTable, format_value
from marketdesk.screener.model import Regime, RegimeState, Verdict
from marketdesk.screener.scoring import RuleSpec, Scores

NO_VERDICT = -1
VERDICT_BY_RANK = (Verdict.AVOID, Verdict.HOLD, Verdict.BUY, Verdict.STRONG_BUY)
_LABELS = np.array([None, *(v.value for v in VERDICT_BY_RANK)], dtype=object)

MEANING: dict[Verdict, str] = {
    Verdict.STRONG_BUY: "Strong Buy: strong on nearly every measure; a candidate for a full position sized to your plan.",
    Verdict.BUY: "Buy: solid on most measures; worth a position sized to your plan.",
    Verdict.HOLD: "Hold: a mixed picture; fine to keep if you own it, but not a clear case for new money.",
    Verdict.AVOID: "Avoid: weak on too many measures or fails a safety check; look elsewhere.",
}
_REGIME_NOTE = {
    RegimeState.RISK_ON: "momentum and growth count for more",
    RegimeState.NEUTRAL: "the standard weights apply",
    RegimeState.RISK_OFF: "quality and low risk count for more and every verdict needs a higher score",
}


def score_rank(total: np.ndarray, cutoffs: Cutoffs) -> np.ndarray:
    """Verdict rank from the score alone: 3 Strong Buy, 2 Buy, 1 Hold, 0 Avoid, −1 no score."""
    with np.errstate(invalid="ignore"):
        rank = np.select([total >= cutoffs.strong_buy, total >= cutoffs.buy, total >= cutoffs.hold], [3, 2, 1], 0)
    return np.where(np.isnan(total), NO_VERDICT, rank).astype(np.int8)


def apply_gates(rank: np.ndarray, cap_failed: np.ndarray, avoid_failed: np.ndarray) -> np.ndarray:
    """Hold a rank at Hold (1) where a cap gate failed, and make it Avoid (0) where an avoid gate failed."""
    capped = np.where(cap_failed & (rank > 1), 1, rank)
    return np.where(avoid_failed, 0, capped).astype(np.int8)


def verdict_labels(rank: np.ndarray) -> np.ndarray:
    """Verdict names for ranks (None for no verdict)."""
    return _LABELS[rank.astype(np.intp) + 1]


@dataclass(frozen=True)
class Evaluation:
    """Everything one screen computed, row-aligned; explanations and sensitivity read from it."""

    symbols: pd.Index
    values: np.ndarray  # (n, len(METRIC_NAMES))
    asset_class: np.ndarray
    sector: np.ndarray
    config: ScoringConfig
    regime: Regime | None
    scores: Scores
    gates: GateTable
    score_rank: np.ndarray  # verdict rank by score alone
    rank: np.ndarray  # final verdict rank, after gates (−1: none)
    flags: np.ndarray  # (n, len(config.flags)) bool

    def flag_labels(self, row: int) -> tuple[str, ...]:
        return tuple(f.label for f, on in zip(self.config.flags, self.flags[row], strict=True) if on)


@dataclass(frozen=True, slots=True)
class Reason:
    side: str  # "for" or "against"
    text: str
    factor: str | None = None
    metric: str | None = None
    gate: str | None = None
    points: float | None = None  # how far it moves the score from a neutral reading, in points of 10


@dataclass(frozen=True, slots=True)
class MetricDetail:
    metric: str
    label: str
    value: float | None
    shown: str
    bad: float
    good: float
    bad_shown: str
    good_shown: str
    scale: str
    weight: float
    score: float | None  # 0–1
    share: float  # of the total score, 0–1
    points: float  # contribution to the 0–10 total
    status: str  # scored, missing, unweighted


@dataclass(frozen=True, slots=True)
class FactorDetail:
    name: str
    label: str
    weight: float
    share: float
    score: float | None  # 0–10
    metrics: tuple[MetricDetail, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    """Why a row got its verdict: plain reasons and pro detail, JSON-able via `to_dict`."""

    symbol: str
    asset_class: str
    verdict: str | None
    score: float | None
    score_verdict: str | None  # the verdict the score alone gives
    meaning: str
    no_score: str | None
    capped_by: tuple[str, ...]
    reasons_for: tuple[Reason, ...]
    reasons_against: tuple[Reason, ...]
    factors: tuple[FactorDetail, ...]
    gates: tuple[GateResult, ...]
    flags: tuple[str, ...]
    coverage: float
    version: str
    preset: str
    preset_label: str
    regime: str | None
    regime_note: str | None
    cutoffs: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_jsonable(self)
        data["plain"] = self.plain_text()
        data["pro"] = self.pro_text()
        return data

    def plain_text(self) -> str:
        """A beginner's explanation: verdict, what it means, reasons for and against."""
        if self.verdict is None:
            lines = [f"{self.symbol}: no verdict.", self.no_score or ""]
        else:
            score = "" if self.score is None else f" ({self.score:.1f}/10)"
            lines = [f"{self.symbol}: {self.verdict}{score}", self.meaning]
        if self.capped_by:
            lines.append(
                f"On the numbers alone it would be {self.score_verdict or 'unscored'}, but it fails "
                f"{', '.join(self.capped_by)}, so it is {self.verdict}."
            )
        for title, reasons in (("For:", self.reasons_for), ("Against:", self.reasons_against)):
            if reasons:
                lines.append(title)
                lines.extend(f"  • {r.text}" for r in reasons)
        if self.regime_note:
            lines.append(self.regime_note)
        return "\n".join(line for line in lines if line)

    def pro_text(self) -> str:
        """Every metric against its thresholds, factor by factor, then gate by gate."""
        cut = self.cutoffs
        lines = [
            f"{self.symbol} · {self.asset_class} · scoring {self.version} · preset {self.preset_label}"
            f" · regime {self.regime or 'not applied'}",
            f"Cut-offs: Strong Buy ≥ {cut['strong_buy']:g}, Buy ≥ {cut['buy']:g}, Hold ≥ {cut['hold']:g}",
            f"Score {'n/a' if self.score is None else f'{self.score:.2f}'} · by score {self.score_verdict or '—'}"
            f" · verdict {self.verdict or '—'} · data coverage {self.coverage:.0%}",
        ]
        for factor in self.factors:
            score = "n/a" if factor.score is None else f"{factor.score:.1f}/10"
            lines.append(f"{factor.label}: {score} (weight {factor.weight:g}, {factor.share:.0%} of the score)")
            for m in factor.metrics:
                rated = "—" if m.score is None else f"{m.score:.2f}"
                lines.append(
                    f"  {m.label:<20} {m.shown:>10}  poor {m.bad_shown:>8} → good {m.good_shown:>8}  score {rated:>4}"
                    f"  weight {m.weight:g}  share {m.share:.1%}  {m.points:+.2f} pts  [{m.status}]"
                )
        lines.append("Gates:")
        lines.extend(f"  {g.status.upper():<7} [{g.severity}] {g.text}" for g in self.gates)
        if not self.gates:
            lines.append("  none for this asset class")
        if self.flags:
            lines.append(f"Flags: {', '.join(self.flags)}")
        return "\n".join(lines)


def _reason_text(spec: RuleSpec, pro: str, con: str, value: float, score: float, side: str) -> str:
    rule = spec.rule
    label = METRICS[rule.metric].label
    shown, good, bad = (format_value(rule.metric, v) for v in (value, rule.good, rule.bad))
    higher = rule.higher_is_better
    if side == "for":
        if score >= 1.0:
            where = "meets" if value == rule.good else f"is {'above' if higher else 'below'}"
            return f"{pro}: {label} {shown} {where} the {good} we call good"
        return f"{pro}: {label} {shown} is nearer the {good} we call good than the {bad} we call poor"
    if score <= 0.0:
        where = "is at" if value == rule.bad else f"is {'below' if higher else 'above'}"
        return f"{con}: {label} {shown} {where} the {bad} we call poor"
    return f"{con}: {label} {shown} is nearer the {bad} we call poor than the {good} we call good"


def metric_reason(ev: Evaluation, row: int, rule_index: int, side: str) -> Reason:
    spec = ev.scores.rules[rule_index]
    factor = ev.scores.factors[spec.factor].factor
    value = float(ev.values[row, METRIC_INDEX[spec.rule.metric]])
    score = float(ev.scores.rule_score[row, rule_index])
    share = float(ev.scores.rule_share[row, rule_index])
    return Reason(
        side=side,
        text=_reason_text(spec, factor.pro, factor.con, value, score, side),
        factor=factor.name,
        metric=spec.rule.metric,
        points=round(10.0 * share * abs(score - 0.5), 4),
    )


def reasons(
    ev: Evaluation, row: int, top: int = 3, gates: tuple[GateResult, ...] | None = None
) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
    """The top reasons for and against one row; failed gates lead the reasons against."""
    pros = tuple(metric_reason(ev, row, int(r), "for") for r in ev.scores.pros[row, :top] if r >= 0)
    failed = [g for g in (ev.gates.for_row(row) if gates is None else gates) if g.status == "fail"]
    against = [Reason("against", f"Fails a check ({g.label}): {g.text}", gate=g.id) for g in failed]
    against += [metric_reason(ev, row, int(r), "against") for r in ev.scores.cons[row, :top] if r >= 0]
    return pros, tuple(against[:top])


def _metric_detail(ev: Evaluation, row: int, rule_index: int) -> MetricDetail:
    rule = ev.scores.rules[rule_index].rule
    raw = float(ev.values[row, METRIC_INDEX[rule.metric]])
    score = float(ev.scores.rule_score[row, rule_index])
    share = float(ev.scores.rule_share[row, rule_index])
    status = "missing" if math.isnan(score) else ("scored" if share > 0 else "unweighted")
    return MetricDetail(
        metric=rule.metric,
        label=METRICS[rule.metric].label,
        value=raw if math.isfinite(raw) else None,
        shown=format_value(rule.metric, raw),
        bad=rule.bad,
        good=rule.good,
        bad_shown=format_value(rule.metric, rule.bad),
        good_shown=format_value(rule.metric, rule.good),
        scale=rule.scale,
        weight=rule.weight,
        score=None if math.isnan(score) else score,
        share=share,
        points=10.0 * share * (0.0 if math.isnan(score) else score),
        status=status,
    )


def factor_details(ev: Evaluation, row: int) -> tuple[FactorDetail, ...]:
    """Every factor of the row's asset class with every metric against its thresholds."""
    out = []
    cls = str(ev.asset_class[row])
    for fi in ev.scores.factors_of(cls):
        factor = ev.scores.factors[fi].factor
        metrics = tuple(_metric_detail(ev, row, r) for r in ev.scores.rules_of(cls) if ev.scores.rules[r].factor == fi)
        score = float(ev.scores.factor_score[row, fi])
        out.append(
            FactorDetail(
                name=factor.name,
                label=factor.label,
                weight=factor.weight,
                share=float(ev.scores.factor_share[row, fi]),
                score=None if math.isnan(score) else score,
                metrics=metrics,
                missing=tuple(m.label for m in metrics if m.status == "missing"),
            )
        )
    return tuple(out)


def regime_note(config: ScoringConfig, regime: Regime | None) -> str | None:
    """One sentence on how the market regime changed the rules."""
    state = config.regime
    if state is None:
        return None
    why = f" ({regime.reason.rstrip('.')})" if regime is not None and regime.reason else ""
    return f"The market is {state.value}{why}: {_REGIME_NOTE[state]}."


def explain(ev: Evaluation, row: int) -> Explanation:
    """The full explanation of one row."""
    rank, by_score = int(ev.rank[row]), int(ev.score_rank[row])
    verdict = VERDICT_BY_RANK[rank] if rank >= 0 else None
    total = float(ev.scores.total[row])
    gates = ev.gates.for_row(row)
    pros, cons = reasons(ev, row, gates=gates)
    capped = tuple(g.label for g in gates if g.status == "fail") if rank < by_score or by_score < 0 else ()
    cut = ev.config.cutoffs
    return Explanation(
        symbol=str(ev.symbols[row]),
        asset_class=str(ev.asset_class[row]),
        verdict=None if verdict is None else verdict.value,
        score=None if math.isnan(total) else total,
        score_verdict=VERDICT_BY_RANK[by_score].value if by_score >= 0 else None,
        meaning=MEANING[verdict] if verdict is not None else "",
        no_score=ev.scores.no_score[row],
        capped_by=capped if verdict is not None else (),
        reasons_for=pros,
        reasons_against=cons,
        factors=factor_details(ev, row),
        gates=gates,
        flags=ev.flag_labels(row),
        coverage=float(ev.scores.coverage[row]),
        version=ev.config.version,
        preset=ev.config.preset,
        preset_label=ev.config.preset_label,
        regime=None if ev.config.regime is None else ev.config.regime.value,
        regime_note=regime_note(ev.config, ev.regime),
        cutoffs={"strong_buy": cut.strong_buy, "buy": cut.buy, "hold": cut.hold},
    )
