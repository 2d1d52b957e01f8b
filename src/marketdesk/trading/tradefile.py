"""Reading a trade history file and an order written as text, for `marketdesk compliance`.

A history file is a CSV with the header `time,symbol,side,qty,price` (any column order, any case): one execution
per row, `side` buy or sell. Times are ISO 8601; a time without a zone is New York exchange time. A file with
any bad row is refused as a whole, with every problem listed by line, so a check never runs on half a history.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from marketdesk.errors import Rejected
from marketdesk.kit.money import to_decimal
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.trading.activity import Execution, OrderIntent, Side

COLUMNS = ("time", "symbol", "side", "qty", "price")
MAX_PROBLEMS_SHOWN = 10
ORDER_PATTERN = re.compile(
    r"^\s*(?P<side>buy|sell)\s+(?P<qty>[0-9][0-9_,]*(?:\.[0-9]+)?)\s+(?P<symbol>[A-Za-z][A-Za-z0-9.\-]{0,14})"
    r"(?:\s*@\s*(?P<price>[0-9][0-9_,]*(?:\.[0-9]+)?))?\s*$",
    re.IGNORECASE,
)


def parse_time(text: str, *, field: str = "time") -> datetime:
    """An ISO 8601 instant; without a zone it is New York exchange time."""
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not an ISO time such as 2026-06-01T09:45:00") from None
    return instant.replace(tzinfo=NEW_YORK) if instant.tzinfo is None else instant


def parse_side(text: str) -> Side:
    try:
        return Side(text.strip().lower())
    except ValueError:
        raise ValueError(f"side: {text!r} is not buy or sell") from None


def parse_order(text: str) -> OrderIntent:
    """`BUY 100 AAPL` or `SELL 10 MSFT @ 412.50` as an order intent."""
    match = ORDER_PATTERN.match(text)
    if match is None:
        raise Rejected(f"cannot read the order {text!r}", hint='Write it as "BUY 100 AAPL" or "SELL 10 MSFT @ 412.50".')
    price = match["price"]
    try:
        return OrderIntent(
            symbol=match["symbol"].upper(),
            side=Side(match["side"].lower()),
            qty=to_decimal(match["qty"], field="quantity"),
            price=None if price is None else to_decimal(price, field="price"),
        )
    except ValueError as exc:
        raise Rejected(f"cannot read the order {text!r}: {exc}") from None


def read_history(path: Path) -> list[Execution]:
    """The executions in a history file, oldest first; `Rejected` listing every bad line if any."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise Rejected(f"no file at {path}", hint="Give the path of a CSV with time,symbol,side,qty,price.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Rejected(f"cannot read {path}: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise Rejected(
            f"{path.name} lacks the column(s) {', '.join(missing)}",
            hint="The history file needs the header time,symbol,side,qty,price.",
        )
    executions: list[Execution] = []
    problems: list[str] = []
    for line, row in enumerate(reader, start=2):
        cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(cells.values()):
            continue
        try:
            executions.append(
                Execution(
                    time=parse_time(cells["time"]),
                    symbol=_symbol(cells["symbol"]),
                    side=parse_side(cells["side"]),
                    qty=to_decimal(cells["qty"], field="qty"),
                    price=to_decimal(cells["price"], field="price"),
                )
            )
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise Rejected(f"{path.name} has {len(problems)} bad row(s): {shown}{more}", hint="Fix them and run again.")
    return sorted(executions, key=lambda e: e.time)


def _symbol(text: str) -> str:
    if not text or not re.fullmatch(r"[A-Za-z][A-Za-z0-9.\-]{0,14}", text):
        raise ValueError(f"symbol: {text!r} is not a ticker")
    return text.upper()


def decimal_option(text: str, *, field: str) -> Decimal:
    try:
        return to_decimal(text, field=field)
    except ValueError as exc:
        raise Rejected(str(exc)) from None
