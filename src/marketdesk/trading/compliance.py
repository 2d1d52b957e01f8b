"""Day-trading compliance, a policy chosen per account (../shared/DESIGN.md §6: the rules changed in 2026).

- `legacy-pdt`: the pattern-day-trader rule (`marketdesk.trading.pdt`);
- `intraday-margin`: the rule in force since 2026-06-04 (`marketdesk.trading.margin`);
- `cash-account`: no margin, T+1 settlement, good-faith violations (`marketdesk.trading.settlement`);
- `off`: no check;
- `auto`: `intraday-margin` for trade dates on or after 2026-06-04, `legacy-pdt` before.

`check(snapshot, order, settings, calendar)` is the one entry point: the live order path, the backtester and
`marketdesk compliance check` all call it with an `AccountSnapshot`, so they cannot disagree. Pure: no I/O, no
clock; the snapshot carries the instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from marketdesk.trading import margin, pdt, settlement
from marketdesk.trading.activity import (
    Execution,
    OrderIntent,
    SessionCalendar,
    last_prices,
    positions_after,
    trade_date,
)

INTRADAY_MARGIN_EFFECTIVE = date(2026, 6, 4)


class Policy(StrEnum):
    LEGACY_PDT = "legacy-pdt"
    INTRADAY_MARGIN = "intraday-margin"
    CASH_ACCOUNT = "cash-account"
    OFF = "off"
    AUTO = "auto"

    @classmethod
    def parse(cls, text: str) -> Policy:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"unknown policy {text!r}: use one of {', '.join(p.value for p in cls)}") from None

    def effective(self, day: date) -> Policy:
        """The policy that applies on trade date `day` (`auto` resolves by date)."""
        if self is Policy.AUTO:
            return Policy.INTRADAY_MARGIN if day >= INTRADAY_MARGIN_EFFECTIVE else Policy.LEGACY_PDT
        return self


@dataclass(frozen=True, slots=True)
class ComplianceSettings:
    """An account's compliance policy and its parameters."""

    policy: Policy = Policy.AUTO
    rates: margin.MarginRates = field(default_factory=margin.MarginRates)
    cap_multiple: Decimal | None = None  # intraday-margin: a broker-style cap on exposure added per day


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """What the policies need to know about an account at one instant.

    `executions` are its fills, oldest first (at least the last 5 sessions; a year for cash accounts' violation
    count); `pending` its working orders. Positions are `opening_positions` plus the executions. `equity` is
    now; `previous_close_equity` (default: `equity`) and `previous_close_maintenance` are the last close's.
    `prices` are marks (default: each symbol's last execution). A cash account's `opening_cash` is its cash
    before the first execution (default: what makes today's cash equal equity less the positions' value).
    """

    at: datetime
    equity: Decimal
    executions: tuple[Execution, ...] = ()
    pending: tuple[OrderIntent, ...] = ()
    opening_positions: Mapping[str, Decimal] = field(default_factory=dict)
    prices: Mapping[str, Decimal] = field(default_factory=dict)
    previous_close_equity: Decimal | None = None
    previous_close_maintenance: Decimal = Decimal(0)
    previous_close_excess: Decimal | None = None
    opening_cash: Decimal | None = None

    @property
    def day(self) -> date:
        return trade_date(self.at)

    def positions(self) -> dict[str, Decimal]:
        return positions_after(self.executions, self.opening_positions)

    def marks(self) -> dict[str, Decimal]:
        return {**last_prices(self.executions), **self.prices}


@dataclass(frozen=True, slots=True)
class ComplianceDecision:
    """The answer for one order: allowed or not, why (in plain words), warnings, and the account's status."""

    allowed: bool
    policy: Policy  # the policy that applied (auto resolved)
    reason: str
    warnings: tuple[str, ...] = ()
    day_trades: int | None = None  # legacy-pdt: day trades in the 5-session window
    status: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "policy": self.policy.value,
            "reason": self.reason,
            "warnings": list(self.warnings),
            "day_trades": self.day_trades,
            "status": dict(self.status),
        }


class MissingPrice(ValueError):
    """An order or position has no price to judge it by."""


def check(
    snapshot: AccountSnapshot, order: OrderIntent, settings: ComplianceSettings, calendar: SessionCalendar
) -> ComplianceDecision:
    """Judge `order` for the account in `snapshot` under its policy."""
    policy = settings.policy.effective(snapshot.day)
    if policy is Policy.OFF:
        return ComplianceDecision(True, policy, "allowed: day-trading compliance is off for this account")
    if policy is Policy.LEGACY_PDT:
        return _legacy(snapshot, order, calendar)
    prices = snapshot.marks()
    price = order.price if order.price is not None else prices.get(order.symbol)
    if price is None:
        raise MissingPrice(f"no price for {order.symbol}: give the order a price (e.g. BUY 10 {order.symbol} @ 101.50)")
    if policy is Policy.INTRADAY_MARGIN:
        return _intraday(snapshot, OrderIntent(order.symbol, order.side, order.qty, price), settings, prices)
    return _cash(snapshot, order, price, prices, calendar)


