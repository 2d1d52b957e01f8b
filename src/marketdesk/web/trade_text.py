"""How the trade page reads its ticket and words what the desk answers: the ticket read into a `SubmitOrder`, the
preview's verdicts, order statuses and results, the account's state and the compliance widget, a trade link
(`/trade?symbol=…&side=…&qty=…`) read into a prefilled ticket, and a position size in words. Pure: no I/O and no
clock (the page passes `today`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlencode

from marketdesk.errors import Rejected
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.portfolio.sizing import Recommendation, shares_text
from marketdesk.trading.activity import Side
from marketdesk.trading.orders import Bracket, OrderStatus, OrderType, SubmitOrder, TimeInForce
from marketdesk.trading.paper import CAPABILITIES as PAPER_CAPABILITIES
from marketdesk.trading.pdt import DAY_TRADES_ALLOWED, PDT_MIN_EQUITY
from marketdesk.trading.service import OrderView, Preview
from marketdesk.web import format as fmt

SIDES = {Side.BUY.value: "Buy", Side.SELL.value: "Sell"}
ORDER_TYPES = {
    OrderType.MARKET.value: "Market",
    OrderType.LIMIT.value: "Limit",
    OrderType.STOP.value: "Stop",
    OrderType.STOP_LIMIT.value: "Stop-limit",
}
TIMES_IN_FORCE = {
    TimeInForce.DAY.value: "Day",
    TimeInForce.GTC.value: "Good till cancelled",
    TimeInForce.IOC.value: "Immediate or cancel",
    TimeInForce.FOK.value: "Fill or kill",
}
POLICIES = {
    "legacy-pdt": "Pattern day trader (legacy)",
    "intraday-margin": "Intraday margin",
    "cash-account": "Cash account",
    "off": "Off",
    "auto": "Automatic (by date)",
}
STATES = {"active": ("ACTIVE", "positive"), "reducing": ("REDUCING", "warning"), "halted": ("HALTED", "negative")}
LIVE_BADGE = "LIVE — real money"
LIVE_PENDING_BADGE = "LIVE — not confirmed"
# where a new account trades, as the open-account form offers it: (broker, live)
VENUES = {
    "paper": ("Paper (pretend money)", "paper", False),
    "alpaca": ("Alpaca paper (your Alpaca paper keys)", "alpaca", False),
    "alpaca-live": ("Alpaca live — real money", "alpaca", True),
}
STATUS_COLOURS = {
    OrderStatus.NEW.value: "blue-grey",
    OrderStatus.ACCEPTED.value: "primary",
    OrderStatus.PARTIALLY_FILLED.value: "primary",
    OrderStatus.FILLED.value: "positive",
    OrderStatus.CANCELED.value: "grey",
    OrderStatus.EXPIRED.value: "grey",
    OrderStatus.REJECTED.value: "negative",
}
CHECK_LABELS = {
    "trading_state": "Trading state",
    "daily_loss": "Daily loss",
    "throttle": "Order rate",
    "allowed_symbols": "Allowed symbols",
    "allowed_asset_classes": "Allowed asset classes",
    "short_selling": "Short selling",
    "price_collar": "Price collar",
    "price": "Price known",
    "order_notional": "Order size",
    "position_limits": "Position limits",
    "position_pct": "Position % of equity",
    "position_value": "Position value",
}
E = TypeVar("E", bound=StrEnum)
MAX_DIGITS = 24  # what the API accepts for an amount (schemas.InAmount)
MAX_DECIMALS = 9


@dataclass(frozen=True, slots=True)
class Ticket:
    """The trade ticket's fields as typed. A price field the order type does not use is ignored."""

    symbol: str
    side: str
    qty: str
    order_type: str = OrderType.MARKET.value
    time_in_force: str = TimeInForce.DAY.value
    limit_price: str = ""
    stop_price: str = ""
    take_profit: str = ""
    stop_loss: str = ""


def price_fields(order_type: str) -> tuple[bool, bool]:
    """Which price fields an order type needs: (limit, stop)."""
    return (
        order_type in {OrderType.LIMIT.value, OrderType.STOP_LIMIT.value},
        order_type in {OrderType.STOP.value, OrderType.STOP_LIMIT.value},
    )


def takes_brackets(broker: str) -> bool:
    """Whether an account's venue places stop-loss / take-profit (bracket) orders: the paper venue does not."""
    return PAPER_CAPABILITIES.brackets if broker == "paper" else True


