"""The scoring config: declarative, versioned rules for gates, factor scores, verdict cut-offs and flags.

The rules are plain data (`DEFAULT_CONFIG`) so that they can be shown, stored with every verdict and overridden:
a preset is an override merged onto the defaults by `merge`, and `resolve` turns the result into a frozen,
validated `ScoringConfig`, with the market regime's adjustments applied last.

Override rules (`merge`): dicts merge key by key, and a key the base does not have is rejected with the valid
ones (except under `metrics`, where any catalogue metric may be added with a complete rule). The `gates` and
`flags` lists merge by `id`: an entry with a known id updates that entry field by field, `{"id": X, "remove":
True}` drops it, and a new id appends a complete entry. `{"remove": True}` under `metrics` drops a rule. Any
other list or value is replaced whole.

A metric rule scores a value 0 at `bad` and 1 at `good`, linearly in between (on log10 of the value when
`scale` is "log", for sizes and dollar volumes) and clipped outside; the catalogue's direction must agree.

>>> config = resolve("value", RegimeState.RISK_OFF)
>>> config.preset, config.cutoffs.buy
('value', 6.5)
"""

from __future__ import annotations

import copy
import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from marketdesk.errors import Rejected
from marketdesk.screener.catalog import METRIC_NAMES, METRICS
from marketdesk.screener.filters import FACTOR_NAMES, compile_filter, metric_range
from marketdesk.screener.gates import Gate, Severity
from marketdesk.screener.model import RegimeState
from marketdesk.screener.rules import (
    ASSET_CLASSES,
    CUTOFF_SHIFT_RANGE,
    DEFAULT_CONFIG,
    DEFAULT_PRESET,
    GATE_OPERATORS,
    MULTIPLIER_RANGE,
    PRESET_LIST,
    PRESETS,
    SCORING_VERSION,
    WEIGHT_RANGE,
    Preset,
)
from marketdesk.screener.scoring import Factor, MetricRule


@dataclass(frozen=True, slots=True)
class Flag:
    id: str
    label: str
    when: str  # a filter expression