def _legacy(snapshot: AccountSnapshot, order: OrderIntent, calendar: SessionCalendar) -> ComplianceDecision:
    book = pdt.DayTradeBook.of(snapshot.executions, snapshot.opening_positions)
    result = pdt.check(
        book, order, snapshot.at, calendar, pending=snapshot.pending,
        previous_close_equity=snapshot.previous_close_equity if snapshot.previous_close_equity is not None else snapshot.equity,
        previous_close_maintenance=snapshot.previous_close_maintenance,
    )  # fmt: skip
    status = {**asdict(result.status), "possible_day_trades": result.possible_day_trades}
    return ComplianceDecision(
        result.allowed, Policy.LEGACY_PDT, result.reason, day_trades=result.status.day_trades_used, status=status
    )


def _intraday(
    snapshot: AccountSnapshot, order: OrderIntent, settings: ComplianceSettings, prices: dict[str, Decimal]
) -> ComplianceDecision:
    positions = snapshot.positions()
    missing = sorted(s for s in positions if s not in prices and s != order.symbol)
    if missing:
        raise MissingPrice(f"no price for the position(s) {', '.join(missing)}: margin needs a mark for each")
    added = Decimal(0)
    if settings.cap_multiple is not None:
        added = margin.added_today(snapshot.executions, snapshot.day, snapshot.opening_positions)
    result = margin.check(
        order, positions, prices, snapshot.equity, settings.rates,
        cap_multiple=settings.cap_multiple, previous_close_excess=snapshot.previous_close_excess,
        added_today_notional=added,
    )  # fmt: skip
    status = {**_flat(result.status), "requirement_after": result.requirement_after}
    return ComplianceDecision(result.allowed, Policy.INTRADAY_MARGIN, result.reason, status=status)


def _flat(status: margin.MarginStatus) -> dict[str, Any]:
    """A margin status's fields (all amounts: `asdict` would deep-copy them, on every order)."""
    return {name: getattr(status, name) for name in margin.MarginStatus.__slots__}


def _cash(
    snapshot: AccountSnapshot,
    order: OrderIntent,
    price: Decimal,
    prices: dict[str, Decimal],
    calendar: SessionCalendar,
) -> ComplianceDecision:
    opening_cash = snapshot.opening_cash if snapshot.opening_cash is not None else _opening_cash(snapshot)
    ledger = settlement.CashLedger.of(snapshot.executions, opening_cash, calendar, snapshot.opening_positions)
    result = settlement.check(ledger, order, snapshot.day, price)
    return ComplianceDecision(
        result.allowed, Policy.CASH_ACCOUNT, result.reason, warnings=result.warnings, status=asdict(result.status)
    )


def status(snapshot: AccountSnapshot, settings: ComplianceSettings, calendar: SessionCalendar) -> dict[str, Any]:
    """Where the account stands under its policy at `snapshot.at`, for the desk's compliance widget: day trades
    used, left and the next drop-off (legacy-pdt); requirement, equity and headroom (intraday-margin); settled
    and unsettled cash (cash-account)."""
    policy = settings.policy.effective(snapshot.day)
    out: dict[str, Any] = {"policy": policy.value}
    if policy is Policy.LEGACY_PDT:
        book = pdt.DayTradeBook.of(snapshot.executions, snapshot.opening_positions)
        equity = snapshot.previous_close_equity if snapshot.previous_close_equity is not None else snapshot.equity
        out.update(asdict(pdt.status(book, snapshot.day, calendar, previous_close_equity=equity,
                                     previous_close_maintenance=snapshot.previous_close_maintenance)))  # fmt: skip
    elif policy is Policy.INTRADAY_MARGIN:
        positions = snapshot.positions()
        prices = snapshot.marks()
        missing = sorted(s for s in positions if s not in prices)
        if missing:
            raise MissingPrice(f"no price for the position(s) {', '.join(missing)}: margin needs a mark for each")
        requirement = margin.requirement(positions, prices, settings.rates)
        out.update(requirement=requirement, equity=snapshot.equity, headroom=snapshot.equity - requirement,
                   deficit=max(requirement - snapshot.equity, Decimal(0)))  # fmt: skip
    elif policy is Policy.CASH_ACCOUNT:
        opening_cash = snapshot.opening_cash if snapshot.opening_cash is not None else _opening_cash(snapshot)
        ledger = settlement.CashLedger.of(snapshot.executions, opening_cash, calendar, snapshot.opening_positions)
        out.update(asdict(settlement.status(ledger, snapshot.day)))
    return out


def _opening_cash(snapshot: AccountSnapshot) -> Decimal:
    positions, prices = snapshot.positions(), snapshot.marks()
    missing = sorted(s for s in positions if s not in prices)
    if missing:
        raise MissingPrice(f"no price for the position(s) {', '.join(missing)}: the cash balance needs them")
    cash_now = snapshot.equity - sum((q * prices[s] for s, q in positions.items()), Decimal(0))
    return cash_now + sum((e.side.sign * e.notional for e in snapshot.executions), Decimal(0))
