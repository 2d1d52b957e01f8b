"""The policy switch: auto by trade date, off, the cash account from a snapshot, and the property that the
legacy rule never lets a forbidden 4th day trade through."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.trading import pdt
from marketdesk.trading.activity import Execution, OrderIntent, Side
from marketdesk.trading.compliance import AccountSnapshot, ComplianceSettings, MissingPrice, Policy, check

XNYS = ExchangeCalendar("XNYS")
SESSIONS = XNYS.sessions(date(2026, 5, 11), date(2026, 5, 29))


def at(day: str, clock: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=NEW_YORK)


def buy(symbol: str, qty: int, price: str = "100") -> OrderIntent:
    return OrderIntent(symbol, Side.BUY, Decimal(qty), Decimal(price))


@pytest.mark.parametrize(
    ("day", "expected"), [("2026-06-03", Policy.LEGACY_PDT), ("2026-06-04", Policy.INTRADAY_MARGIN)]
)
def test_auto_switches_to_intraday_margin_on_2026_06_04(day: str, expected: Policy) -> None:
    snapshot = AccountSnapshot(at=at(day), equity=Decimal(10000))
    decision = check(snapshot, buy("XYZ", 1), ComplianceSettings(Policy.AUTO), XNYS)
    assert decision.policy is expected
    assert decision.allowed


def test_auto_judges_a_large_buy_by_the_rule_of_its_date() -> None:
    # $20,000 of stock on $10,000 of equity: no day trade (legacy allows it), a margin deficit (intraday denies it)
    big = buy("XYZ", 200)
    before = check(AccountSnapshot(at=at("2026-06-03"), equity=Decimal(4000)), big, ComplianceSettings(), XNYS)
    after = check(AccountSnapshot(at=at("2026-06-04"), equity=Decimal(4000)), big, ComplianceSettings(), XNYS)
    assert before.allowed
    assert not after.allowed
    assert "intraday margin deficit" in after.reason


def test_off_allows_everything_and_says_so() -> None:
    decision = check(
        AccountSnapshot(at=at("2026-06-10"), equity=Decimal(0)), buy("XYZ", 10**6), ComplianceSettings(Policy.OFF), XNYS
    )
    assert decision.allowed
    assert "off" in decision.reason


def test_an_order_without_any_price_is_refused_with_the_fix() -> None:
    snapshot = AccountSnapshot(at=at("2026-06-10"), equity=Decimal(1000))
    with pytest.raises(MissingPrice, match="give the order a price"):
        check(snapshot, OrderIntent("XYZ", Side.BUY, Decimal(1)), ComplianceSettings(Policy.INTRADAY_MARGIN), XNYS)


def test_the_cash_account_derives_its_cash_from_equity_and_positions() -> None:
    executions = (Execution(at("2026-11-16"), "XYZ", Side.BUY, Decimal(50), Decimal(100)),)
    # equity $6,000 with 50 XYZ marked at $100: $1,000 of cash
    snapshot = AccountSnapshot(
        at=at("2026-11-17"), equity=Decimal(6000), executions=executions, prices={"XYZ": Decimal(100)}
    )
    settings_ = ComplianceSettings(Policy.CASH_ACCOUNT)
    assert check(snapshot, buy("ABC", 10), settings_, XNYS).allowed
    too_much = check(snapshot, buy("ABC", 11), settings_, XNYS)
    assert not too_much.allowed
    assert "$1,000.00 of cash" in too_much.reason


def test_the_decision_serialises_with_its_status() -> None:
    decision = check(
        AccountSnapshot(at=at("2026-05-14"), equity=Decimal(18000)),
        buy("XYZ", 1),
        ComplianceSettings(Policy.LEGACY_PDT),
        XNYS,
    )
    body = decision.to_dict()
    assert body["policy"] == "legacy-pdt"
    assert body["day_trades"] == 0
    assert body["status"]["day_trades_remaining"] == 3


orders = st.lists(
    st.tuples(
        st.integers(0, len(SESSIONS) - 1),  # session
        st.integers(0, 389),  # minute of the session
        st.sampled_from(["AAA", "BBB", "CCC"]),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 3),
    ),
    max_size=40,
)


def _run(raw: list[tuple[int, int, str, Side, int]], policy: Policy) -> list[Execution]:
    """Place each order in time order; fill it at once if `policy` allows it."""
    done: list[Execution] = []
    for session, minute, symbol, side, qty in sorted(raw, key=lambda r: (r[0], r[1])):
        when = datetime.combine(SESSIONS[session], datetime.min.time()).replace(tzinfo=NEW_YORK)
        when += timedelta(hours=9, minutes=30 + minute)
        snapshot = AccountSnapshot(at=when, equity=Decimal(18000), executions=tuple(done))
        intent = OrderIntent(symbol, side, Decimal(qty), Decimal(100))
        if check(snapshot, intent, ComplianceSettings(policy), XNYS).allowed:
            done.append(Execution(when, symbol, side, Decimal(qty), Decimal(100)))
    return done


def _most_in_a_window(executions: list[Execution]) -> int:
    book = pdt.DayTradeBook.of(executions)
    windows = [pdt.window(day, XNYS) for day in SESSIONS]
    return max(sum(1 for t in book.day_trades if w[0] <= t.day <= w[-1]) for w in windows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders)
def test_compliance_never_lets_a_forbidden_fourth_day_trade_through(raw: list[tuple[int, int, str, Side, int]]) -> None:
    assert _most_in_a_window(_run(raw, Policy.LEGACY_PDT)) <= pdt.DAY_TRADES_ALLOWED


def test_the_property_would_catch_a_fourth_day_trade() -> None:
    # four round trips on one day: with compliance off all fill and the window holds four; legacy-pdt stops at three
    raw = [
        (0, minute, "AAA", side, 1)
        for minute in range(0, 80, 10)
        for side in [Side.BUY if minute % 20 == 0 else Side.SELL]
    ]
    assert _most_in_a_window(_run(raw, Policy.OFF)) == 4
    assert _most_in_a_window(_run(raw, Policy.LEGACY_PDT)) == 3
