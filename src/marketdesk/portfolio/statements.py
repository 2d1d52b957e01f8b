"""Broker statements (CSV) into portfolio transactions, through a mapping layer of named layouts.

- `generic`: `date,symbol,side,qty,price` with optional `fee` and `amount` columns. `side` is buy, sell,
  dividend, split, deposit, withdrawal or fee. A split's ratio goes in `qty`; a cash row (dividend, deposit,
  withdrawal, fee) takes `amount`, or `qty × price` (shares × dividend per share) when `amount` is empty.
  Columns may be renamed with `column_map` ({"date": "Trade Date", …}); dates are ISO unless `date_format`.
- `alpaca`: Alpaca's account activities (`GET /v2/account/activities`, or its CSV export): one row per
  activity, with the API's field names as columns (`activity_type`, `transaction_time`, `symbol`, `side`,
  `qty`, `price`, `date`, `net_amount`, `per_share_amount`, …). FILL rows are trades; DIV* and INT* rows are
  income (or, when negative, withheld tax, a fee); CSD/CSW/JNLC are deposits and withdrawals; FEE/CFEE are fees.
  Other activity types are refused row by row with the reason.

Each row is accepted (a `Transaction` and a stable fingerprint, so a re-import adds nothing) or rejected with its
line number and why. A file that cannot be read as a whole (not text, no header, an unknown layout, missing or
unknown columns) raises `Rejected` and nothing of it is taken. Pure: text in, rows out.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from marketdesk.errors import MarketdeskError, Rejected
from marketdesk.kit.money import to_decimal
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.portfolio.ledger import ZERO, Kind, Transaction, problem

MAX_ROWS = 100_000
MAX_FIELD_CHARS = 1_000
LAYOUTS = ("generic", "alpaca")

GENERIC_REQUIRED = ("date", "symbol", "side", "qty", "price")
GENERIC_OPTIONAL = ("fee", "amount")
SIDES = {
    "buy": Kind.BUY, "bought": Kind.BUY, "sell": Kind.SELL, "sold": Kind.SELL, "dividend": Kind.DIVIDEND,
    "div": Kind.DIVIDEND, "split": Kind.SPLIT, "deposit": Kind.DEPOSIT, "withdrawal": Kind.WITHDRAWAL,
    "withdraw": Kind.WITHDRAWAL, "fee": Kind.FEE,
}  # fmt: skip

ALPACA_COLUMNS = (
    "id", "account_id", "activity_type", "activity_sub_type", "transaction_time", "type", "price", "qty", "side",
    "symbol", "leaves_qty", "order_id", "cum_qty", "order_status", "date", "net_amount", "description", "status",
    "per_share_amount", "cusip", "currency", "created_at",
)  # fmt: skip
ALPACA_TRADE = "FILL"
ALPACA_INCOME_PREFIXES = ("DIV", "INT")  # DIV, DIVCGL, DIVCGS, DIVNRA, DIVTW, DIVTXEX, INT, INTNRA, INTTW, …
ALPACA_NOT_INCOME = {"DIVROC": "a return of capital (DIVROC) lowers cost basis, which portfolios do not model yet"}
ALPACA_CASH = {"CSD": Kind.DEPOSIT, "CSW": Kind.WITHDRAWAL}
ALPACA_FEES = ("FEE", "CFEE")


@dataclass(frozen=True, slots=True)
class StatementRow:
    """One data row of a statement: a transaction (accepted) or a reason (rejected)."""

    line: int  # the row's line in the file (the header is line 1)
    transaction: Transaction | None = None
    fingerprint: str | None = None
    reason: str | None = None
    at: datetime | None = None  # when in the day it happened, where the statement says
    note: str = ""

    @property
    def accepted(self) -> bool:
        return self.transaction is not None


@dataclass(frozen=True)
class Statement:
    layout: str
    rows: tuple[StatementRow, ...] = field(default_factory=tuple)


class RowRejected(ValueError):
    """A row the layout cannot turn into a transaction; the message says why."""


@dataclass(frozen=True, slots=True)
class Parsed:
    transaction: Transaction
    at: datetime | None = None
    identity: str | None = None  # a statement's own id of the row (Alpaca's activity id), else None
    note: str = ""


RowParser = Callable[[Mapping[str, str]], Parsed]


def read_statement(
    text: str,
    *,
    layout: str = "auto",
    column_map: Mapping[str, str] | None = None,
    date_format: str | None = None,
) -> Statement:
    """Read a statement's rows through `layout` ("auto" picks it from the header).

    >>> statement = read_statement("date,symbol,side,qty,price\\n2024-01-02,AAA,buy,10,100\\n2024-01-03,AAA,hold,1,1\\n")
    >>> [(row.line, row.accepted, row.reason) for row in statement.rows]
    [(2, True, None), (3, False, "side 'hold' is not one of buy, sell, dividend, split, deposit, withdrawal, fee")]
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise Rejected(f"the file is not CSV: {exc}") from None
    if header is None or not any(cell.strip() for cell in header):
        raise Rejected("the file is empty", hint="Give a CSV file with a header row.")
    columns = [cell.strip() for cell in header]
    chosen = detect_layout(columns, column_map) if layout == "auto" else layout
    if chosen == "generic":
        names, parse = _generic(columns, column_map or {}, date_format)
    elif chosen == "alpaca":
        if column_map:
            raise Rejected("the alpaca layout takes no column map", hint="Its columns are Alpaca's own field names.")
        names, parse = _alpaca(columns)
    else:
        raise Rejected(f"unknown layout {layout!r}", hint=f"Use auto, {' or '.join(LAYOUTS)}.")
    return Statement(chosen, tuple(_rows(reader, names, parse, chosen)))


