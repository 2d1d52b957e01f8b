"""The pre-trade risk engine: the checks every new order passes before compliance and the broker
(../shared/DESIGN.md §3: UI/API/strategy → OrderService → **RiskEngine** → Compliance → Broker).

`check(order, context, limits)` judges one `SubmitOrder` against an account's `RiskLimits`, given a
`RiskContext` the service builds (equity, positions, last trades, today's P&L, recent submissions, working
orders, the trading state and the instant). It returns a `RiskDecision`: allowed or not, every failed check in
words a person can act on, each rule's result with the numbers it used (the audit trail's snapshot), and the
account's trading state, which a daily-loss breach moves from ACTIVE to REDUCING. Pure: no I/O, no clock; the
context carries `now`. Cancels never come here: the service lets them through in every state.

**Trading states.** ACTIVE: every rule below applies. REDUCING: only orders that shrink a position pass.
HALTED (the kill switch): no new order passes, not even a reducing one; only cancels (handled by the service).
The engine moves ACTIVE → REDUCING on a daily-loss breach; it never moves an account back, a person does.

**Which rules apply to which orders.** An order is *reducing* when it sells against a long or buys against a
short without flipping it, counting the account's working orders on the same side (two sells of 100 against a
long of 100 are not both reducing). Reducing orders always get out: the position limits, the symbol and
asset-class lists and the short-sale switch apply only to orders that open or add exposure. The throttle, the
per-order notional and the price collar apply to every order (they catch runaway loops and fat fingers), with
one exception: an OCO's take-profit on the far side of the market (a sell above the last trade, a buy below) is
not collared, since a resting exit cannot fill at a worse price; on the near side it is.

**Prices.** An order is valued at the larger of its own price (limit, else stop) and the last trade, so a buy
limit far under the market cannot understate the position it makes. A market order uses the last trade; with
none known, it is refused when a rule needs the price. A limit or stop order with no last trade is refused
while the collar is on, since there is nothing to measure it against.

**Defaults** (`RiskLimits()`): a position may be at most 10% of equity, the collar is 10%, at most 60 orders a
minute, no short selling; the dollar limits, the daily loss and the symbol and class lists are off (they
depend on the account). Set a limit to None to turn it off.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from marketdesk.errors import ConfigError
from marketdesk.trading.activity import OrderIntent, Side
from marketdesk.trading.orders import OrderClass, SubmitOrder

THROTTLE_WINDOW = timedelta(seconds=60)
# marketdata.port.AssetClass's values, kept here so this engine imports neither pandas nor the port (a test
# holds the two equal)
ASSET_CLASSES = frozenset({"equity", "etf", "bond", "index"})
ZERO = Decimal(0)
HUNDRED = Decimal(100)

InputValue = Decimal | int | str | bool | None


class TradingState(StrEnum):
    ACTIVE = "active"  # every new order is judged by the rules
    REDUCING = "reducing"  # only orders that shrink a position pass
    HALTED = "halted"  # the kill switch: no new order passes; only cancels


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """One account's pre-trade limits; None turns a limit off.

    - `max_position_pct`: a position's value as a percent of equity (10 means 10%), after the order and the
      working orders on its side;
    - `max_position_value`: the same position in dollars;
    - `max_order_notional`: one order's quantity × price, in dollars;
    - `max_daily_loss`: today's loss (realized + unrealized) in dollars beyond which the account becomes
      reducing-only (a loss exactly at the limit is still within it);
    - `max_orders_per_minute`: submissions in any 60 seconds, this one included;
    - `allowed_symbols` / `allowed_asset_classes`: what the account may open or add to (None: anything);
    - `price_collar_pct`: how far (percent) a limit or stop price may be from the last trade;
    - `allow_short`: whether a sale may open or add to a short position.

    For example `RiskLimits(max_position_pct=Decimal(5), max_daily_loss=Decimal(2000), allowed_asset_classes={"etf"})`.
    Bad values raise `ConfigError` naming every problem.
    """

    max_position_pct: Decimal | None = Decimal(10)
    max_position_value: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_daily_loss: Decimal | None = None
    max_orders_per_minute: int | None = 60
    allowed_symbols: Collection[str] | None = None  # stored as a frozenset
    allowed_asset_classes: Collection[str] | None = None  # stored as a frozenset
    price_collar_pct: Decimal | None = Decimal(10)
    allow_short: bool = False

    def __post_init__(self) -> None:
        problems: list[str] = []
        for name in (
            "max_position_pct",
            "max_position_value",
            "max_order_notional",
            "max_daily_loss",
            "price_collar_pct",
        ):
            value = _decimal_setting(name, getattr(self, name), problems)
            object.__setattr__(self, name, value)
        per_minute = self.max_orders_per_minute
        if per_minute is not None and (
            isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 1
        ):
            problems.append(
                f"max_orders_per_minute must be a whole number of at least 1 (or None for no throttle), got {per_minute!r}"
            )
        symbols = _name_set("allowed_symbols", self.allowed_symbols, "symbols such as {'AAPL', 'MSFT'}", problems)
        classes = _name_set(
            "allowed_asset_classes", self.allowed_asset_classes, "classes such as {'equity', 'etf'}", problems
        )
        if classes is not None and not classes <= ASSET_CLASSES:
            unknown = ", ".join(sorted(classes - ASSET_CLASSES))
            problems.append(f"unknown asset class(es) {unknown}: use {', '.join(sorted(ASSET_CLASSES))}")
        object.__setattr__(self, "allowed_symbols", symbols)
        object.__setattr__(self, "allowed_asset_classes", classes)
        if not isinstance(self.allow_short, bool):
            problems.append(f"allow_short must be True or False, got {self.allow_short!r}")
        if problems:
            raise ConfigError(f"risk limits: {'; '.join(problems)}")


def _decimal_setting(name: str, value: object, problems: list[str]) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        problems.append(f"{name} must be a Decimal or a whole number (e.g. Decimal('10')), got {value!r}")
        return None
    number = Decimal(value)
    if not number.is_finite() or number <= 0:
        unit = "a percent, e.g. 10 for 10%" if name.endswith("_pct") else "dollars"
        problems.append(f"{name} must be above 0 ({unit}), or None to turn it off; got {value}")
    return number


def _name_set(name: str, value: Collection[str] | None, example: str, problems: list[str]) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        problems.append(f"{name} must be a collection of {example}, not the single string {value!r}")
        return None
    names = frozenset(value)
    if not names:
        problems.append(f"{name} is empty, which would block every new position; use None to allow any")
    bad = sorted(repr(n) for n in names if not isinstance(n, str) or not n or n != n.strip())
    if bad:
        problems.append(f"{name} holds names that are blank or not text: {', '.join(bad)}")
    return names


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the engine needs to know about the account at the instant `now` (aware).

    `positions` are signed quantities (long positive, short negative); `last_prices` the last trade per symbol;
    `asset_class_of` each symbol's class (`equity`, `etf`, `bond`, `index`); `daily_pnl` today's realized +
    unrealized P&L; `recent_order_times` this account's earlier submissions (at least the last minute's, not
    this order); `working_orders` its open orders, with the quantity still to fill.
    """

    equity: Decimal
    now: datetime
    state: TradingState = TradingState.ACTIVE
    positions: Mapping[str, Decimal] = field(default_factory=dict)
    last_prices: Mapping[str, Decimal] = field(default_factory=dict)
    asset_class_of: Mapping[str, str] = field(default_factory=dict)
    daily_pnl: Decimal = ZERO
    recent_order_times: Sequence[datetime] = ()
    working_orders: Sequence[OrderIntent] = ()

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError(f"now {self.now.isoformat()} is naive: give a timezone (UTC)")
        for instant in self.recent_order_times:
            if instant.tzinfo is None or instant.utcoffset() is None:
                raise ValueError(f"recent order time {instant.isoformat()} is naive: give a timezone (UTC)")
        object.__setattr__(self, "state", TradingState(self.state))


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One rule's verdict: its name, whether it passed, what it found in words, and the numbers it used."""

    name: str
    passed: bool
    detail: str
    inputs: Mapping[str, InputValue] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
            "inputs": {key: _json_value(value) for key, value in self.inputs.items()},
        }


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The engine's answer for one order. `reasons` are the failed checks' details, in order; `state` is the
    account's trading state after the check (REDUCING after a daily-loss breach): persist it when it changed."""

    allowed: bool
    reasons: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    state: TradingState
    reducing: bool  # the order shrinks a position without flipping it (working orders counted)
    price: Decimal | None  # what the order was valued at, if it was

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: Decimals as strings."""
        return {
            "allowed": self.allowed,
            "state": self.state.value,
            "reducing": self.reducing,
            "price": _json_value(self.price),
            "reasons": list(self.reasons),
            "checks": [c.to_dict() for c in self.checks],
        }


def _json_value(value: InputValue) -> str | int | bool | None:
    return str(value) if isinstance(value, Decimal) else value


def is_reducing(
    order: SubmitOrder | OrderIntent, positions: Mapping[str, Decimal], working: Sequence[OrderIntent] = ()
) -> bool:
    """Whether `order` sells against a long or buys against a short without flipping it, once the `working`
    orders on the same side and symbol have filled too. Closing a position exactly counts as reducing.

    >>> is_reducing(OrderIntent("AAPL", Side.SELL, Decimal(50)), {"AAPL": Decimal(100)})
    True
    >>> is_reducing(OrderIntent("AAPL", Side.SELL, Decimal(150)), {"AAPL": Decimal(100)})
    False
    """
    held = positions.get(order.symbol, ZERO)
    return _reduces(order.side, order.qty + _working_same_side(order, working), held)


def _working_same_side(order: SubmitOrder | OrderIntent, working: Sequence[OrderIntent]) -> Decimal:
    total = ZERO
    for other in working:
        if other.symbol == order.symbol and other.side is order.side:
            total += other.qty
    return total


def _reduces(side: Side, qty: Decimal, held: Decimal) -> bool:
    return (held > 0 and side is Side.SELL and qty <= held) or (held < 0 and side is Side.BUY and qty <= -held)


@dataclass(frozen=True, slots=True)
class _Order:
    """The facts about one order that every rule shares, worked out once."""

    order: SubmitOrder
    held: Decimal
    working: Decimal  # working quantity on the same side and symbol
    projected: Decimal  # the position if this order and those working orders filled
    reducing: bool

    @property
    def working_note(self) -> str:
        side = "buys" if self.order.side is Side.BUY else "sells"
        return f", counting {_qty(self.working)} in working {side}" if self.working else ""


def check(order: SubmitOrder, context: RiskContext, limits: RiskLimits) -> RiskDecision:
    """Judge `order` for the account in `context` under `limits`.

    >>> from datetime import UTC
    >>> context = RiskContext(Decimal(100000), datetime(2026, 6, 8, 14, 30, tzinfo=UTC),
    ...                       last_prices={"AAPL": Decimal("199.50")})
    >>> order = SubmitOrder("c-1", "acct", "AAPL", Side.BUY, Decimal(90))
    >>> check(order, context, RiskLimits()).reasons
    ('would make AAPL 18.0% of equity ($17,955.00 of $100,000.00); your limit is 10%',)
    """
    held = context.positions.get(order.symbol, ZERO)
    working = _working_same_side(order, context.working_orders)
    facts = _Order(
        order,
        held,
        working,
        held + order.side.sign * (order.qty + working),
        _reduces(order.side, order.qty + working, held),
    )
    checks = [_state_check(facts, context.state)]
    state = context.state
    if limits.max_daily_loss is not None:
        loss_check, breached = _daily_loss_check(facts, context, limits.max_daily_loss)
        checks.append(loss_check)
        if breached and state is TradingState.ACTIVE:
            state = TradingState.REDUCING
    if limits.max_orders_per_minute is not None:
        checks.append(_throttle_check(context, limits.max_orders_per_minute))
    if not facts.reducing:
        checks.extend(_list_checks(order.symbol, context, limits))
    if not limits.allow_short:
        checks.append(_short_check(facts))
    if limits.price_collar_pct is not None:
        checks.extend(_collar_checks(order, context.last_prices.get(order.symbol), limits.price_collar_pct))
    price = _valuation_price(order, context.last_prices.get(order.symbol))
    checks.extend(_sizing_checks(facts, price, context.equity, limits))
    reasons = tuple(c.detail for c in checks if not c.passed)
    return RiskDecision(not reasons, reasons, tuple(checks), state, facts.reducing, price)


def _state_check(facts: _Order, state: TradingState) -> CheckResult:
    inputs: dict[str, InputValue] = {
        "state": state.value,
        "position": facts.held,
        "working_same_side": facts.working,
        "position_after": facts.projected,
        "reducing": facts.reducing,
    }
    symbol = facts.order.symbol
    if state is TradingState.HALTED:
        return CheckResult("trading_state", False, "the kill switch is on: only cancels pass", inputs)
    if state is TradingState.REDUCING and not facts.reducing:
        return CheckResult(
            "trading_state",
            False,
            f"the account is reducing-only: only orders that shrink a position pass, and this one would take "
            f"{symbol} from {_qty(facts.held)} to {_qty(facts.projected)}{facts.working_note}",
            inputs,
        )
    if state is TradingState.REDUCING:
        detail = f"the account is reducing-only and this order shrinks {symbol} from {_qty(facts.held)} to {_qty(facts.projected)}"
        return CheckResult("trading_state", True, detail, inputs)
    return CheckResult("trading_state", True, "the account is active", inputs)


def _daily_loss_check(facts: _Order, context: RiskContext, limit: Decimal) -> tuple[CheckResult, bool]:
    loss = -context.daily_pnl
    breached = loss > limit
    inputs: dict[str, InputValue] = {"daily_pnl": context.daily_pnl, "max_daily_loss": limit, "breached": breached}
    if not breached:
        detail = f"today's P&L is {_money(context.daily_pnl)} (realized + unrealized); the daily loss limit is {_money(limit)}"
        return CheckResult("daily_loss", True, detail, inputs), False
    past = f"today's loss of {_money(loss)} (realized + unrealized) is past your {_money(limit)} limit"
    moved = "now " if context.state is TradingState.ACTIVE else ""
    if facts.reducing:
        detail = f"{past}, so the account is {moved}reducing-only; this order shrinks a position, which may pass"
        return CheckResult("daily_loss", True, detail, inputs), True
    detail = f"{past}, so the account is {moved}reducing-only: only orders that shrink a position pass"
    return CheckResult("daily_loss", False, detail, inputs), True


def _throttle_check(context: RiskContext, per_minute: int) -> CheckResult:
    since = context.now - THROTTLE_WINDOW
    in_window = [t for t in context.recent_order_times if t > since]
    count = len(in_window)
    inputs: dict[str, InputValue] = {"orders_last_60s": count, "max_orders_per_minute": per_minute}
    if count < per_minute:
        detail = f"{count} earlier order(s) in the last 60 s; your limit is {per_minute} a minute"
        return CheckResult("throttle", True, detail, inputs)
    # room comes back when enough of the oldest submissions leave the window
    retry = sorted(in_window)[count - per_minute] + THROTTLE_WINDOW
    inputs["retry_after"] = retry.isoformat()
    detail = (
        f"{count} orders in the last 60 s already; your limit is {per_minute} a minute: "
        f"try again after {retry.astimezone(UTC):%H:%M:%S} UTC"
    )
    return CheckResult("throttle", False, detail, inputs)


def _list_checks(symbol: str, context: RiskContext, limits: RiskLimits) -> list[CheckResult]:
    results = []
    if limits.allowed_symbols is not None:
        allowed = symbol in limits.allowed_symbols
        # the list can be long: record its size, and spell out a few names only when they help (a denial)
        inputs: dict[str, InputValue] = {"symbol": symbol, "allowed_symbols_count": len(limits.allowed_symbols)}
        if allowed:
            detail = f"{symbol} is on this account's list of allowed symbols"
        else:
            listed = _some(sorted(limits.allowed_symbols))
            detail = f"{symbol} is not on this account's list of allowed symbols ({listed}): add it to open a position"
        results.append(CheckResult("allowed_symbols", allowed, detail, inputs))
    if limits.allowed_asset_classes is not None:
        classes = ", ".join(sorted(limits.allowed_asset_classes))
        asset_class = context.asset_class_of.get(symbol)
        inputs = {"symbol": symbol, "asset_class": asset_class, "allowed_asset_classes": classes}
        if asset_class is None:
            detail = f"the asset class of {symbol} is unknown, so it cannot be checked against the allowed classes ({classes})"
            results.append(CheckResult("allowed_asset_classes", False, detail, inputs))
        elif asset_class in limits.allowed_asset_classes:
            results.append(
                CheckResult("allowed_asset_classes", True, f"{symbol} is {_article(asset_class)} {asset_class}", inputs)
            )
        else:
            detail = f"{symbol} is {_article(asset_class)} {asset_class}; this account trades only {classes}"
            results.append(CheckResult("allowed_asset_classes", False, detail, inputs))
    return results


def _short_check(facts: _Order) -> CheckResult:
    inputs: dict[str, InputValue] = {"position_after": facts.projected, "allow_short": False}
    symbol = facts.order.symbol
    if facts.order.side is Side.SELL and facts.projected < 0 and not facts.reducing:
        detail = f"would leave you short {_qty(-facts.projected)} {symbol}{facts.working_note}; short selling is off for this account"
        return CheckResult("short_selling", False, detail, inputs)
    return CheckResult("short_selling", True, f"opens or adds to no short position in {symbol}", inputs)


def _collar_checks(order: SubmitOrder, last: Decimal | None, collar_pct: Decimal) -> list[CheckResult]:
    results = []
    for kind, price in (("limit", order.limit_price), ("stop", order.stop_price)):
        if price is None:
            continue
        inputs: dict[str, InputValue] = {"kind": kind, "price": price, "last_trade": last, "collar_pct": collar_pct}
        if last is None:
            detail = (
                f"there is no last trade for {order.symbol} to check the {kind} {price} against "
                f"(the collar is {_plain(collar_pct)}%): wait for a trade, or turn the collar off"
            )
            results.append(CheckResult("price_collar", False, detail, inputs))
            continue
        distance = abs(price - last) * HUNDRED / last
        inputs["distance_pct"] = distance
        if kind == "limit" and _resting_take_profit(order, price, last):
            inputs["resting_exit"] = True
            detail = (
                f"take-profit {price} is {distance.quantize(Decimal('0.1')):f}% beyond the last trade {last}: an exit "
                "that waits on the far side of the market cannot fill at a worse price, so it is not collared"
            )
            results.append(CheckResult("price_collar", True, detail, inputs))
            continue
        passed = distance <= collar_pct
        detail = (
            f"{kind} {price} is {_pct(distance, collar_pct, passed)}% from the last trade {last}; "
            f"the collar is {_plain(collar_pct)}%"
        )
        results.append(CheckResult("price_collar", passed, detail, inputs))
    return results


def _resting_take_profit(order: SubmitOrder, price: Decimal, last: Decimal) -> bool:
    """An OCO's take-profit (its limit) on the passive side: a sell above the last trade, a buy below it."""
    if order.order_class is not OrderClass.OCO:
        return False
    return price >= last if order.side is Side.SELL else price <= last