def ticket_order(ticket: Ticket, account_id: str, client_order_id: str, *, brackets: bool = True) -> SubmitOrder:
    """Read `ticket` into the order it asks for; `Rejected` naming every field to fix.

    >>> ticket_order(Ticket("aapl", "buy", "10"), "acct", "c-1").describe()
    'BUY 10 AAPL at market (day)'
    """
    problems: list[str] = []
    symbol = ""
    if not ticket.symbol.strip():
        problems.append("type a symbol, e.g. AAPL")
    else:
        try:
            symbol = normalize_symbol(ticket.symbol)
        except Rejected as exc:
            problems.append(exc.one_line())
    side = _choice(Side, ticket.side, "side", problems)
    order_type = _choice(OrderType, ticket.order_type, "order type", problems)
    time_in_force = _choice(TimeInForce, ticket.time_in_force, "time in force", problems)
    qty = amount("quantity", ticket.qty, problems, required=True)
    needs_limit, needs_stop = price_fields(ticket.order_type)
    limit_price = amount("limit price", ticket.limit_price, problems, required=True) if needs_limit else None
    stop_price = amount("stop price", ticket.stop_price, problems, required=True) if needs_stop else None
    take_profit = amount("take-profit", ticket.take_profit, problems)
    stop_loss = amount("stop-loss", ticket.stop_loss, problems)
    if not brackets and (take_profit is not None or stop_loss is not None):
        problems.append("this account's venue places no stop-loss or take-profit orders: clear those fields")
    if problems or side is None or order_type is None or time_in_force is None or qty is None:
        raise Rejected(f"check the ticket: {'; '.join(problems)}")
    bracket = None if take_profit is None and stop_loss is None else Bracket(take_profit, stop_loss)
    try:
        return SubmitOrder(
            client_order_id=client_order_id, account_id=account_id, symbol=symbol, side=side, qty=qty,
            order_type=order_type, time_in_force=time_in_force, limit_price=limit_price, stop_price=stop_price,
            bracket=bracket,
        )  # fmt: skip
    except Rejected as exc:
        # the order names itself by its client order id, which means nothing to the person at the ticket
        _, _, problem = exc.message.partition(": ")
        raise Rejected(f"check the ticket: {problem or exc.message}") from None


def _choice(kind: type[E], text: str, name: str, problems: list[str]) -> E | None:
    try:
        return kind(text)
    except ValueError:
        problems.append(f"pick a {name}: {', '.join(member.value for member in kind)}")
        return None


def amount(name: str, text: str, problems: list[str], *, required: bool = False) -> Decimal | None:
    """A positive decimal typed by a person (thousands separators allowed); None when left empty and optional."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        if required:
            problems.append(f"give a {name}")
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        problems.append(f"the {name} {text.strip()!r} is not a number")
        return None
    if not value.is_finite() or value <= 0:
        problems.append(f"the {name} must be above 0, got {text.strip()}")
        return None
    digits = value.as_tuple()
    decimals = -int(digits.exponent) if isinstance(digits.exponent, int) and digits.exponent < 0 else 0
    if decimals > MAX_DECIMALS or len(digits.digits) > MAX_DIGITS:
        problems.append(f"the {name} {text.strip()} has too many digits (at most {MAX_DECIMALS} after the point)")
        return None
    return value


# ---- numbers ----------------------------------------------------------------------------------------------------


def quantity(value: Decimal | str | None) -> str:
    """A quantity without trailing zeros: `10`, `2.5`, `1,000`."""
    number = _decimal(value)
    if number is None:
        return fmt.MISSING
    return f"{number.normalize():,f}" if number else "0"


def money(value: Decimal | str | None, *, signed: bool = False) -> str:
    """Dollars: `$1,234.56`, `−$20.00`; with `signed`, `+$5.00` for a gain."""
    number = _decimal(value)
    if number is None:
        return fmt.MISSING
    text = f"${abs(number):,.2f}"
    if number < 0:
        return f"{fmt.MINUS}{text}"
    return f"+{text}" if signed and number > 0 else text


def marked(qty: Decimal, average_price: Decimal, last: Decimal) -> tuple[Decimal, Decimal]:
    """A position's market value and unrealized P&L at `last` (a short's value is negative)."""
    return qty * last, (last - average_price) * qty


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


# ---- orders -----------------------------------------------------------------------------------------------------


def order_words(view: OrderView) -> str:
    """`BUY 10 AAPL at market (day)`, `SELL 5 MSFT limit 410.00 (gtc)`."""
    kind = {
        OrderType.MARKET.value: "at market",
        OrderType.LIMIT.value: f"limit {fmt.price(view.limit_price)}",
        OrderType.STOP.value: f"stop {fmt.price(view.stop_price)}",
        OrderType.STOP_LIMIT.value: f"stop {fmt.price(view.stop_price)} limit {fmt.price(view.limit_price)}",
    }.get(view.order_type, view.order_type)
    return f"{view.side.upper()} {quantity(view.qty)} {view.symbol} {kind} ({view.time_in_force})"


def placed_at(value: datetime) -> str:
    """When an order was placed, in UTC, for the blotter: `21 Nov 14:05:09`."""
    instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return f"{instant:%d %b %H:%M:%S}"


def status_label(status: str) -> str:
    """`partially_filled` → `Partially filled`."""
    return status.replace("_", " ").capitalize()


def is_working(status: str) -> bool:
    """Whether an order in `status` can still fill (and so be cancelled)."""
    try:
        return OrderStatus(status).working
    except ValueError:
        return False


def blotter(orders: Sequence[OrderView], recent: int = 25) -> list[OrderView]:
    """The blotter's rows: every working order, then the `recent` latest finished ones; newest first in each."""
    newest = sorted(orders, key=lambda view: view.created_at, reverse=True)
    working = [view for view in newest if is_working(view.status)]
    done = [view for view in newest if not is_working(view.status)]
    return working + done[:recent]


