"""Money is Decimal. These helpers parse, quantize and carry currency, and refuse floats where they would lie."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Self

CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.0001")
QTY_STEP = Decimal("0.000000001")  # fractional shares down to 1e-9, as brokers allow

Price = Decimal
"""A price per unit, in the instrument's currency."""

Qty = Decimal
"""A quantity of units; fractional where the venue allows."""


def to_decimal(value: object, *, field: str = "value") -> Decimal:
    """Parse a number into Decimal exactly.

    Strings and ints are exact. A float goes through `repr`, so 0.1 becomes Decimal('0.1'), not the
    binary expansion. NaN and infinity are refused.

    >>> to_decimal("12.30")
    Decimal('12.30')
    >>> to_decimal(0.1)
    Decimal('0.1')
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError(f"{field}: expected a number, got a boolean")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            raise ValueError(f"{field}: {value!r} is not a number") from None
    else:
        raise ValueError(f"{field}: expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not a finite number")
    return result


def quantize_price(value: Decimal) -> Decimal:
    """Round a price to 1/100 of a cent (banker's rounding)."""
    return value.quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency. Arithmetic across currencies is refused.

    >>> Money.of("10.005") + Money.of("0.01")
    Money(amount=Decimal('10.015'), currency='USD')
    >>> str(Money.of("10.005").rounded())
    '10.00 USD'
    """

    amount: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money.amount must be Decimal, got {type(self.amount).__name__}; use Money.of()")
        if not self.amount.is_finite():
            raise ValueError("Money.amount must be finite")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 code such as 'USD'")

    @classmethod
    def of(cls, value: object, currency: str = "USD") -> Self:
        """Build from a str, int, Decimal or float (see `to_decimal`)."""
        return cls(to_decimal(value, field="amount"), currency)

    @classmethod
    def zero(cls, currency: str = "USD") -> Self:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply Money by a Decimal or int, not a float")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def rounded(self) -> Money:
        """Round to the cent, banker's rounding."""
        return Money(self.amount.quantize(CENT, rounding=ROUND_HALF_EVEN), self.currency)

    def __str__(self) -> str:
        return f"{self.amount.quantize(CENT, rounding=ROUND_HALF_EVEN)} {self.currency}"