def _valuation_price(order: SubmitOrder, last: Decimal | None) -> Decimal | None:
    own = order.reference_price
    if own is None or last is None:
        return own if own is not None else last
    return max(own, last)


def _sizing_checks(facts: _Order, price: Decimal | None, equity: Decimal, limits: RiskLimits) -> list[CheckResult]:
    """The per-order notional (every order) and the position limits (orders that add exposure)."""
    order = facts.order
    position_limits = limits.max_position_pct is not None or limits.max_position_value is not None
    results = []
    if position_limits and facts.reducing:
        detail = (
            f"shrinks {order.symbol} from {_qty(facts.held)} to {_qty(facts.projected)}: "
            "position limits apply only to orders that add exposure"
        )
        results.append(
            CheckResult("position_limits", True, detail, {"position": facts.held, "position_after": facts.projected})
        )
    if limits.max_order_notional is None and not (position_limits and not facts.reducing):
        return results
    if price is None:
        hint = (
            "wait for a trade" if limits.price_collar_pct is not None else "wait for a trade, or give it a limit price"
        )
        detail = f"there is no last trade for {order.symbol}, so this market order cannot be valued against your limits: {hint}"
        return [*results, CheckResult("price", False, detail, {"symbol": order.symbol, "last_trade": None})]
    if limits.max_order_notional is not None:
        results.append(_notional_check(order, price, limits.max_order_notional))
    if facts.reducing:
        return results
    value = abs(facts.projected) * price
    if limits.max_position_pct is not None:
        results.append(_position_pct_check(facts, price, value, equity, limits.max_position_pct))
    if limits.max_position_value is not None:
        passed = value <= limits.max_position_value
        inputs: dict[str, InputValue] = {
            "position_after": facts.projected,
            "price": price,
            "value": value,
            "max_position_value": limits.max_position_value,
        }
        side = "long" if facts.projected >= 0 else "short"
        detail = (
            f"would make {order.symbol} a {_money(value)} {side} position ({_qty(abs(facts.projected))} at {price}"
            f"{facts.working_note}); your limit is {_money(limits.max_position_value)}"
        )
        results.append(CheckResult("position_value", passed, detail, inputs))
    return results