def detect_layout(columns: list[str], column_map: Mapping[str, str] | None = None) -> str:
    """The layout whose columns the header has; `Rejected` naming both layouts' columns when none fits."""
    lowered = {c.lower() for c in columns}
    if "activity_type" in lowered:
        return "alpaca"
    mapped = {field: (column_map or {}).get(field, field).lower() for field in GENERIC_REQUIRED}
    if set(mapped.values()) <= lowered:
        return "generic"
    raise Rejected(
        f"the header ({', '.join(columns)[:200]}) matches no statement layout",
        hint=f"Give generic columns {','.join(GENERIC_REQUIRED)} (optional fee, amount), or an Alpaca "
        "account-activities export (activity_type, transaction_time, …); rename columns with a column map.",
    )


def _rows(reader: Any, names: list[str], parse: RowParser, layout: str) -> list[StatementRow]:
    rows: list[StatementRow] = []
    seen: Counter[str] = Counter()
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise Rejected(f"the file is not CSV near line {reader.line_num}: {exc}") from None
        line = int(reader.line_num)
        if not any(cell.strip() for cell in cells):
            continue  # a blank line is no row
        if len(rows) >= MAX_ROWS:
            raise Rejected(f"the file has more than {MAX_ROWS:,} rows", hint="Split it into smaller files.")
        if len(cells) != len(names):
            rows.append(StatementRow(line, reason=f"has {len(cells)} fields; the header has {len(names)}"))
            continue
        if any(len(cell) > MAX_FIELD_CHARS for cell in cells):
            rows.append(StatementRow(line, reason=f"a field is longer than {MAX_FIELD_CHARS} characters"))
            continue
        try:
            parsed = parse(dict(zip(names, (cell.strip() for cell in cells), strict=True)))
        except (RowRejected, MarketdeskError, ValueError) as exc:
            rows.append(StatementRow(line, reason=_reason(exc)))
            continue
        wrong = problem(parsed.transaction)
        if wrong is not None:
            rows.append(StatementRow(line, reason=wrong))
            continue
        key = parsed.identity or _content_key(parsed.transaction, parsed.at)
        seen[key] += 1
        fingerprint = hashlib.sha256(f"{layout}|{key}|{seen[key]}".encode()).hexdigest()[:40]
        rows.append(StatementRow(line, parsed.transaction, fingerprint, at=parsed.at, note=parsed.note))
    return rows


def _reason(exc: Exception) -> str:
    return exc.one_line() if isinstance(exc, MarketdeskError) else str(exc)


