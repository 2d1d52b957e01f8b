"""Performance analytics, pure and vectorized: return measures, risk-adjusted ratios, drawdowns, tail risk,
benchmark measures, rolling versions, attribution and CSV export.

>>> import pandas as pd
>>> from marketdesk.analytics import Conventions, metrics
>>> days = pd.bdate_range("2024-01-01", periods=5)
>>> m = metrics(pd.Series([0.01, -0.02, 0.015, 0.005, -0.01], index=days), conventions=Conventions(risk_free=0.04))
>>> sorted(k for k in ("sharpe", "var_95", "max_drawdown_days") if k in m)
['max_drawdown_days', 'sharpe', 'var_95']

Every convention (periods per year, the risk-free rate, the downside deviation, the VaR method, how alpha is
annualized) is a field of `Conventions`; docs/analytics.md states each default and alternative, and where
empyrical and quantstats differ.
"""

from marketdesk.analytics.attribution import Attribution, Linking, contribution
from marketdesk.analytics.benchmark import (
    alpha,
    beta,
    correlation,
    down_capture,
    information_ratio,
    tracking_error,
    up_capture,
)
from marketdesk.analytics.conventions import AlphaAnnualization, Conventions, Downside, VarMethod
from marketdesk.analytics.drawdown import DrawdownSpell, calmar, drawdown_spell, max_drawdown, underwater
from marketdesk.analytics.export import metrics_csv, write_metrics_csv
from marketdesk.analytics.measures import (
    annual_return,
    annual_volatility,
    cagr,
    downside_deviation,
    excess_kurtosis,
    omega,
    sharpe,
    skewness,
    sortino,
    total_return,
)
from marketdesk.analytics.metrics import REQUIRED_KEYS, compare, metric_keys, metrics, metrics_frame
from marketdesk.analytics.panel import log_returns, simple_returns
from marketdesk.analytics.rolling import rolling, rolling_metrics
from marketdesk.analytics.tail import conditional_value_at_risk, value_at_risk

__all__ = [
    "REQUIRED_KEYS",
    "AlphaAnnualization",
    "Attribution",
    "Conventions",
    "Downside",
    "DrawdownSpell",
    "Linking",
    "VarMethod",
    "alpha",
    "annual_return",
    "annual_volatility",
    "beta",
    "cagr",
    "calmar",
    "compare",
    "conditional_value_at_risk",
    "contribution",
    "correlation",
    "down_capture",
    "downside_deviation",
    "drawdown_spell",
    "excess_kurtosis",
    "information_ratio",
    "log_returns",
    "max_drawdown",
    "metric_keys",
    "metrics",
    "metrics_csv",
    "metrics_frame",
    "omega",
    "rolling",
    "rolling_metrics",
    "sharpe",
    "simple_returns",
    "skewness",
    "sortino",
    "total_return",
    "tracking_error",
    "underwater",
    "up_capture",
    "value_at_risk",
    "write_metrics_csv",
]
