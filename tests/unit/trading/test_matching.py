"""The fill engine: each order type on ticks and bars, gaps, partial fills, time in force, slippage and
commissions. Every expected price and amount is worked out by hand in the comment beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from marketdesk.errors import Rejected
from marketdesk.trading.activity import Side
from marketdesk.trading.matching import (
    Bar,
    Commission,
    FillModel,
    Match,
    Tick,
    WorkingOrder,
    expire_if_due,
    match,
)
from marketdesk.trading.orders import OrderStatus, OrderType, SubmitOrder, TimeInForce

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
D = Decimal
FREE = FillModel()


def order(
    kind: str = "market",
    side: str = "buy",
    qty: str = "100",
    *,
    limit: str | None = None,
    stop: str | None = None,
    tif: str = "gtc",
    **state: object,
) -> WorkingOrder:
    request = SubmitOrder(
        client_order_id="t-1", account_id="acct", symbol="XYZ", side=Side(side), qty=D(qty),
        order_type=OrderType(kind), time_in_force=TimeInForce(tif),
        limit_price=None if limit is None else D(limit), stop_price=None if stop is None else D(stop),
    )  # fmt: skip
    return WorkingOrder(request, **state)  # type: ignore[arg-type]


def tick(price: str, *, bid: str | None = None, ask: str | None = None, volume: str | None = None, at: int = 1) -> Tick:
    return Tick(
        T0 + timedelta(seconds=at), D(price), None if bid is None else D(bid), None if ask is None else D(ask),
        None if volume is None else D(volume),
    )  # fmt: skip


def bar(o: str, h: str, low: str, c: str, *, volume: str | None = None, day: int = 1) -> Bar:
    return Bar(T0 + timedelta(days=day), D(o), D(h), D(low), D(c), None if volume is None else D(volume))


def only_fill(result: Match) -> tuple[Decimal, Decimal]:
    assert len(result.fills) == 1
    return result.fills[0].qty, result.fills[0].price


# market ------------------------------------------------------------------------------------------------------


def test_market_buy_fills_at_the_next_ticks_ask_plus_slippage() -> None:
    model = FillModel(slippage_bps=D(10))
    result = match(order(), tick("100.05", bid="100.00", ask="100.10"), model)
    # 100.10 × 1.0010 = 100.2001 (exact at 1/100 cent)
    assert only_fill(result) == (D(100), D("100.2001"))
    assert result.fills[0].market_price == D("100.10")
    assert result.fills[0].slippage_cost == D("10.0100")  # 100 × 0.1001
    assert result.order.status is OrderStatus.FILLED


def test_market_sell_fills_at_the_bid_less_slippage_rounded_against_the_seller() -> None:
    model = FillModel(slippage_bps=D(10))
    result = match(order(side="sell"), tick("100.05", bid="99.90", ask="100.10"), model)
    # 99.90 × 0.9990 = 99.80010 → 99.8001 (floor at 1/100 cent)
    assert only_fill(result) == (D(100), D("99.8001"))


def test_slippage_that_does_not_land_on_a_hundredth_of_a_cent_rounds_against_the_order() -> None:
    model = FillModel(slippage_bps=D(3))
    # buy: 33.33 × 1.0003 = 33.339999 → 33.3400 (up); sell: 33.33 × 0.9997 = 33.320001 → 33.3200 (down)
    assert only_fill(match(order(), tick("33.33"), model))[1] == D("33.3400")
    assert only_fill(match(order(side="sell"), tick("33.33"), model))[1] == D("33.3200")


def test_market_order_without_a_quote_fills_at_the_last_price() -> None:
    assert only_fill(match(order(), tick("42.17"), FREE)) == (D(100), D("42.17"))


def test_market_order_fills_at_the_next_bars_open_with_slippage() -> None:
    model = FillModel(slippage_bps=D(20))
    result = match(order(), bar("50", "52", "49", "51"), model)
    assert only_fill(result) == (D(100), D("50.1000"))  # 50 × 1.002
    assert result.fills[0].time == T0 + timedelta(days=1)


# limit -------------------------------------------------------------------------------------------------------


def test_limit_buy_rests_above_the_limit_and_fills_at_the_price_once_at_or_below_it() -> None:
    working = order("limit", limit="100.00")
    above = match(working, tick("100.01"), FREE)
    assert above.fills == ()
    assert above.order.status is OrderStatus.ACCEPTED
    below = match(above.order, tick("99.95", at=2), FREE)
    assert only_fill(below) == (D(100), D("99.95"))  # min(limit 100, price 99.95)


def test_limit_buy_judges_the_ask_when_a_quote_is_given() -> None:
    working = order("limit", limit="100.00")
    assert match(working, tick("99.98", bid="99.96", ask="100.02"), FREE).fills == ()
    assert only_fill(match(working, tick("99.98", bid="99.96", ask="99.99"), FREE))[1] == D("99.99")


def test_limit_buy_on_a_bar_that_gaps_below_fills_at_the_open_better_than_the_limit() -> None:
    result = match(order("limit", limit="100"), bar("98", "99", "97", "98.5"), FREE)
    assert only_fill(result) == (D(100), D(98))


def test_limit_buy_on_a_bar_that_touches_the_limit_intrabar_fills_at_the_limit() -> None:
    result = match(order("limit", limit="100"), bar("101", "102", "99.5", "101"), FREE)
    assert only_fill(result) == (D(100), D(100))


def test_limit_buy_on_a_bar_that_stays_above_rests() -> None:
    result = match(order("limit", limit="100"), bar("101", "102", "100.01", "101"), FREE)
    assert result.fills == ()
    assert result.order.status.working


def test_limit_sell_fills_at_a_gap_open_above_or_at_the_limit_on_a_touch() -> None:
    assert only_fill(match(order("limit", "sell", limit="110"), bar("112", "113", "111", "112"), FREE))[1] == D(112)
    assert only_fill(match(order("limit", "sell", limit="110"), bar("108", "110.5", "107", "109"), FREE))[1] == D(110)


def test_limit_fills_take_no_slippage() -> None:
    model = FillModel(slippage_bps=D(50))
    result = match(order("limit", limit="100"), bar("101", "102", "99", "101"), model)
    assert only_fill(result)[1] == D(100)
    assert result.fills[0].slippage_cost == 0


# stop and stop-limit -----------------------------------------------------------------------------------------


def test_sell_stop_on_a_gap_down_fills_at_the_open_worse_than_the_stop() -> None:
    result = match(order("stop", "sell", stop="95"), bar("92", "93", "90", "91"), FREE)
    assert only_fill(result) == (D(100), D(92))
    assert result.order.stop_triggered


def test_sell_stop_gap_takes_slippage_too() -> None:
    result = match(order("stop", "sell", stop="95"), bar("92", "93", "90", "91"), FillModel(slippage_bps=D(10)))
    assert only_fill(result)[1] == D("91.9080")  # 92 × 0.999


def test_sell_stop_touched_intrabar_fills_at_the_stop() -> None:
    result = match(order("stop", "sell", stop="95"), bar("97", "98", "94.5", "96"), FREE)
    assert only_fill(result)[1] == D(95)


def test_buy_stop_on_ticks_waits_for_the_cross_then_fills_at_the_price() -> None:
    working = order("stop", stop="105")
    below = match(working, tick("104.99"), FREE)
    assert below.fills == ()
    assert not below.order.stop_triggered
    crossed = match(below.order, tick("105.20", at=2), FREE)
    assert only_fill(crossed) == (D(100), D("105.20"))


def test_buy_stop_limit_on_ticks_triggers_then_waits_for_the_limit() -> None:
    working = order("stop_limit", stop="105", limit="106")
    gapped = match(working, tick("106.50"), FREE)  # crosses the stop but is above the limit
    assert gapped.fills == ()
    assert gapped.order.stop_triggered
    assert gapped.order.status is OrderStatus.ACCEPTED
    back = match(gapped.order, tick("105.90", at=2), FREE)
    assert only_fill(back)[1] == D("105.90")


def test_sell_stop_limit_gapping_below_the_limit_fills_at_the_limit_when_the_bar_recovers_to_it() -> None:
    working = order("stop_limit", "sell", stop="95", limit="94")
    result = match(working, bar("93", "94.5", "92", "93.5"), FREE)  # triggered at the 93 open, high reaches 94
    assert only_fill(result)[1] == D(94)


def test_sell_stop_limit_triggered_and_unfilled_fills_at_the_next_bars_open() -> None:
    working = order("stop_limit", "sell", stop="95", limit="94")
    first = match(working, bar("93", "93.5", "92", "93"), FREE)
    assert first.fills == ()
    assert first.order.stop_triggered
    second = match(first.order, bar("94.2", "95", "94", "94.5", day=2), FREE)
    assert only_fill(second)[1] == D("94.2")


def test_stop_limit_triggered_intrabar_fills_only_if_the_stop_satisfies_the_limit() -> None:
    # sell stop 95 limit 96: the touch at 95 is below the limit; what came after the touch is unknown
    result = match(order("stop_limit", "sell", stop="95", limit="96"), bar("97", "98", "94", "97"), FREE)
    assert result.fills == ()
    assert result.order.stop_triggered
    # sell stop 95 limit 94: the touch at 95 satisfies the limit, so it fills there
    assert only_fill(match(order("stop_limit", "sell", stop="95", limit="94"), bar("97", "98", "94", "97"), FREE))[
        1
    ] == D(95)


# partial fills -----------------------------------------------------------------------------------------------


def test_volume_participation_caps_a_fill_and_the_rest_keeps_working() -> None:
    model = FillModel(participation_rate=D("0.1"))
    first = match(order(), tick("10", volume="250"), model)
    assert only_fill(first)[0] == D(25)  # 10% of 250
    assert first.order.status is OrderStatus.PARTIALLY_FILLED
    assert first.order.remaining_qty == D(75)
    second = match(first.order, tick("10.10", volume="1000", at=2), model)
    assert only_fill(second)[0] == D(75)  # the cap (100) is more than what remains
    assert second.order.status is OrderStatus.FILLED
    assert second.order.average_fill_price == D("10.075")  # (25 × 10 + 75 × 10.10) / 100


def test_orders_on_one_event_share_its_volume_cap() -> None:
    model = FillModel(participation_rate=D("0.1"))
    assert only_fill(match(order(), tick("10", volume="250"), model, taken=D(20)))[0] == D(5)
    assert match(order(), tick("10", volume="250"), model, taken=D(25)).fills == ()


def test_whole_share_orders_fill_whole_shares_and_fractional_orders_fractions() -> None:
    model = FillModel(participation_rate=D("0.1"))
    assert only_fill(match(order(), tick("10", volume="259"), model))[0] == D(25)  # 25.9 → 25
    assert only_fill(match(order(qty="10.5"), tick("10", volume="33"), model))[0] == D("3.3")


def test_an_event_without_volume_is_not_capped_and_zero_volume_fills_nothing() -> None:
    model = FillModel(participation_rate=D("0.1"))
    assert only_fill(match(order(), tick("10"), model))[0] == D(100)
    assert match(order(), tick("10", volume="0"), model).fills == ()


def test_bar_volume_caps_a_bar_fill() -> None:
    model = FillModel(participation_rate=D("0.05"))
    assert only_fill(match(order(qty="1000"), bar("20", "21", "19", "20", volume="10000"), model))[0] == D(500)


# time in force -----------------------------------------------------------------------------------------------


def test_ioc_fills_what_it_can_on_the_first_event_and_cancels_the_rest() -> None:
    model = FillModel(participation_rate=D("0.1"))
    result = match(order(tif="ioc"), tick("10", volume="250"), model)
    assert only_fill(result)[0] == D(25)
    assert result.order.status is OrderStatus.CANCELED
    assert result.order.filled_qty == D(25)
    assert "75 not filled" in (result.order.reason or "")


def test_ioc_limit_that_is_not_marketable_is_canceled_unfilled() -> None:
    result = match(order("limit", limit="9", tif="ioc"), tick("10"), FREE)
    assert result.fills == ()
    assert result.order.status is OrderStatus.CANCELED


def test_fok_that_cannot_fill_entirely_on_the_first_event_is_canceled_unfilled() -> None:
    model = FillModel(participation_rate=D("0.1"))
    result = match(order(tif="fok"), tick("10", volume="999"), model)  # room for 99 of 100
    assert result.fills == ()
    assert result.order.status is OrderStatus.CANCELED
    assert "only 99 of 100" in (result.order.reason or "")


def test_fok_that_can_fill_entirely_fills() -> None:
    model = FillModel(participation_rate=D("0.1"))
    result = match(order(tif="fok"), tick("10", volume="1000"), model)
    assert only_fill(result)[0] == D(100)
    assert result.order.status is OrderStatus.FILLED


def test_fok_limit_not_reached_on_the_first_event_is_canceled() -> None:
    result = match(order("limit", limit="9", tif="fok"), tick("10"), FREE)
    assert result.order.status is OrderStatus.CANCELED
    assert "did not reach" in (result.order.reason or "")


def test_day_order_expires_at_the_session_close_and_does_not_fill_after_it() -> None:
    close = T0 + timedelta(hours=6)
    working = order("limit", limit="100", tif="day", expires_at=close)
    before = match(working, Tick(close - timedelta(seconds=1), D(101)), FREE)
    assert before.order.status is OrderStatus.ACCEPTED
    after = match(before.order, Tick(close, D(99)), FREE)  # would fill, but the session has closed
    assert after.fills == ()
    assert after.order.status is OrderStatus.EXPIRED
    assert expire_if_due(working, close - timedelta(seconds=1)) is None
    due = expire_if_due(working, close)
    assert due is not None
    assert due.status is OrderStatus.EXPIRED


def test_gtc_order_persists_across_sessions() -> None:
    working = order("limit", limit="100")
    later = match(working, Tick(T0 + timedelta(days=30), D(101)), FREE)
    assert later.order.status is OrderStatus.ACCEPTED
    assert only_fill(match(later.order, Tick(T0 + timedelta(days=31), D(99)), FREE))[1] == D(99)


def test_an_order_queued_to_the_open_does_not_see_earlier_events() -> None:
    opens = T0 + timedelta(hours=18)
    working = order(active_from=opens)
    early = match(working, Tick(opens - timedelta(minutes=1), D(10)), FREE)
    assert early.order == working
    assert early.fills == ()
    assert only_fill(match(working, Tick(opens, D(10)), FREE))[1] == D(10)


def test_a_final_order_is_left_alone() -> None:
    done = order(status=OrderStatus.CANCELED)
    assert match(done, tick("10"), FREE) == Match(done)


# commissions -------------------------------------------------------------------------------------------------


def test_per_share_commission_with_a_minimum_per_order() -> None:
    model = FillModel(commission=Commission.per_share_rate(D("0.005"), minimum=D("1.00")))
    assert match(order(), tick("50"), model).fills[0].commission == D("1.00")  # 100 × 0.005 = 0.50 < 1.00
    assert match(order(qty="1000"), tick("50"), model).fills[0].commission == D("5.00")  # 1000 × 0.005


def test_the_minimum_applies_to_the_whole_order_across_partial_fills() -> None:
    model = FillModel(participation_rate=D("0.1"), commission=Commission.per_share_rate(D("0.005"), minimum=D("1.00")))
    first = match(order(qty="400"), tick("50", volume="1500"), model)  # 150 shares: 0.75 → the 1.00 minimum
    second = match(first.order, tick("50", volume="2500", at=2), model)  # 250 more: 400 × 0.005 = 2.00 in all
    assert [f.commission for f in first.fills + second.fills] == [D("1.00"), D("1.00")]
    assert second.order.commission == D("2.00")


def test_per_order_commission_is_charged_once_across_partial_fills() -> None:
    model = FillModel(participation_rate=D("0.5"), commission=Commission.flat(D("4.95")))
    first = match(order(), tick("10", volume="100"), model)
    second = match(first.order, tick("10", volume="100", at=2), model)
    assert [f.commission for f in first.fills + second.fills] == [D("4.95"), D("0.00")]


def test_percent_of_notional_commission() -> None:
    model = FillModel(commission=Commission.percent(D("0.1")))
    assert match(order(), tick("100"), model).fills[0].commission == D("10.00")  # 0.1% of 10,000


def test_combined_commission_rounds_to_the_cent_half_up() -> None:
    commission = Commission(per_share=D("0.0035"), per_order=D("0.25"), notional_pct=D("0.00229"))
    # 0.35 + 0.25 + 0.00229% × 1,234.50 (0.02827…) = 0.62827… → 0.63
    assert commission.charge(D(0), D(0), D(100), D("12.345")) == D("0.63")


# validation --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"participation_rate": D(0)}, "participation_rate"),
        ({"participation_rate": D("1.5")}, "participation_rate"),
        ({"slippage_bps": D(-1)}, "slippage_bps"),
    ],
)
def test_a_fill_model_out_of_range_is_refused(kwargs: dict[str, Decimal], words: str) -> None:
    with pytest.raises(Rejected, match=words):
        FillModel(**kwargs)  # type: ignore[arg-type]


def test_an_inconsistent_bar_is_refused() -> None:
    with pytest.raises(Rejected, match="inconsistent"):
        bar("10", "9", "8", "9.5")


def test_a_negative_commission_is_refused() -> None:
    with pytest.raises(Rejected, match="per_share"):
        Commission(per_share=D("-0.01"))
