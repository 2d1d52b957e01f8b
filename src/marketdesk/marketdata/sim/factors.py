"""The simulated calendar and the market-wide series: volatility regimes, the market and sector factors, the curve.

All of it is generated from the epoch, year by year, from streams keyed by the year, so adding years later
never changes earlier ones. It is one-dimensional per factor, so thirty years cost a few milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from exchange_calendars.errors import DateOutOfBounds

from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.marketdata.port import GICS_SECTORS, TREASURY_TENORS
from marketdesk.marketdata.sim.names import SECTOR_PROFILES
from marketdesk.marketdata.sim.rates import (
    CURVATURE,
    LEVEL,
    LEVEL_MARKET_CORRELATION,
    SLOPE,
    curve,
    treasury_daily_vol,
    treasury_prices,
)
from marketdesk.marketdata.sim.streams import EPOCH, EPOCH_YEAR, Stream, rng
from marketdesk.marketdata.sim.universe import FACTOR_BOND0, FACTOR_MARKET, FACTOR_SECTOR0, N_FACTORS

TRADING_DAYS = 252
CALM, TURBULENT = 0, 1


@dataclass(frozen=True)
class Regime:
    """One state of the Markov-switching market: its drift and volatility (annualized) and how long it lasts."""

    drift: float
    vol: float
    vol_scale: float  # multiplies sector and idiosyncratic volatility
    leave_prob: float  # daily probability of switching to the other state


REGIMES: tuple[Regime, Regime] = (
    Regime(drift=0.12, vol=0.12, vol_scale=1.0, leave_prob=0.006),  # calm: about 8 months on average
    Regime(drift=-0.22, vol=0.32, vol_scale=1.6, leave_prob=0.025),  # turbulent: about 2 months
)


@dataclass(frozen=True)
class Timeline:
    """Every simulated session from the epoch to the end of `last_year`, with year and quarter labels."""

    dates: np.ndarray  # datetime64[D], ascending
    years: np.ndarray  # calendar year of each session
    quarters: np.ndarray  # quarter index since the epoch's first quarter
    quarter_bounds: np.ndarray  # first row of each quarter, then len(dates)
    last_year: int

    @property
    def size(self) -> int:
        return len(self.dates)

    @property
    def n_quarters(self) -> int:
        return len(self.quarter_bounds) - 1

    def year_rows(self, year: int) -> slice:
        return slice(
            int(self.quarter_bounds[(year - EPOCH_YEAR) * 4]), int(self.quarter_bounds[(year - EPOCH_YEAR + 1) * 4])
        )

    def row_on_or_after(self, day: date) -> int:
        return int(np.searchsorted(self.dates, np.datetime64(day, "D"), side="left"))

    def row_on_or_before(self, day: date) -> int:
        return int(np.searchsorted(self.dates, np.datetime64(day, "D"), side="right")) - 1

    def day(self, row: int) -> date:
        return date.fromisoformat(str(self.dates[row]))


def quarter_start(quarter: int) -> date:
    """First calendar day of a quarter index."""
    return date(EPOCH_YEAR + quarter // 4, 3 * (quarter % 4) + 1, 1)


def quarter_end(quarter: int) -> date:
    """Last calendar day of a quarter index."""
    return quarter_start(quarter + 1) - timedelta(days=1)


def quarter_of(day: date) -> int:
    return (day.year - EPOCH_YEAR) * 4 + (day.month - 1) // 3


@lru_cache(maxsize=256)
def _year_sessions(code: str, year: int) -> np.ndarray:
    calendar = ExchangeCalendar(code)
    start = max(date(year, 1, 1), EPOCH)
    for last_day in range(31, 24, -1):  # the calendar's table may end on the last session before 31 December
        try:
            sessions = calendar.sessions(start, date(year, 12, last_day))
        except DateOutOfBounds:
            continue
        return np.array(sessions, dtype="datetime64[D]")
    # beyond the calendar's table: weekdays stand in for sessions
    days = np.arange(np.datetime64(start, "D"), np.datetime64(date(year + 1, 1, 1), "D"))
    return days[np.is_busday(days)]


def build_timeline(last_year: int, calendar_code: str = "XNYS") -> Timeline:
    """Sessions from the epoch through `last_year` on the exchange's calendar."""
    per_year = [_year_sessions(calendar_code, year) for year in range(EPOCH_YEAR, last_year + 1)]
    dates = np.concatenate(per_year)
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12
    quarters = (years - EPOCH_YEAR) * 4 + months // 3
    n_quarters = (last_year - EPOCH_YEAR + 1) * 4
    bounds = np.searchsorted(quarters, np.arange(n_quarters + 1), side="left")
    return Timeline(dates=dates, years=years, quarters=quarters, quarter_bounds=bounds, last_year=last_year)


