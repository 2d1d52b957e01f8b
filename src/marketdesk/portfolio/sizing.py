"""Position sizing: how much of your equity a new position in one name should take, and why. Pure: no I/O, no
clock; money is `Decimal` (the volatility statistics are float64, as every statistic of the desk is).

The rules, in the order they apply (docs/sizing.md has the same table with worked examples):

1. **Verdict** sets the base range, in percent of equity: Strong Buy 4–6 %, Buy 2–4 %, Hold 0.5–1 %, Avoid or
   no verdict 0 (no new money).
2. **Market regime** scales both ends: risk-on ×1.2, neutral ×1, risk-off ×0.5 (unknown ×1).
3. **Sector momentum** scales both ends: the sector's median 3-month return minus the benchmark's, in percentage
   points. Leading by ≥ 5 points ×1.1, lagging by ≥ 5 points ×0.8, in between (or unknown) ×1.
4. **Caps**, in dollars; the high end never goes above any of them and the low end never above the high end:
   - volatility: risk at most `risk_per_trade_pct` (1 %) of equity on a stop `atr_multiple` (2) × ATR14 below
     the price, so the position is at most equity × 1 % × price / (2 × ATR14);
   - per name: what you hold of the name plus the new money stays within `max_name_pct` (10 %) of equity;
   - per sector: what you hold in the name's sector plus the new money stays within `max_sector_pct` (30 %).
5. **Safe choice**: the low end, halved when the market is risk-off, when the name is volatile (ATR14 ≥ 4 % of
   its price) or when its volatility is unknown.
6. **Stars** (1–5) rate the opportunity, not the room left: Strong Buy 4, Buy 3, Hold 2; +1 risk-on, −1
   risk-off; +1 leading sector, −1 lagging sector; −1 volatile; kept within 1–5. Avoid or no verdict: 1.

Dollars are rounded down to the cent and shares down to whole shares, so rounding never breaks a cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_FLOOR, Decimal, localcontext
from typing import Literal

import numpy as np

from marketdesk.errors import Rejected
from marketdesk.screener.model import RegimeState, Verdict

D = Decimal
ZERO = D(0)
HUNDRED = D(100)
CENT = D("0.01")

BASE_RANGE_PCT: dict[Verdict, tuple[Decimal, Decimal]] = {
    Verdict.STRONG_BUY: (D(4), D(6)),
    Verdict.BUY: (D(2), D(4)),
    Verdict.HOLD: (D("0.5"), D(1)),
    Verdict.AVOID: (ZERO, ZERO),
}
REGIME_FACTOR: dict[RegimeState, Decimal] = {
    RegimeState.RISK_ON: D("1.2"),
    RegimeState.NEUTRAL: D(1),
    RegimeState.RISK_OFF: D("0.5"),
}
MOMENTUM_LEADING_POINTS = 5.0
MOMENTUM_LAGGING_POINTS = -5.0
MOMENTUM_LEADING_FACTOR = D("1.1")
MOMENTUM_LAGGING_FACTOR = D("0.8")
MOMENTUM_MIN_NAMES = 3  # fewer names with a 3-month return than this: the sector's momentum is unknown
HIGH_VOLATILITY_ATR_PCT = D(4)
SAFE_CUT = D("0.5")
ATR_PERIOD = 14
BASE_STARS = {Verdict.STRONG_BUY: 4, Verdict.BUY: 3, Verdict.HOLD: 2, Verdict.AVOID: 1}

Effect = Literal["base", "raise", "cut", "none", "cap", "zero"]
CapName = Literal["volatility", "name", "sector"]


@dataclass(frozen=True, slots=True)
class SizingLimits:
    """The caps a recommendation respects. Percentages of equity; `atr_multiple` is the stop distance in ATRs."""

    max_name_pct: Decimal = Decimal(10)
    max_sector_pct: Decimal = Decimal(30)
    risk_per_trade_pct: Decimal = Decimal(1)
    atr_multiple: Decimal = Decimal(2)

    def __post_init__(self) -> None:
        for name in ("max_name_pct", "max_sector_pct", "risk_per_trade_pct"):
            value = getattr(self, name)
            if not ZERO < value <= HUNDRED:
                raise Rejected(f"{name} must be above 0 and at most 100, got {value}")
        if self.atr_multiple <= 0:
            raise Rejected(f"atr_multiple must be above 0, got {self.atr_multiple}")


@dataclass(frozen=True, slots=True)
class SizingInputs:
    """Everything one recommendation depends on.

    `held_value` is the market value you hold of the name, `sector_held_value` of every name in its sector (the
    name included); shorts count as nothing held. `sector_momentum_points` is the sector's median 3-month return
    minus the benchmark's (percentage points; see `sector_momentum_points`). `atr` is ATR14 in dollars.
    """

    symbol: str
    price: Decimal
    equity: Decimal
    verdict: Verdict | None
    regime: RegimeState | None = None
    sector: str | None = None
    sector_momentum_points: float | None = None
    atr: Decimal | None = None
    held_value: Decimal = ZERO
    sector_held_value: Decimal = ZERO
    limits: SizingLimits = field(default_factory=SizingLimits)


@dataclass(frozen=True, slots=True)
class SizingReason:
    """One rule and what it did to the size, in words."""

    factor: str  # verdict, regime, sector_momentum, volatility, name_cap, sector_cap, equity, safe_choice, stars
    effect: Effect
    text: str


@dataclass(frozen=True, slots=True)
class SizingCap:
    """One cap: the most new money it allows (dollars, rounded down) and whether it cut the range."""

    name: CapName
    limit_pct: Decimal  # the cap's own setting: 10 (% per name), 30 (% per sector), 1 (% risked per trade)
    room: Decimal
    binding: bool


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A recommended size: a range and a safe choice in percent of equity, dollars and whole shares."""

    symbol: str
    equity: Decimal
    price: Decimal
    verdict: Verdict | None
    regime: RegimeState | None
    sector: str | None
    sector_momentum_points: float | None
    atr: Decimal | None
    atr_pct: Decimal | None  # ATR14 as a percent of the price
    low_pct: Decimal
    high_pct: Decimal
    safe_pct: Decimal
    low_dollars: Decimal
    high_dollars: Decimal
    safe_dollars: Decimal
    low_shares: int
    high_shares: int
    safe_shares: int
    stars: int
    caps: tuple[SizingCap, ...]
    reasons: tuple[SizingReason, ...]
    limits: SizingLimits

    @property
    def headline(self) -> str:
        """`Recommended: 2–4% · $2,000–$4,000`, or `Recommended: none (0%)` when nothing should be added."""
        if self.high_dollars <= 0:
            return "Recommended: none (0%)"
        return (
            f"Recommended: {percent_range(self.low_pct, self.high_pct)} · "
            f"{dollar_range(self.low_dollars, self.high_dollars)}"
        )

    @property
    def safe_text(self) -> str:
        """`Safe choice: 2% · $2,000 · 20 shares`."""
        if self.safe_dollars <= 0:
            return "Safe choice: stay out"
        return (
            f"Safe choice: {percent_text(self.safe_pct)} · {dollars(self.safe_dollars)} · "
            f"{shares_text(self.safe_shares)}"
        )


