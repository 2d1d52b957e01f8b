"""Reading one dated series from a CSV file for `marketdesk analytics`: returns (`date,return`) or prices
(`date,close`), told apart by the header.

Header names are compared without case, spaces or punctuation, so Yahoo's `Date,…,Adj Close` and Stooq's
`<DATE>,…,<CLOSE>` (dates as YYYYMMDD) read as prices too; an adjusted close is preferred to the close. A file
with any bad row is refused as a whole, naming the first problem by line, so no metric is computed on part of a
series: a missing column, an empty file, a value that is not a number, an unreadable date, a date out of order
or twice, a price that is not positive.
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from marketdesk.analytics.panel import simple_returns
from marketdesk.errors import Rejected

DATE_NAMES = ("date", "timestamp", "datetime", "day")
RETURN_NAMES = ("return", "returns", "ret", "dailyreturn", "periodreturn")
PRICE_NAMES = ("adjclose", "adjustedclose", "close", "price", "closeprice")
_HINT = "A returns file has the header date,return; a prices file date,close (Yahoo and Stooq exports work too)."


class SeriesKind(StrEnum):
    """What a file holds."""

    RETURNS = "returns"
    PRICES = "prices"


@dataclass(frozen=True)
class SeriesFile:
    """A file read and checked: its kind, the returns (computed from the prices for a prices file), and the
    column they came from."""

    path: Path
    kind: SeriesKind
    returns: pd.Series
    column: str


def read_series_file(path: Path, *, expect: SeriesKind | None = None) -> SeriesFile:
    """Read `path` as returns or prices (`expect`), or whichever its header says when `expect` is None."""
    lines = _lines(path)
    header, rows = lines[0][1], lines[1:]
    normal = [_normal(name) for name in header]
    date_at = _find(normal, DATE_NAMES)
    if date_at is None:
        raise Rejected(f"{path.name} has no date column (header: {','.join(header)})", hint=_HINT)
    return_at, price_at = _find(normal, RETURN_NAMES), _find(normal, PRICE_NAMES)
    kind, value_at = _kind(path, header, expect, return_at, price_at)
    if not rows:
        raise Rejected(f"{path.name} has a header but no rows", hint="Give at least 3 dated rows.")
    numbers: list[float] = []
    days: list[pd.Timestamp] = []
    for line, row in rows:
        if len(row) != len(header):
            raise Rejected(
                f"{path.name} line {line}: {len(row)} fields where the header has {len(header)}",
                hint="Every row needs a value for each column.",
            )
        days.append(_date(path, line, row[date_at]))
        numbers.append(_number(path, line, header[value_at], row[value_at]))
    index = pd.DatetimeIndex(days)
    _check_order(path, index, [line for line, _ in rows])
    values = np.asarray(numbers)
    series = pd.Series(values, index=index, name=path.stem)
    if kind is SeriesKind.PRICES:
        bad = np.flatnonzero(~(values > 0))
        if bad.size:
            raise Rejected(
                f"{path.name} line {rows[bad[0]][0]}: the price {values[bad[0]]:g} is not positive",
                hint="Fix or drop that row.",
            )
        if len(values) < 3:
            raise Rejected(f"{path.name} has {len(values)} price(s); at least 3 give the 2 returns a metric needs")
        series = simple_returns(series)
    return SeriesFile(path=path, kind=kind, returns=series, column=header[value_at])


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    if not path.is_file():
        raise Rejected(f"no such file: {path}", hint="Check the path.")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            lines = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, OSError, csv.Error) as exc:
        raise Rejected(f"cannot read {path.name} as CSV text: {exc}", hint=_HINT) from None
    if not lines:
        raise Rejected(f"{path.name} is empty", hint=_HINT)
    return lines


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-.<>/()%]", "", name).lower()


def _find(normal: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in normal:
            return normal.index(name)
    return None


def _kind(
    path: Path, header: list[str], expect: SeriesKind | None, return_at: int | None, price_at: int | None
) -> tuple[SeriesKind, int]:
    found = ",".join(header)
    if expect is SeriesKind.RETURNS or (expect is None and return_at is not None and price_at is None):
        if return_at is not None:
            return SeriesKind.RETURNS, return_at
        if price_at is not None:
            raise Rejected(f"{path.name} holds prices (column {header[price_at]!r}), not returns", hint="Use --prices.")
        raise Rejected(f"{path.name} has no return column (header: {found})", hint=_HINT)
    if expect is SeriesKind.PRICES or (expect is None and price_at is not None and return_at is None):
        if price_at is not None:
            return SeriesKind.PRICES, price_at
        if return_at is not None:
            raise Rejected(
                f"{path.name} holds returns (column {header[return_at]!r}), not prices", hint="Use --returns."
            )
        raise Rejected(f"{path.name} has no close or price column (header: {found})", hint=_HINT)
    if return_at is not None and price_at is not None:
        raise Rejected(
            f"{path.name} has both a return and a price column; cannot tell which to use",
            hint="Keep only date and return, or date and close.",
        )
    raise Rejected(f"{path.name} has neither a return nor a close column (header: {found})", hint=_HINT)


def _date(path: Path, line: int, text: str) -> pd.Timestamp:
    value = text.strip()
    try:
        if re.fullmatch(r"\d{8}", value):  # Stooq's YYYYMMDD
            return pd.Timestamp(pd.to_datetime(value, format="%Y%m%d"))
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?", value):
            raise ValueError(value)
        return pd.Timestamp(pd.to_datetime(value, format="ISO8601"))
    except (ValueError, OverflowError):
        raise Rejected(
            f"{path.name} line {line}: {text!r} is not a date", hint="Write dates as YYYY-MM-DD (or YYYYMMDD)."
        ) from None


def _number(path: Path, line: int, column: str, text: str) -> float:
    value = text.strip()
    if not value:
        raise Rejected(f"{path.name} line {line}: the {column} is empty", hint="Fill it in or drop the row.")
    try:
        number = float(value)
    except ValueError:
        raise Rejected(
            f"{path.name} line {line}: the {column} {text!r} is not a number",
            hint="Write plain numbers such as 0.0123 (no % sign, no thousands separators).",
        ) from None
    if not np.isfinite(number):
        raise Rejected(f"{path.name} line {line}: the {column} {text!r} is not a finite number")
    return number


def _check_order(path: Path, index: pd.DatetimeIndex, line_numbers: list[int]) -> None:
    steps = np.diff(index.asi8)
    if (steps == 0).any():
        at = int(np.flatnonzero(steps == 0)[0]) + 1
        raise Rejected(
            f"{path.name} line {line_numbers[at]}: the date {index[at].date()} appears twice",
            hint="Keep one row per date.",
        )
    if (steps < 0).any():
        at = int(np.flatnonzero(steps < 0)[0]) + 1
        raise Rejected(
            f"{path.name} line {line_numbers[at]}: {index[at].date()} comes after {index[at - 1].date()}",
            hint="Sort the rows by date, oldest first.",
        )
