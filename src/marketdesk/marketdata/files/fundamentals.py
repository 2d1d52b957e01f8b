"""Import fundamentals files (snapshots, 10-K filings, ETF and constituents lists, earnings) through the
market-data repository.

Each file is read and checked in full before anything of it is written, so a file that cannot be read
writes nothing. Writes go through `MarketDataRepository` only; the caller owns the session and commits.
The report counts, per file, the records new to the database, the ones whose values changed and the ones
already there: re-importing a file reports them all unchanged and writes nothing.

Progress is reported in bytes of the input files, file by file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import TypeVar

import numpy as np

from marketdesk.kit.timeutil import ensure_utc
from marketdesk.marketdata.files.fundamental_layouts import FUNDAMENTALS_MAP_FIELDS, detect_fundamentals_layout
from marketdesk.marketdata.files.fundamental_rows import Batch, FundamentalRows
from marketdesk.marketdata.files.options import FileError, ImportOptions
from marketdesk.marketdata.files.reader import FileKind, read_frame
from marketdesk.marketdata.files.report import FileReport, ImportReport
from marketdesk.marketdata.port import EarningsEvent, Fundamentals, SymbolInfo
from marketdesk.marketdata.repository import MarketDataRepository

ProgressCallback = Callable[[int, int], None]
_Record = TypeVar("_Record", Fundamentals, EarningsEvent)


async def import_fundamentals(
    paths: Iterable[str | PathLike[str]],
    repository: MarketDataRepository,
    options: ImportOptions | None = None,
    *,
    now: datetime,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import fundamentals files through `repository` and report what each one did.

    `now` stamps the instruments written. `progress(done, total)` counts bytes of the input files.
    The caller commits (or rolls back) the repository's session.
    """
    options = options or ImportOptions()
    options.check(FUNDAMENTALS_MAP_FIELDS)
    now = ensure_utc(now)
    files = [Path(p) for p in paths]
    sizes = [_size(p) for p in files]
    total, done = sum(sizes), 0
    report = ImportReport("fundamentals")
    known = {info.symbol: info for info in await repository.instruments()}
    for path, size in zip(files, sizes, strict=True):
        file_report = FileReport(str(path))
        report.files.append(file_report)
        try:
            batch = read_fundamentals(path, options, file_report, {s: i.name for s, i in known.items()})
        except FileError as exc:
            file_report.fail(exc.one_line())
        else:
            await _write(batch, repository, options, file_report, now, known)
        done += size
        if progress is not None:
            progress(done, total)
    return report


def read_fundamentals(path: Path, options: ImportOptions, report: FileReport, known_names: dict[str, str]) -> Batch:
    """Read and check one fundamentals file without writing anything; raise `FileError` if it cannot be read."""
    header, frame = read_frame(path)
    layout = detect_fundamentals_layout(list(frame.columns), options.column_map)
    report.layout = layout.name
    report.details = layout.describe()
    if header.kind is FileKind.PARQUET:
        lines = np.arange(1, len(frame) + 1)
        report.details.append("positions in the report are row numbers of the Parquet file")
    else:
        lines = np.arange(2, len(frame) + 2)
    rows = FundamentalRows(frame, layout, options, report, lines, known_names)
    readers: dict[str, Callable[[], Batch]] = {
        "earnings": rows.earnings,
        "10-K": rows.ten_k,
        "etf": rows.etf,
        "snapshot": rows.snapshot,
        "constituents": rows.constituents,
        "generic": rows.generic,
    }
    batch = readers[layout.name]()
    symbols = {f.symbol for f in batch.fundamentals} | {e.symbol for e in batch.earnings}
    symbols |= {i.symbol for i in batch.instruments}
    report.symbols = sorted(symbols)
    return batch


async def _write(
    batch: Batch,
    repository: MarketDataRepository,
    options: ImportOptions,
    report: FileReport,
    now: datetime,
    known: dict[str, SymbolInfo],
) -> None:
    if batch.fundamentals:
        await _write_fundamentals(batch.fundamentals, repository, report)
    if batch.earnings:
        await _write_earnings(batch.earnings, repository, report)
    if batch.instruments:
        changed = [i for i in batch.instruments if _merged(known.get(i.symbol), i) != known.get(i.symbol)]
        if not batch.fundamentals and not batch.earnings:
            # a list of instruments: the instruments are the records this file counts
            new = sum(1 for i in batch.instruments if i.symbol not in known)
            report.inserted += new
            report.updated += len(changed) - sum(1 for i in changed if i.symbol not in known)
            report.unchanged += len(batch.instruments) - len(changed)
        if changed:
            await repository.upsert_instruments(changed, source=options.source, now=now)
            known.update({i.symbol: _merged(known.get(i.symbol), i) for i in changed})
        report.instruments = len(batch.instruments)
    if batch.universe is not None:
        await repository.set_universe(options.universe, batch.universe)
        report.universe = options.universe


def _merged(old: SymbolInfo | None, new: SymbolInfo) -> SymbolInfo:
    """What the repository stores for `new` on top of `old`: a None field never erases a known value."""
    if old is None:
        return new
    values = {k: v if v is not None else getattr(old, k) for k, v in asdict(new).items()}
    return SymbolInfo(**values)


async def _write_fundamentals(
    records: Sequence[Fundamentals], repository: MarketDataRepository, report: FileReport
) -> None:
    changed: list[Fundamentals] = []
    for symbol, group in _by_symbol(records).items():
        stored = {(r.period_end, r.period, r.source): r for r in await repository.fundamentals(symbol)}
        for record in group:
            old = stored.get((record.period_end, record.period, record.source))
            if old is None:
                report.inserted += 1
            elif old != record:
                report.updated += 1
            else:
                report.unchanged += 1
                continue
            changed.append(record)
    if changed:
        await repository.upsert_fundamentals(changed)


async def _write_earnings(
    events: Sequence[EarningsEvent], repository: MarketDataRepository, report: FileReport
) -> None:
    changed: list[EarningsEvent] = []
    for symbol, group in _by_symbol(events).items():
        stored = {e.report_date: e for e in await repository.earnings(symbol)}
        for event in group:
            old = stored.get(event.report_date)
            if old is None:
                report.inserted += 1
            elif old != event:
                report.updated += 1
            else:
                report.unchanged += 1
                continue
            changed.append(event)
    if changed:
        await repository.upsert_earnings(changed)


def _by_symbol(items: Sequence[_Record]) -> dict[str, list[_Record]]:
    groups: dict[str, list[_Record]] = {}
    for item in items:
        groups.setdefault(item.symbol, []).append(item)
    return groups


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
