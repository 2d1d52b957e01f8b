"""`md.metrics` is the notebook entry point to the analytics module."""

import math

import pandas as pd

import marketdesk as md
import marketdesk.app  # the whole desk imported, as in a running process: no submodule may shadow md.metrics


def test_md_metrics_measures_a_series_from_the_top_level_package() -> None:
    days = pd.bdate_range("2026-01-05", periods=4)
    result = md.metrics(pd.Series([0.10, -0.05, 0.02, 0.01], index=days))
    # total growth 1.10 × 0.95 × 1.02 × 1.01 = 1.076559; the worst fall is the -5% day after the first
    assert math.isclose(result["max_drawdown"], -0.05, abs_tol=1e-12)
    assert math.isclose(result["total_return"], 1.10 * 0.95 * 1.02 * 1.01 - 1, abs_tol=1e-12)
    assert "metrics" in md.__all__
