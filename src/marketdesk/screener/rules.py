"""The default scoring rules and the presets, as plain data: the versioned content that `config.py` validates,
merges and resolves. Change the rules here and bump `SCORING_VERSION`, so the decision log can tell which
rules produced a verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCORING_VERSION = "2026.11.1"
ASSET_CLASSES = ("equity", "etf", "bond")
GATE_OPERATORS = (">", ">=", "<", "<=")
WEIGHT_RANGE = (0.0, 100.0)
MULTIPLIER_RANGE = (0.0, 10.0)
CUTOFF_SHIFT_RANGE = (-2.0, 2.0)


def _rule(bad: float, good: float, weight: float = 1.0, scale: str = "linear") -> dict[str, Any]:
    return {"bad": bad, "good": good, "weight": weight, "scale": scale}


_GATE_KEYS = ("id", "label", "metric", "op", "threshold", "severity", "fail")


def _gate(*fields: object) -> dict[str, Any]:
    return dict(zip(_GATE_KEYS, fields, strict=True))


def _factor(label: str, weight: float, pro: str, con: str, metrics: dict[str, Any]) -> dict[str, Any]:
    return {"label": label, "weight": weight, "pro": pro, "con": con, "metrics": metrics}


# fmt: off
_EQUITY: dict[str, Any] = {
    "gates": [
        _gate("negative_equity", "Positive equity", "total_equity", ">", 0.0, "avoid",
              "Shareholders' equity is {value}: the company owes more than it owns."),
        _gate("extreme_leverage", "Leverage", "debt_to_equity", "<=", 4.0, "cap",
              "Debt is {value} equity, above the {threshold} we accept."),
        _gate("persistent_negative_fcf", "Cash generation", "fcf_negative_years", "<", 2.0, "cap",
              "Free cash flow was negative in {value} of the last 3 years."),
        _gate("min_size", "Minimum size", "market_cap", ">=", 300e6, "cap",
              "Market cap is {value}, below the {threshold} minimum: small companies are riskier and harder to trade."),
        _gate("min_liquidity", "Minimum liquidity", "avg_dollar_volume", ">=", 1e6, "cap",
              "Only {value} trades a day, below the {threshold} minimum: hard to buy and sell at a fair price."),
    ],
    "factors": {
        "valuation": _factor("Valuation", 0.25, "Cheap", "Expensive", {
            "pe": _rule(35.0, 12.0), "ev_ebitda": _rule(20.0, 8.0), "pb": _rule(6.0, 1.5, 0.5),
            "ps": _rule(8.0, 1.0, 0.5), "earnings_yield": _rule(0.0, 0.08), "fcf_yield": _rule(0.0, 0.07),
        }),
        "quality": _factor("Quality", 0.25, "Strong business", "Weak business", {
            "roe": _rule(0.0, 0.20), "roa": _rule(0.0, 0.10, 0.5), "gross_margin": _rule(0.15, 0.55, 0.5),
            "operating_margin": _rule(0.0, 0.25), "fcf_margin": _rule(0.0, 0.20), "debt_to_equity": _rule(2.5, 0.3),
            "current_ratio": _rule(0.8, 2.0, 0.5), "interest_coverage": _rule(1.5, 10.0, 0.5),
            "earnings_stability": _rule(0.3, 0.9, 0.5),
        }),
        "growth": _factor("Growth", 0.20, "Growing", "Shrinking or slow", {"revenue_growth": _rule(-0.05, 0.15), "eps_growth": _rule(-0.10, 0.20)}),
        "momentum": _factor("Momentum", 0.15, "Rising", "Falling", {
            "return_3m_pct": _rule(-10.0, 12.0, 0.5), "return_6m_pct": _rule(-15.0, 20.0),
            "return_12m_pct": _rule(-20.0, 30.0), "above_ma200_pct": _rule(-10.0, 10.0),
        }),
        "risk": _factor("Risk", 0.15, "Steady", "Volatile", {
            "volatility_pct": _rule(60.0, 18.0), "max_drawdown_pct": _rule(50.0, 12.0), "beta": _rule(2.0, 0.8, 0.5),
        }),
    },
}

_ETF: dict[str, Any] = {
    "gates": [
        _gate("min_assets", "Minimum fund size", "net_assets", ">=", 100e6, "cap",
              "The fund holds {value}, below the {threshold} minimum: small funds close more often."),
        _gate("min_liquidity", "Minimum liquidity", "avg_dollar_volume", ">=", 1e6, "cap",
              "Only {value} trades a day, below the {threshold} minimum: hard to buy and sell at a fair price."),
        _gate("max_expense", "Maximum cost", "expense_ratio_pct", "<=", 1.0, "cap",
              "It costs {value} a year, above the {threshold} we accept for a fund."),
    ],
    "factors": {
        "cost": _factor("Cost", 0.30, "Low cost", "Costly", {"expense_ratio_pct": _rule(0.75, 0.05)}),
        "size": _factor("Size", 0.15, "Large fund", "Small fund", {
            "net_assets": _rule(50e6, 10e9, scale="log"), "market_cap": _rule(50e6, 10e9, scale="log"),
        }),
        "liquidity": _factor("Liquidity", 0.20, "Easy to trade", "Thinly traded", {"avg_dollar_volume": _rule(1e6, 100e6, scale="log")}),
        "momentum": _factor("Momentum", 0.25, "Rising", "Falling", {
            "return_6m_pct": _rule(-10.0, 12.0), "return_12m_pct": _rule(-15.0, 20.0),
            "above_ma200_pct": _rule(-8.0, 8.0),
        }),
        "concentration": _factor("Concentration", 0.10, "Diversified", "Concentrated", {"top10_weight_pct": _rule(70.0, 20.0)}),
    },
}

_BOND: dict[str, Any] = {
    "gates": [
        _gate("min_credit", "Investment grade", "credit_score", ">=", 7.0, "cap",
              "Credit quality is {value} (BBB = 7), below investment grade."),
    ],
    "factors": {
        "yield": _factor("Yield", 0.35, "Good yield", "Low yield", {"yield_pct": _rule(1.0, 5.5)}),
        "duration": _factor("Duration", 0.20, "Low rate risk", "High rate risk", {"duration_years": _rule(15.0, 2.0)}),
        "credit_quality": _factor("Credit quality", 0.30, "Safe issuer", "Credit risk", {"credit_score": _rule(5.0, 10.0)}),
        "curve": _factor("Curve", 0.15, "Good spot on the curve", "Poor spot on the curve", {"curve_spread_pct": _rule(-0.5, 0.5)}),
    },
}

DEFAULT_CONFIG: dict[str, Any] = {
    "cutoffs": {"strong_buy": 7.5, "buy": 6.0, "hold": 4.0},
    # a row needs this share of its configured weight in data to get a score at all
    "min_coverage": 0.25,
    # expressions a row must match to be selected (presets add them; the defaults select every row)
    "filters": [],
    "flags": [
        {"id": "value_trap", "label": "value trap",
         "when": "valuation_score >= 6 and (eps_growth < -0.1 or revenue_growth < -0.05 or fcf_yield < 0 "
                 "or fcf_negative_years >= 2)"},
        {"id": "negative_equity", "label": "negative equity", "when": "total_equity < 0"},
        {"id": "high_leverage", "label": "high leverage", "when": "debt_to_equity > 2 or interest_coverage < 2"},
        {"id": "falling_earnings", "label": "falling earnings", "when": "eps_growth < -0.1"},
        {"id": "negative_fcf", "label": "negative FCF", "when": "fcf_yield < 0 or fcf_margin < 0"},
        {"id": "shrinking_sales", "label": "shrinking sales", "when": "revenue_growth < -0.05"},
        {"id": "high_volatility", "label": "high volatility", "when": "volatility_pct > 50"},
        {"id": "dip", "label": "dip", "when": "dip_pct >= 10"},
        {"id": "overbought", "label": "overbought", "when": "rsi14 >= 70"},
        {"id": "oversold", "label": "oversold", "when": "rsi14 <= 30"},
        {"id": "thin_data", "label": "thin data", "when": "coverage < 0.5"},
    ],
    "classes": {"equity": _EQUITY, "etf": _ETF, "bond": _BOND},
    # applied after the preset: factor weights are multiplied, cut-offs shifted (then kept within 0–10)
    "regimes": {
        "risk-on": {
            "cutoff_shift": 0.0,
            "factor_multipliers": {"equity": {"momentum": 1.4, "growth": 1.2, "risk": 0.8}, "etf": {"momentum": 1.3}},
        },
        "neutral": {"cutoff_shift": 0.0, "factor_multipliers": {}},
        "risk-off": {
            "cutoff_shift": 0.5,
            "factor_multipliers": {
                "equity": {"quality": 1.5, "risk": 1.5, "momentum": 0.6, "growth": 0.8},
                "etf": {"momentum": 0.6, "cost": 1.2},
                "bond": {"credit_quality": 1.5, "duration": 1.3},
            },
        },
    },
}
# fmt: on


@dataclass(frozen=True, slots=True)
class Preset:
    """A named override of the defaults; `kind` is "strategy" (newbie entry) or "professional"."""

    id: str
    label: str
    kind: str
    description: str
    override: Mapping[str, Any] = field(compare=False, hash=False, repr=False)


def _weights(**weights: float) -> dict[str, Any]:
    return {name: {"weight": weight} for name, weight in weights.items()}


# fmt: off
PRESET_LIST: tuple[Preset, ...] = (
    Preset("balanced", "Balanced", "strategy", "Every factor counts: value, quality, growth, momentum and risk.", {}),
    Preset("momentum", "Momentum", "strategy", "Names in an uptrend, with growth behind it.", {
        "filters": ["above_ma200_pct > 0 or asset_class != \"equity\""],
        "classes": {
            "equity": {"factors": {
                **_weights(valuation=0.05, quality=0.15, growth=0.20, risk=0.15),
                "momentum": {"weight": 0.45, "metrics": {"above_ma50_pct": _rule(-8.0, 8.0, 0.5)}},
            }},
            "etf": {"factors": _weights(momentum=0.45, cost=0.20)},
        },
    }),
    Preset("value", "Value", "strategy", "Cheap names with sound businesses behind them.", {
        "classes": {
            "equity": {"factors": {
                **_weights(quality=0.25, growth=0.10, momentum=0.05, risk=0.15),
                "valuation": {"weight": 0.45, "metrics": {
                    "pe": {"bad": 25.0, "good": 10.0}, "dividend_yield": _rule(0.0, 0.04, 0.5)}},
            }},
            "etf": {"factors": _weights(cost=0.40, momentum=0.15)},
        },
    }),
    Preset("value-trap", "Value Trap Screen", "professional",
           "Cheap names only, with the classic traps (falling earnings, cash burn, shrinking sales) marked Avoid.", {
        "filters": ["valuation_score >= 6"],
        "classes": {"equity": {
            "factors": _weights(valuation=0.25, quality=0.35, growth=0.20, momentum=0.05, risk=0.15),
            "gates": [
                _gate("falling_earnings", "Earnings not collapsing", "eps_growth", ">=", -0.10, "avoid",
                      "Earnings per share changed {value} in a year: cheap because profits are falling."),
                _gate("cash_burn", "Positive free cash flow", "fcf_yield", ">=", 0.0, "avoid",
                      "Free cash flow yield is {value}: the business burns cash."),
                _gate("shrinking_sales", "Sales holding up", "revenue_growth", ">=", -0.05, "cap",
                      "Revenue changed {value} in a year, worse than the {threshold} we accept."),
            ],
        }},
    }),
    Preset("growth-at-fair-price", "Growth at Fair Price", "professional",
           "Growing companies that are not priced for perfection.", {
        "filters": ["revenue_growth >= 0.05 and pe <= 30"],
        "classes": {"equity": {"factors": {
            **_weights(quality=0.20, momentum=0.10, risk=0.05),
            "growth": {"weight": 0.35},
            "valuation": {"weight": 0.30, "metrics": {"pe": {"bad": 40.0, "good": 15.0}}},
        }}},
    }),
    Preset("dip-opportunity", "Dip Opportunity", "professional",
           "Quality names at least 5% below their 52-week high.", {
        "filters": ["dip_pct >= 5"],
        "classes": {"equity": {
            "factors": {
                **_weights(quality=0.40, valuation=0.25, growth=0.10, risk=0.15),
                "momentum": {"weight": 0.10, "metrics": {
                    "return_3m_pct": {"remove": True}, "return_6m_pct": {"remove": True},
                    "return_12m_pct": _rule(-30.0, 20.0, 0.5), "above_ma200_pct": {"remove": True},
                    "dip_pct": _rule(3.0, 20.0), "rsi14": _rule(70.0, 30.0, 0.5)}},
            },
            "gates": [
                _gate("quality_floor", "Quality floor", "roe", ">=", 0.08, "cap",
                      "Return on equity is {value}, below the {threshold} a dip buy needs."),
            ],
        }},
    }),
)
# fmt: on
PRESETS: dict[str, Preset] = {p.id: p for p in PRESET_LIST}
DEFAULT_PRESET = "balanced"
