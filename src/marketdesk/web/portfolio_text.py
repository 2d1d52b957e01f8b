"""Words and numbers for the portfolio and analytics pages. Pure: values in, strings and plain rows out.

>>> transaction_from_form("buy", date(2024, 1, 2), symbol=" aapl ", qty="10", price="150.5")
Transaction(day=datetime.date(2024, 1, 2), kind=<Kind.BUY: 'buy'>, symbol='AAPL', qty=Decimal('10'), \
price=Decimal('150.5'), amount=None, fee=Decimal('0'), ratio=None)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from marketdesk.analytics.labels import METRIC_LABELS, PERCENT_METRICS
from marketdesk.errors import Rejected
from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, EarningsEvent
from marketdesk.portfolio.ledger import Kind, Transaction
from marketdesk.portfolio.valuation import Holding
from marketdesk.screener.events import next_ex_dividend as estimated_ex_dividend
from marketdesk.web import format as fmt

KINDS: dict[str, str] = {
    "buy": "Buy",
    "sell": "Sell",
    "deposit": "Deposit",
    "withdrawal": "Withdrawal",
    "dividend": "Dividend",
    "fee": "Fee",
}
"""The transactions the form records (splits come from statements and the API)."""

TRADE_KINDS = frozenset({"buy", "sell"})
SYMBOL_KINDS = frozenset({"buy", "sell", "dividend", "fee"})  # a dividend or fee may name the symbol it belongs to

REGIME_MEANING: dict[str, str] = {
    "risk-on": "Risk-on: the trend, breadth and volatility favour holding equities; stick to your targets.",
    "neutral": "Neutral: mixed signals; add to positions gradually and keep position sizes modest.",
    "risk-off": "Risk-off: the market is under stress; favour smaller new positions and keep cash for drawdowns.",
}

IMPORT_STATUS_COLOURS = {"accepted": "positive", "duplicate": "grey", "rejected": "negative"}


def money(value: Decimal | float | None, *, signed: bool = False) -> str:
    """Dollars: `$1,234.56`, `−$20.00`; with `signed`, `+$5.00` for a gain."""
    if value is None:
        return fmt.MISSING
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not number.is_finite():
        return fmt.MISSING
    text = f"${abs(number):,.2f}"
    if number < 0:
        return f"{fmt.MINUS}{text}"
    return f"+{text}" if signed and number > 0 else text


def quantity(value: Decimal | None) -> str:
    """Shares without trailing zeros: `10`, `2.5`."""
    if value is None:
        return fmt.MISSING
    text = f"{value.normalize():f}"
    return text


def _decimal(text: str | float | None, what: str, *, required: bool) -> Decimal | None:
    raw = "" if text is None else str(text).strip().replace(",", "").replace("$", "")
    if not raw:
        if required:
            raise Rejected(f"the {what} is missing", hint=f"Enter the {what}.")
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise Rejected(f"the {what} {raw!r} is not a number", hint=f"Enter the {what} as digits, like 12.50.") from None
    if not number.is_finite():
        raise Rejected(f"the {what} {raw!r} is not a finite number")
    return number


def transaction_from_form(
    kind: str, day: date, *, symbol: str = "", qty: str | float | None = None, price: str | float | None = None,
    amount: str | float | None = None, fee: str | float | None = None,
) -> Transaction:  # fmt: skip
    """The transaction a form describes; `Rejected` saying which field to fix. The service checks the rest
    (positive amounts, not selling shares not held)."""
    if kind not in KINDS:
        raise Rejected(f"unknown transaction kind {kind!r}", hint=f"Use one of {', '.join(KINDS)}.")
    ticker = symbol.strip().upper() or None
    if kind in TRADE_KINDS:
        if ticker is None:
            raise Rejected(f"a {kind} needs a symbol", hint="Enter the ticker, like AAPL.")
        return Transaction(
            day, Kind(kind), ticker, qty=_decimal(qty, "quantity", required=True),
            price=_decimal(price, "price", required=True), fee=_decimal(fee, "fee", required=False) or Decimal(0),
        )  # fmt: skip
    return Transaction(
        day, Kind(kind), ticker if kind in SYMBOL_KINDS else None, amount=_decimal(amount, "amount", required=True)
    )


def regime_meaning(state: str) -> str:
    """One line on what the market regime means for a portfolio."""
    return REGIME_MEANING.get(state, "The regime is unknown: the desk has no benchmark history to judge it by.")


@dataclass(frozen=True, slots=True)
class AllocationBar:
    """One symbol's share of the portfolio's value (cash is a bar of its own)."""

    label: str
    value: Decimal
    share: float  # 0..1 of the total value

    @property
    def width_pct(self) -> float:
        return round(max(0.0, min(1.0, self.share)) * 100, 1)


def allocation_bars(holdings: Sequence[Holding], cash: Decimal, total: Decimal) -> list[AllocationBar]:
    """The allocation by symbol, largest first, then cash; empty when there is nothing of value."""
    if total <= 0:
        return []
    bars = [
        AllocationBar(h.symbol, h.market_value, float(h.market_value / total)) for h in holdings if h.market_value > 0
    ]
    bars.sort(key=lambda bar: bar.value, reverse=True)
    if cash > 0:
        bars.append(AllocationBar("Cash", cash, float(cash / total)))
    return bars


def rate(value: float | None, *, signed: bool = True) -> str:
    """A return as a percentage (`+12.3%`), or the missing mark."""
    if value is None or not math.isfinite(value):
        return fmt.MISSING
    return fmt.fraction(value, 2, signed=signed)


COUNT_METRICS = frozenset({"observations", "max_drawdown_days", "max_drawdown_periods", "longest_drawdown_days"})


@dataclass(frozen=True, slots=True)
class MetricRow:
    key: str
    label: str
    text: str
    missing: str | None  # why the value is missing (the metric's stated reason)


def metric_label(key: str) -> str:
    if key.startswith(("var_", "cvar_")):
        head, _, level = key.partition("_")
        return f"{'VaR' if head == 'var' else 'CVaR'} {level.replace('_', '.')}% (one period)"
    return METRIC_LABELS.get(key, key.replace("_", " ").capitalize())


def metric_text(key: str, value: float | None) -> str:
    """A metric for the table: percentages for returns and risks, whole numbers for counts, else two decimals."""
    if value is None or not math.isfinite(value):
        return fmt.MISSING
    if key in COUNT_METRICS:
        return f"{round(value):,}"
    if key in PERCENT_METRICS or key.startswith(("var_", "cvar_")) or key.endswith("_capture"):
        return fmt.fraction(value, 2)
    return f"{value:.2f}".replace("-", fmt.MINUS)


def metric_rows(measured: Mapping[str, Any], keys: Sequence[str]) -> list[MetricRow]:
    """The rows of the metric table, in `keys` order; a missing value carries its stated reason."""
    missing: Mapping[str, str] = measured.get("missing") or {}
    rows = []
    for key in keys:
        if key not in measured:
            continue
        value = measured[key]
        rows.append(MetricRow(key, metric_label(key), metric_text(key, value), missing.get(key)))
    return rows


def conventions_line(conventions: Mapping[str, Any]) -> str:
    """The conventions a metric table was computed with, in one line."""
    periods = conventions.get("periods_per_year")
    rf = float(conventions.get("risk_free", 0.0))
    per = "annual" if conventions.get("risk_free_is_annual", True) else "per period"
    confidence = float(conventions.get("confidence", 0.95))
    return (
        f"{periods:g} periods per year · risk-free rate {rf:.2%} ({per}) · downside deviation: "
        f"{conventions.get('downside')} · VaR: {conventions.get('var_method')} at {confidence:.0%} · "
        f"alpha annualized: {conventions.get('alpha_annualization')}"
    )


# ---- targets, allocation, signals and events -------------------------------------------------------------

VERDICT_KEYS = {"Strong Buy": "strong-buy", "Buy": "buy", "Hold": "hold", "Avoid": "avoid"}
EVENT_HORIZON_DAYS = 90
TIMES_OF_DAY = {"bmo": "before the open", "amc": "after the close"}


def verdict_key(verdict: str | None) -> str:
    """The CSS suffix of a verdict chip (`desk-verdict-…`): `strong-buy`, `buy`, `hold`, `avoid` or `none`."""
    return VERDICT_KEYS.get(verdict or "", "none")


def parse_weights(text: str, what: str) -> dict[str, Decimal]:
    """Targets typed as `KEY=PERCENT` pairs separated by commas or new lines; `Rejected` naming the piece to fix.

    >>> parse_weights("AAA=60, bbb = 40", "symbol")
    {'AAA': Decimal('60'), 'BBB': Decimal('40')}
    """
    out: dict[str, Decimal] = {}
    for piece in text.replace("\n", ",").split(","):
        if not piece.strip():
            continue
        key, separator, weight = piece.rpartition("=")
        if not separator or not key.strip():
            raise Rejected(f"the {what} target {piece.strip()!r} is not NAME=PERCENT", hint="For example: AAA=25.")
        number = _decimal(weight, f"{what} target for {key.strip()}", required=True)
        assert number is not None  # noqa: S101 - required above
        out[key.strip().upper() if what == "symbol" else key.strip()] = number
    return out


def weights_text(weights: Mapping[str, Decimal]) -> str:
    """The inverse of `parse_weights`: `AAA=60, BBB=40`."""
    return ", ".join(f"{key}={weight.normalize():f}" for key, weight in weights.items())


def percent_text(value: Decimal | None) -> str:
    """A weight: `67.0%` (one decimal), or the missing mark."""
    return fmt.MISSING if value is None else f"{value:.1f}%".replace("-", fmt.MINUS)


def drift_text(value: Decimal | None) -> str:
    """A drift in percentage points with its sign: `+17.0 pp`, `−3.2 pp`, `0.0 pp`."""
    if value is None:
        return fmt.MISSING
    rounded = round(value, 1)
    sign = "+" if rounded > 0 else fmt.MINUS if rounded < 0 else ""
    return f"{sign}{abs(rounded):.1f} pp"


@dataclass(frozen=True, slots=True)
class UpcomingEvent:
    """An earnings report or an ex-dividend date of a holding; `estimated` when inferred from past ones."""

    day: date
    symbol: str
    kind: str  # earnings, ex-dividend
    detail: str
    estimated: bool = False


def next_ex_dividend(actions: Sequence[CorporateAction], today: date) -> tuple[date, Decimal, bool] | None:
    """The next ex-dividend date and amount: a stored one on or after `today`, else the tearsheet's estimate from
    the last year's cadence (`screener.events.next_ex_dividend`), at the last amount paid.

    >>> from marketdesk.marketdata.port import CorporateActionKind as K
    >>> paid = [CorporateAction("A", date(2026, m, 10), K.DIVIDEND, Decimal("0.5")) for m in (2, 5, 8, 11)]
    >>> next_ex_dividend(paid, date(2026, 11, 20))  # gaps of 89, 92 and 92 days: the median, 92, after Nov 10
    (datetime.date(2027, 2, 10), Decimal('0.5'), True)
    """
    dividends = sorted((a for a in actions if a.kind is CorporateActionKind.DIVIDEND), key=lambda a: a.ex_date)
    coming = [a for a in dividends if a.ex_date >= today]
    if coming:
        return coming[0].ex_date, coming[0].value, False
    estimate = estimated_ex_dividend(dividends, today)
    return None if estimate is None else (estimate, dividends[-1].value, True)


def upcoming_events(
    earnings: Mapping[str, Sequence[EarningsEvent]], actions: Mapping[str, Sequence[CorporateAction]], today: date,
    horizon_days: int = EVENT_HORIZON_DAYS,
) -> list[UpcomingEvent]:  # fmt: skip
    """The holdings' earnings reports and ex-dividend dates from `today` to `horizon_days` on, soonest first."""
    last_day = today + timedelta(days=horizon_days)
    events = []
    for symbol, reports in earnings.items():
        coming = sorted((e for e in reports if today <= e.report_date <= last_day), key=lambda e: e.report_date)
        if coming:
            e = coming[0]
            when = TIMES_OF_DAY.get(e.time_of_day or "", "")
            estimate = f"EPS estimate {e.eps_estimate:.2f}" if e.eps_estimate is not None else "no estimate"
            events.append(UpcomingEvent(e.report_date, symbol, "earnings", ", ".join(x for x in (when, estimate) if x)))
    for symbol, done in actions.items():
        found = next_ex_dividend(done, today)
        if found is not None and found[0] <= last_day:
            day, amount, estimated = found
            detail = f"${amount:,.4f}".rstrip("0").rstrip(".") + " a share"
            if estimated:
                detail += ", estimated from the past payments' cadence"
            events.append(UpcomingEvent(day, symbol, "ex-dividend", detail, estimated))
    return sorted(events, key=lambda e: (e.day, e.symbol, e.kind))