@dataclass(frozen=True, slots=True)
class AssetClassConfig:
    name: str
    factors: tuple[Factor, ...]
    gates: tuple[Gate, ...]


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Verdict cut-offs on the 0–10 score: Strong Buy ≥ strong_buy, Buy ≥ buy, Hold ≥ hold, else Avoid."""

    strong_buy: float
    buy: float
    hold: float


@dataclass(frozen=True)
class ScoringConfig:
    """The resolved rules one screen runs on; `version`, `preset` and `regime` go with every verdict."""

    version: str
    preset: str
    preset_label: str
    regime: RegimeState | None
    cutoffs: Cutoffs
    min_coverage: float
    classes: tuple[AssetClassConfig, ...]
    flags: tuple[Flag, ...]
    filters: tuple[str, ...]
    raw: Mapping[str, Any] = field(compare=False, hash=False, repr=False)

    def asset_class(self, name: str) -> AssetClassConfig | None:
        """The rules for one asset class, or None when it is not scored."""
        return next((c for c in self.classes if c.name == name), None)

    def with_regime(self, regime: RegimeState | str | None) -> ScoringConfig:
        """The same rules (before any regime adjustment) adjusted for `regime`."""
        return parse_config(self.raw, preset=self.preset, regime=regime)

    def to_dict(self) -> dict[str, Any]:
        """The merged rules as plain data, with the version, preset and regime (for the decision log)."""
        return {
            "version": self.version,
            "preset": self.preset,
            "regime": None if self.regime is None else self.regime.value,
            "rules": copy.deepcopy(dict(self.raw)),
        }


# ---------------------------------------------------------------------------------------------------- merging


_Path = tuple[str, ...]  # where in the rules a value sits, e.g. ("classes", "equity", "gates", "min_size")
_Keys = tuple[str, ...]


def _where(path: _Path) -> str:
    return ".".join(path) or "the config"


def _is_remove(value: object) -> bool:
    return isinstance(value, Mapping) and value.get("remove") is True


def merge(base: Mapping[str, Any], override: Mapping[str, Any], path: _Path = ()) -> dict[str, Any]:
    """Deep-merge `override` onto `base` (see the module docstring); unknown keys are `Rejected`."""
    if not isinstance(override, Mapping):
        raise Rejected(f"{_where(path)} must be a mapping, not {type(override).__name__}")
    out = copy.deepcopy(dict(base))
    open_map = bool(path) and path[-1] == "metrics"
    for key, value in override.items():
        here = (*path, str(key))
        if key not in out:
            if not open_map:
                raise Rejected(
                    f"unknown key {key!r} in {_where(path)}", hint=f"Valid keys: {', '.join(map(str, out))}."
                )
            if key not in METRICS:
                raise Rejected(
                    f"unknown metric {key!r} in {_where(path)}", hint=f"Valid metrics: {', '.join(METRIC_NAMES)}."
                )
            if not _is_remove(value):
                out[key] = copy.deepcopy(value)
            continue
        if open_map and _is_remove(value):
            del out[key]
        elif isinstance(out[key], Mapping) and isinstance(value, Mapping):
            out[key] = merge(out[key], value, here)
        elif key in {"gates", "flags"} and isinstance(out[key], list):
            out[key] = _merge_by_id(out[key], value, here)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_by_id(base: list[Any], override: object, path: _Path) -> list[Any]:
    if not isinstance(override, list | tuple):
        raise Rejected(f"{_where(path)} must be a list of entries with an id")
    out = [copy.deepcopy(entry) for entry in base]
    for entry in override:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            raise Rejected(f"every entry of {_where(path)} needs an 'id'", hint=f"Got {entry!r}.")
        ids = [e["id"] for e in out]
        if entry["id"] in ids:
            at = ids.index(entry["id"])
            if entry.get("remove") is True:
                del out[at]
            else:
                out[at] = merge(out[at], entry, (*path, entry["id"]))
        elif entry.get("remove") is True:
            raise Rejected(
                f"cannot remove {entry['id']!r} from {_where(path)}: no such id", hint=f"Ids: {', '.join(ids)}."
            )
        else:
            out.append(copy.deepcopy(dict(entry)))
    return out


# ------------------------------------------------------------------------------------------------ validation


def _number(value: object, path: _Path, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Rejected(f"{_where(path)} must be a number", hint=f"Allowed range: {low:g} to {high:g}.")
    if not low <= value <= high:
        raise Rejected(f"{_where(path)} is {value:g}, out of range", hint=f"Allowed range: {low:g} to {high:g}.")
    return float(value)


def _text(value: object, path: _Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Rejected(f"{_where(path)} must be a non-empty string")
    return value


def _keys(entry: object, required: _Keys, optional: _Keys, path: _Path) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping):
        raise Rejected(f"{_where(path)} must be a mapping")
    valid = required + optional
    unknown = [k for k in entry if k not in valid]
    if unknown:
        raise Rejected(f"unknown key {unknown[0]!r} in {_where(path)}", hint=f"Valid keys: {', '.join(valid)}.")
    missing = [k for k in required if k not in entry]
    if missing:
        raise Rejected(f"{_where(path)} is missing {', '.join(missing)}", hint=f"Required keys: {', '.join(required)}.")
    return entry


def _metric_name(value: object, path: _Path) -> str:
    if value not in METRICS:
        raise Rejected(f"unknown metric {value!r} in {_where(path)}", hint=f"Valid metrics: {', '.join(METRIC_NAMES)}.")
    return str(value)


def _parse_rule(name: str, entry: object, path: _Path) -> MetricRule:
    raw = _keys(entry, ("bad", "good", "weight"), ("scale",), path)
    low, high = metric_range(_metric_name(name, path))
    bad = _number(raw["bad"], (*path, "bad"), low, high)
    good = _number(raw["good"], (*path, "good"), low, high)
    weight = _number(raw["weight"], (*path, "weight"), *WEIGHT_RANGE)
    scale = raw.get("scale", "linear")
    if scale not in {"linear", "log"}:
        raise Rejected(f"{_where((*path, 'scale'))} is {scale!r}", hint="Valid scales: linear, log.")
    if bad == good:
        raise Rejected(
            f"{_where(path)}: bad and good are both {bad:g}", hint="They must differ: good is where the score is full."
        )
    if scale == "log" and min(bad, good) <= 0:
        raise Rejected(f"{_where(path)}: a log-scale rule needs bad and good above 0")
    better = METRICS[name].higher_is_better
    if better is not None and better != (good > bad):
        side = "above" if better else "below"
        raise Rejected(
            f"{_where(path)}: good ({good:g}) must be {side} bad ({bad:g})",
            hint=f"{'Higher' if better else 'Lower'} {METRICS[name].label} is better.",
        )
    return MetricRule(name, bad, good, weight, scale)


def _parse_factor(name: str, entry: object, path: _Path) -> Factor:
    if name not in FACTOR_NAMES:
        raise Rejected(
            f"unknown factor {name!r} in {_where(path[:-1])}", hint=f"Valid factors: {', '.join(FACTOR_NAMES)}."
        )
    raw = _keys(entry, ("label", "weight", "pro", "con", "metrics"), (), path)
    metrics = raw["metrics"]
    if not isinstance(metrics, Mapping):
        raise Rejected(f"{_where((*path, 'metrics'))} must map metric names to rules")
    rules = tuple(_parse_rule(str(m), rule, (*path, "metrics", str(m))) for m, rule in metrics.items())
    weight = _number(raw["weight"], (*path, "weight"), *WEIGHT_RANGE)
    if weight > 0 and not any(r.weight > 0 for r in rules):
        raise Rejected(f"{_where(path)} has weight {weight:g} but no metric with a weight above 0")
    label, pro, con = (_text(raw[k], (*path, k)) for k in ("label", "pro", "con"))
    return Factor(name, label, weight, pro, con, rules)


def _parse_gate(entry: object, path: _Path) -> Gate:
    raw = _keys(entry, ("id", "label", "metric", "op", "threshold", "severity", "fail"), (), path)
    metric = _metric_name(raw["metric"], (*path, "metric"))
    if raw["op"] not in GATE_OPERATORS:
        raise Rejected(
            f"{_where((*path, 'op'))} is {raw['op']!r}", hint=f"Valid operators: {', '.join(GATE_OPERATORS)}."
        )
    if raw["severity"] not in {s.value for s in Severity}:
        raise Rejected(f"{_where((*path, 'severity'))} is {raw['severity']!r}", hint="Valid severities: cap, avoid.")
    fail = _text(raw["fail"], (*path, "fail"))
    fields = {f for _, f, _, _ in string.Formatter().parse(fail) if f is not None}
    if not fields <= {"value", "threshold", "label"}:
        raise Rejected(
            f"{_where((*path, 'fail'))} uses {sorted(fields)}", hint="Placeholders: {value}, {threshold}, {label}."
        )
    return Gate(
        id=_text(raw["id"], (*path, "id")),
        label=_text(raw["label"], (*path, "label")),
        metric=metric,
        op=raw["op"],
        threshold=_number(raw["threshold"], (*path, "threshold"), *metric_range(metric)),
        severity=Severity(raw["severity"]),
        fail=fail,
    )


def _parse_class(name: str, entry: object) -> AssetClassConfig:
    path = ("classes", name)
    raw = _keys(entry, ("gates", "factors"), (), path)
    if not isinstance(raw["factors"], Mapping) or not isinstance(raw["gates"], list | tuple):
        raise Rejected(f"{_where(path)} needs a mapping of factors and a list of gates")
    factors = tuple(_parse_factor(str(f), e, (*path, "factors", str(f))) for f, e in raw["factors"].items())
    if not any(f.weight > 0 for f in factors):
        raise Rejected(f"{_where(path)}: at least one factor needs a weight above 0")
    gates = tuple(_parse_gate(g, (*path, "gates", str(g.get("id", i)) if isinstance(g, Mapping) else str(i)))
                  for i, g in enumerate(raw["gates"]))  # fmt: skip
    return AssetClassConfig(name, factors, gates)


def _parse_cutoffs(entry: object, shift: float) -> Cutoffs:
    raw = _keys(entry, ("strong_buy", "buy", "hold"), (), ("cutoffs",))
    values = [_number(raw[k], ("cutoffs", k), 0.0, 10.0) for k in ("strong_buy", "buy", "hold")]
    if not values[0] > values[1] > values[2]:
        raise Rejected(
            f"cutoffs out of order: strong_buy {values[0]:g}, buy {values[1]:g}, hold {values[2]:g}",
            hint="Each must lie in 0–10 with strong_buy > buy > hold.",
        )
    shifted = [min(10.0, max(0.0, v + shift)) for v in values]
    return Cutoffs(*shifted)


def _regime(value: RegimeState | str | None) -> RegimeState | None:
    if value is None or isinstance(value, RegimeState):
        return value
    try:
        return RegimeState(value)
    except ValueError:
        valid = ", ".join(s.value for s in RegimeState)
        raise Rejected(f"unknown regime {value!r}", hint=f"Valid regimes: {valid}.") from None


def _regime_adjustment(raw: Mapping[str, Any], state: RegimeState | None) -> tuple[float, Mapping[str, Any]]:
    regimes = raw.get("regimes")
    if not isinstance(regimes, Mapping):
        raise Rejected("regimes must map each regime to its adjustment")
    for name, adjustment in regimes.items():
        path = ("regimes", str(name))
        _regime(str(name))
        entry = _keys(adjustment, ("cutoff_shift", "factor_multipliers"), (), path)
        _number(entry["cutoff_shift"], (*path, "cutoff_shift"), *CUTOFF_SHIFT_RANGE)
        multipliers = entry["factor_multipliers"]
        for cls, factors in multipliers.items() if isinstance(multipliers, Mapping) else [("?", None)]:
            if cls not in ASSET_CLASSES or not isinstance(factors, Mapping):
                raise Rejected(
                    f"{_where((*path, 'factor_multipliers'))} must map an asset class to factor multipliers",
                    hint=f"Asset classes: {', '.join(ASSET_CLASSES)}.",
                )
            for factor, value in factors.items():
                _number(value, (*path, "factor_multipliers", cls, str(factor)), *MULTIPLIER_RANGE)
    if state is None or state.value not in regimes:
        return 0.0, {}
    chosen = regimes[state.value]
    return float(chosen["cutoff_shift"]), chosen["factor_multipliers"]


def _expression(value: object, path: _Path) -> str:
    try:
        return compile_filter(_text(value, path)).source
    except Rejected as error:
        raise Rejected(f"{_where(path)} ({value!r}): {error.message}", hint=error.hint) from None


_TOP_KEYS = ("cutoffs", "min_coverage", "filters", "flags", "classes", "regimes")


def parse_config(
    raw: Mapping[str, Any], *, preset: str = DEFAULT_PRESET, regime: RegimeState | str | None = None
) -> ScoringConfig:
    """Validate plain-data rules and freeze them, applying `regime`'s adjustments; errors give the allowed range."""
    _keys(raw, _TOP_KEYS, (), ())
    state = _regime(regime)
    shift, multipliers = _regime_adjustment(raw, state)
    classes_raw = raw["classes"]
    if not isinstance(classes_raw, Mapping) or not classes_raw:
        raise Rejected(
            "classes must map asset classes to their rules", hint=f"Asset classes: {', '.join(ASSET_CLASSES)}."
        )
    classes = []
    for name, entry in classes_raw.items():
        if name not in ASSET_CLASSES:
            raise Rejected(f"unknown asset class {name!r} in classes", hint=f"Valid: {', '.join(ASSET_CLASSES)}.")
        parsed = _parse_class(name, entry)
        factor_multipliers = multipliers.get(name, {})
        unknown = [f for f in factor_multipliers if f not in {x.name for x in parsed.factors}]
        if unknown:
            raise Rejected(
                f"regime multiplier for unknown {name} factor {unknown[0]!r}",
                hint=f"Factors: {', '.join(f.name for f in parsed.factors)}.",
            )
        factors = tuple(
            replace(f, weight=f.weight * float(factor_multipliers.get(f.name, 1.0))) for f in parsed.factors
        )
        classes.append(AssetClassConfig(name, factors, parsed.gates))
    filters = raw["filters"]
    if not isinstance(filters, list | tuple):
        raise Rejected('filters must be a list of expressions such as "pe < 25 and roe > 0.15"')
    for i, expression in enumerate(filters):
        _expression(expression, ("filters", str(i)))
    flags = []
    for i, entry in enumerate(raw["flags"] if isinstance(raw["flags"], list | tuple) else [None]):
        flag = _keys(entry, ("id", "label", "when"), (), ("flags", str(i)))
        path = ("flags", str(flag["id"]))
        flags.append(Flag(_text(flag["id"], path), _text(flag["label"], path), _expression(flag["when"], path)))
    label = PRESETS[preset].label if preset in PRESETS else preset
    return ScoringConfig(
        version=SCORING_VERSION,
        preset=preset,
        preset_label=label,
        regime=state,
        cutoffs=_parse_cutoffs(raw["cutoffs"], shift),
        min_coverage=_number(raw["min_coverage"], ("min_coverage",), 0.0, 1.0),
        classes=tuple(classes),
        flags=tuple(flags),
        filters=tuple(filters),
        raw=copy.deepcopy(dict(raw)),
    )