def _notional_check(order: SubmitOrder, price: Decimal, limit: Decimal) -> CheckResult:
    notional = order.qty * price
    passed = notional <= limit
    inputs: dict[str, InputValue] = {
        "qty": order.qty,
        "price": price,
        "notional": notional,
        "max_order_notional": limit,
    }
    advice = "" if passed else "; split it or raise the limit"
    detail = f"the order is worth {_money(notional)} ({_qty(order.qty)} × {price}); your limit per order is {_money(limit)}{advice}"
    return CheckResult("order_notional", passed, detail, inputs)


def _position_pct_check(
    facts: _Order, price: Decimal, value: Decimal, equity: Decimal, limit_pct: Decimal
) -> CheckResult:
    symbol = facts.order.symbol
    inputs: dict[str, InputValue] = {
        "position_after": facts.projected,
        "price": price,
        "value": value,
        "equity": equity,
        "max_position_pct": limit_pct,
    }
    if equity <= 0:
        detail = f"equity is {_money(equity)}, so no position fits within {_plain(limit_pct)}% of it"
        return CheckResult("position_pct", value == 0, detail, inputs)
    share = value * HUNDRED / equity
    inputs["position_pct"] = share
    passed = value * HUNDRED <= limit_pct * equity  # exact: no rounding from the division
    detail = (
        f"would make {symbol} {_pct(share, limit_pct, passed)}% of equity ({_money(value)} of {_money(equity)}"
        f"{facts.working_note}); your limit is {_plain(limit_pct)}%"
    )
    return CheckResult("position_pct", passed, detail, inputs)


# ---- words ------------------------------------------------------------------------------------------------------


def _qty(qty: Decimal) -> str:
    return "0" if qty == 0 else f"{qty.normalize():f}"


def _plain(number: Decimal) -> str:
    return f"{number.normalize():f}"


def _money(amount: Decimal) -> str:
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def _pct(value: Decimal, limit: Decimal, passed: bool) -> str:
    """`value` to one decimal, or to as many more as it takes for the text to land on the verdict's side of
    `limit` (10.04% over a 10% limit reads 10.04, not 10.0)."""
    for places in range(1, 5):
        shown = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
        if (shown <= limit) == passed:
            return f"{shown:f}"
    return _plain(value)


def _some(names: list[str], shown: int = 5) -> str:
    return ", ".join(names) if len(names) <= shown else f"{', '.join(names[:shown])} and {len(names) - shown} more"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