# ---- the model ----------------------------------------------------------------------------------------------


def recommend(inputs: SizingInputs) -> Recommendation:
    """Size a new position from the verdict, the regime, sector momentum, volatility and what is already held.

    >>> r = recommend(SizingInputs("AAA", D(100), D(100_000), Verdict.BUY, RegimeState.NEUTRAL, atr=D(2)))
    >>> r.headline, r.safe_shares
    ('Recommended: 2–4% · $2,000–$4,000', 20)
    """
    if not inputs.price.is_finite() or inputs.price <= 0:
        raise Rejected(f"{inputs.symbol} has no usable price ({inputs.price})", hint="Import or fetch its prices.")
    if not inputs.equity.is_finite():
        raise Rejected("the equity to size against is not a number")
    if inputs.atr is not None and (not inputs.atr.is_finite() or inputs.atr <= 0):
        raise Rejected(f"ATR14 must be above 0, got {inputs.atr}")
    limits = inputs.limits
    equity = inputs.equity
    reasons: list[SizingReason] = []

    low_pct, high_pct = _base(inputs, reasons)
    factor = _regime(inputs, reasons) * _momentum(inputs, reasons)
    low_pct, high_pct = low_pct * factor, high_pct * factor
    atr_pct = None if inputs.atr is None else inputs.atr / inputs.price * HUNDRED
    volatile = atr_pct is None or atr_pct >= HIGH_VOLATILITY_ATR_PCT

    if equity <= 0:
        reasons.append(
            SizingReason("equity", "zero", f"Equity is {dollars(equity)}: there is nothing to size against.")
        )
        low_pct = high_pct = ZERO
        equity_for_caps = ZERO
    else:
        equity_for_caps = equity
    wanted_low = equity_for_caps * low_pct / HUNDRED
    wanted_high = equity_for_caps * high_pct / HUNDRED

    measured = _caps(inputs, equity_for_caps)
    room = min((cap.room for cap in measured), default=wanted_high)
    high_exact = min(wanted_high, room)
    low_exact = min(wanted_low, high_exact)
    high, low = _cents(high_exact), _cents(low_exact)
    # the cap that sets the high end is the binding one (a looser cap below the wanted size is not)
    caps = tuple(
        SizingCap(c.name, c.limit_pct, c.room, binding=wanted_high > 0 and c.room < wanted_high and c.room == room)
        for c in measured
    )
    reasons += _cap_reasons(inputs, caps, atr_pct, wanted_high)

    cautious = [why for why, on in _caution(inputs, atr_pct) if on]
    safe_exact = low_exact * SAFE_CUT if cautious else low_exact
    safe = _cents(safe_exact)
    reasons.append(_safe_reason(low, safe, cautious))
    stars, stars_text = rate(inputs.verdict, inputs.regime, _momentum_state(inputs), volatile)
    reasons.append(SizingReason("stars", "none", stars_text))
    return Recommendation(
        symbol=inputs.symbol, equity=equity, price=inputs.price, verdict=inputs.verdict, regime=inputs.regime,
        sector=inputs.sector, sector_momentum_points=inputs.sector_momentum_points, atr=inputs.atr,
        atr_pct=None if atr_pct is None else atr_pct.quantize(CENT), low_pct=_pct(low_exact, equity),
        high_pct=_pct(high_exact, equity), safe_pct=_pct(safe_exact, equity), low_dollars=low, high_dollars=high,
        safe_dollars=safe, low_shares=_shares(low, inputs.price), high_shares=_shares(high, inputs.price),
        safe_shares=_shares(safe, inputs.price), stars=stars, caps=caps, reasons=tuple(reasons), limits=limits,
    )  # fmt: skip


