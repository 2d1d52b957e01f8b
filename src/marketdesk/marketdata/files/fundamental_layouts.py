"""Fundamentals file layouts: how to recognise each one from its header, and which column feeds which field.

Recognised, in the order they are tried:
- **earnings**: report dates with EPS estimate and actual (`dates,eps_estimate,eps_actual,eps_pct_diff,ticker`);
- **10-K**: annual filings (`Ticker Symbol`, `Period Ending`, `Total Revenue`, … as in the Kaggle NYSE set);
- **etf**: an ETF universe (`fund_name`, `net_annual_expense_ratio_fund`, `net_assets`, …);
- **snapshot**: S&P 500 constituents financials (`Symbol`, `Price`, `Price/Earnings`, `Market Cap`, …),
  optionally a panel with a `snapshot_date` per row;
- **constituents**: a list of tickers with their GICS sector (`Symbol`, `Security`/`Name`, `GICS Sector`, …);
- **generic**: a ticker column and columns named after our fields (`revenue`, `eps`, `period_end`, …).

Column names are compared without case, spaces or punctuation. `--map our=theirs` overrides any column and
adds fields to the layouts that store fundamentals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from marketdesk.marketdata.files.options import FileError
from marketdesk.marketdata.port import FUNDAMENTAL_FIELDS

_TEXT_FIELDS = ("symbol", "date", "name", "sector", "industry", "category", "currency", "period")
_EARNINGS_FIELDS = ("eps_estimate", "eps_actual", "surprise_pct")
_EXTRA_NUMBERS = (
    "long_term_debt",
    "short_term_debt",
    "ebit",
    "depreciation",
    "expense_ratio_pct",
    "dividend_yield_pct",
)
FUNDAMENTALS_MAP_FIELDS: tuple[str, ...] = (*_TEXT_FIELDS, *FUNDAMENTAL_FIELDS, *_EARNINGS_FIELDS, *_EXTRA_NUMBERS)
"""Fields a fundamentals file can fill; `--map` takes these names."""

# layout → our field → names the file may use (compared after `normal`), best first
_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "earnings": {
        "symbol": ("ticker", "symbol"),
        "date": ("dates", "date", "reportdate", "earningsdate"),
        "eps_estimate": ("epsestimate", "estimate", "consensuseps"),
        "eps_actual": ("epsactual", "actual", "reportedeps"),
        "surprise_pct": ("epspctdiff", "surprisepct", "surprise"),
    },
    "10-K": {
        "symbol": ("tickersymbol", "ticker", "symbol"),
        "date": ("periodending", "periodend"),
        "revenue": ("totalrevenue", "revenue"),
        "gross_profit": ("grossprofit",),
        "operating_income": ("operatingincome",),
        "net_income": ("netincome",),
        "eps": ("earningspershare",),
        "operating_cash_flow": ("netcashflowoperating",),
        "capex": ("capitalexpenditures",),
        "total_assets": ("totalassets",),
        "total_liabilities": ("totalliabilities",),
        "total_equity": ("totalequity",),
        "long_term_debt": ("longtermdebt",),
        "short_term_debt": ("shorttermdebtcurrentportionoflongtermdebt", "shorttermdebt"),
        "cash": ("cashandcashequivalents",),
        "current_assets": ("totalcurrentassets",),
        "current_liabilities": ("totalcurrentliabilities",),
        "interest_expense": ("interestexpense",),
        "shares_outstanding": ("estimatedsharesoutstanding", "sharesoutstanding"),
        "ebit": ("earningsbeforeinterestandtax",),
        "depreciation": ("depreciation",),
    },
    "etf": {
        "symbol": ("fundname", "ticker", "symbol"),
        "name": ("fundextendedname", "name"),
        "category": ("category",),
        "currency": ("currency",),
        "expense_ratio_pct": ("netannualexpenseratiofund", "expenseratio"),
        "market_cap": ("netassets",),
        "dividend_yield_pct": ("fundyield",),
        "pe": ("priceearnings",),
        "pb": ("pricebook",),
        "ps": ("pricesales",),
    },
    "snapshot": {
        "symbol": ("symbol", "ticker"),
        "name": ("name", "security"),
        "sector": ("sector", "gicssector"),
        "date": ("snapshotdate", "asof", "date"),
        "price": ("price",),
        "pe": ("priceearnings", "pe"),
        "dividend_yield": ("dividendyield",),
        "eps": ("earningsshare", "eps"),
        "week52_low": ("52weeklow",),
        "week52_high": ("52weekhigh",),
        "market_cap": ("marketcap",),
        "ebitda": ("ebitda",),
        "ps": ("pricesales",),
        "pb": ("pricebook",),
    },
    "constituents": {
        "symbol": ("symbol", "tickersymbol", "ticker"),
        "name": ("security", "name", "company", "companyname"),
        "sector": ("gicssector", "sector"),
        "industry": ("gicssubindustry", "subindustry", "industry"),
    },
    "generic": {
        "symbol": ("symbol", "ticker", "tickersymbol"),
        "date": ("periodend", "date", "asof", "snapshotdate"),
        "period": ("period",),
        **{f: (re.sub(r"[^a-z0-9]", "", f),) for f in FUNDAMENTAL_FIELDS},
    },
}

# what must be found for a layout to be chosen
_REQUIRED: dict[str, tuple[str, ...]] = {
    "earnings": ("symbol", "date", "eps_estimate", "eps_actual"),
    "10-K": ("symbol", "date", "revenue", "total_assets"),
    "etf": ("symbol", "expense_ratio_pct"),
    "snapshot": ("symbol", "price", "pe", "market_cap"),
    "constituents": ("symbol", "sector"),
    "generic": ("symbol",),
}

TITLES: dict[str, str] = {
    "earnings": "earnings dates with EPS estimate and actual → earnings events",
    "10-K": "annual 10-K fundamentals → fundamentals (FY)",
    "etf": "ETF universe → instruments (ETF) and a net-assets snapshot",
    "snapshot": "constituents financials snapshot → fundamentals (snapshot) and instruments",
    "constituents": "constituents list with GICS sectors → instruments and a stored universe",
    "generic": "fundamentals with columns named after our fields",
}

LAYOUTS_RECOGNISED = (
    "earnings (ticker, dates, eps_estimate, eps_actual); 10-K (Ticker Symbol, Period Ending, Total Revenue, "
    "Total Assets, …); etf (fund_name, net_annual_expense_ratio_fund, net_assets, …); snapshot (Symbol, Price, "
    "Price/Earnings, Market Cap, …); constituents (Symbol, Security|Name, GICS Sector|Sector); generic (symbol "
    f"and any of {', '.join(FUNDAMENTAL_FIELDS[:6])}, …)"
)

_RECORD_LAYOUTS = frozenset({"10-K", "etf", "snapshot", "generic"})


@dataclass(frozen=True)
class FundamentalsLayout:
    """How to read one fundamentals file: the layout's name and our field → the file's column."""

    name: str
    columns: Mapping[str, str]
    mapped: tuple[str, ...] = ()

    def has(self, field: str) -> bool:
        return field in self.columns

    def describe(self) -> list[str]:
        used = ", ".join(f"{ours}={theirs!r}" for ours, theirs in self.columns.items())
        lines = [TITLES[self.name], f"columns: {used}"]
        if self.mapped:
            lines.append(f"set with --map: {', '.join(self.mapped)}")
        return lines


def normal(name: str) -> str:
    """A column name compared without case, spaces or punctuation: '52 Week Low' → '52weeklow'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def detect_fundamentals_layout(columns: Sequence[str], column_map: Mapping[str, str]) -> FundamentalsLayout:
    """Decide how to read a fundamentals file from its header; raise `FileError` when nothing fits."""
    missing = [theirs for theirs in column_map.values() if theirs not in columns]
    if missing:
        raise FileError(
            f"--map names column(s) {', '.join(repr(m) for m in missing)} that the file lacks; "
            f"columns found: {', '.join(columns)}",
            hint="Map to one of the columns found.",
        )
    by_normal: dict[str, str] = {}
    for column in columns:
        by_normal.setdefault(normal(column), column)
    for name, table in _COLUMNS.items():
        chosen = _match(table, by_normal, column_map)
        if not all(f in chosen for f in _REQUIRED[name]):
            continue
        if name == "generic" and not any(f in chosen for f in FUNDAMENTAL_FIELDS):
            continue
        extra = [f for f in column_map if f not in table]
        if extra and name not in _RECORD_LAYOUTS:
            raise FileError(
                f"--map {', '.join(extra)} does not apply to the {name} layout",
                hint=f"That layout reads: {', '.join(table)}.",
            )
        return FundamentalsLayout(name, chosen, tuple(f for f in FUNDAMENTALS_MAP_FIELDS if f in column_map))
    raise FileError(
        f"unrecognised fundamentals layout; columns found: {', '.join(columns[:25]) or 'none'}"
        + (" …" if len(columns) > 25 else ""),
        hint=f"Layouts recognised: {LAYOUTS_RECOGNISED}. Name your columns with --map, e.g. --map symbol=Ticker "
        "--map revenue=Sales.",
    )


def _match(
    table: Mapping[str, tuple[str, ...]], by_normal: Mapping[str, str], column_map: Mapping[str, str]
) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for ours, names in table.items():
        if ours in column_map:
            chosen[ours] = column_map[ours]
            continue
        for candidate in names:
            column = by_normal.get(candidate)
            if column is not None and column not in chosen.values() and column not in column_map.values():
                chosen[ours] = column
                break
    for ours, theirs in column_map.items():
        chosen.setdefault(ours, theirs)
    return chosen


def is_number_field(field: str) -> bool:
    """Whether a field holds numbers (as opposed to text such as the ticker or the sector)."""
    return field not in _TEXT_FIELDS