def result_message(view: OrderView) -> tuple[bool, str]:
    """What submitting came to: (placed, words). A denial carries its reason."""
    words = order_words(view)
    if view.status == OrderStatus.REJECTED.value:
        return False, f"Rejected: {words}. {_sentence(view.reason or 'no reason was given')}"
    if view.status == OrderStatus.FILLED.value:
        return True, f"Filled: {words}, {quantity(view.filled_qty)} at {fmt.price(view.average_fill_price)}."
    if view.status in {OrderStatus.CANCELED.value, OrderStatus.EXPIRED.value}:
        reason = f" {_sentence(view.reason)}" if view.reason else ""
        return False, f"{status_label(view.status)}: {words}.{reason}"
    if view.status == OrderStatus.NEW.value:
        return True, f"Sent: {words}. The broker has not answered yet; the blotter shows when it does."
    return True, f"Accepted: {words}. It is working; the blotter shows its fills."


def event_message(event: str, order: Mapping[str, Any]) -> str | None:
    """The notice for an order event pushed on the `orders` channel: fills and expiries, which happen on their
    own (None for the rest: what the person did here is answered where they did it, and the blotter shows all)."""
    side, symbol = str(order.get("side", "")).upper(), order.get("symbol", "")
    if event == OrderStatus.FILLED.value:
        price = fmt.price(_decimal(order.get("average_fill_price")))
        return f"Filled: {side} {quantity(order.get('filled_qty'))} {symbol} at {price}"
    if event == OrderStatus.PARTIALLY_FILLED.value:
        return f"Partly filled: {side} {quantity(order.get('filled_qty'))} of {quantity(order.get('qty'))} {symbol}"
    if event == OrderStatus.EXPIRED.value:
        reason = order.get("reason")
        return f"Expired: {side} {symbol}" + (f" ({reason})" if reason else "")
    return None


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


# ---- the preview ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One risk check as the preview lists it."""

    name: str
    label: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class PreviewText:
    """The preview in words: the estimate, the risk verdict and the compliance verdict."""

    allowed: bool
    headline: str
    estimated_price: str
    estimated_cost: str
    risk_passed: bool
    risk_reasons: tuple[str, ...]
    checks: tuple[CheckLine, ...]
    compliance_policy: str | None  # None: compliance was not asked (the risk engine refused first)
    compliance_allowed: bool | None
    compliance_reason: str
    compliance_warnings: tuple[str, ...]


def check_label(name: str) -> str:
    """A risk check's name as people read it: `position_pct` → `Position % of equity`."""
    return CHECK_LABELS.get(name, name.replace("_", " ").capitalize())


def preview_text(preview: Preview) -> PreviewText:
    """Word a `Preview` for the ticket."""
    checks = tuple(CheckLine(c.name, check_label(c.name), c.passed, c.detail) for c in preview.risk.checks)
    verdict = preview.compliance
    headline = (
        f"Allowed: {preview.order.describe()}" if preview.allowed else f"Would be denied: {preview.order.describe()}"
    )
    return PreviewText(
        allowed=preview.allowed,
        headline=headline,
        estimated_price=fmt.price(preview.estimated_price),
        estimated_cost=money(preview.estimated_cost),
        risk_passed=preview.risk.allowed,
        risk_reasons=tuple(_sentence(reason) for reason in preview.risk.reasons),
        checks=checks,
        compliance_policy=None if verdict is None else POLICIES.get(verdict.policy.value, verdict.policy.value),
        compliance_allowed=None if verdict is None else verdict.allowed,
        compliance_reason=(
            "Not asked: the risk engine refused the order first." if verdict is None else _sentence(verdict.reason)
        ),
        compliance_warnings=() if verdict is None else tuple(_sentence(w) for w in verdict.warnings),
    )


