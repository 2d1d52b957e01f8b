"""The Parquet bar store: daily OHLCV (raw and adjusted) plus splits and dividends, on local files.

Layout under the root folder:

    daily/bucket-NN.parquet   bars of the symbols that hash to NN, sorted by (symbol, date)
    actions.parquet           splits and dividends
    .lock                     writers take an exclusive lock on it

Symbols are spread over a fixed number of bucket files, so a whole universe reads in a few large
sequential reads instead of hundreds of small ones, while one symbol's update rewrites only its bucket.
Every write goes to a temporary file that replaces the old one atomically: a crash leaves the old file,
never half a file. Rows are unique by (symbol, date); a re-import of the same rows changes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from marketdesk.errors import Rejected
from marketdesk.marketdata.port import BAR_COLUMNS, CorporateAction, CorporateActionKind, empty_bars

BUCKETS = 32
LONG_COLUMNS: tuple[str, ...] = ("symbol", "date", *BAR_COLUMNS)

BAR_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("date", pa.date32()),
        *[(c, pa.float64()) for c in BAR_COLUMNS],
    ]
)
ACTION_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("ex_date", pa.date32()),
        ("kind", pa.string()),
        ("value", pa.string()),
        ("source", pa.string()),
    ]
)
_EPOCH = np.datetime64("1970-01-01", "D")


def bucket_of(symbol: str) -> int:
    """The bucket a symbol lives in: stable across processes and versions."""
    return zlib.crc32(symbol.encode()) % BUCKETS


@dataclass(frozen=True)
class UniverseArrays:
    """A field of many symbols as one matrix: `values[i, j]` is symbol `symbols[j]` on `dates[i]` (NaN if none)."""

    dates: np.ndarray  # datetime64[D], ascending
    symbols: tuple[str, ...]
    values: np.ndarray  # float64, shape (len(dates), len(symbols))
    field: str


@dataclass(frozen=True)
class Coverage:
    """How much history the store holds for one symbol."""

    symbol: str
    first: date
    last: date
    rows: int


@dataclass(frozen=True)
class WriteResult:
    """What a write did: rows new to the store, rows that replaced different values, rows already there."""

    inserted: int
    updated: int
    unchanged: int


class BarStore:
    """Daily bars and corporate actions in Parquet files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.daily_dir = self.root / "daily"
        self._symbols: tuple[tuple[tuple[str, int, int], ...], list[str]] | None = None

    # ---- writing -------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        self.daily_dir.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def write(self, frame: pd.DataFrame) -> WriteResult:
        """Upsert bars from a long frame with columns `symbol, date, open, high, low, close, adj_close, volume`.

        The caller validates rows; the store refuses a frame without the columns or with NaN keys.
        Incoming rows win over stored rows with the same (symbol, date).
        """
        missing = [c for c in LONG_COLUMNS if c not in frame.columns]
        if missing:
            raise Rejected(f"bar frame lacks columns {missing}", hint=f"Give {', '.join(LONG_COLUMNS)}.")
        if frame.empty:
            return WriteResult(0, 0, 0)
        incoming = _to_table(frame)
        # sort once by bucket, then hand each bucket a contiguous slice (no per-row Python work)
        buckets = _buckets(incoming.column("symbol"))
        order = np.argsort(buckets, kind="stable")
        buckets = buckets[order]
        incoming = incoming.take(pa.array(order))
        starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
        ends = np.r_[starts[1:], len(buckets)]
        totals = [0, 0, 0]
        with self._write_lock():
            for start, end in zip(starts, ends, strict=True):
                part = incoming.slice(int(start), int(end - start))
                result = self._merge_bucket(int(buckets[start]), part)
                totals = [
                    a + b for a, b in zip(totals, (result.inserted, result.updated, result.unchanged), strict=True)
                ]
        return WriteResult(*totals)

    def _merge_bucket(self, bucket: int, incoming: pa.Table) -> WriteResult:
        path = self._bucket_path(bucket)
        incoming = _dedupe_keep_last(incoming)
        if not path.exists():
            _atomic_write(_sort(incoming), path)
            return WriteResult(len(incoming), 0, 0)
        stored = pq.read_table(path, schema=BAR_SCHEMA)
        stored_keys, incoming_keys = _keys(stored, incoming)
        # find each incoming key among the stored ones by binary search on the sorted stored keys
        order = np.argsort(stored_keys, kind="stable")
        sorted_keys = stored_keys[order]
        position = np.minimum(np.searchsorted(sorted_keys, incoming_keys), max(len(sorted_keys) - 1, 0))
        overlap = sorted_keys[position] == incoming_keys if len(sorted_keys) else np.zeros(len(incoming_keys), bool)
        stored_rows = order[position[overlap]]
        unchanged = 0
        if overlap.any():
            # rows whose key exists: unchanged when every value is equal
            same = np.ones(int(overlap.sum()), dtype=bool)
            for column in BAR_COLUMNS:
                new = incoming.column(column).to_numpy()[overlap]
                old = stored.column(column).to_numpy()[stored_rows]
                same &= new == old
            unchanged = int(same.sum())
        inserted = int((~overlap).sum())
        updated = int(overlap.sum()) - unchanged
        if inserted == 0 and updated == 0:
            return WriteResult(0, 0, unchanged)
        keep = np.ones(len(stored_keys), dtype=bool)
        keep[stored_rows] = False
        merged = pa.concat_tables([stored.filter(pa.array(keep)), incoming])
        _atomic_write(_sort(merged), path)
        return WriteResult(inserted, updated, unchanged)

    def delete_symbol(self, symbol: str) -> int:
        """Remove every bar of `symbol`; return how many rows went."""
        path = self._bucket_path(bucket_of(symbol))
        with self._write_lock():
            if not path.exists():
                return 0
            stored = pq.read_table(path, schema=BAR_SCHEMA)
            mask = pc.equal(stored.column("symbol"), symbol)
            removed = pc.sum(mask).as_py() or 0
            if removed:
                _atomic_write(stored.filter(pc.invert(mask)), path)
            return int(removed)

    def write_actions(self, actions: Iterable[CorporateAction]) -> int:
        """Upsert splits and dividends, unique by (symbol, ex_date, kind). Return how many are new."""
        rows = list(actions)
        if not rows:
            return 0
        new = pd.DataFrame(
            {
                "symbol": [a.symbol for a in rows],
                "ex_date": [a.ex_date for a in rows],
                "kind": [a.kind.value for a in rows],
                "value": [str(a.value) for a in rows],
                "source": [a.source for a in rows],
            }
        )
        path = self.root / "actions.parquet"
        with self._write_lock():
            old = pq.read_table(path).to_pandas() if path.exists() else new.iloc[0:0]
            before = set(zip(old["symbol"], old["ex_date"], old["kind"], strict=True))
            merged = pd.concat([old, new]).drop_duplicates(["symbol", "ex_date", "kind"], keep="last")
            merged = merged.sort_values(["symbol", "ex_date", "kind"]).reset_index(drop=True)
            _atomic_write(pa.Table.from_pandas(merged, schema=ACTION_SCHEMA, preserve_index=False), path)
        return sum(1 for key in zip(new["symbol"], new["ex_date"], new["kind"], strict=True) if key not in before)

    # ---- reading -------------------------------------------------------------------------------------------

    def _bucket_path(self, bucket: int) -> Path:
        return self.daily_dir / f"bucket-{bucket:02d}.parquet"

    def _bucket_paths(self) -> list[Path]:
        return sorted(self.daily_dir.glob("bucket-*.parquet")) if self.daily_dir.exists() else []

    def read(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """One symbol's bars as a bar frame (see `BAR_COLUMNS`); empty when the store has none."""
        path = self._bucket_path(bucket_of(symbol))
        if not path.exists():
            return empty_bars()
        filters: list[tuple[str, str, object]] = [("symbol", "=", symbol)]
        if start is not None:
            filters.append(("date", ">=", start))
        if end is not None:
            filters.append(("date", "<=", end))
        table = pq.read_table(path, filters=filters, schema=BAR_SCHEMA)
        if table.num_rows == 0:
            return empty_bars()
        frame = table.drop(["symbol"]).to_pandas()
        frame["date"] = pd.to_datetime(frame["date"])
        return frame.set_index("date")[list(BAR_COLUMNS)]

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """(name, mtime, size) of every bucket file: changes whenever any process writes bars."""
        out = []
        for path in self._bucket_paths():
            stat = path.stat()
            out.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(out)

    def symbols(self) -> list[str]:
        """Every symbol with at least one bar, sorted (cached until the files change)."""
        fingerprint = self.fingerprint()
        if self._symbols is not None and self._symbols[0] == fingerprint:
            return list(self._symbols[1])
        found: set[str] = set()
        for path in self._bucket_paths():
            column = pq.read_table(path, columns=["symbol"]).column("symbol")
            found.update(pc.unique(column).to_pylist())
        self._symbols = (fingerprint, sorted(found))
        return list(self._symbols[1])

    def coverage(self, symbol: str | None = None) -> list[Coverage]:
        """First date, last date and row count per symbol (or for one symbol)."""
        paths = [self._bucket_path(bucket_of(symbol))] if symbol else self._bucket_paths()
        out: list[Coverage] = []
        for path in paths:
            if not path.exists():
                continue
            table = pq.read_table(path, columns=["symbol", "date"])
            if symbol:
                table = table.filter(pc.equal(table.column("symbol"), symbol))
            if table.num_rows == 0:
                continue
            grouped = table.group_by("symbol").aggregate([("date", "min"), ("date", "max"), ("date", "count")])
            for row in grouped.to_pylist():
                out.append(Coverage(row["symbol"], row["date_min"], row["date_max"], row["date_count"]))
        return sorted(out, key=lambda c: c.symbol)

    def read_matrix(
        self,
        symbols: Iterable[str] | None = None,
        *,
        field: str = "adj_close",
        start: date | None = None,
        end: date | None = None,
    ) -> UniverseArrays:
        """A whole universe as one (dates × symbols) float64 matrix of `field`, NaN where a symbol has no bar."""
        if field not in BAR_COLUMNS:
            raise Rejected(f"unknown bar field {field!r}", hint=f"Use one of {', '.join(BAR_COLUMNS)}.")
        wanted = None if symbols is None else sorted(set(symbols))
        paths = self._bucket_paths()
        if wanted is not None:
            paths = sorted({self._bucket_path(bucket_of(s)) for s in wanted} & set(paths))
        tables = [
            pq.read_table(p, columns=["symbol", "date", field], read_dictionary=["symbol"], schema=None) for p in paths
        ]
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        names: list[str] = wanted if wanted is not None else []
        index_of: dict[str, int] = {s: i for i, s in enumerate(names)}
        for table in tables:
            for chunk in table.to_batches():
                dictionary = chunk.column(0).dictionary.to_pylist()
                codes = chunk.column(0).indices.to_numpy(zero_copy_only=False)
                lookup = np.empty(len(dictionary), dtype=np.int64)
                for i, name in enumerate(dictionary):
                    if name not in index_of:
                        if wanted is not None:
                            lookup[i] = -1
                            continue
                        index_of[name] = len(names)
                        names.append(name)
                    lookup[i] = index_of[name]
                columns = lookup[codes]
                days = chunk.column(1).to_numpy(zero_copy_only=False).astype("datetime64[D]").astype(np.int64)
                values = chunk.column(2).to_numpy(zero_copy_only=False)
                keep = columns >= 0
                if start is not None:
                    keep &= days >= (np.datetime64(start, "D") - _EPOCH).astype(np.int64)
                if end is not None:
                    keep &= days <= (np.datetime64(end, "D") - _EPOCH).astype(np.int64)
                parts.append((columns[keep], days[keep], values[keep]))
        if not parts or not any(len(p[0]) for p in parts):
            return UniverseArrays(np.array([], dtype="datetime64[D]"), tuple(names), np.empty((0, len(names))), field)
        columns = np.concatenate([p[0] for p in parts])
        days = np.concatenate([p[1] for p in parts])
        values = np.concatenate([p[2] for p in parts])
        first = int(days.min())
        present = np.zeros(int(days.max()) - first + 1, dtype=bool)
        present[days - first] = True
        row_of_day = np.cumsum(present) - 1
        matrix = np.full((int(present.sum()), len(names)), np.nan)
        matrix[row_of_day[days - first], columns] = values
        dates = (np.flatnonzero(present) + first).astype("datetime64[D]")
        # names were collected in file order; present them sorted
        order = np.argsort(np.array(names, dtype=object), kind="stable")
        return UniverseArrays(dates, tuple(names[i] for i in order), matrix[:, order], field)

    def actions(
        self, symbol: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[CorporateAction]:
        """Stored splits and dividends, oldest first."""
        path = self.root / "actions.parquet"
        if not path.exists():
            return []
        frame = pq.read_table(path).to_pandas()
        if symbol is not None:
            frame = frame[frame["symbol"] == symbol]
        if start is not None:
            frame = frame[frame["ex_date"] >= start]
        if end is not None:
            frame = frame[frame["ex_date"] <= end]
        return [
            CorporateAction(r.symbol, r.ex_date, CorporateActionKind(r.kind), Decimal(r.value), r.source)
            for r in frame.itertuples(index=False)
        ]


def adjusted_ohlc(frame: pd.DataFrame) -> pd.DataFrame:
    """Scale open/high/low/close by adj_close/close, for charts and indicators on adjusted prices."""
    out = frame.copy()
    factor = out["adj_close"] / out["close"]
    for column in ("open", "high", "low", "close"):
        out[column] = out[column] * factor
    return out


def _to_table(frame: pd.DataFrame) -> pa.Table:
    data = frame.loc[:, list(LONG_COLUMNS)]
    dates = pd.to_datetime(data["date"]).to_numpy().astype("datetime64[D]")
    # through Arrow, not `astype(str)`: a missing symbol stays null (and is refused) instead of becoming "nan"
    symbols = pa.array(data["symbol"], from_pandas=True)
    if pa.types.is_dictionary(symbols.type):
        symbols = symbols.dictionary_decode()
    if symbols.type != pa.string():
        symbols = symbols.cast(pa.string())
    arrays = [symbols, pa.array(dates, pa.date32())]
    arrays += [pa.array(data[c].to_numpy(dtype="float64"), pa.float64()) for c in BAR_COLUMNS]
    table = pa.Table.from_arrays(arrays, schema=BAR_SCHEMA)
    if table.column("symbol").null_count or table.column("date").null_count:
        raise Rejected("bar rows need a symbol and a date", hint="Drop rows without them before writing.")
    return table


def _buckets(symbols: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The bucket of every row, hashing each distinct symbol once."""
    column = symbols.combine_chunks() if isinstance(symbols, pa.ChunkedArray) else symbols
    encoded = column.dictionary_encode()
    lookup = np.array([bucket_of(s) for s in encoded.dictionary.to_pylist()], dtype=np.int16)
    return lookup[encoded.indices.to_numpy(zero_copy_only=False)]


def _keys(*tables: pa.Table) -> list[np.ndarray]:
    """One int64 per row: equal exactly when (symbol, date) are equal, comparable across `tables`."""
    encoded = []
    for table in tables:
        column = table.column("symbol")
        encoded.append((column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column).dictionary_encode())
    names = sorted(set().union(*(e.dictionary.to_pylist() for e in encoded)))
    code_of = {name: i for i, name in enumerate(names)}
    out = []
    for table, column in zip(tables, encoded, strict=True):
        lookup = np.array([code_of[s] for s in column.dictionary.to_pylist()], dtype=np.int64)
        codes = lookup[column.indices.to_numpy(zero_copy_only=False)]
        days = table.column("date").to_numpy().astype("datetime64[D]").astype(np.int64)
        out.append((codes << 32) | (days + 2**31))
    return out


def _dedupe_keep_last(table: pa.Table) -> pa.Table:
    (keys,) = _keys(table)
    if _increasing(keys):
        return table
    reversed_keys = keys[::-1]
    _, first_from_end = np.unique(reversed_keys, return_index=True)
    if len(first_from_end) == len(keys):
        return table
    keep = np.sort(len(keys) - 1 - first_from_end)
    return table.take(pa.array(keep))


def _sort(table: pa.Table) -> pa.Table:
    """Order rows by (symbol, date); the keys of `_keys` sort that way, and sorted input is left alone."""
    (keys,) = _keys(table)
    if _increasing(keys):
        return table
    return table.take(pa.array(np.argsort(keys, kind="stable")))


def _increasing(keys: np.ndarray) -> bool:
    return bool((keys[1:] > keys[:-1]).all())


def _atomic_write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # dictionary-encode the symbols only: float columns rarely repeat, and trying costs time and space
        pq.write_table(table, tmp, compression="snappy", row_group_size=256_000, use_dictionary=["symbol"])
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
