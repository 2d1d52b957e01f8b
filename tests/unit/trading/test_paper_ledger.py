"""The paper account's books: average prices and realized P&L, the borrow check, buying power, cash-account
settlement, splits and dividends, and (hypothesis) value conservation through fills."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.trading.activity import OrderIntent, Side
from marketdesk.trading.margin import MarginRates
from marketdesk.trading.matching import Commission, FillModel, Tick, WorkingOrder, match
from marketdesk.trading.orders import OrderType, SubmitOrder
from marketdesk.trading.paper_ledger import AccountPolicy, AccountType, Ledger, Position, borrow_list, refusal

D = Decimal
XNYS = ExchangeCalendar("XNYS")
FRIDAY = date(2026, 11, 20)
MARGIN = AccountPolicy()


def book(
    ledger: Ledger, symbol: str, side: str, qty: int, price: str, *, commission: str = "0", day: date = FRIDAY
) -> Decimal:
    return ledger.apply_fill(symbol, Side(side), D(qty), D(price), D(commission), trade_day=day, calendar=XNYS)


# positions and P&L -------------------------------------------------------------------------------------------


def test_adding_to_a_position_averages_its_price_and_a_sale_realizes_against_it() -> None:
    ledger = Ledger(AccountType.MARGIN, D(100_000))
    book(ledger, "XYZ", "buy", 100, "10")
    book(ledger, "XYZ", "buy", 100, "12", commission="1.00")
    assert ledger.positions["XYZ"] == Position("XYZ", D(200), D(11))
    realized = book(ledger, "XYZ", "sell", 150, "13", commission="1.00")
    assert realized == D(300)  # 150 × (13 − 11)
    assert ledger.positions["XYZ"] == Position("XYZ", D(50), D(11))
    assert ledger.cash == D("99748.00")  # 100,000 − 1,000 − 1,200 − 1 + 1,950 − 1
    assert ledger.commissions == D("2.00")


def test_a_sale_beyond_the_long_flips_to_a_short_at_the_sale_price_and_a_cover_realizes() -> None:
    ledger = Ledger(AccountType.MARGIN, D(10_000))
    book(ledger, "XYZ", "buy", 50, "11")
    assert book(ledger, "XYZ", "sell", 80, "10") == D(-50)  # closes 50 at a 1.00 loss each
    assert ledger.positions["XYZ"] == Position("XYZ", D(-30), D(10))
    assert book(ledger, "XYZ", "buy", 30, "8") == D(60)  # covers 30 shares shorted at 10 for 8
    assert "XYZ" not in ledger.positions
    assert ledger.realized_pnl == D(10)
    assert ledger.cash == D(10_010)


# the borrow check --------------------------------------------------------------------------------------------


def test_shorting_a_hard_to_borrow_name_is_refused_with_what_can_be_sold() -> None:
    ledger = Ledger(AccountType.MARGIN, D(100_000))
    book(ledger, "GME", "buy", 40, "20")
    policy = AccountPolicy(hard_to_borrow=borrow_list({"gme"}))
    reason = refusal(ledger, OrderIntent("GME", Side.SELL, D(100), D(20)), {}, policy)
    assert reason is not None
    assert "GME is hard to borrow" in reason
    assert "60 short" in reason
    assert "sell at most 40" in reason


def test_selling_a_hard_to_borrow_name_you_hold_is_allowed() -> None:
    ledger = Ledger(AccountType.MARGIN, D(100_000))
    book(ledger, "GME", "buy", 40, "20")
    policy = AccountPolicy(hard_to_borrow=borrow_list({"GME"}))
    assert refusal(ledger, OrderIntent("GME", Side.SELL, D(40), D(20)), {}, policy) is None


def test_open_sell_orders_count_against_what_can_be_sold_without_borrowing() -> None:
    ledger = Ledger(AccountType.MARGIN, D(100_000))
    book(ledger, "GME", "buy", 40, "20")
    policy = AccountPolicy(hard_to_borrow=lambda symbol: symbol == "GME")
    reason = refusal(ledger, OrderIntent("GME", Side.SELL, D(40), D(20)), {}, policy, committed_sells=D(30))
    assert reason is not None
    assert "sell at most 10" in reason


def test_shorting_an_easy_to_borrow_name_on_margin_is_allowed() -> None:
    ledger = Ledger(AccountType.MARGIN, D(100_000))
    assert refusal(ledger, OrderIntent("XYZ", Side.SELL, D(100), D(20)), {}, MARGIN) is None


def test_a_cash_account_cannot_sell_short() -> None:
    ledger = Ledger(AccountType.CASH, D(100_000))
    book(ledger, "XYZ", "buy", 10, "20")
    reason = refusal(ledger, OrderIntent("XYZ", Side.SELL, D(15), D(20)), {}, AccountPolicy(AccountType.CASH))
    assert reason is not None
    assert "cash account cannot sell short" in reason
    assert "sell at most 10" in reason


# buying power ------------------------------------------------------------------------------------------------


def test_margin_buying_power_is_twice_equity_less_the_positions() -> None:
    ledger = Ledger(AccountType.MARGIN, D(100_000))
    assert ledger.buying_power({}, MARGIN) == D(200_000)
    book(ledger, "XYZ", "buy", 1_000, "150")  # 150,000 on 100,000 of equity
    assert ledger.cash == D(-50_000)
    assert ledger.equity({"XYZ": D(150)}) == D(100_000)
    assert ledger.buying_power({"XYZ": D(150)}, MARGIN) == D(50_000)  # 2 × 100,000 − 150,000


def test_a_buy_beyond_buying_power_is_refused_with_the_numbers() -> None:
    ledger = Ledger(AccountType.MARGIN, D(100_000))
    book(ledger, "XYZ", "buy", 1_000, "150")
    prices = {"XYZ": D(150)}
    assert refusal(ledger, OrderIntent("ABC", Side.BUY, D(500), D(100)), prices, MARGIN) is None  # 50,000
    reason = refusal(ledger, OrderIntent("ABC", Side.BUY, D(500), D(100)), prices, MARGIN, reserved=D(10_000))
    assert reason is not None
    assert "needs $50,000.00 of buying power" in reason
    assert "has $40,000.00" in reason
    assert "less $10,000.00 held by open orders" in reason


def test_covering_a_short_needs_no_buying_power() -> None:
    ledger = Ledger(AccountType.MARGIN, D(1_000))
    book(ledger, "XYZ", "sell", 100, "10")
    exhausted = AccountPolicy(margin_multiplier=D(1))
    assert refusal(ledger, OrderIntent("XYZ", Side.BUY, D(100), D(50)), {"XYZ": D(50)}, exhausted) is None
    assert refusal(ledger, OrderIntent("XYZ", Side.BUY, D(101), D(50)), {"XYZ": D(50)}, exhausted) is not None


def test_cash_account_buying_power_is_its_cash() -> None:
    ledger = Ledger(AccountType.CASH, D(10_000))
    policy = AccountPolicy(AccountType.CASH)
    assert ledger.buying_power({}, policy) == D(10_000)
    assert refusal(ledger, OrderIntent("XYZ", Side.BUY, D(101), D(100)), {}, policy) is not None
    assert refusal(ledger, OrderIntent("XYZ", Side.BUY, D(100), D(100)), {}, policy) is None


def test_maintenance_margin_is_a_share_of_each_positions_mark() -> None:
    ledger = Ledger(AccountType.MARGIN, D(100_000))
    book(ledger, "LONG", "buy", 100, "50")
    book(ledger, "SHORT", "sell", 100, "25")
    # 25% of 100 × 40 (the mark) + 30% of 100 × 25 (no price seen: the average price)
    assert ledger.maintenance_margin({"LONG": D(40)}, MarginRates()) == D(1000) + D(750)


# cash-account settlement -------------------------------------------------------------------------------------


def test_sale_proceeds_settle_the_next_session_across_thanksgiving() -> None:
    ledger = Ledger(AccountType.CASH, D(10_000))
    book(ledger, "XYZ", "buy", 100, "50", day=date(2026, 11, 24))
    book(ledger, "XYZ", "sell", 100, "60", day=date(2026, 11, 25), commission="1.00")
    assert ledger.cash == D(10_999)
    assert ledger.unsettled == [(date(2026, 11, 27), D(5_999))]  # Thursday 11-26 is no session
    assert ledger.settled_cash == D(5_000)
    assert not ledger.settle(date(2026, 11, 26))
    assert ledger.settled_cash == D(5_000)
    assert ledger.settle(date(2026, 11, 27))
    assert ledger.settled_cash == D(10_999)
    assert ledger.unsettled_cash == 0


def test_a_cash_purchase_spends_settled_cash_first_then_unsettled_credits() -> None:
    ledger = Ledger(AccountType.CASH, D(10_000))
    book(ledger, "XYZ", "buy", 100, "50", day=date(2026, 11, 24))
    book(ledger, "XYZ", "sell", 100, "60", day=date(2026, 11, 25))  # 6,000 settles on 11-27
    book(ledger, "ABC", "buy", 80, "100", day=date(2026, 11, 25))  # 8,000: the 5,000 settled, then 3,000 unsettled
    assert ledger.cash == D(3_000)
    assert ledger.settled_cash == 0
    assert ledger.unsettled == [(date(2026, 11, 27), D(3_000))]


# corporate actions -------------------------------------------------------------------------------------------


def test_a_split_multiplies_the_quantity_and_divides_the_price_and_keeps_the_value() -> None:
    ledger = Ledger(AccountType.MARGIN, D(10_000))
    book(ledger, "XYZ", "buy", 100, "30")
    before = ledger.equity({"XYZ": D(32)})
    assert ledger.apply_split("XYZ", D(2)) == Position("XYZ", D(200), D(15))
    assert ledger.equity({"XYZ": D(16)}) == before
    assert ledger.apply_split("XYZ", D("0.1")) == Position("XYZ", D(20), D(150))  # 1-for-10 reverse split
    assert ledger.cash == D(7_000)
    assert ledger.apply_split("NONE", D(2)) is None


def test_a_dividend_credits_a_long_and_charges_a_short() -> None:
    ledger = Ledger(AccountType.MARGIN, D(10_000))
    book(ledger, "LONG", "buy", 200, "10")
    book(ledger, "SHORT", "sell", 50, "10")
    assert ledger.apply_dividend("LONG", D("0.25")) == D(50)
    assert ledger.apply_dividend("SHORT", D("0.40")) == D(-20)
    assert ledger.cash == D(10_000) - D(2_000) + D(500) + D(50) - D(20)


def test_a_dividend_in_a_cash_account_is_settled_cash() -> None:
    ledger = Ledger(AccountType.CASH, D(1_000))
    book(ledger, "XYZ", "buy", 10, "10")
    ledger.apply_dividend("XYZ", D(1))
    assert ledger.settled_cash == D(910)


@pytest.mark.parametrize("ratio", [D(0), D(-2)])
def test_a_split_ratio_must_be_positive(ratio: Decimal) -> None:
    with pytest.raises(ValueError, match="positive"):
        Ledger(AccountType.MARGIN, D(1)).apply_split("XYZ", ratio)


# conservation (hypothesis) -----------------------------------------------------------------------------------

prices = st.decimals(min_value=D("0.01"), max_value=D(500), places=2)
fills = st.tuples(
    st.sampled_from(["AAA", "BBB", "CCC"]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(min_value=1, max_value=500).map(D),
    prices,
    st.decimals(min_value=D(0), max_value=D(20), places=2),
)


@settings(max_examples=200, deadline=None)
@given(
    account_type=st.sampled_from(list(AccountType)),
    opening=st.decimals(min_value=D(0), max_value=D(1_000_000), places=2),
    trades=st.lists(fills, max_size=30),
)
def test_cash_plus_positions_marked_at_the_fill_price_is_conserved_less_commissions(
    account_type: AccountType, opening: Decimal, trades: list[tuple[str, Side, Decimal, Decimal, Decimal]]
) -> None:
    ledger = Ledger(account_type, opening)
    marks: dict[str, Decimal] = {}
    day = FRIDAY
    for number, (symbol, side, qty, price, commission) in enumerate(trades):
        if number % 7 == 6:
            day = XNYS.next_session(day)  # let cash-account credits settle along the way
        marks[symbol] = price
        before = ledger.equity(marks)
        ledger.apply_fill(symbol, side, qty, price, commission, trade_day=day, calendar=XNYS)
        assert ledger.equity(marks) == before - commission
        assert ledger.settled_cash + ledger.unsettled_cash == ledger.cash
    # what the account made is what it realized plus what it holds above cost, less what it paid
    unrealized = sum((p.qty * (marks[s] - p.average_price) for s, p in ledger.positions.items()), D(0))
    made = ledger.equity(marks) - opening
    assert abs(made - (ledger.realized_pnl + unrealized - ledger.commissions)) < D("1e-12")


@settings(max_examples=200, deadline=None)
@given(
    slippage_bps=st.decimals(min_value=D(0), max_value=D(100), places=1),
    per_share=st.decimals(min_value=D(0), max_value=D("0.01"), places=4),
    trades=st.lists(
        st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(min_value=1, max_value=1_000), prices),
        min_size=1,
        max_size=20,
    ),
)
def test_through_the_fill_engine_value_marked_at_the_market_drops_by_commission_and_slippage_only(
    slippage_bps: Decimal, per_share: Decimal, trades: list[tuple[Side, int, Decimal]]
) -> None:
    model = FillModel(slippage_bps=slippage_bps, commission=Commission.per_share_rate(per_share))
    ledger = Ledger(AccountType.MARGIN, D(1_000_000))
    start = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    for number, (side, qty, price) in enumerate(trades):
        request = SubmitOrder(
            client_order_id=f"p-{number}", account_id="acct", symbol="XYZ", side=side, qty=D(qty),
            order_type=OrderType.MARKET,
        )  # fmt: skip
        result = match(WorkingOrder(request), Tick(start + timedelta(seconds=number), price), model)
        (fill,) = result.fills
        market = {"XYZ": price}
        before = ledger.equity(market)
        ledger.apply_fill("XYZ", side, fill.qty, fill.price, fill.commission, trade_day=FRIDAY, calendar=XNYS)
        assert fill.market_price == price
        assert ledger.equity(market) == before - fill.commission - fill.slippage_cost
        assert fill.slippage_cost >= 0
