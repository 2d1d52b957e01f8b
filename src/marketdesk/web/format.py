"""Numbers for people: prices with thousands separators, big figures as 1.23T / 45.6B, percentages with a sign
where a sign means something, and "—" wherever a value is missing. Pure functions; the pages only call these."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

MISSING = "—"
MINUS = "−"  # a real minus sign: the same width as "+", so columns of changes line up

Number = float | int | Decimal | None


def _finite(value: Number) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _signed(text: str, number: float) -> str:
    if number > 0:
        return f"+{text}"
    if number < 0:
        return f"{MINUS}{text}"
    return text


def price(value: Number, decimals: int = 2) -> str:
    """A price: `1,234.56`."""
    number = _finite(value)
    if number is None:
        return MISSING
    text = f"{abs(number):,.{decimals}f}"
    return f"{MINUS}{text}" if number < 0 else text


def change(value: Number, decimals: int = 2) -> str:
    """A price change with its sign: `+1.23`, `−0.50`, `0.00`."""
    number = _finite(value)
    if number is None:
        return MISSING
    rounded = round(number, decimals)
    return _signed(f"{abs(rounded):,.{decimals}f}", rounded)


def percent(value: Number, decimals: int = 1, *, signed: bool = False) -> str:
    """A percentage already in percent units: `12.3%`; with `signed`, `+12.3%` / `−4.0%`."""
    number = _finite(value)
    if number is None:
        return MISSING
    rounded = round(number, decimals)
    text = f"{abs(rounded):,.{decimals}f}%"
    if signed:
        return _signed(text, rounded)
    return f"{MINUS}{text}" if rounded < 0 else text


def compact(value: Number, decimals: int = 2) -> str:
    """A large figure: `1.23T`, `45.60B`, `7.10M`, `12.50K`, or the plain number below a thousand."""
    number = _finite(value)
    if number is None:
        return MISSING
    size = abs(number)
    sign = MINUS if number < 0 else ""
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        # promote 999.996B to 1.00T rather than printing 1000.00B
        if round(size / threshold, decimals) >= 1:
            return f"{sign}{size / threshold:,.{decimals}f}{suffix}"
    return f"{sign}{size:,.{decimals}f}"


def ratio(value: Number, decimals: int = 1) -> str:
    """A multiple such as P/E: `23.4×`."""
    number = _finite(value)
    if number is None:
        return MISSING
    return f"{number:,.{decimals}f}×"


def price_range(low: Number, high: Number) -> str:
    """`98.10 – 143.25`, or "—" when either end is missing."""
    if _finite(low) is None or _finite(high) is None:
        return MISSING
    return f"{price(low)} – {price(high)}"


def day(value: date | None) -> str:
    """A date as people read it: `Fri 20 Nov 2026`."""
    if value is None:
        return MISSING
    return f"{value:%a %d %b %Y}"


def direction(value: Number) -> int:
    """+1 up, −1 down, 0 flat or unknown: picks the colour of a change."""
    number = _finite(value)
    if number is None or number == 0:
        return 0
    return 1 if number > 0 else -1


def fraction(value: Number, decimals: int = 1, *, signed: bool = False) -> str:
    """A fraction shown as a percentage: `0.153` → `15.3%`; with `signed`, `+15.3%` / `−4.0%`."""
    number = _finite(value)
    return MISSING if number is None else percent(number * 100, decimals, signed=signed)


def below_high(dip_pct: Number, decimals: int = 1) -> str:
    """How far below the 52-week high, as a fall: `3.55` → `−3.6%`; `0.0%` at the high."""
    number = _finite(dip_pct)
    if number is None:
        return MISSING
    return percent(-abs(number), decimals) if round(number, decimals) else f"{0:.{decimals}f}%"


def score(value: Number) -> str:
    """A 0–10 score with one decimal: `7.3`."""
    number = _finite(value)
    return MISSING if number is None else f"{number:.1f}"


def timestamp(value: datetime | None) -> str:
    """A moment as people read it, in the time zone it carries: `Sat 21 Nov 2026 14:05 EST`."""
    if value is None:
        return MISSING
    return f"{value:%a %d %b %Y %H:%M} {value.tzname() or ''}".rstrip()
