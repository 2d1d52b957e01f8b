"""Opening files: tell CSV, gzip-compressed CSV and Parquet apart by their bytes, read the header, then read
the columns we need into Arrow in one streaming pass, with the physical line number of every row.

Every way a file can be unreadable (empty, binary, a truncated gzip, a header and nothing else) becomes one
`FileError` that says so; callers write nothing for such a file.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq

from marketdesk.marketdata.files.options import FileError

_SNIFF_BYTES = 64 * 1024
_BLOCK_BYTES = 4 * 1024 * 1024
_DELIMITERS = (",", ";", "\t", "|")
MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "#n/a", "null", "none", "-", "--", "-nan", "nat"})
"""Text that means "no value" in a numeric column (compared case-insensitively, trimmed)."""

_FEW_DISTINCT_FROM = 10_000

Progress = Callable[[int], None]
"""Called with the bytes of the file consumed so far."""


class FileKind(StrEnum):
    CSV = "csv"
    GZIP_CSV = "csv.gz"
    PARQUET = "parquet"


@dataclass(frozen=True)
class Header:
    """What a file looks like before it is read: its kind, column names and CSV delimiter."""

    kind: FileKind
    columns: tuple[str, ...]
    delimiter: str = ","


@dataclass
class RawTable:
    """Columns read from a file, keyed by the file's column names, with the line of each row.

    `malformed` lists lines that could not be split into the header's number of fields, as (line, message).
    """

    columns: dict[str, pa.ChunkedArray]
    lines: np.ndarray
    malformed: list[tuple[int | None, str]] = field(default_factory=list)
    line_word: str = "line"

    @property
    def num_rows(self) -> int:
        return len(self.lines)


def sniff(path: Path) -> FileKind:
    """Tell the file's kind from its first bytes; refuse empty, missing and binary files."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise FileError("file not found") from None
    except IsADirectoryError:
        raise FileError("is a folder, not a file", hint="Name the files inside it.") from None
    except OSError as exc:
        raise FileError(f"cannot be opened: {exc.strerror or exc}") from None
    if not head:
        raise FileError("the file is empty")
    if head.startswith(b"\x1f\x8b"):
        return FileKind.GZIP_CSV
    if head.startswith(b"PAR1"):
        return FileKind.PARQUET
    if head.startswith(b"PK\x03\x04"):
        raise FileError("is a zip archive", hint="Unzip it and import the CSV files inside.")
    _require_text(head)
    return FileKind.CSV


def _require_text(head: bytes) -> None:
    if b"\x00" in head:
        raise FileError("is not a CSV, CSV.gz or Parquet file (it holds binary data)")
    try:
        io.TextIOWrapper(io.BytesIO(head), encoding="utf-8").read()
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sniff window is fine; anything earlier is not text
        if exc.start < len(head) - 4:
            raise FileError("is not a CSV, CSV.gz or Parquet file (it is not UTF-8 text)") from None


def read_header(path: Path) -> Header:
    """The kind, column names and delimiter of a file."""
    kind = sniff(path)
    if kind is FileKind.PARQUET:
        try:
            names = tuple(pq.read_schema(path).names)
        except (pa.ArrowException, OSError) as exc:
            raise FileError(f"is not a readable Parquet file ({_first_line(exc)})") from None
        return Header(kind, tuple(n for n in names if n != "__index_level_0__"))
    try:
        with _open_text(path, kind) as handle:
            first = handle.readline(1 << 20)
            if kind is FileKind.GZIP_CSV:
                _require_text(first.encode("utf-8", errors="replace")[:_SNIFF_BYTES])
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise FileError(_gzip_message(exc) if kind is FileKind.GZIP_CSV else f"cannot be read ({exc})") from None
    first = first.lstrip("\ufeff").rstrip("\r\n")
    if not first.strip():
        raise FileError("the file is empty (no header line)")
    delimiter = max(_DELIMITERS, key=first.count)
    columns = tuple(c.strip() for c in next(csv.reader([first], delimiter=delimiter)))
    return Header(kind, columns, delimiter)


def _open_text(path: Path, kind: FileKind) -> io.TextIOBase:
    if kind is FileKind.GZIP_CSV:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8", newline="")


def _gzip_message(exc: BaseException) -> str:
    return f"the gzip data is truncated or corrupt ({_first_line(exc)})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _Counting(io.RawIOBase):
    """A raw file that counts the bytes read through it, for progress."""

    def __init__(self, handle: io.BufferedReader, progress: Progress | None) -> None:
        self._handle = handle
        self._progress = progress
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = self._handle.readinto(buffer)
        self.consumed += count
        if self._progress is not None:
            self._progress(self.consumed)
        return count


