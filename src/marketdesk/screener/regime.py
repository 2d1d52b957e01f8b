"""The market regime: risk-on, neutral or risk-off, from four signals that each vote +1, 0 or −1.

| signal       | measured as                                                   | +1 (risk-on)  | −1 (risk-off)  |
|--------------|---------------------------------------------------------------|---------------|----------------|
| trend        | the benchmark's last close vs its 200-day average, percent    | above by > 1 %| below by > 1 % |
| breadth      | % of stocks (equities) whose price is above their 200-day avg | ≥ 60 %        | ≤ 40 %         |
| volatility   | the benchmark's 20-day annualised volatility, percent         | < 15 (calm)   | > 25 (stressed)|
| yield curve  | 10-year minus 2-year treasury yield, percentage points        | never (a normal curve is the base case) | < 0 (inverted) |

The votes add up: +2 or more is risk-on, −2 or less is risk-off, anything between is neutral. A signal whose
input is missing (fewer than 200 sessions of benchmark prices, fewer than 10 stocks with a 200-day average,
no 2-year or 10-year yield) votes 0 and the reason says it is unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketdesk.screener.metrics import EQUITY, curve_points
from marketdesk.screener.model import Regime, RegimeSignal, RegimeState, UniverseData
from marketdesk.screener.momentum import fill_forward, last_row, positive_or_nan, window_mean
from marketdesk.screener.risk import volatility_pct

TREND_WINDOW = 200
TREND_BAND_PCT = 1.0
BREADTH_RISK_ON_PCT = 60.0
BREADTH_RISK_OFF_PCT = 40.0
MIN_BREADTH_STOCKS = 10
VOLATILITY_SESSIONS = 20
VOLATILITY_CALM_PCT = 15.0
VOLATILITY_STRESSED_PCT = 25.0
CURVE_INVERTED_POINTS = 0.0
RISK_ON_VOTES = 2
RISK_OFF_VOTES = -2

_LABEL = {RegimeState.RISK_ON: "Risk-on", RegimeState.NEUTRAL: "Neutral", RegimeState.RISK_OFF: "Risk-off"}


def assess_regime(data: UniverseData, metrics: pd.DataFrame) -> Regime:
    """Call the market's regime on `data.as_of` from the benchmark, breadth, volatility and the yield curve.

    `metrics` is `compute_metrics(data)` (breadth reads its `above_ma200_pct` column). The result's `reason`
    is one sentence naming the signals that decided it, for example
    "Risk-off: the benchmark is 6% below its 200-day average and only 31% of stocks are above theirs."
    """
    with np.errstate(all="ignore"):
        benchmark = fill_forward(positive_or_nan(data.benchmark))
        signals = (
            trend_signal(benchmark),
            breadth_signal(data, metrics),
            volatility_signal(benchmark),
            curve_signal(data.yields),
        )
    total = sum(s.vote for s in signals)
    if total >= RISK_ON_VOTES:
        state = RegimeState.RISK_ON
    elif total <= RISK_OFF_VOTES:
        state = RegimeState.RISK_OFF
    else:
        state = RegimeState.NEUTRAL
    return Regime(state=state, reason=_reason(state, signals), signals=signals, as_of=data.as_of)


def trend_signal(benchmark: np.ndarray) -> RegimeSignal:
    """The benchmark's last close vs its 200-day average (percent): ±1 beyond a 1 % band."""
    if len(benchmark) < TREND_WINDOW:
        return RegimeSignal("trend", None, 0, "the benchmark trend is unknown (fewer than 200 sessions of prices)")
    average = float(window_mean(benchmark[:, None], TREND_WINDOW)[0])
    gap = float((last_row(benchmark[:, None])[0] / average - 1.0) * 100.0)
    if not np.isfinite(gap):
        return RegimeSignal("trend", None, 0, "the benchmark trend is unknown (its recent prices are missing)")
    if gap > TREND_BAND_PCT:
        return RegimeSignal("trend", gap, 1, f"the benchmark is {gap:.0f}% above its 200-day average")
    if gap < -TREND_BAND_PCT:
        return RegimeSignal("trend", gap, -1, f"the benchmark is {-gap:.0f}% below its 200-day average")
    return RegimeSignal("trend", gap, 0, f"the benchmark is near its 200-day average ({gap:+.1f}%)")


