"""How the trade page reads its ticket and words what the desk answers: the ticket read into an order (and every
mistake named), the preview's verdicts from the real risk engine and compliance policies, order statuses and
results, the blotter's order, the compliance widget and the marks of a position."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from marketdesk.errors import Rejected
from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.trading import compliance, risk
from marketdesk.trading.activity import Execution, Side
from marketdesk.trading.orders import Bracket, OrderType, SubmitOrder, TimeInForce
from marketdesk.trading.paper import CAPABILITIES as PAPER_CAPABILITIES
from marketdesk.trading.service import OrderView, Preview
from marketdesk.web.trade_text import (
    Ticket,
    account_label,
    amount,
    blotter,
    check_label,
    compliance_text,
    countdown,
    event_message,
    marked,
    money,
    placed_at,
    preview_text,
    price_fields,
    quantity,
    result_message,
    state_badge,
    takes_brackets,
    ticket_order,
)

XNYS = ExchangeCalendar("XNYS")
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def view(status: str, *, minutes: int = 0, **fields: object) -> OrderView:
    values: dict[str, object] = {
        "id": f"o-{status}-{minutes}", "account_id": "acct", "client_order_id": f"c-{status}-{minutes}",
        "symbol": "AAA", "side": "buy", "qty": Decimal(10), "order_type": "market", "time_in_force": "day",
        "status": status, "filled_qty": Decimal(0), "average_fill_price": None, "limit_price": None,
        "stop_price": None, "reason": None, "created_at": NOW + timedelta(minutes=minutes),
        "updated_at": NOW + timedelta(minutes=minutes), "broker_order_id": None,
    }  # fmt: skip
    values.update(fields)
    return OrderView(**values)  # type: ignore[arg-type]


# ---- the ticket -------------------------------------------------------------------------------------------------


def test_a_market_ticket_becomes_the_order_it_asks_for() -> None:
    order = ticket_order(Ticket(" aapl ", "buy", "1,000"), "acct", "web-1")
    assert order == SubmitOrder("web-1", "acct", "AAPL", Side.BUY, Decimal(1000))


def test_a_limit_ticket_ignores_the_stop_field_its_type_does_not_use() -> None:
    ticket = Ticket("MSFT", "sell", "5", "limit", "gtc", limit_price="410.5", stop_price="400")
    order = ticket_order(ticket, "acct", "web-2")
    assert (order.order_type, order.time_in_force) == (OrderType.LIMIT, TimeInForce.GTC)
    assert (order.limit_price, order.stop_price) == (Decimal("410.5"), None)


@pytest.mark.parametrize(
    ("order_type", "fields"),
    [("market", (False, False)), ("limit", (True, False)), ("stop", (False, True)), ("stop_limit", (True, True))],
)
def test_each_order_type_shows_the_price_fields_it_needs(order_type: str, fields: tuple[bool, bool]) -> None:
    assert price_fields(order_type) == fields


def test_a_stop_limit_ticket_without_prices_names_both_missing_fields() -> None:
    with pytest.raises(Rejected) as refused:
        ticket_order(Ticket("MSFT", "buy", "5", "stop_limit"), "acct", "web-3")
    assert refused.value.message == "check the ticket: give a limit price; give a stop price"


def test_every_mistake_on_the_ticket_is_named_at_once() -> None:
    with pytest.raises(Rejected) as refused:
        ticket_order(Ticket("", "hold", "ten", "market", "week"), "acct", "web-4")
    message = refused.value.message
    for problem in (
        "type a symbol",
        "pick a side: buy, sell",
        "pick a time in force: day, gtc, ioc, fok",
        "the quantity 'ten' is not a number",
    ):
        assert problem in message, message


def test_a_symbol_that_cannot_be_a_ticker_is_refused_with_the_rule() -> None:
    with pytest.raises(Rejected) as refused:
        ticket_order(Ticket("AA PL!", "buy", "1"), "acct", "web-5")
    assert "is not a ticker symbol" in refused.value.message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "the quantity must be above 0, got 0"),
        ("-3", "the quantity must be above 0, got -3"),
        ("NaN", "the quantity must be above 0, got NaN"),
        ("1.0000000001", "has too many digits"),
        ("", "give a quantity"),
    ],
)
def test_a_quantity_that_is_not_a_positive_amount_is_refused(text: str, problem: str) -> None:
    problems: list[str] = []
    assert amount("quantity", text, problems, required=True) is None
    assert len(problems) == 1 and problem in problems[0], problems


def test_an_optional_price_left_empty_is_none_without_a_problem() -> None:
    problems: list[str] = []
    assert amount("take-profit", "  ", problems) is None
    assert problems == []


def test_a_bracket_the_wrong_way_round_is_refused_in_words_without_the_order_id() -> None:
    ticket = Ticket("AAA", "buy", "10", "limit", limit_price="100", take_profit="95", stop_loss="105")
    with pytest.raises(Rejected) as refused:
        ticket_order(ticket, "acct", "web-6")
    assert refused.value.message.startswith("check the ticket: for a buy the stop-loss must be below the take-profit")
    assert "web-6" not in refused.value.message


def test_a_bracket_is_kept_where_the_venue_takes_one_and_refused_where_it_does_not() -> None:
    ticket = Ticket("AAA", "buy", "10", "limit", limit_price="100", take_profit="110", stop_loss="95")
    assert ticket_order(ticket, "acct", "web-7").bracket == Bracket(Decimal(110), Decimal(95))
    with pytest.raises(Rejected) as refused:
        ticket_order(ticket, "acct", "web-7", brackets=False)
    assert "places no stop-loss or take-profit orders: clear those fields" in refused.value.message


def test_both_venues_take_brackets_as_their_capabilities_say() -> None:
    assert takes_brackets("paper") is PAPER_CAPABILITIES.brackets is True
    assert takes_brackets("alpaca") is True


# ---- numbers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("10.000000000"), "10"),
        (Decimal("2.50"), "2.5"),
        (Decimal(1000), "1,000"),
        (Decimal(0), "0"),
        (None, "—"),
    ],
)
def test_quantities_drop_trailing_zeros(value: Decimal | None, text: str) -> None:
    assert quantity(value) == text


def test_money_is_in_dollars_with_a_real_minus_and_an_optional_plus() -> None:
    assert money(Decimal("1234.5")) == "$1,234.50"
    assert money("-20") == "−$20.00"
    assert money(Decimal(5), signed=True) == "+$5.00"
    assert money(Decimal(0), signed=True) == "$0.00"
    assert money(None) == "—"
    assert money("not a number") == "—"


def test_a_long_and_a_short_are_marked_at_the_last_trade() -> None:
    assert marked(Decimal(10), Decimal(100), Decimal(103)) == (Decimal(1030), Decimal(30))
    assert marked(Decimal(-10), Decimal(100), Decimal(103)) == (Decimal(-1030), Decimal(-30))


def test_placed_at_reads_utc_whatever_zone_the_time_carries() -> None:
    assert placed_at(datetime(2026, 11, 20, 10, 5, 9, tzinfo=NEW_YORK)) == "20 Nov 15:05:09"
    assert placed_at(datetime(2026, 11, 20, 15, 5, 9)) == "20 Nov 15:05:09"  # noqa: DTZ001 (a stored naive UTC time)


# ---- orders -----------------------------------------------------------------------------------------------------


def test_the_blotter_shows_working_orders_first_then_the_latest_finished_ones() -> None:
    orders = [
        view("filled", minutes=1),
        view("accepted", minutes=2),
        view("rejected", minutes=5),
        view("partially_filled", minutes=4),
        view("canceled", minutes=3),
        view("new", minutes=0),
    ]
    rows = blotter(orders, recent=2)
    assert [(v.status, v.created_at.minute) for v in rows] == [
        ("partially_filled", 4),
        ("accepted", 2),
        ("new", 0),
        ("rejected", 5),
        ("canceled", 3),
    ]


def test_a_denied_order_reads_as_rejected_with_its_reason() -> None:
    placed, text = result_message(view("rejected", reason="would make AAA 20.0% of equity; your limit is 10%"))
    assert not placed
    assert text == "Rejected: BUY 10 AAA at market (day). Would make AAA 20.0% of equity; your limit is 10%."


def test_an_accepted_limit_order_reads_as_working() -> None:
    limit = view("accepted", order_type="limit", limit_price=Decimal("95.5"), time_in_force="gtc")
    assert result_message(limit) == (
        True,
        "Accepted: BUY 10 AAA limit 95.50 (gtc). It is working; the blotter shows its fills.",
    )


def test_a_filled_order_reads_with_its_fill() -> None:
    filled = view("filled", filled_qty=Decimal(10), average_fill_price=Decimal("100.25"))
    assert result_message(filled) == (True, "Filled: BUY 10 AAA at market (day), 10 at 100.25.")


def test_fills_and_expiries_pushed_on_the_channel_get_a_notice_and_the_rest_do_not() -> None:
    order = to_jsonable(view("filled", filled_qty=Decimal(10), average_fill_price=Decimal("100.25")))
    assert event_message("filled", order) == "Filled: BUY 10 AAA at 100.25"
    partial = to_jsonable(view("partially_filled", filled_qty=Decimal(4)))
    assert event_message("partially_filled", partial) == "Partly filled: BUY 4 of 10 AAA"
    expired = to_jsonable(view("expired", reason="day order at the close"))
    assert event_message("expired", expired) == "Expired: BUY AAA (day order at the close)"
    for quiet in ("accepted", "denied", "canceled", "rejected"):
        assert event_message(quiet, order) is None


# ---- the preview ------------------------------------------------------------------------------------------------


def test_a_preview_the_risk_engine_denies_lists_the_reason_and_every_check_that_ran() -> None:
    order = SubmitOrder("web-8", "acct", "AAPL", Side.BUY, Decimal(90))
    context = risk.RiskContext(Decimal(100000), NOW, last_prices={"AAPL": Decimal("199.50")})
    decision = risk.check(order, context, risk.RiskLimits())
    preview = Preview(order, False, decision.price, Decimal("17955.00"), decision, None, decision.reasons)

    text = preview_text(preview)

    assert not text.allowed and not text.risk_passed
    assert text.headline == "Would be denied: BUY 90 AAPL at market (day)"
    assert (text.estimated_price, text.estimated_cost) == ("199.50", "$17,955.00")
    assert text.risk_reasons == ("Would make AAPL 18.0% of equity ($17,955.00 of $100,000.00); your limit is 10%.",)
    assert [(c.label, c.passed) for c in text.checks] == [
        ("Trading state", True),
        ("Order rate", True),
        ("Short selling", True),
        ("Position % of equity", False),
    ]
    assert text.compliance_policy is None and text.compliance_allowed is None
    assert text.compliance_reason == "Not asked: the risk engine refused the order first."


def test_an_allowed_preview_carries_the_compliance_policy_and_its_reason() -> None:
    order = SubmitOrder("web-9", "acct", "AAPL", Side.BUY, Decimal(10))
    context = risk.RiskContext(Decimal(100000), NOW, last_prices={"AAPL": Decimal(200)})
    decision = risk.check(order, context, risk.RiskLimits())
    snapshot = compliance.AccountSnapshot(at=NOW, equity=Decimal(100000), prices={"AAPL": Decimal(200)})
    verdict = compliance.check(snapshot, order.intent(Decimal(200)), compliance.ComplianceSettings(), XNYS)
    preview = Preview(order, True, decision.price, Decimal("2000.00"), decision, verdict, ())

    text = preview_text(preview)

    assert text.allowed and text.risk_passed and text.risk_reasons == ()
    assert text.compliance_policy == "Intraday margin"
    assert text.compliance_allowed is True
    assert text.compliance_reason.startswith("Allowed")
    assert text.compliance_reason.endswith(".")


def test_an_unknown_check_name_still_reads_as_words() -> None:
    assert check_label("position_pct") == "Position % of equity"
    assert check_label("margin_call_guard") == "Margin call guard"


# ---- the account and its compliance -----------------------------------------------------------------------------


def test_each_trading_state_has_its_badge() -> None:
    assert state_badge("active") == ("ACTIVE", "positive")
    assert state_badge("reducing") == ("REDUCING", "warning")
    assert state_badge("halted") == ("HALTED", "negative")
    assert state_badge("frozen") == ("FROZEN", "grey")


def test_the_picker_names_an_account_with_its_venue_and_kind() -> None:
    assert account_label({"name": "Paper", "broker": "paper", "kind": "margin", "live": False}) == (
        "Paper · paper margin"
    )
    assert account_label({"name": "Real", "broker": "alpaca", "kind": "cash", "live": True}) == (
        "Real · live alpaca cash"
    )


@pytest.mark.parametrize(
    ("target", "text"),
    [
        (date(2026, 5, 14), "today"),
        (date(2026, 5, 15), "tomorrow"),
        (date(2026, 5, 19), "in 5 days"),
        (date(2026, 5, 12), "2 days ago"),
    ],
)
def test_countdown_to_a_date(target: date, text: str) -> None:
    assert countdown(target, date(2026, 5, 14)) == text


def test_legacy_widget_counts_a_day_trade_and_the_day_it_drops_off() -> None:
    # a round trip on Tue 12 May 2026 is a day trade; it stops counting 5 sessions later, on Tue 19 May
    def fill(side: Side, clock: str) -> Execution:
        return Execution(datetime.fromisoformat(f"2026-05-12T{clock}").replace(tzinfo=NEW_YORK), "AAA", side,
                         Decimal(10), Decimal(100))  # fmt: skip

    at = datetime(2026, 5, 14, 11, 0, tzinfo=NEW_YORK)
    snapshot = compliance.AccountSnapshot(
        at=at, equity=Decimal(20000), executions=(fill(Side.BUY, "10:00"), fill(Side.SELL, "11:00"))
    )
    settings = compliance.ComplianceSettings(compliance.Policy.LEGACY_PDT)
    status = to_jsonable(compliance.status(snapshot, settings, XNYS))  # as AccountService.compliance_status answers

    text = compliance_text(status, at.date())

    rows = {label: (value, tone) for label, value, tone in text.rows}
    assert text.policy == "Pattern day trader (legacy)"
    assert rows["Day trades used"] == ("1 of 3", "")
    assert rows["Day trades left"] == ("2", "positive")
    assert rows["Next drop-off"] == ("Tue 19 May 2026 (in 5 days)", "")
    assert rows["Pattern day trader"] == ("no", "")
    assert rows["Equity at the last close"] == ("$20,000.00", "")
    assert "under $25,000.00 at the last close, that day trade is refused" in text.note


def test_legacy_widget_with_no_day_trades_says_none_drop_off() -> None:
    status = {"policy": "legacy-pdt", "day_trades_used": 0, "day_trades_remaining": 3, "next_drop_off": None,
              "window_start": "2026-11-16", "window_end": "2026-11-20", "pattern_day_trader": False,
              "previous_close_equity": "100000", "equity_exempt": True}  # fmt: skip
    text = compliance_text(status, date(2026, 11, 20))
    rows = {label: value for label, value, _ in text.rows}
    assert rows["Day trades used"] == "0 of 3"
    assert rows["Next drop-off"] == "none in the window"
    assert rows["Window (5 sessions)"] == "Mon 16 Nov 2026 – Fri 20 Nov 2026"
    assert "may go on day trading" in text.note


def test_intraday_margin_widget_shows_requirement_equity_and_headroom() -> None:
    at = datetime(2026, 11, 20, 11, 0, tzinfo=NEW_YORK)
    snapshot = compliance.AccountSnapshot(
        at=at, equity=Decimal(100000), opening_positions={"AAA": Decimal(100)}, prices={"AAA": Decimal(200)}
    )
    status = to_jsonable(compliance.status(snapshot, compliance.ComplianceSettings(), XNYS))
    requirement = Decimal(status["requirement"])
    assert requirement > 0

    text = compliance_text(status, at.date())

    rows = {label: (value, tone) for label, value, tone in text.rows}
    assert text.policy == "Intraday margin"
    assert rows["Margin requirement"] == (money(requirement), "")
    assert rows["Equity"] == ("$100,000.00", "")
    assert rows["Headroom"] == (money(Decimal(100000) - requirement), "positive")
    assert "Deficit" not in rows


def test_intraday_margin_widget_shows_a_deficit_in_red() -> None:
    status = {"policy": "intraday-margin", "requirement": "12000", "equity": "10000", "headroom": "-2000",
              "deficit": "2000"}  # fmt: skip
    rows = {label: (value, tone) for label, value, tone in compliance_text(status, date(2026, 11, 20)).rows}
    assert rows["Headroom"] == ("−$2,000.00", "negative")
    assert rows["Deficit"] == ("$2,000.00", "negative")


def test_cash_account_widget_shows_settled_and_unsettled_cash() -> None:
    status = {"policy": "cash-account", "settled_cash": "7500.5", "unsettled_cash": "2500",
              "next_settlement": "2026-11-23", "good_faith_violations_12m": 1, "restricted_until": None}  # fmt: skip
    text = compliance_text(status, date(2026, 11, 20))
    rows = {label: value for label, value, _ in text.rows}
    assert text.policy == "Cash account"
    assert rows == {
        "Settled cash": "$7,500.50",
        "Unsettled cash": "$2,500.00",
        "Next settlement": "Mon 23 Nov 2026 (in 3 days)",
        "Good-faith violations (12 months)": "1",
    }


def test_compliance_off_says_no_policy_checks_orders() -> None:
    text = compliance_text({"policy": "off"}, date(2026, 11, 20))
    assert (text.policy, text.rows) == ("Off", ())
    assert "no policy checks its orders" in text.note
