"""Import daily price files (CSV, CSV.gz, Parquet) into the bar store.

Each file is read in one streaming pass, its layout detected (see `layouts`), and every row checked with
vectorized masks; a row is accepted or rejected with the first reason that applies. Accepted rows go to the
bar store in one write (atomic per bucket file); dividends and split coefficients of accepted rows become
corporate actions, their values parsed from the file's text into Decimal. A file that cannot be read at all
gets one error in the report and writes nothing.

Progress is reported in bytes of the input files: reading a file advances through 90% of its size, and
storing it completes the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from marketdesk.kit.money import to_decimal
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.files.checks import RowChecks, number_text
from marketdesk.marketdata.files.dates import days_of_temporal, detect_format, given_format, parse_days
from marketdesk.marketdata.files.layouts import PRICE_FIELDS, PriceLayout, detect_price_layout
from marketdesk.marketdata.files.options import SYMBOL_PATTERN, FileError, ImportOptions, normalize_symbol
from marketdesk.marketdata.files.reader import NumberColumnError, RawTable, numbers, read_columns, read_header
from marketdesk.marketdata.files.report import FileReport, ImportReport
from marketdesk.marketdata.port import CorporateAction, CorporateActionKind

ProgressCallback = Callable[[int, int], None]
"""`progress(done, total)`; for prices both count bytes of the input files."""

_TEXT_FIELDS = frozenset({"date", "symbol", "dividend", "split", "period"})
_PRICES = ("open", "high", "low", "close", "adj_close")
_READ_SHARE = 0.9
_ACTION_LABELS = {"dividend": "dividend", "split": "split coefficient"}


def import_prices(
    paths: Iterable[str | PathLike[str]],
    store: BarStore,
    options: ImportOptions | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import price files into `store` and report, per file, the layout seen and the rows taken and refused.

    Re-importing the same file changes nothing (inserted 0, unchanged N). `progress(done, total)` counts
    bytes of the input files.

    >>> report = import_prices(["SPY.csv"], BarStore(data_dir / "bars"))  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    """
    options = options or ImportOptions()
    options.check(PRICE_FIELDS)
    files = [Path(p) for p in paths]
    sizes = [_size(p) for p in files]
    total = sum(sizes)
    done = 0
    report = ImportReport("prices")
    for path, size in zip(files, sizes, strict=True):
        file_report = FileReport(str(path))
        report.files.append(file_report)

        def on_bytes(consumed: int, start: int = done, size: int = size) -> None:
            if progress is not None:
                progress(start + min(int(consumed * _READ_SHARE), size), total)

        try:
            parsed = _read_prices(path, options, file_report, on_bytes)
        except FileError as exc:
            file_report.fail(exc.one_line())
        else:
            _store(parsed, store, file_report)
        done += size
        if progress is not None:
            progress(done, total)
    return report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass
class _Parsed:
    bars: pd.DataFrame
    actions: list[CorporateAction]


def _store(parsed: _Parsed, store: BarStore, report: FileReport) -> None:
    if report.layout == "actions":
        # the actions are this file's records: count them against what the store holds
        stored = {(a.symbol, a.ex_date, a.kind): a.value for a in store.actions()}
        for action in parsed.actions:
            old = stored.get((action.symbol, action.ex_date, action.kind))
            if old is None:
                report.inserted += 1
            elif old != action.value:
                report.updated += 1
            else:
                report.unchanged += 1
    else:
        result = store.write(parsed.bars)
        report.inserted, report.updated, report.unchanged = result.inserted, result.updated, result.unchanged
    report.actions_inserted = store.write_actions(parsed.actions)


def _read_prices(path: Path, options: ImportOptions, report: FileReport, on_bytes: Callable[[int], None]) -> _Parsed:
    header = read_header(path)
    layout = detect_price_layout(header.columns, path, options.column_map, options.symbol)
    report.layout = layout.name
    report.details = layout.describe()
    types = {theirs: pa.string() if ours in _TEXT_FIELDS else pa.float64() for ours, theirs in layout.columns.items()}
    try:
        raw = read_columns(path, header, types, on_bytes)
    except NumberColumnError:
        # some numeric cell holds text: read those columns as text and refuse just the rows that hold it
        raw = read_columns(path, header, dict.fromkeys(types, pa.string()), on_bytes)
    if raw.num_rows == 0 and not raw.malformed:
        raise FileError("has a header but no data rows")
    if raw.line_word != "line":
        report.details.append("positions in the report are row numbers of the Parquet file")
    rows = _PriceRows(raw, layout, options, report)
    return rows.parse_actions() if layout.name == "actions" else rows.parse()


