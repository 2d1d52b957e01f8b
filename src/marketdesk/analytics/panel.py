"""Returns laid out as a T × N panel of floats, checked once at the boundary so every measure can be vectorized.

One series is a panel of one column. A frame holds many series on one calendar: a column may start later or
end earlier than the others (a stock listed in 2004, another delisted in 2019), so NaN is allowed *before a
column's first and after its last observation only*. A gap inside a column, text, infinities, a return below
−100%, an empty input or fewer than 2 observations are refused with a `Rejected` that says what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pandas as pd

from marketdesk.errors import Rejected

MIN_OBSERVATIONS = 2
Returns = pd.Series | pd.DataFrame


@dataclass(frozen=True, eq=False)
class Panel:
    """Checked returns: `values` is T × N with NaN outside each column's run `first..last` (inclusive)."""

    values: np.ndarray
    valid: np.ndarray
    zeroed: np.ndarray  # values with 0.0 where not valid: sums and products need no masking
    count: np.ndarray
    first: np.ndarray
    last: np.ndarray
    index: pd.Index
    columns: pd.Index
    days: np.ndarray | None  # calendar day numbers of the index when it holds dates, else None
    single: bool  # the caller gave one series: results come back as floats

    @property
    def ragged(self) -> bool:
        """True when some column starts after the first row or ends before the last."""
        return bool((self.first > 0).any() or (self.last < len(self.index) - 1).any())

    def result(self, array: np.ndarray) -> Any:
        """A float for one series, else a Series by column."""
        if self.single:
            return float(array[0])
        return pd.Series(array, index=self.columns, dtype=float)


def from_array(values: np.ndarray, index: pd.Index | None = None, *, days: np.ndarray | None = None) -> Panel:
    """A panel over already-checked values (NaN marks absent observations); used for rolling windows."""
    values = np.asarray(values, dtype=float)
    valid = ~np.isnan(values)
    count = valid.sum(axis=0)
    first = valid.argmax(axis=0)
    last = values.shape[0] - 1 - valid[::-1].argmax(axis=0)
    return Panel(
        values=values,
        valid=valid,
        zeroed=np.where(valid, values, 0.0),
        count=count,
        first=first,
        last=last,
        index=index if index is not None else pd.RangeIndex(values.shape[0]),
        columns=pd.RangeIndex(values.shape[1]),
        days=days,
        single=False,
    )


def panel_of(returns: Any, *, what: str = "returns") -> Panel:
    """Check `returns` (a Series, a DataFrame of series, or a list or array of numbers) and lay it out."""
    if isinstance(returns, pd.DataFrame):
        return _frame_panel(returns, what)
    if not isinstance(returns, pd.Series):
        returns = _as_series(returns, what)
    values = _numbers(returns, what, where="")
    _check_index(returns.index, what)
    if len(values) == 0:
        raise Rejected(f"no {what}: the series is empty", hint=f"Give at least {MIN_OBSERVATIONS} {what}.")
    missing = np.isnan(values)
    if missing.any():
        raise Rejected(
            f"{what} have {int(missing.sum())} missing value(s), the first at {_label(returns.index, missing)}",
            hint="Drop or fill them first (e.g. returns.dropna()), so no day is silently skipped.",
        )
    _check_values(values, returns.index, what, where="")
    if len(values) < MIN_OBSERVATIONS:
        raise Rejected(
            f"need at least {MIN_OBSERVATIONS} {what}, got {len(values)}",
            hint="A single observation has no volatility; give a longer series.",
        )
    matrix = values.reshape(-1, 1)
    valid = np.ones_like(matrix, dtype=bool)
    return Panel(
        values=matrix,
        valid=valid,
        zeroed=matrix,
        count=np.array([len(values)]),
        first=np.array([0]),
        last=np.array([len(values) - 1]),
        index=returns.index,
        columns=pd.Index([returns.name if returns.name is not None else what], dtype=object),
        days=_day_numbers(returns.index),
        single=True,
    )