def _preset_key(name: str) -> str:
    return "-".join(name.strip().lower().replace("_", " ").split())


def find_preset(name: str) -> Preset:
    """Look a preset up by id or label (any case; spaces, dashes and underscores alike)."""
    key = _preset_key(name)
    for candidate in PRESET_LIST:
        if key in {candidate.id, _preset_key(candidate.label)}:
            return candidate
    valid = ", ".join(f"{p.id} ({p.label})" for p in PRESET_LIST)
    raise Rejected(f"unknown preset {name!r}", hint=f"Valid presets: {valid}.")


def resolve(
    preset: str | None = None,
    regime: RegimeState | str | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> ScoringConfig:
    """The defaults merged with a preset (Balanced when None) and `overrides`, adjusted for `regime`.

    >>> resolve("dip-opportunity").filters
    ('dip_pct >= 5',)
    """
    chosen = find_preset(preset) if preset is not None else PRESETS[DEFAULT_PRESET]
    if not overrides:
        return _resolved(chosen.id, _regime(regime))
    return parse_config(merge(merge(DEFAULT_CONFIG, chosen.override), overrides), preset=chosen.id, regime=regime)


@lru_cache(maxsize=64)
def _resolved(preset: str, regime: RegimeState | None) -> ScoringConfig:
    return parse_config(merge(DEFAULT_CONFIG, PRESETS[preset].override), preset=preset, regime=regime)