@dataclass(frozen=True)
class MarketSeries:
    """The market-wide daily series over a timeline."""

    regime: np.ndarray  # CALM or TURBULENT per session
    vol_scale: np.ndarray  # per session
    factors: np.ndarray  # (sessions, N_FACTORS) daily log returns of each factor
    factor_vol: np.ndarray  # (sessions, N_FACTORS) daily volatility of each factor
    yields: np.ndarray  # (sessions, tenors), percent
    treasury_price: np.ndarray  # (sessions, tenors), per 100 face


def build_market_series(seed: int, timeline: Timeline) -> MarketSeries:
    """Draw the regimes, the market and sector factors and the curve, year by year from the epoch."""
    n_sectors = len(GICS_SECTORS)
    regime = np.empty(timeline.size, dtype=np.int8)
    market = np.empty(timeline.size)
    sectors = np.empty((timeline.size, n_sectors))
    states = np.empty((timeline.size, 3))
    state = CALM
    level, slope, curvature = LEVEL.start, SLOPE.start, CURVATURE.start
    other = math.sqrt(1.0 - LEVEL_MARKET_CORRELATION**2)
    leave = [r.leave_prob for r in REGIMES]
    for year in range(EPOCH_YEAR, timeline.last_year + 1):
        rows = timeline.year_rows(year)
        n = rows.stop - rows.start
        g = rng(seed, Stream.MARKET, year)
        draws = g.random(n).tolist()
        shocks = g.standard_t(5, n) * math.sqrt(3.0 / 5.0)
        sectors[rows] = g.standard_normal((n, n_sectors))
        rate_shocks = g.standard_normal((n, 3))
        year_regime = np.empty(n, dtype=np.int8)
        year_states = np.empty((n, 3))
        for t in range(n):  # a few thousand scalar steps: the chain and the curve are sequential
            if draws[t] < leave[state]:
                state = TURBULENT - state
            year_regime[t] = state
            z_market = float(shocks[t])
            z_level, z_slope, z_curvature = (float(v) for v in rate_shocks[t])
            level += LEVEL.pull * (LEVEL.mean - level) + LEVEL.daily_vol * (
                LEVEL_MARKET_CORRELATION * z_market + other * z_level
            )
            slope += SLOPE.pull * (SLOPE.mean - slope) + SLOPE.daily_vol * z_slope
            curvature += CURVATURE.pull * (CURVATURE.mean - curvature) + CURVATURE.daily_vol * z_curvature
            year_states[t] = (level, slope, curvature)
        regime[rows] = year_regime
        drift = np.array([r.drift for r in REGIMES])[year_regime]
        vol = np.array([r.vol for r in REGIMES])[year_regime]
        market[rows] = drift / TRADING_DAYS + vol / math.sqrt(TRADING_DAYS) * shocks
        states[rows] = year_states

    vol_scale = np.array([r.vol_scale for r in REGIMES])[regime]
    sector_vol = np.array([p.sector_vol for p in SECTOR_PROFILES]) / math.sqrt(TRADING_DAYS)
    yields = curve(states)
    prices = treasury_prices(yields)
    bond_returns = np.vstack([np.zeros((1, len(TREASURY_TENORS))), np.diff(np.log(prices), axis=0)])

    factors = np.empty((timeline.size, N_FACTORS))
    factors[:, FACTOR_MARKET] = market
    factors[:, FACTOR_SECTOR0 : FACTOR_SECTOR0 + n_sectors] = sectors * (vol_scale[:, None] * sector_vol[None, :])
    factors[:, FACTOR_BOND0:] = bond_returns
    factor_vol = np.empty_like(factors)
    factor_vol[:, FACTOR_MARKET] = np.array([r.vol for r in REGIMES])[regime] / math.sqrt(TRADING_DAYS)
    factor_vol[:, FACTOR_SECTOR0 : FACTOR_SECTOR0 + n_sectors] = vol_scale[:, None] * sector_vol[None, :]
    factor_vol[:, FACTOR_BOND0:] = treasury_daily_vol()[None, :]
    return MarketSeries(
        regime=regime,
        vol_scale=vol_scale,
        factors=factors,
        factor_vol=factor_vol,
        yields=yields,
        treasury_price=prices,
    )