def _base(inputs: SizingInputs, reasons: list[SizingReason]) -> tuple[Decimal, Decimal]:
    verdict = inputs.verdict
    if verdict is None:
        reasons.append(
            SizingReason(
                "verdict",
                "zero",
                f"No verdict: the screener could not score {inputs.symbol}, so the desk recommends no new money.",
            )
        )
        return ZERO, ZERO
    low, high = BASE_RANGE_PCT[verdict]
    if high == 0:
        reasons.append(
            SizingReason(
                "verdict", "zero", f"{verdict.value}: the screener advises against new money, so the size is 0."
            )
        )
    else:
        reasons.append(
            SizingReason("verdict", "base", f"{verdict.value}: the base size is {percent_range(low, high)} of equity.")
        )
    return low, high


def _regime(inputs: SizingInputs, reasons: list[SizingReason]) -> Decimal:
    regime = inputs.regime
    if regime is None:
        reasons.append(SizingReason("regime", "none", "The market regime is unknown: the size stays as it is (×1)."))
        return D(1)
    factor = REGIME_FACTOR[regime]
    words = {
        RegimeState.RISK_ON: f"The market is risk-on: the size is raised by 20% (×{factor}).",
        RegimeState.NEUTRAL: f"The market is neutral: the size stays as it is (×{factor}).",
        RegimeState.RISK_OFF: f"The market is risk-off: the size is halved (×{factor}).",
    }[regime]
    reasons.append(SizingReason("regime", _effect(factor), words))
    return factor


