"""What an import did, file by file: the layout it saw, the rows it took and refused (with reasons), and
what changed in the store. JSON-able for `--json`, with a short summary for people."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from marketdesk.kit.jsonutil import to_jsonable

SAMPLES_PER_REASON = 5
"""How many example rows each reason keeps per file; the counts are always complete."""

SAMPLES_PER_REPORT = 50
"""How many example rows the whole report keeps across its files."""


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """One refused row: the file, its line (the row number in a Parquet file) and what was wrong."""

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{self.file}: {where}{self.reason}"


@dataclass
class FileReport:
    """One file's import.

    `rejections` counts refused rows by reason (e.g. "high < low"); `samples` holds a few of them with
    their line numbers. `error` is set when the file could not be imported at all; nothing of it was
    written then.
    """

    path: str
    layout: str | None = None
    details: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    actions_inserted: int = 0
    instruments: int = 0
    universe: str | None = None
    symbols: list[str] = field(default_factory=list)
    rejections: dict[str, int] = field(default_factory=dict)
    samples: list[RejectedRow] = field(default_factory=list)
    error: str | None = None

    def reject(self, reason: str, count: int, examples: list[tuple[int | None, str]]) -> None:
        """Count `count` rows refused for `reason`, keeping the first few `examples` as (line, message)."""
        if count <= 0:
            return
        self.rows_rejected += count
        self.rejections[reason] = self.rejections.get(reason, 0) + count
        for line, message in examples[:SAMPLES_PER_REASON]:
            self.samples.append(RejectedRow(self.path, line, message))

    def __str__(self) -> str:
        return self.path

    def fail(self, message: str) -> None:
        """Mark the whole file as not imported, with one line saying why."""
        self.error = message
        self.rows_accepted = 0

    def line(self) -> str:
        """One line for people: layout and counts, or the error."""
        if self.error is not None:
            return f"{self.path}: not imported: {self.error}"
        parts = [f"{self.path}: {self.layout or 'unknown layout'}", f"{self.rows_read:,} read"]
        parts.append(f"{self.rows_accepted:,} accepted")
        if self.rows_rejected:
            reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(self.rejections.items(), key=lambda kv: -kv[1]))
            parts.append(f"{self.rows_rejected:,} rejected ({reasons})")
        parts.append(f"{self.inserted:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged")
        return " · ".join(parts)


@dataclass
class ImportReport:
    """The result of `import_prices` or `import_fundamentals` over several files."""

    kind: str
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file could be read (some rows may still have been rejected)."""
        return all(f.error is None for f in self.files)

    @property
    def errors(self) -> list[str]:
        """One line per file that could not be imported: its path and why."""
        return [f"{f.path}: {f.error}" for f in self.files if f.error is not None]

    @property
    def failed_files(self) -> list[str]:
        """Paths of the files that could not be imported at all."""
        return [f.path for f in self.files if f.error is not None]

    @property
    def accepted(self) -> int:
        """Rows accepted over all files (the same as `rows_accepted`)."""
        return self.rows_accepted

    @property
    def rejected(self) -> int:
        """Rows rejected over all files (the same as `rows_rejected`)."""
        return self.rows_rejected

    def _sum(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    @property
    def rows_read(self) -> int:
        """Rows read over all files (blank lines are not rows)."""
        return self._sum("rows_read")

    @property
    def rows_accepted(self) -> int:
        """Rows accepted over all files."""
        return self._sum("rows_accepted")

    @property
    def rows_rejected(self) -> int:
        """Rows rejected over all files."""
        return self._sum("rows_rejected")

    @property
    def inserted(self) -> int:
        """Records new to the store."""
        return self._sum("inserted")

    @property
    def updated(self) -> int:
        """Stored records whose values changed."""
        return self._sum("updated")

    @property
    def unchanged(self) -> int:
        """Records the store already held as they are."""
        return self._sum("unchanged")

    @property
    def symbols(self) -> list[str]:
        """Every symbol the import touched, sorted."""
        return sorted({s for f in self.files for s in f.symbols})

    @property
    def rejections(self) -> dict[str, int]:
        """Rejected rows by reason over all files, most frequent first."""
        total: Counter[str] = Counter()
        for report in self.files:
            total.update(report.rejections)
        return dict(total.most_common())

    @property
    def samples(self) -> list[RejectedRow]:
        """A few rejected rows, with file and line."""
        return [s for f in self.files for s in f.samples][:SAMPLES_PER_REPORT]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: totals first, then each file."""
        data = {
            "kind": self.kind,
            "ok": self.ok,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "symbols": self.symbols,
            "rejections": self.rejections,
            "samples": [{"file": s.file, "line": s.line, "reason": s.reason} for s in self.samples],
            "errors": self.errors,
            "files": [
                {
                    **{k: v for k, v in vars(f).items() if k != "samples"},
                    "samples": [{"line": s.line, "reason": s.reason} for s in f.samples],
                }
                for f in self.files
            ],
        }
        result: dict[str, Any] = to_jsonable(data)
        return result

    def summary(self) -> str:
        """A few lines for people: totals, then one line per file, then a few rejected rows."""
        noun = "file" if len(self.files) == 1 else "files"
        head = (
            f"{self.kind}: {len(self.files)} {noun}, {self.rows_read:,} rows read, {self.rows_accepted:,} accepted, "
            f"{self.rows_rejected:,} rejected; store: {self.inserted:,} new, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged; {len(self.symbols):,} symbols"
        )
        lines = [head, *(f"  {f.line()}" for f in self.files)]
        shown = self.samples[:5]
        if shown:
            lines.append("  examples of rejected rows:")
            lines.extend(f"    {s}" for s in shown)
        return "\n".join(lines)
