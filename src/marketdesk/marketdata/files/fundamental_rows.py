"""Fundamentals rows: turn a file read as text into fundamentals, instruments, earnings events and a universe.

The rules of each layout, and the quirks of the shared data sets they handle:
- snapshot: no date column → `--as-of` is required; a `snapshot_date` column dates each row instead.
  When most rows have the 52-week low above the high, the two columns are swapped back (the 2018-02 file).
  A dividend yield whose positive values have a median above 0.2 is in percent and is divided by 100
  (fractions elsewhere). A "Sector" column that holds GICS sub-industries is stored as the industry.
- 10-K: `reported` is the period end plus `TEN_K_REPORT_LAG_DAYS` (the SEC's latest 10-K deadline), so a
  point-in-time screen never sees a filing before it could have been public. Free cash flow is operating
  cash flow + capital expenditures (capex is negative there); total debt is long-term debt + short-term
  debt (the current portion of long-term debt); EBITDA is EBIT + depreciation.
- etf: expense ratio in percent; net assets become a snapshot `market_cap` dated `--as-of`, or by default
  December 31 of the last year the file reports returns for (its `fund_return_YYYY` columns).
- earnings: rows without an actual EPS (scheduled reports) are kept with their estimate.
- constituents: instruments with sector and industry, and the stored universe (`ImportOptions.universe`).

Values are floats or None, never NaN or infinity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from marketdesk.marketdata.files.checks import RowChecks, number_text
from marketdesk.marketdata.files.dates import detect_format, given_format, parse_days
from marketdesk.marketdata.files.fundamental_layouts import FundamentalsLayout
from marketdesk.marketdata.files.options import SYMBOL_PATTERN, FileError, ImportOptions, normalize_symbol
from marketdesk.marketdata.files.reader import numbers
from marketdesk.marketdata.files.report import FileReport
from marketdesk.marketdata.port import (
    FUNDAMENTAL_FIELDS,
    GICS_SECTORS,
    AssetClass,
    EarningsEvent,
    Fundamentals,
    SymbolInfo,
)

TEN_K_REPORT_LAG_DAYS = 90
"""Days from a fiscal year end to when its 10-K is assumed public: the SEC deadline for the slowest filers."""

PERCENT_YIELD_MEDIAN = 0.2
"""A dividend-yield column whose positive values have a median above this is in percent, not a fraction."""

LEGACY_SECTORS = frozenset({"Telecommunication Services", "Telecommunications Services"})
"""GICS sector names from before the 2018 reshuffle into Communication Services."""


@dataclass
class Batch:
    """What one fundamentals file yields."""

    fundamentals: list[Fundamentals] = field(default_factory=list)
    instruments: list[SymbolInfo] = field(default_factory=list)
    earnings: list[EarningsEvent] = field(default_factory=list)
    universe: list[str] | None = None


class FundamentalRows:
    """The rows of one file, checked: text and number columns by our field names, dates and tickers."""

    def __init__(
        self,
        frame: pd.DataFrame,
        layout: FundamentalsLayout,
        options: ImportOptions,
        report: FileReport,
        lines: np.ndarray,
        known_names: dict[str, str],
    ) -> None:
        self.frame = frame
        self.layout = layout
        self.options = options
        self.report = report
        self.known_names = known_names
        self.n = len(frame)
        self.checks = RowChecks(lines)
        self.values: dict[str, np.ndarray] = {}

    # ---- columns ------------------------------------------------------------------------------------------

    def text(self, field: str) -> list[str | None]:
        """A text column, trimmed; None where empty or absent."""
        column = self.layout.columns.get(field)
        if column is None:
            return [None] * self.n
        out: list[str | None] = []
        for value in self.frame[column].tolist():
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()
            out.append(text or None)
        return out

    def number(self, field: str) -> np.ndarray:
        """A number column as float64, NaN where empty or absent; rows with text that is not a number are refused."""
        if field in self.values:
            return self.values[field]
        column = self.layout.columns.get(field)
        if column is None:
            values = np.full(self.n, np.nan)
        else:
            series = self.frame[column]
            values, bad = numbers(pa.array(series.to_numpy(), from_pandas=True))
            if bad.any():
                raw = series.tolist()
                self.checks.add("unparseable number", bad, lambda i: f"{field} {raw[i]!r} is not a number")
            infinite = np.isinf(values)
            if infinite.any():
                # a ratio over a zero denominator (P/E with EPS 0): unknown, not a reason to drop the row
                values = np.where(infinite, np.nan, values)
                self.report.details.append(f"{field}: {int(infinite.sum()):,} infinite values stored as missing")
        self.values[field] = values
        return values

    def symbols(self) -> list[str]:
        """The ticker of every row, upper case; rows without a plausible ticker are refused."""
        raw = self.text("symbol")
        symbols = [normalize_symbol(s) if s else "" for s in raw]
        missing = np.array([not s for s in symbols], dtype=bool)
        bad = np.array([bool(s) and not SYMBOL_PATTERN.match(s) for s in symbols], dtype=bool)
        self.checks.add("missing ticker", missing, lambda i: "missing ticker")
        self.checks.add("bad ticker", bad, lambda i: f"ticker {raw[i]!r} does not look like a ticker")
        return symbols

    def dates(self) -> tuple[np.ndarray, np.ndarray]:
        """Days since 1970 of the date column, and where they parsed."""
        column = self.layout.columns["date"]
        series = self.frame[column]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            stamps = series.to_numpy(dtype="datetime64[D]")
            ok = ~np.isnat(stamps)
            self.checks.add("missing date", ~ok, lambda i: "missing date")
            return np.where(ok, stamps.astype(np.int64), 0), ok
        texts = self.text("date")
        text = pa.array([t or "" for t in texts], type=pa.string())
        empty = np.array([t is None for t in texts], dtype=bool)
        fmt = given_format(self.options.date_format) if self.options.date_format else detect_format(text, column)
        self.report.details.append(fmt.describe())
        days, ok = parse_days(text, fmt.strptime)
        self.checks.add("missing date", empty, lambda i: "missing date")
        self.checks.add(
            "unparseable date", ~ok & ~empty, lambda i: f"date {text[i].as_py()!r} does not parse as {fmt.label}"
        )
        return days, ok

    def accept(self, keys: list[tuple[str, int]] | list[str], what: Callable[[int], str]) -> np.ndarray:
        """Apply the checks and refuse repeated keys after the first good row; return the accepted rows."""
        reason = self.checks.assign(self.n)
        duplicate = np.zeros(self.n, dtype=bool)
        seen: set[object] = set()
        for i in np.flatnonzero(reason == 0).tolist():
            key = keys[i]
            if key in seen:
                duplicate[i] = True
            seen.add(key)
        self.checks.add("duplicate", duplicate, lambda i: f"duplicate {what(i)}")
        reason = self.checks.assign(self.n)
        for key, count, examples in self.checks.rejections(reason):
            self.report.reject(key, count, examples)
        accepted: np.ndarray = reason == 0
        self.report.rows_read = self.n
        self.report.rows_accepted = int(accepted.sum())
        return accepted

    def sector_and_industry(self) -> tuple[list[str | None], list[str | None]]:
        """The sector and industry columns; a 'sector' column of GICS sub-industries becomes the industry."""
        sectors, industries = self.text("sector"), self.text("industry")
        present = {s for s in sectors if s}
        if present and not present <= set(GICS_SECTORS) | LEGACY_SECTORS:
            example = sorted(present - set(GICS_SECTORS) - LEGACY_SECTORS)[0]
            self.report.details.append(
                f"column {self.layout.columns['sector']!r} holds GICS sub-industries (e.g. {example!r}): "
                "stored as the industry"
            )
            return [None] * self.n, sectors
        return sectors, industries

    def name(self, symbol: str, text: str | None) -> str:
        """The instrument's name: the file's, else the one already stored, else the ticker."""
        return text or self.known_names.get(symbol) or symbol

    # ---- layouts ------------------------------------------------------------------------------------------

    def snapshot(self) -> Batch:
        symbols = self.symbols()
        days, dated = self._snapshot_dates()
        fields = [f for f in FUNDAMENTAL_FIELDS if self.layout.has(f)]
        values = {f: self.number(f) for f in fields}
        if "dividend_yield" in values:
            values["dividend_yield"] = self._yield_as_fraction(values["dividend_yield"], "dividend yield")
        self._fix_week52(values)
        price = values.get("price")
        if price is not None:
            self.checks.add("non-positive price", price <= 0, lambda i: f"non-positive price {number_text(price[i])}")
        accepted = self.accept([(s, int(d)) for s, d in zip(symbols, days, strict=True)], self._what(symbols, days))
        names = self.text("name")
        sectors, industries = self.sector_and_industry()
        batch = Batch()
        latest: dict[str, tuple[int, SymbolInfo]] = {}
        for i in np.flatnonzero(accepted).tolist():
            symbol, day = symbols[i], int(days[i])
            batch.fundamentals.append(self._record(symbol, day, "snapshot", None, values, i))
            info = SymbolInfo(symbol, self.name(symbol, names[i]), sector=sectors[i], industry=industries[i])
            if symbol not in latest or latest[symbol][0] <= day:
                latest[symbol] = (day, info)
        if self.layout.has("name") or self.layout.has("sector"):
            batch.instruments = [info for _, info in latest.values()]
        if not dated:
            self.report.details.append(f"snapshot dated {self.options.as_of} (--as-of)")
        return batch

    def _snapshot_dates(self) -> tuple[np.ndarray, bool]:
        if self.layout.has("date"):
            days, _ = self.dates()
            return days, True
        return self._as_of(), False

    def _as_of(self, default: date | None = None, why: str = "") -> np.ndarray:
        as_of = self.options.as_of or default
        if as_of is None:
            raise FileError(
                "the file has no date column, so the snapshot date is unknown",
                hint="Pass --as-of YYYY-MM-DD, the day the snapshot was taken.",
            )
        if self.options.as_of is None:
            self.report.details.append(f"snapshot dated {as_of} ({why}; --as-of dates it otherwise)")
        day = (np.datetime64(as_of, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64)
        return np.full(self.n, day, dtype=np.int64)

    def _yield_as_fraction(self, values: np.ndarray, label: str) -> np.ndarray:
        positive = values[values > 0]
        if len(positive) and float(np.median(positive)) > PERCENT_YIELD_MEDIAN:
            self.report.details.append(
                f"{label} is in percent (median {float(np.median(positive)):.2f}): divided by 100 to a fraction"
            )
            return values / 100
        return values

    def _fix_week52(self, values: dict[str, np.ndarray]) -> None:
        if "week52_low" not in values or "week52_high" not in values:
            return
        low, high = values["week52_low"], values["week52_high"]
        both = ~np.isnan(low) & ~np.isnan(high)
        inverted = both & (low > high)
        if both.any() and inverted.sum() * 2 > both.sum():
            self.report.details.append(
                f"52-week low and high are swapped in {int(inverted.sum()):,} of {int(both.sum()):,} rows: swapped back"
            )
            values["week52_low"], values["week52_high"] = high, low
            low, high = high, low
        self.checks.add(
            "52-week low > high",
            both & (low > high),
            lambda i: f"52-week low {number_text(low[i])} > high {number_text(high[i])}",
        )

    def ten_k(self) -> Batch:
        symbols = self.symbols()
        days, _ = self.dates()
        for f in (*FUNDAMENTAL_FIELDS, "long_term_debt", "short_term_debt", "ebit", "depreciation"):
            if self.layout.has(f):
                self.number(f)
        values = dict(self.values)
        values["free_cash_flow"] = self._derive(values, "free_cash_flow", "operating_cash_flow", "capex")
        values["total_debt"] = self._derive(values, "total_debt", "long_term_debt", "short_term_debt", partial=True)
        values["ebitda"] = self._derive(values, "ebitda", "ebit", "depreciation")
        accepted = self.accept([(s, int(d)) for s, d in zip(symbols, days, strict=True)], self._what(symbols, days))
        self.report.details.append(
            f"reported = period end + {TEN_K_REPORT_LAG_DAYS} days (the latest 10-K deadline); "
            "free cash flow = operating cash flow + capex; total debt = long-term + short-term debt"
        )
        lag = timedelta(days=TEN_K_REPORT_LAG_DAYS)
        batch = Batch()
        for i in np.flatnonzero(accepted).tolist():
            end = _date(int(days[i]))
            batch.fundamentals.append(self._record(symbols[i], int(days[i]), "FY", end + lag, values, i))
        return batch

    def etf(self) -> Batch:
        symbols = self.symbols()
        days = self._as_of(*self._etf_default_date())
        expense = self.number("expense_ratio_pct")
        self.checks.add("negative expense ratio", expense < 0, lambda i: f"expense ratio {number_text(expense[i])} < 0")
        values = {f: self.number(f) for f in ("market_cap", "pe", "pb", "ps")}
        values["dividend_yield"] = self.number("dividend_yield_pct") / 100
        accepted = self.accept(symbols, lambda i: f"ticker {symbols[i]}")
        names, categories, currencies = self.text("name"), self.text("category"), self.text("currency")
        batch = Batch()
        for i in np.flatnonzero(accepted).tolist():
            symbol = symbols[i]
            currency = currencies[i] or "USD"
            currency = currency if re.fullmatch(r"[A-Z]{3}", currency) else "USD"
            batch.instruments.append(
                SymbolInfo(
                    symbol,
                    self.name(symbol, names[i]),
                    asset_class=AssetClass.ETF,
                    industry=categories[i],
                    currency=currency,
                    expense_ratio_pct=_value(expense[i]),
                )
            )
            record = self._record(symbol, int(days[i]), "snapshot", None, values, i)
            if any(getattr(record, f) is not None for f in values):
                batch.fundamentals.append(record)
        self.report.details.append("expense ratio in percent; net assets stored as the snapshot's market_cap")
        return batch

    def _etf_default_date(self) -> tuple[date | None, str]:
        years = [int(m.group(1)) for c in self.frame.columns if (m := re.fullmatch(r"fund_return_(\d{4})", str(c)))]
        if not years:
            return None, ""
        return date(max(years), 12, 31), f"the end of {max(years)}, the last year the file reports returns for"

    def earnings(self) -> Batch:
        symbols = self.symbols()
        days, _ = self.dates()
        estimate, actual = self.number("eps_estimate"), self.number("eps_actual")
        surprise = self.number("surprise_pct")
        accepted = self.accept([(s, int(d)) for s, d in zip(symbols, days, strict=True)], self._what(symbols, days))
        batch = Batch()
        for i in np.flatnonzero(accepted).tolist():
            batch.earnings.append(
                EarningsEvent(
                    symbols[i],
                    _date(int(days[i])),
                    eps_estimate=_value(estimate[i]),
                    eps_actual=_value(actual[i]),
                    surprise_pct=_value(surprise[i]),
                    source=self.options.source,
                )
            )
        scheduled = sum(1 for e in batch.earnings if e.eps_actual is None)
        if scheduled:
            self.report.details.append(f"{scheduled:,} reports without an actual EPS kept as scheduled estimates")
        return batch

    def constituents(self) -> Batch:
        symbols = self.symbols()
        accepted = self.accept(symbols, lambda i: f"ticker {symbols[i]}")
        names = self.text("name")
        sectors, industries = self.sector_and_industry()
        members = [symbols[i] for i in np.flatnonzero(accepted)]
        instruments = [
            SymbolInfo(symbols[i], self.name(symbols[i], names[i]), sector=sectors[i], industry=industries[i])
            for i in np.flatnonzero(accepted)
        ]
        self.report.details.append(f"members replace the stored universe {self.options.universe!r}")
        return Batch(instruments=instruments, universe=members)

    def generic(self) -> Batch:
        symbols = self.symbols()
        days = self.dates()[0] if self.layout.has("date") else self._as_of()
        periods = self.text("period")
        fields = [f for f in FUNDAMENTAL_FIELDS if self.layout.has(f)]
        values = {f: self.number(f) for f in fields}
        keys = [(f"{s}|{p or 'snapshot'}", int(d)) for s, p, d in zip(symbols, periods, days, strict=True)]
        accepted = self.accept(keys, self._what(symbols, days))
        batch = Batch()
        for i in np.flatnonzero(accepted).tolist():
            batch.fundamentals.append(self._record(symbols[i], int(days[i]), periods[i] or "snapshot", None, values, i))
        return batch

    # ---- helpers ------------------------------------------------------------------------------------------

    def _derive(
        self, values: dict[str, np.ndarray], target: str, first: str, second: str, partial: bool = False
    ) -> np.ndarray:
        """`target` as given, else `first + second` (with `partial`, either one alone when the other is missing)."""
        nothing = np.full(self.n, np.nan)
        a, b = values.get(first, nothing), values.get(second, nothing)
        derived = np.where(np.isnan(a), b, np.where(np.isnan(b), a, a + b)) if partial else a + b
        given = values.get(target)
        return derived if given is None else np.where(np.isnan(given), derived, given)

    def _what(self, symbols: list[str], days: np.ndarray) -> Callable[[int], str]:
        return lambda i: f"{_date(int(days[i]))} for {symbols[i]}"

    def _record(
        self, symbol: str, day: int, period: str, reported: date | None, values: dict[str, np.ndarray], i: int
    ) -> Fundamentals:
        found = {f: _value(values[f][i]) for f in FUNDAMENTAL_FIELDS if f in values}
        return Fundamentals(symbol, _date(day), period, reported, self.options.source, **found)


def _value(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=day)
