"""What the caller tells an import: column overrides, a date format, a ticker, a snapshot date, a source name."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from marketdesk.errors import Rejected

SYMBOL_PATTERN = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=/]{0,19}$")
"""What a ticker looks like: SPY, BRK.B, BF-B, ^GSPC, EURUSD=X."""


class FileError(Rejected):
    """A file that cannot be imported at all (unreadable, empty, unknown layout). Nothing of it is written."""


@dataclass(frozen=True)
class ImportOptions:
    """How to read the files of one import.

    - `column_map`: our field name → the file's column name, overriding what detection chose
      (`--map close=Last`).
    - `date_format`: a strptime format such as `%d/%m/%Y`, instead of detecting it.
    - `symbol`: the ticker of a one-ticker file whose name does not tell it.
    - `as_of`: the date of a fundamentals snapshot that carries none.
    - `source`: recorded with what is stored (corporate actions, fundamentals, instruments).
    - `universe`: the stored universe that a constituents list replaces.
    """

    column_map: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    symbol: str | None = None
    as_of: date | None = None
    source: str = "files"
    universe: str = "sp500"

    def check(self, fields: Collection[str]) -> None:
        """Refuse options that cannot work, saying what to change. `fields` are the mappable field names."""
        unknown = sorted(set(self.column_map) - set(fields))
        if unknown:
            raise Rejected(
                f"--map names unknown field(s) {', '.join(unknown)}",
                hint=f"Map one of: {', '.join(fields)} (as --map our=theirs).",
            )
        empty = sorted(k for k, v in self.column_map.items() if not str(v).strip())
        if empty:
            raise Rejected(f"--map gives no column for {', '.join(empty)}", hint="Write it as --map close=Last.")
        if self.date_format is not None and "%" not in self.date_format:
            raise Rejected(
                f"--date-format {self.date_format!r} has no % directive",
                hint="Write a strptime format such as %d/%m/%Y or %Y%m%d.",
            )
        if self.symbol is not None and not SYMBOL_PATTERN.match(normalize_symbol(self.symbol)):
            raise Rejected(
                f"--symbol {self.symbol!r} does not look like a ticker", hint="Use letters, digits and . - ^"
            )
        if not self.universe.strip():
            raise Rejected(
                "the universe name is empty", hint="Name the universe a constituents list fills, e.g. sp500."
            )
        if not self.source.strip():
            raise Rejected(
                "the source name is empty", hint="Leave the default 'files' or name where the data came from."
            )


def normalize_symbol(text: str) -> str:
    """A ticker as we store it: trimmed and upper case."""
    return text.strip().upper()