def _momentum_state(inputs: SizingInputs) -> int | None:
    """+1 leading, −1 lagging, 0 in line, None unknown."""
    points = inputs.sector_momentum_points
    if inputs.sector is None or points is None or not math.isfinite(points):
        return None
    if points >= MOMENTUM_LEADING_POINTS:
        return 1
    if points <= MOMENTUM_LAGGING_POINTS:
        return -1
    return 0


def _momentum(inputs: SizingInputs, reasons: list[SizingReason]) -> Decimal:
    state = _momentum_state(inputs)
    points = inputs.sector_momentum_points
    if state is None or points is None:
        why = (
            "the name has no sector"
            if inputs.sector is None
            else f"too few {inputs.sector} names have a 3-month return"
        )
        reasons.append(
            SizingReason(
                "sector_momentum", "none", f"Sector momentum is unknown ({why}): the size stays as it is (×1)."
            )
        )
        return D(1)
    sector = inputs.sector
    if state > 0:
        factor = MOMENTUM_LEADING_FACTOR
        text = f"{sector} leads the market by {points:.1f} points over 3 months: the size is raised by 10% (×{factor})."
    elif state < 0:
        factor = MOMENTUM_LAGGING_FACTOR
        text = f"{sector} lags the market by {-points:.1f} points over 3 months: the size is cut by 20% (×{factor})."
    else:
        factor = D(1)
        text = f"{sector} moves with the market ({points:+.1f} points over 3 months): the size stays as it is (×1)."
    reasons.append(SizingReason("sector_momentum", _effect(factor), text))
    return factor


def _caps(inputs: SizingInputs, equity: Decimal) -> list[SizingCap]:
    limits = inputs.limits
    held = max(inputs.held_value, ZERO)
    caps = []
    with localcontext() as context:
        context.rounding = ROUND_FLOOR  # a cap rounded up could let a cent through
        if inputs.atr is not None:
            risk = equity * limits.risk_per_trade_pct / HUNDRED
            room = risk * inputs.price / (limits.atr_multiple * inputs.atr)
            caps.append(SizingCap("volatility", limits.risk_per_trade_pct, _cents(room), False))
        room = equity * limits.max_name_pct / HUNDRED - held
        caps.append(SizingCap("name", limits.max_name_pct, _cents(room), False))
        if inputs.sector is not None:
            room = equity * limits.max_sector_pct / HUNDRED - max(inputs.sector_held_value, held)
            caps.append(SizingCap("sector", limits.max_sector_pct, _cents(room), False))
    return caps


