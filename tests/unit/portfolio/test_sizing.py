"""The position-sizing model, rule by rule, against sizes worked out by hand (the arithmetic is beside each case),
ATR14 against TA-Lib's, and a property: no recommendation ever exceeds a cap, and safe ≤ low ≤ high."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.errors import Rejected
from marketdesk.portfolio.sizing import (
    Recommendation,
    SizingInputs,
    SizingLimits,
    average_true_range,
    dollar_range,
    percent_range,
    rate,
    recommend,
    sector_momentum_points,
)
from marketdesk.screener.model import RegimeState, Verdict

D = Decimal
TECH = "Information Technology"


def size(verdict: Verdict | None = Verdict.BUY, **changes: object) -> Recommendation:
    """$100,000 of equity, a $100 name with ATR14 $2 (2% of the price: calm), in a sector moving with the market,
    nothing held; `changes` override any input."""
    fields: dict[str, object] = {
        "symbol": "AAA", "price": D(100), "equity": D(100_000), "verdict": verdict, "regime": RegimeState.NEUTRAL,
        "sector": TECH, "sector_momentum_points": 1.0, "atr": D(2),
    }  # fmt: skip
    fields.update(changes)
    return recommend(SizingInputs(**fields))  # type: ignore[arg-type]


def reason(r: Recommendation, factor: str) -> str:
    [found] = [x for x in r.reasons if x.factor == factor]
    return found.text


def test_a_buy_in_a_neutral_market_is_2_to_4_percent() -> None:
    r = size()
    # base 2–4% × 1 (neutral) × 1 (in line): $100,000 × 2% = $2,000 and × 4% = $4,000; at $100, 20 and 40 shares
    assert (r.low_pct, r.high_pct) == (D(2), D(4))
    assert (r.low_dollars, r.high_dollars) == (D(2000), D(4000))
    assert (r.low_shares, r.high_shares) == (20, 40)
    assert r.headline == "Recommended: 2–4% · $2,000–$4,000"
    # calm (ATR 2% < 4%) and not risk-off: the safe choice is the low end
    assert (r.safe_pct, r.safe_dollars, r.safe_shares) == (D(2), D(2000), 20)
    assert r.safe_text == "Safe choice: 2% · $2,000 · 20 shares"
    assert r.stars == 3
    assert reason(r, "verdict") == "Buy: the base size is 2–4% of equity."
    assert reason(r, "regime") == "The market is neutral: the size stays as it is (×1)."
    assert not any(cap.binding for cap in r.caps)


def test_a_strong_buy_in_a_risk_on_market_and_a_leading_sector_is_raised_twice() -> None:
    r = size(Verdict.STRONG_BUY, regime=RegimeState.RISK_ON, sector_momentum_points=6.5)
    # 4% × 1.2 × 1.1 = 5.28%, 6% × 1.2 × 1.1 = 7.92%: $5,280–$7,920, 52 and 79 shares at $100
    assert (r.low_pct, r.high_pct) == (D("5.28"), D("7.92"))
    assert (r.low_dollars, r.high_dollars) == (D(5280), D(7920))
    assert (r.low_shares, r.high_shares) == (52, 79)
    assert r.headline == "Recommended: 5.28–7.92% · $5,280–$7,920"
    # 4 + 1 (risk-on) + 1 (leading) = 6, kept at 5
    assert r.stars == 5
    assert reason(r, "stars") == "Rating 5 of 5 stars: Strong Buy 4, risk-on +1, leading sector +1, kept within 1–5."
    assert reason(r, "regime") == "The market is risk-on: the size is raised by 20% (×1.2)."
    assert reason(r, "sector_momentum") == (
        f"{TECH} leads the market by 6.5 points over 3 months: the size is raised by 10% (×1.1)."
    )


def test_a_risk_off_market_halves_the_range_and_the_safe_choice_is_half_the_low_end() -> None:
    r = size(regime=RegimeState.RISK_OFF)
    # 2–4% × 0.5 = 1–2% ($1,000–$2,000); safe = $1,000 × 0.5 = $500 (5 shares at $100)
    assert (r.low_dollars, r.high_dollars, r.safe_dollars, r.safe_shares) == (D(1000), D(2000), D(500), 5)
    assert r.safe_pct == D("0.5")
    assert reason(r, "safe_choice") == "Safe choice: half the low end, $500, because the market is risk-off."
    assert r.stars == 2  # Buy 3, risk-off −1


def test_a_lagging_sector_cuts_the_range_by_a_fifth() -> None:
    r = size(sector_momentum_points=-7.25)
    # 2% × 0.8 = 1.6%, 4% × 0.8 = 3.2%: $1,600–$3,200
    assert (r.low_dollars, r.high_dollars) == (D(1600), D(3200))
    assert r.stars == 2  # Buy 3, lagging −1
    assert "lags the market by 7.2 points" in reason(r, "sector_momentum")  # 7.25 shown to one decimal


def test_a_sector_between_the_bands_or_unknown_leaves_the_size_alone() -> None:
    assert size(sector_momentum_points=4.99).high_dollars == D(4000)
    assert size(sector_momentum_points=-4.99).high_dollars == D(4000)
    unknown = size(sector_momentum_points=None)
    assert unknown.high_dollars == D(4000)
    assert "too few Information Technology names" in reason(unknown, "sector_momentum")
    assert "the name has no sector" in reason(size(sector=None), "sector_momentum")


def test_nine_percent_already_held_under_a_ten_percent_cap_leaves_at_most_one_percent() -> None:
    r = size(held_value=D(9000), sector_held_value=D(9000))
    # room = 10% × $100,000 − $9,000 = $1,000: the whole range collapses to $1,000 (1%, 10 shares)
    assert (r.low_dollars, r.high_dollars, r.safe_dollars) == (D(1000), D(1000), D(1000))
    assert (r.low_pct, r.high_pct) == (D(1), D(1))
    assert r.headline == "Recommended: 1% · $1,000"
    [binding] = [cap for cap in r.caps if cap.binding]
    assert (binding.name, binding.room) == ("name", D(1000))
    assert reason(r, "name_cap") == (
        "You hold $9,000 of AAA (9% of equity); the 10% cap per name leaves room for $1,000. "
        "It cuts the range to at most $1,000."
    )


def test_a_full_name_gets_nothing_more() -> None:
    r = size(Verdict.STRONG_BUY, held_value=D(12_000), sector_held_value=D(12_000))
    assert (r.high_dollars, r.high_shares) == (D(0), 0)
    assert r.headline == "Recommended: none (0%)"
    assert r.safe_text == "Safe choice: stay out"


def test_the_sector_cap_counts_every_name_held_in_the_sector() -> None:
    r = size(Verdict.STRONG_BUY, held_value=D(1000), sector_held_value=D(28_000))
    # Strong Buy wants 4–6% ($4,000–$6,000); sector room = 30% × $100,000 − $28,000 = $2,000; name room $9,000
    assert (r.low_dollars, r.high_dollars) == (D(2000), D(2000))
    [binding] = [cap for cap in r.caps if cap.binding]
    assert (binding.name, binding.room) == ("sector", D(2000))
    assert [cap.room for cap in r.caps if cap.name == "name"] == [D(9000)]
    assert reason(r, "sector_cap").startswith(f"You hold $28,000 in {TECH} (28% of equity); the 30% cap per sector")


def test_the_volatility_cap_risks_one_percent_of_equity_on_a_two_atr_stop() -> None:
    # $50 name with ATR14 $12.50 (25% of the price): the stop is 2 × $12.50 = $25 (50%) below; risking 1% of
    # $100,000 = $1,000 on a 50% fall allows $1,000 / 0.5 = $2,000 (= $100,000 × 1% × $50 / (2 × $12.50))
    r = size(price=D(50), atr=D("12.5"))
    [volatility] = [cap for cap in r.caps if cap.name == "volatility"]
    assert (volatility.room, volatility.binding) == (D(2000), True)
    assert (r.low_dollars, r.high_dollars) == (D(2000), D(2000))
    assert r.high_shares == 40  # $2,000 / $50
    # ATR ≥ 4% of the price: volatile, so the safe choice is halved and a star comes off
    assert (r.safe_dollars, r.safe_shares) == (D(1000), 20)
    assert "volatile (ATR14 25% of the price, 4% or more)" in reason(r, "safe_choice")
    assert r.stars == 2
    assert reason(r, "volatility") == (
        "ATR14 is $12.50, 25% of the price. Risking 1% of equity on a stop 2 × ATR ($25) below the price allows at "
        "most $2,000 (2% of equity). It cuts the range to at most $2,000."
    )


def test_a_calm_name_is_not_capped_by_volatility() -> None:
    # ATR $2 on $100 (2%): $100,000 × 1% × $100 / (2 × $2) = $25,000, far above the $4,000 wanted
    [volatility] = [cap for cap in size().caps if cap.name == "volatility"]
    assert (volatility.room, volatility.binding) == (D(25_000), False)


def test_unknown_volatility_applies_no_cap_but_halves_the_safe_choice() -> None:
    r = size(atr=None)
    assert [cap.name for cap in r.caps] == ["name", "sector"]
    assert (r.low_dollars, r.high_dollars, r.safe_dollars) == (D(2000), D(4000), D(1000))
    assert "volatility is unknown" in reason(r, "safe_choice")


@pytest.mark.parametrize(
    ("verdict", "says"),
    [
        (Verdict.AVOID, "Avoid: the screener advises against new money, so the size is 0."),
        (None, "No verdict: the screener could not score AAA, so the desk recommends no new money."),
    ],
)
def test_avoid_or_no_verdict_sizes_nothing_and_says_why(verdict: Verdict | None, says: str) -> None:
    r = size(verdict, regime=RegimeState.RISK_ON, sector_momentum_points=9.0)
    assert (r.low_dollars, r.high_dollars, r.safe_dollars, r.safe_shares) == (D(0), D(0), D(0), 0)
    assert reason(r, "verdict") == says
    assert r.headline == "Recommended: none (0%)"
    assert r.stars == 1


def test_a_hold_gets_a_small_position() -> None:
    r = size(Verdict.HOLD)
    # 0.5–1% of $100,000 = $500–$1,000
    assert (r.low_dollars, r.high_dollars) == (D(500), D(1000))
    assert r.headline == "Recommended: 0.5–1% · $500–$1,000"


def test_shares_are_whole_and_rounded_down() -> None:
    r = size(price=D(333))
    # $2,000 / $333 = 6.006 → 6; $4,000 / $333 = 12.01 → 12
    assert (r.low_shares, r.high_shares, r.safe_shares) == (6, 12, 6)


def test_dollars_are_rounded_down_to_the_cent() -> None:
    r = size(equity=D("12345.67"))
    # 2% = 246.9134 → $246.91; 4% = 493.8268 → $493.82
    assert (r.low_dollars, r.high_dollars) == (D("246.91"), D("493.82"))
    assert r.headline == "Recommended: 2–4% · $246.91–$493.82"


def test_no_equity_sizes_nothing() -> None:
    r = size(equity=D(0))
    assert r.high_dollars == 0
    assert reason(r, "equity") == "Equity is $0: there is nothing to size against."


def test_a_short_counts_as_nothing_held() -> None:
    r = size(held_value=D(-5000))
    assert [cap.room for cap in r.caps if cap.name == "name"] == [D(10_000)]
    assert reason(r, "name_cap").startswith("You are short AAA; a short counts as nothing held;")


def test_looser_limits_are_honoured() -> None:
    limits = SizingLimits(max_name_pct=D(5), max_sector_pct=D(50), risk_per_trade_pct=D("0.5"), atr_multiple=D(3))
    r = size(Verdict.STRONG_BUY, limits=limits, held_value=D(2000), sector_held_value=D(2000))
    # name room 5% × $100,000 − $2,000 = $3,000; volatility $100,000 × 0.5% × $100 / (3 × $2) = $8,333.33
    rooms = {cap.name: cap.room for cap in r.caps}
    assert rooms == {"volatility": D("8333.33"), "name": D(3000), "sector": D(48_000)}
    assert (r.low_dollars, r.high_dollars) == (D(3000), D(3000))


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(Rejected, match="no usable price"):
        size(price=D(0))
    with pytest.raises(Rejected, match="ATR14 must be above 0"):
        size(atr=D(0))
    with pytest.raises(Rejected, match="max_name_pct must be above 0 and at most 100"):
        SizingLimits(max_name_pct=D(0))


def test_stars_count_each_factor() -> None:
    assert rate(Verdict.BUY, RegimeState.NEUTRAL, 0, volatile=False) == (3, "Rating 3 of 5 stars: Buy 3.")
    assert rate(Verdict.HOLD, RegimeState.RISK_OFF, -1, volatile=True)[0] == 1  # 2 − 1 − 1 − 1 = −1, kept at 1
    assert rate(Verdict.STRONG_BUY, None, None, volatile=False)[0] == 4
    assert rate(Verdict.AVOID, RegimeState.RISK_ON, 1, volatile=False) == (1, "Rating 1 of 5 stars: Avoid.")


def test_ranges_are_written_without_trailing_zeros() -> None:
    assert percent_range(D("2.50"), D("4.00")) == "2.5–4%"
    assert percent_range(D(1), D(1)) == "1%"
    assert dollar_range(D("1999.5"), D(4000)) == "$1,999.50–$4,000"


# ---- the measured inputs -------------------------------------------------------------------------------------


def test_atr_by_hand_with_a_three_bar_period() -> None:
    high = np.array([10.0, 11.0, 12.0, 11.5, 13.0])
    low = np.array([9.0, 10.0, 10.5, 10.0, 11.0])
    close = np.array([9.5, 10.5, 11.5, 10.5, 12.5])
    # TR from the second bar: max(11−10, |11−9.5|, |10−9.5|) = 1.5; max(1.5, 1.5, 0) = 1.5;
    # max(1.5, 0, 1.5) = 1.5; max(2, 2.5, 0.5) = 2.5. ATR = mean(1.5, 1.5, 1.5) = 1.5, then (1.5 × 2 + 2.5) / 3
    assert average_true_range(high, low, close, period=3) == pytest.approx(5.5 / 3, abs=1e-12)
    assert math.isnan(average_true_range(high[:3], low[:3], close[:3], period=3))


def test_atr_matches_talib_on_a_random_walk() -> None:
    rng = np.random.default_rng(4)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 120)))
    high = close * (1 + rng.uniform(0, 0.03, 120))
    low = close * (1 - rng.uniform(0, 0.03, 120))
    expected = float(talib.ATR(high, low, close, timeperiod=14)[-1])
    assert average_true_range(high, low, close) == pytest.approx(expected, rel=1e-12)


def test_sector_momentum_is_the_median_less_the_benchmark() -> None:
    # median of (−2, 4, 9, 12, nan) = 6.5; benchmark 3 → +3.5 points
    assert sector_momentum_points(np.array([-2.0, 4.0, 9.0, 12.0, np.nan]), 3.0) == pytest.approx(3.5)
    assert sector_momentum_points(np.array([4.0, np.nan, 9.0]), 3.0) is None  # two names: too few
    assert sector_momentum_points(np.array([1.0, 2.0, 3.0]), math.nan) is None


# ---- the invariant ---------------------------------------------------------------------------------------------

cents = st.decimals(min_value=D("0.01"), max_value=D("10000000"), places=2)
verdicts = st.sampled_from([*Verdict, None])
regimes = st.sampled_from([*RegimeState, None])


@settings(max_examples=300, deadline=None)
@given(
    equity=cents, price=cents, verdict=verdicts, regime=regimes,
    momentum=st.one_of(st.none(), st.floats(-40, 40)), atr=st.one_of(st.none(), st.decimals(D("0.0001"), D(500), places=4)),
    held=st.decimals(D(-50000), D(2_000_000), places=2), extra_sector=st.decimals(D(0), D(5_000_000), places=2),
    has_sector=st.booleans(),
)  # fmt: skip
def test_no_recommendation_exceeds_a_cap_and_safe_is_at_most_low_at_most_high(
    equity: Decimal, price: Decimal, verdict: Verdict | None, regime: RegimeState | None, momentum: float | None,
    atr: Decimal | None, held: Decimal, extra_sector: Decimal, has_sector: bool,
) -> None:  # fmt: skip
    r = recommend(
        SizingInputs(
            "AAA", price, equity, verdict, regime, sector=TECH if has_sector else None,
            sector_momentum_points=momentum, atr=atr, held_value=held, sector_held_value=max(held, D(0)) + extra_sector,
        )
    )  # fmt: skip
    # every cap worked out again here, exactly, with fractions
    e, p, long = Fraction(equity), Fraction(price), Fraction(max(held, D(0)))
    caps = [e * Fraction(10, 100) - long]
    if has_sector:
        caps.append(e * Fraction(30, 100) - long - Fraction(extra_sector))
    if atr is not None:
        caps.append(e * Fraction(1, 100) * p / (2 * Fraction(atr)))
    for cap in caps:
        assert Fraction(r.high_dollars) <= max(cap, Fraction(0))
    base_high = {Verdict.STRONG_BUY: 6, Verdict.BUY: 4, Verdict.HOLD: 1, Verdict.AVOID: 0, None: 0}[verdict]
    assert Fraction(r.high_dollars) <= e * Fraction(base_high, 100) * Fraction(132, 100)  # at most ×1.2 × 1.1
    assert D(0) <= r.safe_dollars <= r.low_dollars <= r.high_dollars
    assert r.safe_pct <= r.low_pct <= r.high_pct
    assert 0 <= r.safe_shares <= r.low_shares <= r.high_shares
    assert r.high_shares * price <= r.high_dollars
    assert 1 <= r.stars <= 5
    assert {x.factor for x in r.reasons} >= {"verdict", "regime", "sector_momentum", "volatility", "name_cap"}
