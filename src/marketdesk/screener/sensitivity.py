"""Threshold sensitivity: for one row, the smallest change in each metric alone that would change the verdict.

With every other input fixed, the score is a piecewise-linear function of one metric: each of its rules is
flat below `bad`, flat beyond `good` and linear in between (on log10 for "log" rules), and its share of the
score does not change while the metric is known. The gates on the metric flip at their thresholds. So the
verdict can only change where the score crosses a cut-off inside a segment, or at a breakpoint. We walk the
segments outward from the current value in each direction, solve the crossing exactly where the score is
linear, and stop at the first change. Values are kept within the metric's plausible range
(`filters.metric_range`), so a change that needs, say, a negative P/E is reported as none.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.screener.catalog import METRICS
from marketdesk.screener.filters import metric_range
from marketdesk.screener.gates import FAIL, METRIC_INDEX, format_value, passes
from marketdesk.screener.scoring import MetricRule, rule_score
from marketdesk.screener.verdicts import VERDICT_BY_RANK, Evaluation, apply_gates, score_rank

_SAMPLES = 64  # for the rare segment where two rules on one metric use different scales
_BISECT = 60


@dataclass(frozen=True, slots=True)
class Change:
    """The verdict becomes `verdict` at `target` (inclusive) or just beyond it (not inclusive)."""

    target: float
    inclusive: bool
    change: float  # target − current value
    verdict: str
    shown: str


@dataclass(frozen=True, slots=True)
class MetricSensitivity:
    metric: str
    label: str
    value: float | None
    shown: str
    up: Change | None
    down: Change | None
    text: str


@dataclass(frozen=True)
class Sensitivity:
    symbol: str
    verdict: str | None
    score: float | None
    items: tuple[MetricSensitivity, ...]
    note: str | None = None

    def text(self) -> str:
        lines = [f"{self.symbol}: what would change the verdict ({self.verdict or 'none'})"]
        if self.note:
            lines.append(self.note)
        lines.extend(f"  • {item.text}" for item in self.items)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = to_jsonable(self)
        return result


@dataclass(frozen=True)
class _Line:
    """The row's score and verdict as functions of one metric, everything else fixed."""

    rules: tuple[tuple[MetricRule, float], ...]  # (rule, share) for the metric's weighted rules
    base: float  # the score without those rules' contributions
    gates: tuple[tuple[str, float, bool], ...]  # (op, threshold, avoid) for the metric's gates
    other_cap: bool
    other_avoid: bool
    ev: Evaluation

    def score(self, x: float) -> float:
        points = sum(10.0 * share * float(rule_score(x, rule)) for rule, share in self.rules)
        return min(10.0, max(0.0, self.base + points))

    def verdict(self, score: float, x: float) -> int:
        fails = [(avoid, not bool(passes(op, x, threshold))) for op, threshold, avoid in self.gates]
        cap = self.other_cap or any(failed and not avoid for avoid, failed in fails)
        avoid = self.other_avoid or any(failed and avoid for avoid, failed in fails)
        rank = score_rank(np.array([score]), self.ev.config.cutoffs)
        return int(apply_gates(rank, np.array([cap]), np.array([avoid]))[0])

    def at(self, x: float) -> int:
        return self.verdict(self.score(x), x)

    def sloped(self, a: float, b: float) -> list[MetricRule]:
        mid = 0.5 * (a + b)
        return [r for r, _ in self.rules if min(r.bad, r.good) < mid < max(r.bad, r.good)]


def _scale(x: float, log: bool) -> float:
    return math.log10(x) if log else x


def _crossing(line: _Line, a: float, b: float, current: int) -> tuple[float, bool, int] | None:
    """The first point in the open segment (a, b) where the verdict leaves `current`, walking from a to b."""
    mid = 0.5 * (a + b)
    rules = line.sloped(a, b)
    if not rules:
        return None
    scales = {r.scale for r in rules}
    if len(scales) > 1:
        return _bisect(line, a, b, current)
    log = scales == {"log"}
    ta, tb = _scale(a, log), _scale(b, log)
    sa, sb = line.score(a), line.score(b)
    if sa == sb:
        return None
    cut = line.ev.config.cutoffs
    rising = sb > sa
    between = [c for c in (cut.hold, cut.buy, cut.strong_buy) if min(sa, sb) < c <= max(sa, sb) or c == sa]
    for c in sorted(between, reverse=not rising):
        # the score reaches c at t; rising, the verdict changes at c itself, falling, just below it
        t = ta + (c - sa) * (tb - ta) / (sb - sa)
        x = min(max(10.0**t if log else t, min(a, b)), max(a, b))
        after = c if rising else float(np.nextafter(c, -math.inf))
        verdict = line.verdict(after, mid)
        if verdict != current:
            return x, rising, verdict
    return None


def _bisect(line: _Line, a: float, b: float, current: int) -> tuple[float, bool, int] | None:
    grid = np.linspace(a, b, _SAMPLES + 1)[1:-1]
    previous = a
    for x in grid:
        if line.at(float(x)) != current:
            lo, hi = previous, float(x)
            for _ in range(_BISECT):
                middle = 0.5 * (lo + hi)
                lo, hi = (lo, middle) if line.at(middle) != current else (middle, hi)
            return hi, True, line.at(hi)
        previous = float(x)
    return None