# ---- the account ------------------------------------------------------------------------------------------------


def state_badge(state: str) -> tuple[str, str]:
    """The account state's badge: its text and Quasar colour."""
    return STATES.get(state, (state.upper(), "grey"))


def account_label(summary: Mapping[str, Any]) -> str:
    """An account as the picker lists it: `Paper · paper margin`, `Main · LIVE — real money · alpaca cash` once a
    live account is confirmed, `Main · live alpaca cash (not confirmed)` before."""
    if summary.get("live") and summary.get("live_confirmed"):
        return f"{summary['name']} · {LIVE_BADGE} · {summary['broker']} {summary['kind']}"
    live = "live " if summary.get("live") else ""
    pending = " (not confirmed)" if summary.get("live") and summary.get("live_confirmed") is False else ""
    return f"{summary['name']} · {live}{summary['broker']} {summary['kind']}{pending}"


def live_badge(summary: Mapping[str, Any]) -> tuple[str, str] | None:
    """The badge of a live account, its text and Quasar colour; None for an account without real money."""
    if not summary.get("live"):
        return None
    return (LIVE_BADGE, "negative") if summary.get("live_confirmed") else (LIVE_PENDING_BADGE, "warning")


def venue_options(allow_live: bool) -> dict[str, str]:
    """The venues the open-account form offers: live Alpaca only on a desk that allows live trading."""
    return {key: label for key, (label, _, live) in VENUES.items() if allow_live or not live}


def open_button_text(venue: str) -> str:
    """The open-account button for a venue: `Open a paper account`, `Open a live Alpaca account`."""
    return {
        "alpaca": "Open an Alpaca paper account",
        "alpaca-live": "Open a live Alpaca account",
    }.get(venue, "Open a paper account")