class _PriceRows:
    """The rows of one file as numpy vectors, checked in one pass per rule."""

    def __init__(self, raw: RawTable, layout: PriceLayout, options: ImportOptions, report: FileReport) -> None:
        self.raw = raw
        self.layout = layout
        self.options = options
        self.report = report
        self.source = options.source

    def column(self, field: str) -> pa.ChunkedArray | None:
        name = self.layout.columns.get(field)
        return None if name is None else self.raw.columns[name]

    def required(self, field: str) -> pa.ChunkedArray:
        """The column of `field`; a layout without it cannot be read."""
        column = self.column(field)
        if column is None:
            raise FileError(f"the layout has no {field} column", hint=f"Name it with --map {field}=<column>.")
        return column

    def parse(self) -> _Parsed:
        """A price file: the bars of the accepted rows, and their dividends and splits."""
        raw = self.raw
        checks = RowChecks(raw.lines)
        values = self._numbers(checks)
        days, no_date = self._dates(checks)
        codes, names = self._symbols(checks)
        blank = self._blank(values, no_date, codes)
        checks.add("not a daily bar", *self._not_daily())
        self._price_checks(checks, values)
        accepted = self._judge(checks, blank, codes, names, days)
        used = np.unique(codes[accepted])
        self.report.symbols = [names[c] for c in used]
        bars = self._bars(accepted, codes, names, days, values)
        actions = self._actions(accepted, codes, names, days, values)
        return _Parsed(bars, actions)

    def parse_actions(self) -> _Parsed:
        """A file of dividends and splits without prices: only corporate actions come out."""
        checks = RowChecks(self.raw.lines)
        values: dict[str, np.ndarray] = {}
        for field in ("dividend", "split"):
            column = self.column(field)
            if column is not None:
                values[field], bad = numbers(column)
                checks.add("unparseable number", bad, _not_a_number(field, column))
        days, no_date = self._dates(checks)
        codes, names = self._symbols(checks)
        blank = no_date & (codes == -1) if self.column("symbol") is not None else no_date.copy()
        for field, vector in values.items():
            blank &= np.isnan(vector)
            label = _ACTION_LABELS[field]
            checks.add(f"negative {label}", vector < 0, _negative(label, vector))
            checks.add("infinite number", np.isinf(vector), _not_finite(field, vector))
        accepted = self._judge(checks, blank, codes, names, days)
        actions = self._actions(accepted, codes, names, days, values)
        self.report.symbols = sorted({a.symbol for a in actions})
        return _Parsed(pd.DataFrame(), actions)

    def _judge(
        self, checks: RowChecks, blank: np.ndarray, codes: np.ndarray, names: list[str], days: np.ndarray
    ) -> np.ndarray:
        """Refuse repeated (ticker, date) among otherwise good rows (the first stays), count every refusal
        in the report, and return the accepted rows. Blank lines are neither read nor refused."""
        n = self.raw.num_rows
        keep = ~blank
        valid = (checks.assign(n, skip=blank) == 0) & keep
        keys = (codes.astype(np.int64) << 32) | (days + 2**31)
        duplicate = np.zeros(n, dtype=bool)
        good_keys = keys[valid]
        if len(good_keys) > 1 and not (good_keys[1:] > good_keys[:-1]).all():  # sorted files have none: skip the hash
            duplicate[valid] = pd.Series(good_keys).duplicated(keep="first").to_numpy()
        checks.add("duplicate date", duplicate, lambda i: f"duplicate date {_day(days[i])} for {names[codes[i]]}")
        reason = checks.assign(n, skip=blank)
        accepted: np.ndarray = (reason == 0) & keep
        for key, count, examples in checks.rejections(reason):
            self.report.reject(key, count, examples)
        for line, message in self.raw.malformed:
            self.report.reject("malformed line", 1, [(line, message)])
        self.report.rows_read = int(keep.sum()) + len(self.raw.malformed)
        self.report.rows_accepted = int(accepted.sum())
        return accepted

    # ---- columns ------------------------------------------------------------------------------------------

    def _numbers(self, checks: RowChecks) -> dict[str, np.ndarray]:
        n = self.raw.num_rows
        values: dict[str, np.ndarray] = {}
        for field in (*_PRICES, "volume", "dividend", "split"):
            column = self.column(field)
            if column is None:
                continue
            parsed, bad = numbers(column)
            values[field] = parsed
            if bad.any():
                checks.add("unparseable number", bad, _not_a_number(field, column))
        close = values["close"]
        for field in ("open", "high", "low", "adj_close"):
            values.setdefault(field, close)
        values.setdefault("volume", np.zeros(n))
        return values

    def _dates(self, checks: RowChecks) -> tuple[np.ndarray, np.ndarray]:
        column = self.required("date")
        name = self.layout.columns["date"]
        if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            days, ok = days_of_temporal(column)
            checks.add("missing date", ~ok, lambda i: "missing date")
            self.report.details.append("dates from a date column")
            return days, ~ok
        text = column.cast(pa.string())
        try:
            fmt = given_format(self.options.date_format) if self.options.date_format else detect_format(text, name)
        except FileError:
            if self._blank_file():
                raise FileError("has a header but no data rows") from None
            raise
        self.report.details.append(fmt.describe())
        days, ok = _parse_dates(text, fmt.strptime)
        empty = np.zeros(len(ok), dtype=bool)
        failed = np.flatnonzero(~ok)
        if len(failed):
            trimmed = pc.utf8_trim_whitespace(text.take(pa.array(failed)))
            empty[failed] = pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
        checks.add("missing date", empty, lambda i: "missing date")
        checks.add(
            "unparseable date",
            ~ok & ~empty,
            lambda i: f"date {text[i].as_py()!r} does not parse as {fmt.label}",
        )
        return days, empty

    def _blank_file(self) -> bool:
        """Whether every row is empty (a header followed by blank lines)."""
        for column in self.raw.columns.values():
            if pa.types.is_string(column.type):
                if pc.any(pc.not_equal(pc.utf8_trim_whitespace(column), "")).as_py():
                    return False
            elif column.null_count < len(column):
                return False
        return not self.raw.malformed

    def _symbols(self, checks: RowChecks) -> tuple[np.ndarray, list[str]]:
        n = self.raw.num_rows
        column = self.column("symbol")
        if column is None:
            return np.zeros(n, dtype=np.int64), [self.layout.symbol or ""]
        encoded = column.cast(pa.string()).combine_chunks().dictionary_encode()
        names: list[str] = []
        index_of: dict[str, int] = {}
        lookup = np.empty(len(encoded.dictionary) + 1, dtype=np.int64)
        for i, text in enumerate(encoded.dictionary.to_pylist()):
            symbol = normalize_symbol(text or "")
            if self.layout.strip_us_suffix and symbol.endswith(".US"):
                symbol = symbol[:-3]
            if not symbol:
                lookup[i] = -1
            elif not SYMBOL_PATTERN.match(symbol):
                lookup[i] = -2
            else:
                lookup[i] = index_of.setdefault(symbol, len(names))
                if lookup[i] == len(names):
                    names.append(symbol)
        lookup[-1] = -1  # a null ticker
        indices = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
        codes = lookup[indices]
        checks.add("missing ticker", codes == -1, lambda i: "missing ticker")
        checks.add("bad ticker", codes == -2, lambda i: f"ticker {column[i].as_py()!r} does not look like a ticker")
        return codes, names

    def _blank(self, values: dict[str, np.ndarray], no_date: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Empty lines: no date, no ticker, no numbers. They are not rows and are not counted."""
        blank = no_date.copy()
        for field in ("open", "high", "low", "close", "adj_close", "volume", "dividend", "split"):
            if field in self.layout.columns:
                blank &= np.isnan(values[field])
        if "symbol" in self.layout.columns:
            blank &= codes == -1
        return blank

    def _not_daily(self) -> tuple[np.ndarray, Callable[[int], str]]:
        column = self.column("period")
        if column is None:
            return np.zeros(self.raw.num_rows, dtype=bool), lambda i: ""
        period = pc.utf8_upper(pc.utf8_trim_whitespace(column.cast(pa.string())))
        mask = pc.invert(pc.is_in(period, pa.array(["D", ""]))).to_numpy(zero_copy_only=False)
        return mask, lambda i: f"period {column[i].as_py()!r} is not daily (D)"

    def _price_checks(self, checks: RowChecks, v: dict[str, np.ndarray]) -> None:
        present = [f for f in _PRICES if f in self.layout.columns]
        numeric = [f for f in (*_PRICES, "volume", "dividend", "split") if f in self.layout.columns]
        infinite = np.zeros(self.raw.num_rows, dtype=bool)
        for field in numeric:
            infinite |= np.isinf(v[field])
        checks.add(
            "infinite number",
            infinite,
            lambda i: ", ".join(f"{f} {number_text(v[f][i])}" for f in numeric if np.isinf(v[f][i])) + " is not finite",
        )
        missing = np.zeros(self.raw.num_rows, dtype=bool)
        for field in present:
            missing |= np.isnan(v[field])
        checks.add(
            "missing price",
            missing,
            lambda i: "missing " + ", ".join(f for f in present if np.isnan(v[f][i])),
        )
        checks.add("missing volume", np.isnan(v["volume"]), lambda i: "missing volume")
        non_positive = np.zeros(self.raw.num_rows, dtype=bool)
        for field in present:
            non_positive |= v[field] <= 0
        checks.add(
            "non-positive price",
            non_positive,
            lambda i: (
                "non-positive price: " + ", ".join(f"{f} {number_text(v[f][i])}" for f in present if v[f][i] <= 0)
            ),
        )
        high, low = v["high"], v["low"]
        checks.add("high < low", high < low, lambda i: f"high {number_text(high[i])} < low {number_text(low[i])}")
        for field in ("open", "close"):
            price = v[field]
            checks.add(
                f"{field} outside [low, high]", (price < low) | (price > high), _outside(field, price, low, high)
            )
        checks.add("negative volume", v["volume"] < 0, lambda i: f"negative volume {number_text(v['volume'][i])}")
        for field in ("dividend", "split"):
            if field in v:
                label = _ACTION_LABELS[field]
                checks.add(f"negative {label}", v[field] < 0, _negative(label, v[field]))

    # ---- output -------------------------------------------------------------------------------------------

    def _bars(
        self, accepted: np.ndarray, codes: np.ndarray, names: list[str], days: np.ndarray, v: dict[str, np.ndarray]
    ) -> pd.DataFrame:
        everything = bool(accepted.all())

        def pick(vector: np.ndarray) -> np.ndarray:
            return vector if everything else vector[accepted]

        columns: dict[str, object] = {
            "symbol": pd.Categorical.from_codes(pick(codes), categories=pd.Index(names, dtype=object)),
            "date": pick(days).astype("datetime64[D]").astype("datetime64[s]"),
        }
        columns.update({field: pick(v[field]) for field in (*_PRICES, "volume")})
        return pd.DataFrame(columns, copy=False)

    def _actions(
        self, accepted: np.ndarray, codes: np.ndarray, names: list[str], days: np.ndarray, v: dict[str, np.ndarray]
    ) -> list[CorporateAction]:
        actions: list[CorporateAction] = []
        # a dividend > 0 is paid; a split coefficient other than 1 splits (0 means none in some exports)
        wanted = (
            ("dividend", CorporateActionKind.DIVIDEND, lambda x: x > 0),
            ("split", CorporateActionKind.SPLIT, lambda x: (x > 0) & (x != 1)),
        )
        for field, kind, rule in wanted:
            if field not in v:
                continue
            rows = np.flatnonzero(accepted & rule(v[field]))
            column = self.required(field)
            texts = column.take(pa.array(rows)).to_pylist()
            for row, text in zip(rows, texts, strict=True):
                value = to_decimal(text if text is not None else float(v[field][row]), field=field)
                actions.append(CorporateAction(names[codes[row]], _date(days[row]), kind, value, self.source))
        return actions


def _parse_dates(text: pa.ChunkedArray, strptime: str) -> tuple[np.ndarray, np.ndarray]:
    """`parse_days`, once per distinct date when a long file repeats each date for many tickers."""
    encoded = text.combine_chunks().dictionary_encode()
    if len(encoded.dictionary) * 4 >= len(text):
        return parse_days(text, strptime)
    days, ok = parse_days(encoded.dictionary, strptime)
    indices = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return np.append(days, 0)[indices], np.append(ok, False)[indices]


def _not_a_number(field: str, column: pa.ChunkedArray) -> Callable[[int], str]:
    return lambda i: f"{field} {column[i].as_py()!r} is not a number"


def _negative(label: str, vector: np.ndarray) -> Callable[[int], str]:
    return lambda i: f"negative {label} {number_text(vector[i])}"


def _not_finite(field: str, vector: np.ndarray) -> Callable[[int], str]:
    return lambda i: f"{field} {number_text(vector[i])} is not finite"


def _outside(field: str, price: np.ndarray, low: np.ndarray, high: np.ndarray) -> Callable[[int], str]:
    def message(i: int) -> str:
        return f"{field} {number_text(price[i])} outside [low {number_text(low[i])}, high {number_text(high[i])}]"

    return message


def _day(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _date(day: int) -> date:
    return date.fromisoformat(_day(day))