def _walk(line: _Line, start: float, points: list[float], current: int) -> tuple[float, bool, int] | None:
    """Walk from `start` through the breakpoints `points` (ordered away from start); return the first change."""
    a = start
    for b in points:
        mid = 0.5 * (a + b)
        gates_mid = line.verdict(line.score(a), mid)
        if gates_mid != current:  # a gate flips just beyond a
            return a, False, gates_mid
        found = _crossing(line, a, b, current)
        if found is not None:
            return found
        at_b = line.at(b)
        if at_b != current:
            return b, True, at_b
        a = b
    return None


def _line(ev: Evaluation, row: int, metric: str, x0: float) -> _Line:
    cls = str(ev.asset_class[row])
    scores = ev.scores
    rules = []
    base = float(scores.total[row])
    for r in scores.rules_of(cls):
        spec = scores.rules[r]
        share = float(scores.rule_share[row, r])
        if spec.rule.metric == metric and share > 0:
            rules.append((spec.rule, share))
            base -= 10.0 * share * float(scores.rule_score[row, r])
    gates = []
    other_cap = other_avoid = False
    for g, gate_spec in enumerate(ev.gates.specs):
        if gate_spec.asset_class != cls:
            continue
        avoid = bool(ev.gates.severity_avoid[g])
        if gate_spec.gate.metric == metric:
            gates.append((gate_spec.gate.op, gate_spec.gate.threshold, avoid))
        elif ev.gates.status[row, g] == FAIL:
            other_cap |= not avoid
            other_avoid |= avoid
    return _Line(tuple(rules), base, tuple(gates), other_cap, other_avoid, ev)


def _describe(label: str, shown: str, up: Change | None, down: Change | None) -> str:
    parts = []
    if down is not None:
        parts.append(f"a fall {'to' if down.inclusive else 'below'} {down.shown} would make it {down.verdict}")
    if up is not None:
        parts.append(f"a rise {'to' if up.inclusive else 'above'} {up.shown} would make it {up.verdict}")
    if not parts:
        return f"No change in {label} alone changes the verdict."
    return f"{label} {shown}: {'; '.join(parts)}."


def _metrics_of(ev: Evaluation, row: int) -> Iterator[str]:
    cls = str(ev.asset_class[row])
    seen: dict[str, None] = {}
    for r in ev.scores.rules_of(cls):
        seen.setdefault(ev.scores.rules[r].rule.metric)
    for spec in ev.gates.specs:
        if spec.asset_class == cls:
            seen.setdefault(spec.gate.metric)
    yield from seen


def _change(line: _Line, x0: float, found: tuple[float, bool, int] | None, metric: str) -> Change | None:
    if found is None:
        return None
    target, inclusive, verdict = found
    return Change(target, inclusive, target - x0, VERDICT_BY_RANK[verdict].value, format_value(metric, target))


def _span(line: _Line, metric: str, x0: float) -> float:
    spans = [abs(r.good - r.bad) for r, _ in line.rules if r.scale == "linear"]
    spans += [abs(x0)] + [abs(t) for _, t, _ in line.gates]
    return max([*spans, 1e-12])


def metric_sensitivity(ev: Evaluation, row: int, metric: str) -> MetricSensitivity:
    """How far `metric` alone must move, up and down, to change the row's verdict."""
    label = METRICS[metric].label
    x0 = float(ev.values[row, METRIC_INDEX[metric]])
    if not math.isfinite(x0):
        text = f"{label} is not available, so it does not count now."
        return MetricSensitivity(metric, label, None, "n/a", None, None, text)
    line = _line(ev, row, metric, x0)
    current = int(ev.rank[row])
    low, high = metric_range(metric)
    low, high = min(low, x0), max(high, x0)
    points = {p for r, _ in line.rules for p in (r.bad, r.good)} | {t for _, t, _ in line.gates}
    ups = sorted(p for p in points | {high} if x0 < p <= high)
    downs = sorted((p for p in points | {low} if low <= p < x0), reverse=True)
    up = _change(line, x0, _walk(line, x0, ups, current), metric)
    down = _change(line, x0, _walk(line, x0, downs, current), metric)
    shown = format_value(metric, x0)
    return MetricSensitivity(metric, label, x0, shown, up, down, _describe(label, shown, up, down))


def sensitivity(ev: Evaluation, row: int) -> Sensitivity:
    """Every metric of the row's rules and gates, the most sensitive first (relative to its rule's range)."""
    symbol = str(ev.symbols[row])
    rank = int(ev.rank[row])
    total = float(ev.scores.total[row])
    verdict = VERDICT_BY_RANK[rank].value if rank >= 0 else None
    if math.isnan(total):
        note = ev.scores.no_score[row] or "No score."
        return Sensitivity(symbol, verdict, None, (), f"{note} Without a score there is no threshold to move.")
    items = [metric_sensitivity(ev, row, m) for m in _metrics_of(ev, row)]

    def distance(item: MetricSensitivity) -> float:
        moves = [abs(c.change) for c in (item.up, item.down) if c is not None]
        if not moves or item.value is None:
            return math.inf
        line = _line(ev, row, item.metric, item.value)
        return min(moves) / _span(line, item.metric, item.value)

    ordered = sorted(items, key=lambda item: (distance(item), item.value is None))
    return Sensitivity(symbol, verdict, total, tuple(ordered))