def countdown(target: date, today: date) -> str:
    """How far off `target` is: `today`, `tomorrow`, `in 3 days` (`3 days ago` once past)."""
    days = (target - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days" if days > 1 else f"{-days} days ago"


def _day_with_countdown(value: object, today: date, missing: str) -> str:
    day = _date(value)
    return missing if day is None else f"{fmt.day(day)} ({countdown(day, today)})"


Row = tuple[str, str, str]  # label, value, tone ("" plain, "positive", "negative")


@dataclass(frozen=True, slots=True)
class ComplianceText:
    """The compliance widget: the policy, its figures as rows and a line that explains them."""

    policy: str
    rows: tuple[Row, ...]
    note: str


def compliance_text(status: Mapping[str, Any], today: date) -> ComplianceText:
    """Word `AccountService.compliance_status` for the widget, on trade date `today`."""
    policy = str(status.get("policy", "off"))
    title = POLICIES.get(policy, policy)
    if policy == "legacy-pdt":
        return ComplianceText(title, *_legacy_rows(status, today))
    if policy == "intraday-margin":
        return ComplianceText(title, *_margin_rows(status))
    if policy == "cash-account":
        return ComplianceText(title, *_cash_rows(status, today))
    return ComplianceText(title, (), "Day-trading compliance is off for this account: no policy checks its orders.")


def _legacy_rows(status: Mapping[str, Any], today: date) -> tuple[tuple[Row, ...], str]:
    used = int(status.get("day_trades_used") or 0)
    remaining = int(status.get("day_trades_remaining") or 0)
    window = f"{fmt.day(_date(status.get('window_start')))} – {fmt.day(_date(status.get('window_end')))}"
    rows: list[Row] = [
        ("Day trades used", f"{used} of {DAY_TRADES_ALLOWED}", "negative" if remaining == 0 else ""),
        ("Day trades left", str(remaining), "negative" if remaining == 0 else "positive"),
        ("Next drop-off", _day_with_countdown(status.get("next_drop_off"), today, "none in the window"), ""),
        ("Window (5 sessions)", window, ""),
        ("Pattern day trader", "yes" if status.get("pattern_day_trader") else "no", ""),
        ("Equity at the last close", money(status.get("previous_close_equity")), ""),
    ]
    limit = money(PDT_MIN_EQUITY)
    note = f"A {DAY_TRADES_ALLOWED + 1}th day trade within 5 sessions makes a pattern day trader; " + (
        f"with {limit} or more at the last close the account may go on day trading."
        if status.get("equity_exempt")
        else f"under {limit} at the last close, that day trade is refused."
    )
    return tuple(rows), note


def _margin_rows(status: Mapping[str, Any]) -> tuple[tuple[Row, ...], str]:
    headroom = _decimal(status.get("headroom"))
    deficit = _decimal(status.get("deficit"))
    rows: list[Row] = [
        ("Margin requirement", money(status.get("requirement")), ""),
        ("Equity", money(status.get("equity")), ""),
        ("Headroom", money(headroom), "negative" if headroom is not None and headroom < 0 else "positive"),
    ]
    if deficit:
        rows.append(("Deficit", money(deficit), "negative"))
    return tuple(rows), "An order that adds exposure must keep the margin requirement within equity."


def _cash_rows(status: Mapping[str, Any], today: date) -> tuple[tuple[Row, ...], str]:
    rows: list[Row] = [
        ("Settled cash", money(status.get("settled_cash")), ""),
        ("Unsettled cash", money(status.get("unsettled_cash")), ""),
        ("Next settlement", _day_with_countdown(status.get("next_settlement"), today, "nothing unsettled"), ""),
        ("Good-faith violations (12 months)", str(status.get("good_faith_violations_12m") or 0), ""),
    ]
    restricted = _date(status.get("restricted_until"))
    if restricted is not None:
        rows.append(("Restricted until", _day_with_countdown(restricted, today, fmt.MISSING), "negative"))
    note = (
        "Sale proceeds settle the next session (T+1); selling what unsettled cash bought, before that cash "
        "settles, is a good-faith violation."
    )
    return tuple(rows), note


# ---- trade links ------------------------------------------------------------------------------------------------

TRADE_PATH = "/trade"
LINK_PARAMETERS = ("symbol", "side", "qty")


@dataclass(frozen=True, slots=True)
class Prefill:
    """What a trade link puts on the ticket; `qty` is "" when the link gives none (then nothing is previewed)."""

    symbol: str
    side: str
    qty: str


def trade_link(symbol: str, side: str = Side.BUY.value, qty: Decimal | int | None = None) -> str:
    """The trade page with its ticket filled in and previewed (never submitted).

    >>> trade_link("AAPL", "buy", 12)
    '/trade?symbol=AAPL&side=buy&qty=12'
    """
    params = {"symbol": symbol, "side": side}
    if qty is not None:
        params["qty"] = f"{Decimal(qty).normalize():f}"
    return f"{TRADE_PATH}?{urlencode(params)}"


def read_link(params: Iterable[tuple[str, str]]) -> Prefill | None:
    """Read a trade link's query (`symbol`, `side` buy or sell, `qty`) into a prefill; None for a bare /trade.

    Unknown or repeated parameters, a bad symbol, side or quantity are refused, naming every problem.
    """
    pairs = list(params)
    if not pairs:
        return None
    problems: list[str] = []
    names = [name for name, _ in pairs]
    unknown = sorted({name for name in names if name not in LINK_PARAMETERS})
    if unknown:
        problems.append(f"unknown parameter {', '.join(unknown)} (a trade link takes symbol, side and qty)")
    repeated = sorted({name for name in names if names.count(name) > 1 and name in LINK_PARAMETERS})
    if repeated:
        problems.append(f"{', '.join(repeated)} given more than once")
    given = dict(pairs)
    symbol = ""
    text = given.get("symbol", "").strip()
    if not text:
        problems.append("the link names no symbol (add symbol=AAPL)")
    else:
        try:
            symbol = normalize_symbol(text)
        except Rejected as exc:
            problems.append(exc.message)
    side = given.get("side", Side.BUY.value).strip().lower()
    if side not in SIDES:
        problems.append(f"side must be buy or sell, not {given.get('side', '')!r}")
    qty = given.get("qty", "").strip()
    if "qty" in given:
        amount("quantity", qty, problems, required=True)
    if problems:
        raise Rejected(f"this trade link cannot fill the ticket: {'; '.join(problems)}")
    return Prefill(symbol, side, qty)


# ---- position size ------------------------------------------------------------------------------------------------


def stars(count: int) -> str:
    """`★★★☆☆` for 3 of 5."""
    count = min(5, max(0, count))
    return "★" * count + "☆" * (5 - count)


def size_shares(recommendation: Recommendation) -> str:
    """The range in shares at the last price: `20–40 shares at $100.00`, or `nothing to buy`."""
    r = recommendation
    if r.high_shares <= 0:
        return "nothing to buy" if r.high_dollars <= 0 else f"less than one share at {money(r.price)}"
    count = (
        shares_text(r.high_shares)
        if r.low_shares == r.high_shares
        else f"{r.low_shares:,}–{shares_text(r.high_shares)}"
    )
    return f"{count} at {money(r.price)}"
