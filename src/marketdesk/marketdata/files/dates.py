"""Dates in files: detect the format from the data (day first or month first included), then parse a whole
column at once with Arrow.

Detection tries the common formats on the distinct values of the column. The format that reads the most
values wins. When a day-first and a month-first reading tie (every day ≤ 12 in the sample), the reading
that puts consecutive rows a few days apart wins, since daily data moves a day at a time; if that does not
decide either, the import asks for `--date-format`. A parsed date must be a real one: 2000-02-30 does not
parse (Arrow alone would roll it over to March 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketdesk.marketdata.files.options import FileError

EARLIEST_YEAR = 1800
LATEST_YEAR = 2200
_SECONDS_PER_DAY = 86_400
_DISTINCT_SAMPLE = 50_000
_ORDER_SAMPLE = 2_000


@dataclass(frozen=True, slots=True)
class DateFormat:
    """A strptime format, how people write it, and why it was chosen."""

    strptime: str
    label: str
    reason: str

    def describe(self) -> str:
        return f"dates {self.label} ({self.reason})"


# (strptime format, label, the other reading of the same text when day and month swap places)
_CANDIDATES: tuple[tuple[str, str, str | None], ...] = (
    ("%Y-%m-%d", "YYYY-MM-DD", None),
    ("%Y%m%d", "YYYYMMDD", None),
    ("%Y/%m/%d", "YYYY/MM/DD", None),
    ("%Y-%m-%d %H:%M:%S", "YYYY-MM-DD HH:MM:SS", None),
    ("%Y-%m-%dT%H:%M:%S", "YYYY-MM-DDTHH:MM:SS", None),
    ("%d/%m/%Y", "DD/MM/YYYY", "%m/%d/%Y"),
    ("%m/%d/%Y", "MM/DD/YYYY", "%d/%m/%Y"),
    ("%d-%m-%Y", "DD-MM-YYYY", "%m-%d-%Y"),
    ("%m-%d-%Y", "MM-DD-YYYY", "%d-%m-%Y"),
    ("%d.%m.%Y", "DD.MM.YYYY", None),
    ("%d/%m/%y", "DD/MM/YY", "%m/%d/%y"),
    ("%m/%d/%y", "MM/DD/YY", "%d/%m/%y"),
    ("%d-%m-%y", "DD-MM-YY", "%m-%d-%y"),
    ("%m-%d-%y", "MM-DD-YY", "%d-%m-%y"),
    ("%d-%b-%Y", "DD-Mon-YYYY", None),
    ("%d-%b-%y", "DD-Mon-YY", None),
    ("%b %d %Y", "Mon DD YYYY", None),
)
_LABELS = {fmt: label for fmt, label, _ in _CANDIDATES}
_PARTNER = {fmt: other for fmt, _, other in _CANDIDATES}


def given_format(strptime: str) -> DateFormat:
    """The format the user gave with `--date-format`."""
    return DateFormat(strptime, _LABELS.get(strptime, strptime), "given with --date-format")


def parse_days(values: pa.Array | pa.ChunkedArray, strptime: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse text dates: (days since 1970-01-01 as int64, True where the text is a real, plausible date)."""
    text = pc.utf8_trim_whitespace(values)
    stamps = pc.strptime(text, format=strptime, unit="s", error_is_null=True)
    raw = np.asarray(stamps.to_numpy(zero_copy_only=False), dtype="datetime64[s]")
    parsed = ~np.isnat(raw)
    # Arrow's strptime rolls impossible days over (2000-02-30 becomes 2000-03-01): a date must write back
    # as it was read, or, when it does not (no zero padding: 4/1/2016), pass Python's strict strptime
    rewritten = pc.not_equal(pc.strftime(stamps, format=strptime), text)
    for i in np.flatnonzero(pc.fill_null(rewritten, False).to_numpy(zero_copy_only=False)).tolist():
        try:
            datetime.strptime(text[i].as_py(), strptime)  # noqa: DTZ007 - only checks the text is a real date
        except ValueError:
            parsed[i] = False
    days = np.where(parsed, np.floor_divide(raw.astype(np.int64), _SECONDS_PER_DAY), 0)
    return days, parsed & _plausible(days)


