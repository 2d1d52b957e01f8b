"""The scoring config: defaults, presets, the rule merger, regime adjustments and validation."""

from __future__ import annotations

import dataclasses
import re

import pytest

from marketdesk.errors import Rejected
from marketdesk.screener.config import (
    DEFAULT_CONFIG,
    PRESETS,
    SCORING_VERSION,
    Severity,
    find_preset,
    merge,
    parse_config,
    resolve,
)
from marketdesk.screener.model import RegimeState


def _factor(config_class: str, name: str, preset: str | None = None, regime: str | None = None) -> float:
    config = resolve(preset, regime)
    cls = config.asset_class(config_class)
    assert cls is not None
    return next(f.weight for f in cls.factors if f.name == name)


def test_default_config_resolves_with_version_and_balanced_preset() -> None:
    config = resolve()
    assert config.version == SCORING_VERSION
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", SCORING_VERSION)
    assert config.preset == "balanced"
    assert config.preset_label == "Balanced"
    assert config.regime is None
    assert (config.cutoffs.strong_buy, config.cutoffs.buy, config.cutoffs.hold) == (7.5, 6.0, 4.0)
    assert [c.name for c in config.classes] == ["equity", "etf", "bond"]


def test_default_factors_per_asset_class() -> None:
    config = resolve()
    names = {c.name: [f.name for f in c.factors] for c in config.classes}
    assert names["equity"] == ["valuation", "quality", "growth", "momentum", "risk"]
    assert names["etf"] == ["cost", "size", "liquidity", "momentum", "concentration"]
    assert names["bond"] == ["yield", "duration", "credit_quality", "curve"]


def test_default_gates_cover_the_issue() -> None:
    equity = resolve().asset_class("equity")
    assert equity is not None
    gates = {g.id: g for g in equity.gates}
    assert set(gates) == {"negative_equity", "extreme_leverage", "persistent_negative_fcf", "min_size", "min_liquidity"}
    assert gates["negative_equity"].severity is Severity.AVOID
    assert gates["extreme_leverage"].severity is Severity.CAP
    assert (gates["persistent_negative_fcf"].op, gates["persistent_negative_fcf"].threshold) == ("<", 2.0)


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("regime", [None, *RegimeState])
def test_every_preset_resolves_in_every_regime(preset: str, regime: RegimeState | None) -> None:
    config = resolve(preset, regime)
    assert config.preset == preset
    assert config.regime == regime
    assert 0 <= config.cutoffs.hold < config.cutoffs.buy < config.cutoffs.strong_buy <= 10


def test_presets_are_found_by_label_in_any_spelling() -> None:
    assert find_preset("Value Trap Screen").id == "value-trap"
    assert find_preset("dip_opportunity").id == "dip-opportunity"
    assert find_preset("  GROWTH at fair price ").id == "growth-at-fair-price"
    assert resolve("Momentum").preset == "momentum"


def test_unknown_preset_lists_the_valid_names() -> None:
    with pytest.raises(Rejected, match="unknown preset 'nope'") as error:
        resolve("nope")
    for name in ("balanced", "momentum", "value", "value-trap", "growth-at-fair-price", "dip-opportunity"):
        assert name in str(error.value)


def test_presets_change_weights_cutoff_inputs_and_filters() -> None:
    assert _factor("equity", "momentum", "momentum") == 0.45
    assert _factor("equity", "valuation", "value") == 0.45
    assert resolve("dip-opportunity").filters == ("dip_pct >= 5",)
    dip = resolve("dip-opportunity").asset_class("equity")
    assert dip is not None
    assert "quality_floor" in {g.id for g in dip.gates}
    momentum_rules = {r.metric for f in dip.factors if f.name == "momentum" for r in f.rules}
    assert momentum_rules == {"return_12m_pct", "dip_pct", "rsi14"}
    trap = resolve("value-trap").asset_class("equity")
    assert trap is not None
    assert {"falling_earnings", "cash_burn", "shrinking_sales"} <= {g.id for g in trap.gates}


def test_risk_off_raises_the_bar_and_weighs_quality_and_risk_more() -> None:
    calm, scared = resolve(), resolve(None, RegimeState.RISK_OFF)
    assert scared.cutoffs.buy == calm.cutoffs.buy + 0.5
    assert scared.cutoffs.strong_buy == calm.cutoffs.strong_buy + 0.5
    assert _factor("equity", "quality", regime="risk-off") == pytest.approx(0.25 * 1.5)
    assert _factor("equity", "risk", regime="risk-off") == pytest.approx(0.15 * 1.5)
    assert _factor("equity", "momentum", regime="risk-off") == pytest.approx(0.15 * 0.6)
    assert _factor("equity", "momentum", regime="risk-on") == pytest.approx(0.15 * 1.4)
    assert _factor("equity", "momentum", regime="neutral") == pytest.approx(0.15)


def test_with_regime_matches_resolving_with_it() -> None:
    assert resolve("value").with_regime("risk-off") == resolve("value", RegimeState.RISK_OFF)


def test_unknown_regime_lists_the_valid_ones() -> None:
    with pytest.raises(Rejected, match="risk-on, neutral, risk-off"):
        resolve(None, "panic")


def test_config_is_frozen_and_serialisable() -> None:
    config = resolve("value", "risk-on")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.preset = "momentum"  # type: ignore[misc]
    data = config.to_dict()
    assert (data["version"], data["preset"], data["regime"]) == (SCORING_VERSION, "value", "risk-on")
    assert data["rules"]["classes"]["equity"]["factors"]["valuation"]["weight"] == 0.45


# ---------------------------------------------------------------------------------------------- the merger