def _cap_reasons(
    inputs: SizingInputs, caps: tuple[SizingCap, ...], atr_pct: Decimal | None, wanted_high: Decimal
) -> list[SizingReason]:
    limits, equity = inputs.limits, inputs.equity
    by_name = {cap.name: cap for cap in caps}
    out = []
    volatility = by_name.get("volatility")
    if volatility is None or atr_pct is None or inputs.atr is None:
        out.append(SizingReason("volatility", "none", "Volatility is unknown (too little price history for ATR14): no volatility cap applies."))  # fmt: skip
    else:
        stop = inputs.atr * limits.atr_multiple
        text = (
            f"ATR14 is {dollars(inputs.atr)}, {percent_text(atr_pct.quantize(CENT))} of the price. Risking "
            f"{percent_text(limits.risk_per_trade_pct)} of equity on a stop {limits.atr_multiple.normalize()} × ATR "
            f"({dollars(stop)}) below the price allows at most {dollars(volatility.room)} "
            f"({percent_text(_pct(volatility.room, equity))} of equity)."
        )
        text += _cap_note(volatility, wanted_high)
        out.append(SizingReason("volatility", "cap" if volatility.binding else "none", text))
    name = by_name["name"]
    held = max(inputs.held_value, ZERO)
    holding = (
        f"You hold {dollars(held)} of {inputs.symbol} ({percent_text(_pct(held, equity))} of equity)"
        if held > 0
        else f"You hold no {inputs.symbol}"
    )
    if inputs.held_value < 0:
        holding = f"You are short {inputs.symbol}; a short counts as nothing held"
    text = f"{holding}; the {percent_text(limits.max_name_pct)} cap per name leaves room for {dollars(name.room)}."
    out.append(SizingReason("name_cap", "cap" if name.binding else "none", text + _cap_note(name, wanted_high)))
    sector = by_name.get("sector")
    if sector is None:
        out.append(SizingReason("sector_cap", "none", f"{inputs.symbol} has no sector, so no sector cap applies."))
    else:
        sector_held = max(inputs.sector_held_value, held)
        text = (
            f"You hold {dollars(sector_held)} in {inputs.sector} ({percent_text(_pct(sector_held, equity))} of "
            f"equity); the {percent_text(limits.max_sector_pct)} cap per sector leaves room for {dollars(sector.room)}."
        )
        out.append(
            SizingReason("sector_cap", "cap" if sector.binding else "none", text + _cap_note(sector, wanted_high))
        )
    return out


def _cap_note(cap: SizingCap, wanted_high: Decimal) -> str:
    if wanted_high <= 0:
        return ""
    if cap.binding:
        return f" It cuts the range to at most {dollars(cap.room)}."
    if cap.room < wanted_high:
        return " A tighter cap applies."
    return " It does not bind."


def _caution(inputs: SizingInputs, atr_pct: Decimal | None) -> list[tuple[str, bool]]:
    return [
        ("the market is risk-off", inputs.regime is RegimeState.RISK_OFF),
        (
            f"{inputs.symbol} is volatile (ATR14 {percent_text((atr_pct or ZERO).quantize(CENT))} of the price, "
            f"{percent_text(HIGH_VOLATILITY_ATR_PCT)} or more)",
            atr_pct is not None and atr_pct >= HIGH_VOLATILITY_ATR_PCT,
        ),
        (f"{inputs.symbol}'s volatility is unknown", atr_pct is None),
    ]


def _safe_reason(low: Decimal, safe: Decimal, cautious: list[str]) -> SizingReason:
    if low <= 0:
        return SizingReason("safe_choice", "zero", "Safe choice: stay out; there is no room for new money.")
    if safe < low:
        return SizingReason(
            "safe_choice", "cut", f"Safe choice: half the low end, {dollars(safe)}, because {' and '.join(cautious)}."
        )
    return SizingReason("safe_choice", "none", f"Safe choice: the low end, {dollars(safe)}.")


def rate(verdict: Verdict | None, regime: RegimeState | None, momentum: int | None, volatile: bool) -> tuple[int, str]:
    """The opportunity's stars (1–5) and how they were counted."""
    if verdict is None or verdict is Verdict.AVOID:
        label = "no verdict" if verdict is None else verdict.value
        return 1, f"Rating 1 of 5 stars: {label}."
    parts = [f"{verdict.value} {BASE_STARS[verdict]}"]
    total = BASE_STARS[verdict]
    if regime is RegimeState.RISK_ON:
        total, parts = total + 1, [*parts, "risk-on +1"]
    elif regime is RegimeState.RISK_OFF:
        total, parts = total - 1, [*parts, "risk-off −1"]
    if momentum == 1:
        total, parts = total + 1, [*parts, "leading sector +1"]
    elif momentum == -1:
        total, parts = total - 1, [*parts, "lagging sector −1"]
    if volatile:
        total, parts = total - 1, [*parts, "volatile or unknown volatility −1"]
    stars = min(5, max(1, total))
    kept = "" if stars == total else ", kept within 1–5"
    return stars, f"Rating {stars} of 5 stars: {', '.join(parts)}{kept}."