def days_of_temporal(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of a date or timestamp column (Parquet), and where they are present."""
    days = pc.cast(values, pa.date32()) if not pa.types.is_date32(values.type) else values
    raw = days.to_numpy(zero_copy_only=False)
    valid = ~np.isnat(raw)
    out = np.where(valid, raw.astype("datetime64[D]").astype(np.int64), 0)
    return out, valid & _plausible(out)


def _plausible(days: np.ndarray) -> np.ndarray:
    low = (np.datetime64(f"{EARLIEST_YEAR}-01-01", "D") - np.datetime64("1970-01-01", "D")).astype(np.int64)
    high = (np.datetime64(f"{LATEST_YEAR}-12-31", "D") - np.datetime64("1970-01-01", "D")).astype(np.int64)
    result: np.ndarray = (days >= low) & (days <= high)
    return result


def detect_format(values: pa.Array | pa.ChunkedArray, column: str) -> DateFormat:
    """Choose the format of a text date column from its values; raise `FileError` when no format fits."""
    distinct = pc.unique(values)
    distinct = pc.filter(distinct, pc.not_equal(pc.utf8_trim_whitespace(distinct), ""))
    if len(distinct) == 0:
        raise FileError(f"the date column {column!r} is empty")
    sample = distinct.slice(0, _DISTINCT_SAMPLE)
    scores: dict[str, int] = {}
    for fmt, _, _ in _CANDIDATES:
        _, ok = parse_days(sample, fmt)
        scores[fmt] = int(ok.sum())
    best = max(scores.values())
    if best == 0:
        example = sample[0].as_py()
        raise FileError(
            f"dates in column {column!r} such as {example!r} match no known format",
            hint="Pass --date-format with a strptime format, e.g. --date-format %d.%m.%Y.",
        )
    winners = [fmt for fmt, score in scores.items() if score == best]
    chosen = winners[0]
    partner = _PARTNER.get(chosen)
    if partner is not None and partner in winners:
        head = values.slice(0, _ORDER_SAMPLE)
        ordered = pc.filter(head, pc.not_equal(pc.utf8_trim_whitespace(head), ""))
        return _break_tie(chosen, partner, ordered, column)
    if partner is not None:
        return DateFormat(chosen, _LABELS[chosen], _why_not(partner, sample, chosen))
    reason = "ISO dates" if chosen.startswith("%Y-%m-%d") else "the only format that reads them"
    return DateFormat(chosen, _LABELS[chosen], reason)


def _why_not(partner: str, sample: pa.Array, chosen: str) -> str:
    _, ok_partner = parse_days(sample, partner)
    _, ok_chosen = parse_days(sample, chosen)
    counter = np.flatnonzero(ok_chosen & ~ok_partner)
    first = "day" if chosen.startswith("%d") else "month"
    other = "month" if first == "day" else "day"
    if len(counter):
        example = sample[int(counter[0])].as_py()
        return f"{first} first: {example!r} cannot be read {other} first"
    return f"{first} first"


def _break_tie(first: str, second: str, ordered: pa.Array, column: str) -> DateFormat:
    steps = {}
    for fmt in (first, second):
        days, ok = parse_days(ordered, fmt)
        days = days[ok]
        steps[fmt] = float(np.median(np.abs(np.diff(days)))) if len(days) > 1 else 0.0
    small, large = sorted((first, second), key=lambda f: steps[f])
    if steps[large] > 2 * steps[small] + 1:
        first_word = "day" if small.startswith("%d") else "month"
        return DateFormat(
            small, _LABELS[small], f"{first_word} first: only that reading puts consecutive rows days apart"
        )
    example = ordered[0].as_py()
    raise FileError(
        f"dates in column {column!r} such as {example!r} read as day first or month first",
        hint=f"Pass --date-format {first} or --date-format {second}.",
    )