def test_merge_deep_merges_dicts_without_touching_the_base() -> None:
    merged = merge(DEFAULT_CONFIG, {"cutoffs": {"buy": 6.5}})
    assert merged["cutoffs"] == {"strong_buy": 7.5, "buy": 6.5, "hold": 4.0}
    assert DEFAULT_CONFIG["cutoffs"]["buy"] == 6.0


def test_merge_updates_a_gate_by_id_field_by_field() -> None:
    merged = merge(DEFAULT_CONFIG, {"classes": {"equity": {"gates": [{"id": "min_size", "threshold": 2e9}]}}})
    gate = next(g for g in merged["classes"]["equity"]["gates"] if g["id"] == "min_size")
    assert gate["threshold"] == 2e9
    assert gate["metric"] == "market_cap"


def test_merge_removes_and_appends_gates_by_id() -> None:
    new = {
        "id": "cheap",
        "label": "Cheap",
        "metric": "pe",
        "op": "<",
        "threshold": 30,
        "severity": "cap",
        "fail": "P/E is {value}.",
    }
    merged = merge(DEFAULT_CONFIG, {"classes": {"equity": {"gates": [{"id": "min_size", "remove": True}, new]}}})
    ids = [g["id"] for g in merged["classes"]["equity"]["gates"]]
    assert "min_size" not in ids
    assert ids[-1] == "cheap"
    assert parse_config(merged).asset_class("equity") is not None


def test_merge_adds_and_removes_metric_rules() -> None:
    merged = merge(
        DEFAULT_CONFIG,
        {"classes": {"equity": {"factors": {"valuation": {"metrics": {
            "dividend_yield": {"bad": 0.0, "good": 0.05, "weight": 1.0}, "ps": {"remove": True}}}}}}},
    )  # fmt: skip
    metrics = merged["classes"]["equity"]["factors"]["valuation"]["metrics"]
    assert "dividend_yield" in metrics
    assert "ps" not in metrics


def test_merge_rejects_unknown_keys_listing_the_valid_ones() -> None:
    with pytest.raises(Rejected, match="unknown key 'cutof'") as error:
        merge(DEFAULT_CONFIG, {"cutof": {}})
    assert "cutoffs" in str(error.value)
    with pytest.raises(Rejected, match="Valid keys: label, weight, pro, con, metrics"):
        merge(DEFAULT_CONFIG, {"classes": {"equity": {"factors": {"quality": {"wieght": 1}}}}})
    with pytest.raises(Rejected, match="unknown metric 'peg'"):
        merge(DEFAULT_CONFIG, {"classes": {"equity": {"factors": {"quality": {"metrics": {"peg": {}}}}}}})


def test_merge_rejects_removing_a_gate_that_does_not_exist() -> None:
    with pytest.raises(Rejected, match="no such id") as error:
        merge(DEFAULT_CONFIG, {"classes": {"equity": {"gates": [{"id": "nope", "remove": True}]}}})
    assert "negative_equity" in str(error.value)


# -------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"cutoffs": {"buy": 11}}, r"cutoffs\.buy is 11, out of range\. Allowed range: 0 to 10"),
        ({"cutoffs": {"hold": -1}}, r"Allowed range: 0 to 10"),
        ({"cutoffs": {"buy": 8}}, r"cutoffs out of order.*strong_buy > buy > hold"),
        ({"classes": {"equity": {"factors": {"quality": {"weight": -1}}}}}, r"weight is -1.*Allowed range: 0 to 100"),
        ({"classes": {"equity": {"factors": {"valuation": {"metrics": {"pe": {"good": 35}}}}}}}, r"bad and good are both 35"),
        ({"classes": {"equity": {"factors": {"valuation": {"metrics": {"pe": {"good": 50}}}}}}}, r"good \(50\) must be below bad \(35\)"),
        ({"classes": {"equity": {"factors": {"valuation": {"metrics": {"pe": {"bad": 1e9}}}}}}}, r"Allowed range: 0 to 1000"),
        ({"classes": {"equity": {"gates": [{"id": "min_size", "threshold": -5}]}}}, r"threshold is -5.*Allowed range: 0 to"),
        ({"classes": {"equity": {"gates": [{"id": "min_size", "op": "=>"}]}}}, r"Valid operators: >, >=, <, <="),
        ({"classes": {"equity": {"gates": [{"id": "min_size", "severity": "warn"}]}}}, r"Valid severities: cap, avoid"),
        ({"classes": {"equity": {"gates": [{"id": "min_size", "fail": "{value.__class__}"}]}}}, r"Placeholders"),
        ({"classes": {"bond": {"gates": [{"id": "min_credit", "threshold": 11}]}}}, r"Allowed range: 0 to 10"),
        ({"min_coverage": 2}, r"min_coverage is 2.*Allowed range: 0 to 1"),
        ({"regimes": {"risk-off": {"cutoff_shift": 5}}}, r"Allowed range: -2 to 2"),
        ({"filters": ["pe <"]}, r"filters\.0 \('pe <'\)"),
        ({"filters": ["peg < 1"]}, r"unknown field 'peg'"),
    ],
)  # fmt: skip
def test_absurd_rules_are_rejected_with_the_allowed_choices(override: dict[str, object], message: str) -> None:
    with pytest.raises(Rejected, match=message):
        resolve(overrides=override)


def test_a_factor_with_weight_but_no_weighted_metric_is_rejected() -> None:
    override = {"classes": {"bond": {"factors": {"curve": {"metrics": {"curve_spread_pct": {"weight": 0}}}}}}}
    with pytest.raises(Rejected, match="no metric with a weight above 0"):
        resolve(overrides=override)


def test_overrides_apply_on_top_of_the_preset() -> None:
    config = resolve("value", overrides={"cutoffs": {"buy": 6.5}})
    assert config.cutoffs.buy == 6.5
    assert config.preset == "value"