def breadth_signal(data: UniverseData, metrics: pd.DataFrame) -> RegimeSignal:
    """The share of stocks above their 200-day average (percent): +1 at ≥ 60 %, −1 at ≤ 40 %."""
    if "above_ma200_pct" not in metrics.columns:
        return RegimeSignal("breadth", None, 0, "breadth is unknown (no 200-day averages were computed)")
    column = metrics["above_ma200_pct"].reindex(list(data.symbols)).to_numpy(dtype=np.float64)
    stocks = np.array([str(a) == EQUITY for a in data.asset_class], dtype=bool)
    known = column[stocks & ~np.isnan(column)]
    if known.size < MIN_BREADTH_STOCKS:
        return RegimeSignal("breadth", None, 0, f"breadth is unknown (only {known.size} stocks have a 200-day average)")
    share = float((known > 0).mean() * 100.0)
    if share >= BREADTH_RISK_ON_PCT:
        return RegimeSignal("breadth", share, 1, f"{share:.0f}% of stocks are above their 200-day average")
    if share <= BREADTH_RISK_OFF_PCT:
        return RegimeSignal("breadth", share, -1, f"only {share:.0f}% of stocks are above their 200-day average")
    return RegimeSignal("breadth", share, 0, f"{share:.0f}% of stocks are above their 200-day average")


def volatility_signal(benchmark: np.ndarray) -> RegimeSignal:
    """The benchmark's 20-day annualised volatility (percent): +1 below 15 (calm), −1 above 25 (stressed)."""
    value = float(volatility_pct(benchmark, VOLATILITY_SESSIONS)[0]) if len(benchmark) else float("nan")
    if not np.isfinite(value):
        return RegimeSignal("volatility", None, 0, "volatility is unknown (fewer than 20 sessions of prices)")
    if value < VOLATILITY_CALM_PCT:
        return RegimeSignal("volatility", value, 1, f"volatility is calm ({value:.0f}% annualised)")
    if value > VOLATILITY_STRESSED_PCT:
        return RegimeSignal("volatility", value, -1, f"volatility is stressed ({value:.0f}% annualised)")
    return RegimeSignal("volatility", value, 0, f"volatility is normal ({value:.0f}% annualised)")


def curve_signal(yields: dict[str, float]) -> RegimeSignal:
    """10-year minus 2-year yield (percentage points): −1 when inverted (below 0), else 0."""
    maturities, rates = curve_points(yields)
    by_years = dict(zip(maturities.tolist(), rates.tolist(), strict=True))
    if 10.0 not in by_years or 2.0 not in by_years:
        return RegimeSignal("yield_curve", None, 0, "the yield curve is unknown (no 2-year or 10-year yield)")
    slope = by_years[10.0] - by_years[2.0]
    if slope < CURVE_INVERTED_POINTS:
        return RegimeSignal("yield_curve", slope, -1, f"the yield curve is inverted (10y − 2y = {slope:+.2f} points)")
    return RegimeSignal("yield_curve", slope, 0, f"the yield curve is normal (10y − 2y = {slope:+.2f} points)")


def _join(phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _phrases(signals: list[RegimeSignal]) -> list[str]:
    phrases = [s.text for s in signals]
    names = [s.name for s in signals]
    if "trend" in names and "breadth" in names and names.index("breadth") == names.index("trend") + 1:
        k = names.index("breadth")  # "… above its 200-day average and 62% of stocks are above theirs"
        phrases[k] = phrases[k].replace("their 200-day average", "theirs")
    return phrases


def _reason(state: RegimeState, signals: tuple[RegimeSignal, ...]) -> str:
    """One sentence: the state, the signals that decided it, and which inputs were unknown."""
    known = [s for s in signals if s.value is not None]
    unknown = [s for s in signals if s.value is None]
    up = [s for s in known if s.vote > 0]
    down = [s for s in known if s.vote < 0]
    if state is RegimeState.RISK_ON:
        body = _join(_phrases(up))
    elif state is RegimeState.RISK_OFF:
        body = _join(_phrases(down))
    elif up and down:
        body = f"signals are mixed: {_join(_phrases(up))}, but {_join(_phrases(down))}"
    elif up or down:
        leaning = "risk-on" if up else "risk-off"
        body = f"{_join(_phrases(up or down))}, but that alone is not enough to call it {leaning}"
    elif known:
        body = f"no signal leans either way ({_join(_phrases(known))})"
    else:
        body = "no signal could be measured"
    if unknown:
        names = _join([s.name.replace("_", " ") for s in unknown])
        body += f" ({names} unknown)"
    return f"{_LABEL[state]}: {body}."