def _frame_panel(frame: pd.DataFrame, what: str) -> Panel:
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise Rejected(f"no {what}: the table is empty", hint="Give one column per series and one row per date.")
    if not frame.columns.is_unique:
        duplicated = frame.columns[frame.columns.duplicated()][0]
        raise Rejected(f"the column {duplicated!r} appears twice", hint="Give each series a distinct name.")
    _check_index(frame.index, what)
    if all(pd.api.types.is_float_dtype(dtype) for dtype in frame.dtypes):
        values = frame.to_numpy(dtype=float)
    else:
        values = np.column_stack([_numbers(frame[c], what, where=f" in column {c!r}") for c in frame.columns])
    # each series contiguous in memory: the running products and maxima down the columns are several times faster
    values = np.asfortranarray(values)
    valid = ~np.isnan(values)
    count = valid.sum(axis=0)
    first = valid.argmax(axis=0)
    last = values.shape[0] - 1 - valid[::-1].argmax(axis=0)
    short = np.flatnonzero(count < MIN_OBSERVATIONS)
    if short.size:
        column = frame.columns[short[0]]
        raise Rejected(
            f"column {column!r} has {int(count[short[0]])} {what}; each needs at least {MIN_OBSERVATIONS}",
            hint="Drop the columns with too little history.",
        )
    gaps = np.flatnonzero(count != last - first + 1)
    if gaps.size:
        at = gaps[0]
        inside = ~valid[first[at] : last[at] + 1, at]
        day = frame.index[first[at] + int(inside.argmax())]
        raise Rejected(
            f"column {frame.columns[at]!r} has a gap: {int(inside.sum())} missing value(s) inside its history, "
            f"the first at {label_text(day)}",
            hint="Fill the gap (a missing price carried forward gives a 0 return) or drop the column; "
            "only leading and trailing missing values are allowed.",
        )
    finite = np.where(valid, values, 0.0)
    if not np.isfinite(finite).all() or (finite < -1).any():
        for at in range(values.shape[1]):
            _check_values(finite[:, at], frame.index, what, where=f" in column {frame.columns[at]!r}")
    return Panel(
        values=values,
        valid=valid,
        zeroed=finite,
        count=count,
        first=first,
        last=last,
        index=frame.index,
        columns=frame.columns,
        days=_day_numbers(frame.index),
        single=False,
    )


def _as_series(data: Any, what: str) -> pd.Series:
    if isinstance(data, str | bytes) or not isinstance(data, Sequence | np.ndarray):
        raise Rejected(
            f"{what} must be a pandas Series or DataFrame, or a list of numbers; got {type(data).__name__}",
            hint="Pass e.g. pd.Series([0.01, -0.02], index=dates).",
        )
    array = np.asarray(data)
    if array.dtype.kind not in "iuf":  # text, booleans or a mix: kept as given for _numbers to judge
        array = np.asarray(data, dtype=object)
    if array.ndim != 1:
        raise Rejected(f"{what} must be one-dimensional, got shape {array.shape}", hint="Use a DataFrame for many.")
    return pd.Series(array, name=what)


def _numbers(series: pd.Series, what: str, *, where: str) -> np.ndarray:
    """The values as floats; text or booleans are refused with the first offending value and its label."""
    if pd.api.types.is_bool_dtype(series.dtype):
        raise Rejected(f"{what}{where} are true/false values, not numbers", hint="Give returns as fractions.")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    parsed = pd.to_numeric(series, errors="coerce")
    bad = parsed.isna() & series.notna() & (series.astype(str).str.strip() != "")
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise Rejected(
            f"{what}{where} contain text: {series.iloc[position]!r} at {label_text(series.index[position])}",
            hint="Every value must be a number such as 0.0123 (a 1.23% return).",
        )
    return parsed.to_numpy(dtype=float, na_value=np.nan)


def _check_values(values: np.ndarray, index: pd.Index, what: str, *, where: str) -> None:
    infinite = np.isinf(values)
    if infinite.any():
        raise Rejected(
            f"{what}{where} contain an infinite value at {_label(index, infinite)}",
            hint="A price of 0 gives an infinite return: fix the prices the returns came from.",
        )
    ruinous = values < -1
    if ruinous.any():
        position = int(np.flatnonzero(ruinous)[0])
        raise Rejected(
            f"{what}{where} contain {values[position]:g} at {label_text(index[position])}, a loss of more than 100%",
            hint="Returns are fractions (-0.05 for -5%); check that these are not percentages or prices.",
        )