def read_columns(
    path: Path,
    header: Header,
    types: Mapping[str, pa.DataType],
    progress: Progress | None = None,
) -> RawTable:
    """Read the named columns with the given Arrow types (text columns as `pa.string()`).

    A numeric column that holds text which is not a number raises `NumberColumnError`, so the caller can
    read it again as text and refuse only the rows that hold the bad values.
    """
    if header.kind is FileKind.PARQUET:
        return _read_parquet(path, list(types))
    malformed: list[tuple[int | None, str]] = []
    expected = len(header.columns)

    def on_invalid(row: pv.InvalidRow) -> str:
        if row.text.strip():
            malformed.append((row.number, f"expected {expected} fields, found {row.actual_columns}"))
        return "skip"

    read_options = pv.ReadOptions(use_threads=False, block_size=_BLOCK_BYTES)
    parse_options = pv.ParseOptions(
        delimiter=header.delimiter, ignore_empty_lines=False, invalid_row_handler=on_invalid
    )
    convert_options = pv.ConvertOptions(
        column_types=dict(types),
        include_columns=list(types),
        strings_can_be_null=False,
        null_values=sorted(t for t in MISSING_TOKENS | {t.upper() for t in MISSING_TOKENS} | {"NaN", "N/A", "#N/A"}),
    )
    try:
        with open(path, "rb") as raw:
            counting = _Counting(raw, progress)
            stream: pa.NativeFile = pa.PythonFile(io.BufferedReader(counting, _BLOCK_BYTES), mode="r")
            if header.kind is FileKind.GZIP_CSV:
                stream = pa.CompressedInputStream(stream, "gzip")
            reader = pv.open_csv(
                stream, read_options=read_options, parse_options=parse_options, convert_options=convert_options
            )
            table = reader.read_all()
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "conversion error" in message:
            raise NumberColumnError(message) from None
        raise FileError(_read_message(header.kind, exc)) from None
    except (pa.ArrowException, OSError, EOFError, zlib.error) as exc:
        raise FileError(_read_message(header.kind, exc)) from None
    bad_lines = sorted(n for n, _ in malformed if n is not None)
    lines = _data_lines(table.num_rows, bad_lines)
    return RawTable({name: table.column(name) for name in types}, lines, malformed)


class NumberColumnError(Exception):
    """A column read as numbers held text that is not a number."""


def _read_message(kind: FileKind, exc: BaseException) -> str:
    text = _first_line(exc)
    if kind is FileKind.GZIP_CSV and any(w in text.lower() for w in ("gzip", "inflate", "zlib", "truncat", "eof")):
        return _gzip_message(exc)
    if "Empty CSV file" in text:
        return "the file is empty"
    return f"cannot be parsed as CSV ({text})"


def _data_lines(rows: int, skipped: list[int]) -> np.ndarray:
    """Physical line numbers of the parsed rows: lines 2, 3, … minus the lines that were skipped."""
    lines = np.arange(2, rows + len(skipped) + 2, dtype=np.int64)
    if skipped:
        lines = lines[~np.isin(lines, np.asarray(skipped, dtype=np.int64))]
    return lines[:rows]


def _read_parquet(path: Path, names: list[str]) -> RawTable:
    try:
        table = pq.read_table(path, columns=names)
    except (pa.ArrowException, OSError) as exc:
        raise FileError(f"is not a readable Parquet file ({_first_line(exc)})") from None
    return RawTable({n: table.column(n) for n in names}, np.arange(1, table.num_rows + 1), line_word="row")


def numbers(values: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A column as float64 (NaN where missing) and a mask of cells that hold text that is not a number."""
    n = len(values)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_decimal(values.type):
        return values.cast(pa.float64()).to_numpy(zero_copy_only=False), np.zeros(n, dtype=bool)
    if pa.types.is_null(values.type):
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    text = values.cast(pa.string())
    if n > _FEW_DISTINCT_FROM:
        # a column of few distinct texts (dividends, split ratios): parse each text once
        encoded = (text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text).dictionary_encode()
        if len(encoded.dictionary) * 4 < n:
            parsed, bad = numbers(encoded.dictionary)
            indices = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
            return np.append(parsed, np.nan)[indices], np.append(bad, False)[indices]
    try:
        # the fast path: every cell is a number Arrow can read
        return text.cast(pa.float64()).to_numpy(zero_copy_only=False), np.zeros(n, dtype=bool)
    except pa.ArrowInvalid:
        pass
    text = pc.utf8_trim_whitespace(text)
    missing = pc.or_kleene(pc.is_null(text), pc.is_in(pc.utf8_lower(text), pa.array(sorted(MISSING_TOKENS))))
    present = pc.if_else(missing, pa.scalar(None, pa.string()), text)
    try:
        return present.cast(pa.float64()).to_numpy(zero_copy_only=False), np.zeros(n, dtype=bool)
    except pa.ArrowInvalid:
        pass
    series = pd.Series(present.to_numpy(zero_copy_only=False), dtype=object)
    parsed = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
    bad = ~pc.fill_null(missing, True).to_numpy(zero_copy_only=False) & np.isnan(parsed)
    return parsed, bad


def read_frame(path: Path) -> tuple[Header, pd.DataFrame]:
    """A small file (fundamentals, lists) as text columns; refuses unreadable and data-less files."""
    header = read_header(path)
    if header.kind is FileKind.PARQUET:
        try:
            frame = pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            raise FileError(f"is not a readable Parquet file ({_first_line(exc)})") from None
    else:
        try:
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                sep=header.delimiter,
                compression="gzip" if header.kind is FileKind.GZIP_CSV else None,
                encoding="utf-8-sig",
            )
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, pd.errors.ParserError) as exc:
            kind = header.kind
            raise FileError(_gzip_message(exc) if kind is FileKind.GZIP_CSV else f"cannot be parsed ({exc})") from None
        except pd.errors.EmptyDataError:
            raise FileError("the file is empty") from None
        frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise FileError("has a header but no data rows")
    return header, frame
