from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketdesk.kit.money import Money, quantize_price, to_decimal


def test_float_goes_through_repr_so_point_one_stays_point_one() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("1,234.50") == Decimal("1234.50")


@pytest.mark.parametrize("bad", ["abc", "nan", "inf", float("nan"), True, None, [1]])
def test_non_numbers_and_non_finite_values_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="value"):
        to_decimal(bad)


def test_money_refuses_mixed_currencies_and_float_factors() -> None:
    with pytest.raises(ValueError, match="USD with EUR"):
        Money.of("1") + Money.of("1", "EUR")
    with pytest.raises(TypeError, match="Decimal or int"):
        Money.of("1") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"Money\.of"):
        Money(1.5)  # type: ignore[arg-type]


def test_rounding_is_bankers() -> None:
    assert Money.of("2.345").rounded().amount == Decimal("2.34")
    assert Money.of("2.355").rounded().amount == Decimal("2.36")
    assert quantize_price(Decimal("1.00005")) == Decimal("1.0000")


@given(
    st.lists(
        st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False), max_size=30
    )
)
def test_sums_of_money_are_exact(amounts: list[Decimal]) -> None:
    total = Money.zero()
    for amount in amounts:
        total = total + Money(amount)
    assert total.amount == sum(amounts, Decimal(0))
    assert (total - total).amount == 0