def _check_index(index: pd.Index, what: str) -> None:
    if not isinstance(index, pd.DatetimeIndex):
        return
    if index.hasnans:
        raise Rejected(f"the dates of the {what} include a missing date", hint="Give every row a date.")
    if not index.is_unique:
        raise Rejected(
            f"the date {label_text(index[index.duplicated()][0])} appears more than once in the {what}",
            hint="Keep one row per date.",
        )
    if not index.is_monotonic_increasing:
        steps = np.flatnonzero(np.diff(index.asi8) < 0)
        raise Rejected(
            f"the {what} are not in date order: {label_text(index[steps[0] + 1])} comes after {label_text(index[steps[0]])}",
            hint="Sort them by date, oldest first.",
        )


def _day_numbers(index: pd.Index) -> np.ndarray | None:
    if not isinstance(index, pd.DatetimeIndex):
        return None
    naive = index.tz_localize(None) if index.tz is not None else index
    return np.asarray(naive.to_numpy(dtype="datetime64[D]").astype(np.int64))


def _label(index: pd.Index, mask: np.ndarray) -> str:
    return label_text(index[int(np.flatnonzero(mask)[0])])


def label_text(label: object) -> str:
    if isinstance(label, pd.Timestamp):
        return label.date().isoformat() if label == label.normalize() else label.isoformat()
    if isinstance(label, int | np.integer):
        return f"position {int(label)}"
    return str(label)


@overload
def simple_returns(prices: pd.Series) -> pd.Series: ...
@overload
def simple_returns(prices: pd.DataFrame) -> pd.DataFrame: ...
def simple_returns(prices: Returns) -> Returns:
    """Simple returns `p[t] / p[t-1] - 1` from prices; the first date, which has no return, is dropped.

    >>> simple_returns(pd.Series([100.0, 110.0, 99.0])).round(4).tolist()
    [0.1, -0.1]
    """
    checked = _checked_prices(prices)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = checked / checked.shift(1) - 1.0
    return out.iloc[1:]


@overload
def log_returns(prices: pd.Series) -> pd.Series: ...
@overload
def log_returns(prices: pd.DataFrame) -> pd.DataFrame: ...
def log_returns(prices: Returns) -> Returns:
    """Log returns `ln(p[t] / p[t-1])` from prices; the first date is dropped.

    >>> round(float(log_returns(pd.Series([100.0, 110.0])).iloc[0]), 6)
    0.09531
    """
    checked = _checked_prices(prices)
    ratio = checked / checked.shift(1)
    out: Returns = ratio.apply(np.log)
    return out.iloc[1:]


def _checked_prices(prices: Returns) -> Returns:
    if not isinstance(prices, pd.Series | pd.DataFrame):
        prices = _as_series(prices, "prices")
    frame = prices.to_frame() if isinstance(prices, pd.Series) else prices
    if len(frame) < MIN_OBSERVATIONS:
        raise Rejected(
            f"need at least {MIN_OBSERVATIONS} prices for a return, got {len(frame)}",
            hint="Give two or more dated prices.",
        )
    _check_index(frame.index, "prices")
    values = np.column_stack([_numbers(frame[c], "prices", where="") for c in frame.columns])
    valid = ~np.isnan(values)
    if isinstance(prices, pd.Series) and not valid.all():
        raise Rejected(
            f"the prices have {int((~valid).sum())} missing value(s), the first at {_label(frame.index, ~valid[:, 0])}",
            hint="Drop the dates without a price, or carry the last price forward.",
        )
    bad = valid & ~(values > 0)
    bad |= np.isinf(values)
    if bad.any():
        row, column = (int(x[0]) for x in np.nonzero(bad))
        raise Rejected(
            f"prices must be positive and finite; got {values[row, column]:g} at {label_text(frame.index[row])}",
            hint="Fix or drop that row.",
        )
    first = valid.argmax(axis=0)
    last = len(values) - 1 - valid[::-1].argmax(axis=0)
    gaps = np.flatnonzero(valid.sum(axis=0) != last - first + 1)
    if gaps.size:
        raise Rejected(
            f"the prices of {frame.columns[gaps[0]]!r} have a gap inside their history",
            hint="Carry the last price forward over the gap (prices.ffill(limit_area='inside')) or drop the column.",
        )
    clean = pd.DataFrame(values, index=frame.index, columns=frame.columns)
    if isinstance(prices, pd.Series):
        single = clean.iloc[:, 0]
        single.name = prices.name
        return single
    return clean