def _content_key(t: Transaction, at: datetime | None) -> str:
    """The row's content, canonical: the same transaction written as 10 or 10.00 is the same row."""
    parts = [t.day.isoformat(), t.kind.value, t.symbol or "", at.isoformat() if at else ""]
    parts += [_canonical(v) for v in (t.qty, t.price, t.amount, t.fee, t.ratio)]
    return "|".join(parts)


def _canonical(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


# ---- generic -----------------------------------------------------------------------------------------------


def _generic(columns: list[str], column_map: Mapping[str, str], date_format: str | None) -> tuple[list[str], RowParser]:
    unknown_fields = set(column_map) - set(GENERIC_REQUIRED) - set(GENERIC_OPTIONAL)
    if unknown_fields:
        raise Rejected(
            f"the column map names unknown fields {sorted(unknown_fields)}",
            hint=f"Map {', '.join(GENERIC_REQUIRED + GENERIC_OPTIONAL)}.",
        )
    field_of = {column_map.get(f, f).lower(): f for f in GENERIC_REQUIRED + GENERIC_OPTIONAL}
    names = [field_of.get(c.lower(), c) for c in columns]
    missing = [f for f in GENERIC_REQUIRED if f not in names]
    if missing:
        raise Rejected(
            f"the file lacks the columns {', '.join(column_map.get(f, f) for f in missing)}",
            hint=f"The generic layout needs {','.join(GENERIC_REQUIRED)}; rename columns with a column map.",
        )
    unknown = [c for c, n in zip(columns, names, strict=True) if n not in GENERIC_REQUIRED + GENERIC_OPTIONAL]
    if unknown:
        raise Rejected(
            f"the file has columns the generic layout does not know: {', '.join(unknown)[:200]}",
            hint="Remove them; the generic layout reads date, symbol, side, qty, price, fee and amount.",
        )
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise Rejected(f"the columns {', '.join(duplicated)} appear more than once")

    def parse(row: Mapping[str, str]) -> Parsed:
        return _generic_row(row, date_format)

    return names, parse


def _generic_row(row: Mapping[str, str], date_format: str | None) -> Parsed:
    side = row["side"].lower()
    kind = SIDES.get(side)
    if kind is None:
        raise RowRejected(f"side {row['side']!r} is not one of {', '.join(dict.fromkeys(SIDES.values()))}")
    day = _day(row["date"], date_format)
    symbol = normalize_symbol(row["symbol"]) if row["symbol"] else None
    qty, price = _number(row, "qty"), _number(row, "price")
    fee, amount = _number(row, "fee") or ZERO, _number(row, "amount")
    if kind in {Kind.BUY, Kind.SELL}:
        return Parsed(Transaction(day, kind, symbol, qty=qty, price=price, amount=amount, fee=fee))
    if kind is Kind.SPLIT:
        if price is not None or amount is not None:
            raise RowRejected("a split takes its ratio in qty and no price or amount")
        return Parsed(Transaction(day, kind, symbol, ratio=qty, fee=fee))
    if amount is None:
        if qty is None or price is None:
            raise RowRejected(f"a {kind} needs its cash in amount (or as qty × price)")
        amount = qty * price
    elif qty is not None or price is not None:
        raise RowRejected(f"a {kind} takes its cash in amount, or as qty × price, not both")
    return Parsed(Transaction(day, kind, symbol, amount=amount, fee=fee))


def _number(row: Mapping[str, str], name: str) -> Decimal | None:
    text = row.get(name, "")
    if not text:
        return None
    try:
        return to_decimal(text.removeprefix("$"), field=name)
    except ValueError as exc:
        raise RowRejected(str(exc)) from None


def _day(text: str, date_format: str | None) -> date:
    if not text:
        raise RowRejected("the date is empty")
    try:
        if date_format:
            return datetime.strptime(text, date_format).date()  # noqa: DTZ007 - a calendar date, no instant
        if len(text) == 10:
            return date.fromisoformat(text)
        return _instant(text).astimezone(NEW_YORK).date()
    except ValueError:
        wanted = date_format or "YYYY-MM-DD"
        raise RowRejected(f"date {text!r} is not a date like {wanted}") from None


def _instant(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"time {text!r} has no zone")
    return instant.astimezone(UTC)


# ---- alpaca ------------------------------------------------------------------------------------------------


def _alpaca(columns: list[str]) -> tuple[list[str], RowParser]:
    names = [c.lower() for c in columns]
    unknown = [c for c in columns if c.lower() not in ALPACA_COLUMNS]
    if unknown:
        raise Rejected(
            f"the file has columns Alpaca's account activities do not: {', '.join(unknown)[:200]}",
            hint=f"The alpaca layout reads {', '.join(ALPACA_COLUMNS)}.",
        )
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise Rejected(f"the columns {', '.join(duplicated)} appear more than once")
    return names, _alpaca_row


def _alpaca_row(row: Mapping[str, str]) -> Parsed:
    activity = row.get("activity_type", "").upper()
    identity = row.get("id") or None
    if row.get("status", "").lower() == "canceled":
        raise RowRejected(f"the {activity} activity was canceled")
    if activity == ALPACA_TRADE:
        return _alpaca_fill(row, identity)
    if not activity:
        raise RowRejected("activity_type is empty")
    if activity in ALPACA_NOT_INCOME:
        raise RowRejected(ALPACA_NOT_INCOME[activity])
    is_income = activity.startswith(ALPACA_INCOME_PREFIXES)
    if not (is_income or activity in ALPACA_CASH or activity in ALPACA_FEES or activity == "JNLC"):
        raise RowRejected(
            f"Alpaca activity type {activity} is not imported (FILL, DIV…, INT…, CSD, CSW, JNLC, FEE, CFEE are)",
            # the effect of the others (spin-offs, mergers, transfers of shares) is best recorded by hand
        )
    day = _alpaca_day(row)
    net = _number(row, "net_amount")
    if net is None or net == 0:
        raise RowRejected(f"a {activity} activity needs a non-zero net_amount")
    symbol = normalize_symbol(row["symbol"]) if row.get("symbol") else None
    note = row.get("description", "")[:200] or activity
    if is_income:
        if net > 0:
            income_symbol = symbol if activity.startswith("DIV") else None
            return Parsed(Transaction(day, Kind.DIVIDEND, income_symbol, amount=net), identity=identity, note=note)
        return Parsed(Transaction(day, Kind.FEE, symbol, amount=-net), identity=identity, note=note)
    if activity in ALPACA_FEES:
        if net > 0:
            raise RowRejected(f"a {activity} of +{net} is a refund, which portfolios do not model")
        return Parsed(Transaction(day, Kind.FEE, symbol, amount=-net), identity=identity, note=note)
    kind = ALPACA_CASH.get(activity) or (Kind.DEPOSIT if net > 0 else Kind.WITHDRAWAL)
    return Parsed(Transaction(day, kind, None, amount=abs(net)), identity=identity, note=note)


def _alpaca_fill(row: Mapping[str, str], identity: str | None) -> Parsed:
    side = row.get("side", "").lower()
    if side not in {"buy", "sell"}:
        if side == "sell_short":
            raise RowRejected("a short sale is not kept in a hand-kept portfolio; link the Alpaca account instead")
        raise RowRejected(f"side {row.get('side')!r} is not buy or sell")
    if not row.get("transaction_time"):
        raise RowRejected("a FILL needs its transaction_time")
    try:
        at = _instant(row["transaction_time"])
    except ValueError:
        raise RowRejected(f"transaction_time {row['transaction_time']!r} is not an ISO 8601 time") from None
    if not row.get("symbol"):
        raise RowRejected("a FILL needs a symbol")
    kind = Kind.BUY if side == "buy" else Kind.SELL
    transaction = Transaction(
        at.astimezone(NEW_YORK).date(), kind, normalize_symbol(row["symbol"]),
        qty=_number(row, "qty"), price=_number(row, "price"),
    )  # fmt: skip
    return Parsed(transaction, at=at, identity=identity, note=row.get("order_id", "")[:64])


def _alpaca_day(row: Mapping[str, str]) -> date:
    text = row.get("date") or row.get("transaction_time") or ""
    if not text:
        raise RowRejected("the activity has no date")
    return _day(text, None)
