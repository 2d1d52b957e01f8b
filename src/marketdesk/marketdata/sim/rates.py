"""The simulated treasury curve: a three-factor Nelson–Siegel curve whose level, slope and curvature wander.

Level and slope mean-revert slowly (half-lives of two years and one), so the curve keeps its usual upward shape most of
the time and spends spells inverted (10y − 2y below zero), as real curves do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TENOR_YEARS: tuple[float, ...] = (1 / 12, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0)
"""Years to maturity of each column of `TREASURY_TENORS`."""

NS_DECAY_YEARS = 1.8
FLOOR_SOFTNESS_PCT = 0.15
FLOOR_PCT = 0.02  # yields approach this from above at the zero bound, as bills did in 2009–2015 and 2020–2021


@dataclass(frozen=True)
class CurveFactor:
    """One mean-reverting curve factor, in percent, stepped once per session."""

    mean: float
    start: float
    half_life_sessions: float
    daily_vol: float

    @property
    def pull(self) -> float:
        return float(1.0 - 0.5 ** (1.0 / self.half_life_sessions))


LEVEL = CurveFactor(mean=4.3, start=6.2, half_life_sessions=504, daily_vol=0.055)
SLOPE = CurveFactor(mean=-1.5, start=-0.3, half_life_sessions=252, daily_vol=0.1)
CURVATURE = CurveFactor(mean=0.0, start=0.0, half_life_sessions=126, daily_vol=0.09)
LEVEL_MARKET_CORRELATION = 0.25  # yields tend to rise with stocks and fall in sell-offs


def ns_loadings() -> np.ndarray:
    """(tenors × 3) loadings of level, slope and curvature."""
    x = np.asarray(TENOR_YEARS) / NS_DECAY_YEARS
    slope = (1.0 - np.exp(-x)) / x
    return np.column_stack([np.ones_like(x), slope, slope - np.exp(-x)])


def curve(states: np.ndarray) -> np.ndarray:
    """Yields in percent (rows × tenors) from (rows × 3) level/slope/curvature, floored softly above zero."""
    raw = np.einsum("tk,jk->tj", states, ns_loadings()) - FLOOR_PCT
    return FLOOR_PCT + FLOOR_SOFTNESS_PCT * np.logaddexp(0.0, raw / FLOOR_SOFTNESS_PCT)


def long_run_yields() -> np.ndarray:
    """The curve at the factors' long-run means."""
    return curve(np.array([[LEVEL.mean, SLOPE.mean, CURVATURE.mean]]))[0]


def treasury_coupon_pct(tenor_index: int) -> float:
    """The coupon of one treasury of the ladder: its tenor's long-run yield rounded to 1/8; bills pay none."""
    if TENOR_YEARS[tenor_index] < 1.0:
        return 0.0
    return round(float(long_run_yields()[tenor_index]) * 8) / 8


def treasury_prices(yields_pct: np.ndarray) -> np.ndarray:
    """Price per 100 face of each constant-maturity treasury of the ladder at the given yields (rows × tenors)."""
    prices = np.empty_like(yields_pct)
    for j, years in enumerate(TENOR_YEARS):
        y = yields_pct[:, j] / 100.0
        if years < 1.0:
            prices[:, j] = 100.0 / (1.0 + y * years)
            continue
        periods = 2.0 * years
        rate = y / 2.0
        discount = np.exp(-periods * np.log1p(rate))
        annuity = -np.expm1(-periods * np.log1p(rate)) / rate
        prices[:, j] = 100.0 * (treasury_coupon_pct(j) / 200.0 * annuity + discount)
    return prices


def treasury_daily_vol() -> np.ndarray:
    """Typical daily log-price volatility of each treasury (modified duration × daily yield volatility)."""
    base = long_run_yields()
    bumped = treasury_prices(np.vstack([base, base + 0.01]))
    duration_per_pct = -np.log(bumped[1] / bumped[0]) / 0.01
    return duration_per_pct * LEVEL.daily_vol