def _effect(factor: Decimal) -> Effect:
    return "raise" if factor > 1 else "cut" if factor < 1 else "none"


# ---- the inputs the service measures --------------------------------------------------------------------------


def average_true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = ATR_PERIOD) -> float:
    """Wilder's average true range on the last bar (NaN with `period` bars or fewer), as TA-Lib's `ATR` computes it.

    The true range of bar t is max(high − low, |high − previous close|, |low − previous close|); the first ATR
    is the mean of the first `period` true ranges (from the second bar on), then ATR = (ATR × (period − 1) + TR)
    / period. Bars with a missing value are dropped first.
    """
    h, lo, c = (np.asarray(a, dtype=np.float64) for a in (high, low, close))
    keep = np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
    h, lo, c = h[keep], lo[keep], c[keep]
    if len(c) <= period:
        return math.nan
    previous = c[:-1]
    true_range = np.maximum.reduce([h[1:] - lo[1:], np.abs(h[1:] - previous), np.abs(lo[1:] - previous)])
    atr = float(true_range[:period].mean())
    for value in true_range[period:]:
        atr = (atr * (period - 1) + float(value)) / period
    return atr


def sector_momentum_points(
    sector_returns_pct: np.ndarray, benchmark_return_pct: float, min_names: int = MOMENTUM_MIN_NAMES
) -> float | None:
    """The sector's median 3-month return minus the benchmark's, in percentage points; None when fewer than
    `min_names` of the sector's names have a return, or the benchmark has none.

    >>> sector_momentum_points(np.array([4.0, 9.0, 12.0]), 3.0)
    6.0
    """
    returns = np.asarray(sector_returns_pct, dtype=np.float64)
    returns = returns[np.isfinite(returns)]
    if len(returns) < min_names or not math.isfinite(benchmark_return_pct):
        return None
    return float(np.median(returns)) - benchmark_return_pct


# ---- words and rounding ---------------------------------------------------------------------------------------


def _cents(value: Decimal) -> Decimal:
    return max(value, ZERO).quantize(CENT, rounding=ROUND_DOWN)


def _pct(amount: Decimal, equity: Decimal) -> Decimal:
    if equity <= 0:
        return ZERO
    return (amount / equity * HUNDRED).quantize(CENT, rounding=ROUND_DOWN)


def _shares(amount: Decimal, price: Decimal) -> int:
    return int((amount / price).to_integral_value(rounding=ROUND_DOWN))


def percent_text(value: Decimal) -> str:
    """`2%`, `2.5%`, `0.25%` (no trailing zeros)."""
    return f"{_trim(value)}%"


def percent_range(low: Decimal, high: Decimal) -> str:
    """`2–4%`; one number when both ends are the same."""
    return percent_text(high) if low == high else f"{_trim(low)}–{_trim(high)}%"


def dollars(value: Decimal) -> str:
    """`$2,000`, `$1,234.50`: cents only when there are some."""
    value = value.quantize(CENT, rounding=ROUND_DOWN)
    sign = "−" if value < 0 else ""
    value = abs(value)
    return f"{sign}${value:,.0f}" if value == value.to_integral_value() else f"{sign}${value:,.2f}"


def dollar_range(low: Decimal, high: Decimal) -> str:
    """`$2,000–$4,000`; one amount when both ends are the same."""
    return dollars(high) if low == high else f"{dollars(low)}–{dollars(high)}"


def shares_text(count: int) -> str:
    return f"{count:,} share" if count == 1 else f"{count:,} shares"


def _trim(value: Decimal) -> str:
    text = f"{value.quantize(CENT, rounding=ROUND_DOWN):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
