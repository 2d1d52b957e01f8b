"""Gates: pass/fail rules checked before scoring (negative equity, extreme leverage, minimum size …).

Every gate of a row's asset class is evaluated for every row and kept: pass, fail, or unknown when the metric
is missing (an unknown gate never fails a name). A failed `cap` gate holds the verdict at Hold at best; a
failed `avoid` gate makes it Avoid. The work is vectorized: one comparison per gate over the whole universe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from marketdesk.screener.catalog import METRIC_NAMES, METRICS, Group, Unit

if TYPE_CHECKING:
    from marketdesk.screener.config import ScoringConfig

PASS, FAIL, UNKNOWN, NOT_APPLICABLE = 1, 0, -1, -2
STATUS_TEXT = {PASS: "pass", FAIL: "fail", UNKNOWN: "unknown"}
METRIC_INDEX: dict[str, int] = {name: i for i, name in enumerate(METRIC_NAMES)}
OPERATOR_WORDS = {">": "above", ">=": "at least", "<": "below", "<=": "at most"}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
}


class Severity(StrEnum):
    CAP = "cap"  # the verdict is at most Hold
    AVOID = "avoid"  # the verdict is Avoid


@dataclass(frozen=True, slots=True)
class Gate:
    """Pass when `metric op threshold`; a failure caps the verdict at Hold or makes it Avoid (`severity`)."""

    id: str
    label: str
    metric: str
    op: str
    threshold: float
    severity: Severity
    fail: str  # sentence template with {value}, {threshold}, {label}


def _money(value: float) -> str:
    size = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= limit:
            return f"${size / limit:.3g}{suffix}"
    return f"${size:,.0f}"


def format_value(metric: str, value: float | None) -> str:
    """A metric value as people read it: "11.2", "15.0%", "$2.1B", "1.5×", "4.0 years" ("n/a" when missing)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    info = METRICS[metric]
    sign = "−" if value < 0 else ""
    size = abs(value)
    if info.unit is Unit.USD:
        text = _money(size)
    elif info.unit is Unit.FRACTION:
        text = f"{size * 100:.1f}%"
    elif info.unit is Unit.PERCENT:
        text = f"{size:.1f}%" if size < 100 else f"{size:,.0f}%"
    elif info.unit is Unit.YEARS:
        text = f"{size:.1f} years"
    elif info.unit is Unit.MULTIPLE:
        text = f"{size:.1f}" if info.group is Group.VALUATION else f"{size:.1f}×"
    else:
        text = f"{size:.0f}" if size == round(size) else f"{size:.1f}"
    return f"{sign}{text}" if any(ch in "123456789" for ch in text) else text


def passes(op: str, value: np.ndarray | float, threshold: float) -> np.ndarray:
    """Whether `value op threshold` holds (False where value is NaN)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(_COMPARE[op](value, threshold), dtype=bool)


@dataclass(frozen=True, slots=True)
class GateSpec:
    asset_class: str
    gate: Gate


@dataclass(frozen=True, slots=True)
class GateResult:
    """One gate on one row, ready to serialise."""

    id: str
    label: str
    metric: str
    metric_label: str
    operator: str
    threshold: float
    severity: str
    status: str  # pass, fail, unknown
    value: float | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def gate_text(gate: Gate, status: int, value: float) -> str:
    """The sentence for one gate result."""
    shown = format_value(gate.metric, value)
    threshold = format_value(gate.metric, gate.threshold)
    label = METRICS[gate.metric].label
    if status == FAIL:
        return gate.fail.format(value=shown, threshold=threshold, label=label)
    if status == UNKNOWN:
        return f"{gate.label}: not checked, {label} is not available."
    return f"{gate.label}: passed ({label} {shown}, {OPERATOR_WORDS[gate.op]} {threshold})."


@dataclass(frozen=True)
class GateTable:
    """Every gate result for every row: `status[i, g]` is PASS, FAIL, UNKNOWN or NOT_APPLICABLE."""

    specs: tuple[GateSpec, ...]
    status: np.ndarray  # (n, G) int8
    values: np.ndarray  # (n, G) float: the metric each gate read
    severity_avoid: np.ndarray  # (G,) bool

    @property
    def failed(self) -> np.ndarray:
        return (self.status == FAIL).sum(axis=1)

    @property
    def unknown(self) -> np.ndarray:
        return (self.status == UNKNOWN).sum(axis=1)

    @property
    def avoid_failed(self) -> np.ndarray:
        return ((self.status == FAIL) & self.severity_avoid).any(axis=1)

    @property
    def cap_failed(self) -> np.ndarray:
        return ((self.status == FAIL) & ~self.severity_avoid).any(axis=1)

    def for_row(self, row: int) -> tuple[GateResult, ...]:
        """The results of the gates that apply to one row, failures first."""
        out = []
        for g in np.flatnonzero(self.status[row] != NOT_APPLICABLE):
            gate = self.specs[g].gate
            status = int(self.status[row, g])
            value = float(self.values[row, g])
            out.append(
                GateResult(
                    id=gate.id,
                    label=gate.label,
                    metric=gate.metric,
                    metric_label=METRICS[gate.metric].label,
                    operator=gate.op,
                    threshold=gate.threshold,
                    severity=gate.severity.value,
                    status=STATUS_TEXT[status],
                    value=value if math.isfinite(value) else None,
                    text=gate_text(gate, status, value),
                )
            )
        order = {"fail": 0, "unknown": 1, "pass": 2}
        return tuple(sorted(out, key=lambda r: (order[r.status], r.severity != Severity.AVOID)))


def class_rows(asset_class: np.ndarray, config: ScoringConfig) -> dict[str, np.ndarray]:
    """The row numbers of each asset class the config scores."""
    return {c.name: np.flatnonzero(asset_class == c.name) for c in config.classes}


def evaluate_gates(values: np.ndarray, rows_of: Mapping[str, np.ndarray], config: ScoringConfig) -> GateTable:
    """Run every gate over the universe. `values` is (n, len(METRIC_NAMES)) in catalogue order (NaN = missing);
    `rows_of` gives each asset class's rows (`class_rows`)."""
    n = values.shape[0]
    specs = tuple(GateSpec(c.name, gate) for c in config.classes for gate in c.gates)
    status = np.full((n, len(specs)), NOT_APPLICABLE, dtype=np.int8)
    read = np.full((n, len(specs)), np.nan)
    for g, spec in enumerate(specs):
        rows = rows_of[spec.asset_class]
        column = values[rows, METRIC_INDEX[spec.gate.metric]]
        ok = passes(spec.gate.op, column, spec.gate.threshold)
        status[rows, g] = np.where(np.isnan(column), UNKNOWN, np.where(ok, PASS, FAIL))
        read[rows, g] = column
    avoid = np.array([s.gate.severity is Severity.AVOID for s in specs], dtype=bool)
    return GateTable(specs, status, read, avoid)
