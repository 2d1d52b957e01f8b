"""Price file layouts: which column holds which field, where the ticker comes from, and a sentence that
explains it in the import report.

Recognised:
- **long**: a ticker column (`ticker`, `symbol`, `Name`, …) and one row per ticker and day;
- **stooq**: Stooq's export, `<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>`;
- **yahoo**: `Date,Open,High,Low,Close,Adj Close,Volume` for one ticker;
- **one-ticker**: a date and a close (open/high/low/volume optional) for one ticker;
- **actions**: a date and dividends or split coefficients but no prices (`date,ticker,dividend_amount`):
  only corporate actions are stored.

A one-ticker file takes its ticker from `--symbol`, else from its file name (see `symbol_from_filename`).
`--map our=theirs` overrides any detected column and makes any file readable whose columns have other names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from marketdesk.marketdata.files.options import SYMBOL_PATTERN, FileError, normalize_symbol

PRICE_FIELDS: tuple[str, ...] = (
    "date",
    "symbol",
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
    "dividend",
    "split",
    "period",
)
"""Fields a price file can fill; `--map` takes these names."""

# our field → the names a file may use for it, best first, compared after `_normal`
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": ("date", "timestamp", "datetime", "day", "tradedate", "tradingday", "pricedate", "asofdate"),
    "symbol": ("ticker", "symbol", "tickersymbol", "name", "code", "sym"),
    "open": ("open", "openprice", "opening"),
    "high": ("high", "highprice", "dayhigh"),
    "low": ("low", "lowprice", "daylow"),
    "close": ("close", "closeprice", "closingprice", "last", "lastprice", "price"),
    "adj_close": ("adjclose", "adjustedclose", "adjustedcloseprice", "adjclosingprice"),
    "volume": ("volume", "vol", "totalvolume"),
    "dividend": ("dividendamount", "dividend", "dividends", "dividendpershare"),
    "split": ("splitcoefficient", "splitfactor", "splitratio", "stocksplits", "split"),
    "period": ("per", "period"),
}

LAYOUTS_RECOGNISED = (
    "long (date, ticker|symbol|Name, open, high, low, close[, adjusted_close, volume, dividend_amount, "
    "split_coefficient]); Stooq (<TICKER>,<PER>,<DATE>,…,<CLOSE>,<VOL>); Yahoo (Date,Open,High,Low,Close,"
    "Adj Close,Volume); one ticker per file (Date and Close at least); corporate actions (date, ticker, "
    "dividend_amount|split_coefficient)"
)

_FILE_SUFFIXES = (".gz", ".csv", ".txt", ".tsv", ".parquet", ".pq")


@dataclass(frozen=True)
class PriceLayout:
    """How to read one price file."""

    name: str
    columns: Mapping[str, str]
    symbol: str | None = None  # the ticker of a one-ticker file
    symbol_origin: str = ""
    ignored: tuple[str, ...] = ()
    mapped: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def strip_us_suffix(self) -> bool:
        """Stooq names US tickers `SPY.US`; we store `SPY`."""
        return self.name == "stooq"

    def describe(self) -> list[str]:
        """Sentences for the report: the layout, the columns used, where the ticker comes from."""
        titles = {
            "long": "long file: one row per ticker and day",
            "stooq": "Stooq export: one row per ticker and day, tickers without their '.US' suffix",
            "yahoo": "Yahoo download: one ticker per file",
            "one-ticker": "one ticker per file",
            "actions": "corporate actions only (dividends, splits): no prices",
        }
        used = ", ".join(f"{ours}={theirs!r}" for ours, theirs in self.columns.items())
        lines = [titles[self.name], f"columns: {used}"]
        if self.mapped:
            lines.append(f"set with --map: {', '.join(self.mapped)}")
        if self.symbol is not None:
            lines.append(f"ticker {self.symbol} {self.symbol_origin}")
        if self.ignored:
            lines.append(f"ignored columns: {', '.join(self.ignored)}")
        return lines + list(self.notes)


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-.<>/()]", "", name).lower()


def detect_price_layout(
    columns: Sequence[str], path: Path, column_map: Mapping[str, str], symbol: str | None
) -> PriceLayout:
    """Decide how to read a price file from its header; raise `FileError` naming what is missing."""
    missing = [theirs for theirs in column_map.values() if theirs not in columns]
    if missing:
        raise FileError(
            f"--map names column(s) {', '.join(repr(m) for m in missing)} that the file lacks; "
            f"columns found: {', '.join(columns)}",
            hint="Map to one of the columns found.",
        )
    chosen: dict[str, str] = dict(column_map)
    by_normal: dict[str, str] = {}
    for column in columns:
        by_normal.setdefault(_normal(column), column)
    for ours, names in _SYNONYMS.items():
        if ours in chosen:
            continue
        for candidate in names:
            if candidate in by_normal and by_normal[candidate] not in chosen.values():
                chosen[ours] = by_normal[candidate]
                break
    actions_only = "close" not in chosen and ("dividend" in chosen or "split" in chosen)
    if "date" not in chosen or ("close" not in chosen and not actions_only):
        raise FileError(
            f"unrecognised price layout; columns found: {', '.join(columns) or 'none'}",
            hint=(
                f"Layouts recognised: {LAYOUTS_RECOGNISED}. Name your columns with --map, "
                "e.g. --map date=Day --map close=Last --map symbol=Ticker."
            ),
        )
    ordered = {f: chosen[f] for f in PRICE_FIELDS if f in chosen}
    ignored = tuple(c for c in columns if c not in ordered.values())
    mapped = tuple(f for f in PRICE_FIELDS if f in column_map)
    notes = () if actions_only else _fill_notes(ordered)
    if "symbol" in ordered:
        if symbol is not None:
            raise FileError(
                f"the file has a ticker column ({ordered['symbol']!r}); --symbol only names one-ticker files",
                hint="Drop --symbol, or --map symbol=<column> to use another column.",
            )
        stooq = any(c.startswith("<") and c.endswith(">") for c in columns)
        name = "actions" if actions_only else "stooq" if stooq else "long"
        return PriceLayout(name, ordered, ignored=ignored, mapped=mapped, notes=notes)
    name = "yahoo" if "adj_close" in ordered and _normal(ordered["adj_close"]) == "adjclose" else "one-ticker"
    name = "actions" if actions_only else name
    if symbol is not None:
        ticker, origin = normalize_symbol(symbol), "given with --symbol"
    else:
        ticker, origin = symbol_from_filename(path), f"from the file name ({path.name}); --symbol names it otherwise"
    return PriceLayout(name, ordered, ticker, origin, ignored, mapped, notes)


def _fill_notes(columns: Mapping[str, str]) -> tuple[str, ...]:
    notes = []
    absent = [f for f in ("open", "high", "low") if f not in columns]
    if absent:
        notes.append(f"no {'/'.join(absent)} column: taken as the close")
    if "adj_close" not in columns:
        notes.append("no adjusted close: adj_close = close (prices as the file gives them)")
    if "volume" not in columns:
        notes.append("no volume column: volume = 0")
    return tuple(notes)


def symbol_from_filename(path: Path) -> str:
    """The ticker a file name tells: `SPY.csv` → SPY, `^GSPC.csv` → ^GSPC, `spy.us.txt` → SPY,
    `gspc_daily_yahoo_1927-12-30_2020-06-05.csv` → GSPC (the part before the first underscore or space)."""
    stem = path.name
    while True:
        lowered = stem.lower()
        suffix = next((s for s in _FILE_SUFFIXES if lowered.endswith(s)), None)
        if suffix is None:
            break
        stem = stem[: -len(suffix)]
    token = normalize_symbol(re.split(r"[_\s]", stem.strip(), maxsplit=1)[0])
    if token.endswith(".US"):
        token = token[:-3]
    if not SYMBOL_PATTERN.match(token):
        raise FileError(
            f"cannot tell the ticker from the file name {path.name!r}",
            hint="Pass --symbol TICKER, or add a ticker column.",
        )
    return token
