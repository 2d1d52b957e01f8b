"""How the metric keys read to a person, shared by the CLI's table and the web desk's Analytics page."""

from __future__ import annotations

METRIC_LABELS: dict[str, str] = {
    "annual_return": "Annual return (mean × periods)",
    "cagr": "CAGR",
    "total_return": "Total return",
    "annual_volatility": "Annual volatility",
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "calmar": "Calmar",
    "omega": "Omega",
    "max_drawdown": "Max drawdown",
    "max_drawdown_days": "Max drawdown (days)",
    "max_drawdown_periods": "Max drawdown (periods)",
    "longest_drawdown_days": "Longest drawdown (days)",
    "downside_deviation": "Downside deviation",
    "skewness": "Skewness",
    "excess_kurtosis": "Excess kurtosis",
    "observations": "Observations",
    "beta": "Beta",
    "alpha": "Alpha (annual)",
    "correlation": "Correlation",
    "tracking_error": "Tracking error",
    "information_ratio": "Information ratio",
    "up_capture": "Up capture",
    "down_capture": "Down capture",
}
PERCENT_METRICS = frozenset(
    {"annual_return", "cagr", "total_return", "annual_volatility", "max_drawdown", "downside_deviation", "alpha",
     "tracking_error"}
)  # fmt: skip
