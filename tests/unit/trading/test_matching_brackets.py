"""The bracket and OCO rules of the fill engine: the legs an entry opens, how OCO partners shrink and end, and
which exit wins when one event reaches both (the stop-loss, conservatively)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.errors import Rejected
from marketdesk.trading.activity import Side
from marketdesk.trading.matching import (
    Bar,
    FillModel,
    WorkingOrder,
    after_partner_fill,
    canceled_with_partner,
    exit_legs,
    exit_priority,
    grown_with_entry,
    match,
)
from marketdesk.trading.orders import (
    Bracket,
    OrderClass,
    OrderStatus,
    OrderType,
    SubmitOrder,
    TimeInForce,
    exit_price_problems,
    oco_order,
    parent_client_order_id,
)

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
D = Decimal
FREE = FillModel()


def entry(side: Side = Side.BUY, *, take_profit: str | None = "110", stop_loss: str | None = "95") -> SubmitOrder:
    return SubmitOrder(
        client_order_id="br-1", account_id="acct", symbol="XYZ", side=side, qty=D(100), order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC, limit_price=D(100), tag="swing",
        bracket=Bracket(
            take_profit=None if take_profit is None else D(take_profit),
            stop_loss=None if stop_loss is None else D(stop_loss),
        ),
    )  # fmt: skip


def working(request: SubmitOrder, **state: object) -> WorkingOrder:
    return WorkingOrder(request, **state)  # type: ignore[arg-type]


# the legs --------------------------------------------------------------------------------------------------------


def test_a_long_entry_opens_a_sell_take_profit_limit_and_a_sell_stop_loss_for_what_it_filled() -> None:
    take_profit, stop_loss = exit_legs(entry(), D(40))
    assert (take_profit.client_order_id, take_profit.side, take_profit.qty) == ("br-1-tp", Side.SELL, D(40))
    assert (take_profit.order_type, take_profit.limit_price, take_profit.stop_price) == (OrderType.LIMIT, D(110), None)
    assert (stop_loss.client_order_id, stop_loss.side, stop_loss.qty) == ("br-1-sl", Side.SELL, D(40))
    assert (stop_loss.order_type, stop_loss.stop_price, stop_loss.limit_price) == (OrderType.STOP, D(95), None)
    for leg in (take_profit, stop_loss):
        assert (leg.time_in_force, leg.tag, leg.order_class, leg.bracket) == (
            TimeInForce.GTC, "swing", OrderClass.SIMPLE, None,
        )  # fmt: skip
        assert parent_client_order_id(leg.client_order_id) == "br-1"


def test_a_short_entry_opens_buy_legs_and_a_one_sided_bracket_one_leg() -> None:
    short = SubmitOrder(
        client_order_id="sh-1", account_id="acct", symbol="XYZ", side=Side.SELL, qty=D(10), order_type=OrderType.MARKET,
        bracket=Bracket(take_profit=D(90), stop_loss=D(105)),
    )  # fmt: skip
    assert [(leg.side, leg.order_type) for leg in exit_legs(short, D(10))] == [
        (Side.BUY, OrderType.LIMIT),
        (Side.BUY, OrderType.STOP),
    ]
    (only,) = exit_legs(entry(take_profit=None), D(5))
    assert (only.client_order_id, only.order_type, only.stop_price) == ("br-1-sl", OrderType.STOP, D(95))


def test_an_oco_is_its_take_profit_and_its_one_leg_is_the_stop_loss_on_the_same_side() -> None:
    oco = oco_order("oco-1", "acct", "XYZ", Side.SELL, D(100), take_profit=D(110), stop_loss=D(95))
    assert (oco.order_class, oco.order_type, oco.limit_price) == (OrderClass.OCO, OrderType.LIMIT, D(110))
    (stop,) = exit_legs(oco, D(100))
    assert (stop.client_order_id, stop.side, stop.order_type, stop.stop_price) == (
        "oco-1-sl", Side.SELL, OrderType.STOP, D(95),
    )  # fmt: skip


def test_a_simple_order_has_no_legs() -> None:
    plain = SubmitOrder(client_order_id="p", account_id="acct", symbol="XYZ", side=Side.BUY, qty=D(1))
    assert plain.order_class is OrderClass.SIMPLE
    assert exit_legs(plain, D(1)) == ()


# OCO partners ----------------------------------------------------------------------------------------------------


def test_a_partial_fill_of_one_exit_shrinks_the_other_by_as_much() -> None:
    take_profit, _ = exit_legs(entry(), D(100))
    after = after_partner_fill(working(take_profit), D(30), "br-1-sl")
    assert (after.status, after.request.qty, after.remaining_qty) == (OrderStatus.ACCEPTED, D(70), D(70))


def test_a_complete_fill_of_one_exit_cancels_the_other_keeping_its_quantity_and_fills() -> None:
    take_profit, _ = exit_legs(entry(), D(100))
    partly = working(take_profit, status=OrderStatus.PARTIALLY_FILLED, filled_qty=D(20), filled_notional=D(2200))
    after = after_partner_fill(partly, D(80), "br-1-sl")
    assert (after.status, after.request.qty, after.filled_qty) == (OrderStatus.CANCELED, D(100), D(20))
    assert after.reason == "canceled: its OCO partner br-1-sl filled"


def test_an_exit_grows_with_its_entry_and_a_cancel_or_expiry_ends_the_partner() -> None:
    _, stop_loss = exit_legs(entry(), D(40))
    assert grown_with_entry(working(stop_loss), D(60)).request.qty == D(100)
    ended = canceled_with_partner(working(stop_loss), "br-1-tp", OrderStatus.EXPIRED)
    assert (ended.status, ended.reason) == (OrderStatus.CANCELED, "canceled: its OCO partner br-1-tp was expired")
    assert canceled_with_partner(ended, "br-1-tp", OrderStatus.CANCELED) is ended  # final stays as it is


def test_a_bar_that_reaches_both_exits_fills_the_stop_loss_and_cancels_the_take_profit() -> None:
    # Long 100 from 100, take-profit 110, stop-loss 95. One bar opens at 100, trades up to 112 and down to 90:
    # both exits were reachable and the order of the high and the low inside the bar is unknown. The venue
    # assumes the worse path: the stop-loss meets the bar first (at its stop, 95), which exits all 100, so the
    # take-profit is canceled before it sees the bar. The result is the loss, never the profit.
    legs = [working(leg) for leg in exit_legs(entry(), D(100))]
    bar = Bar(T0 + timedelta(days=1), D(100), D(112), D(90), D(100))
    first, second = sorted(legs, key=exit_priority)
    assert first.request.order_type is OrderType.STOP
    stopped = match(first, bar, FREE)
    assert [(f.qty, f.price) for f in stopped.fills] == [(D(100), D(95))]
    assert stopped.order.status is OrderStatus.FILLED
    second = after_partner_fill(second, stopped.fills[0].qty, first.request.client_order_id)
    assert second.status is OrderStatus.CANCELED
    assert match(second, bar, FREE).fills == ()


@settings(deadline=None, max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(["entry", "tp", "sl"]), st.integers(1, 60)), max_size=25))
def test_exits_never_sell_more_than_the_entry_filled(steps: list[tuple[str, int]]) -> None:
    # Any interleaving of entry fills and exit fills (each exit filling at most what it has left), through the
    # rules: the exits' fills never exceed the entry's, and each working exit has exactly the rest to exit.
    bought = D(0)
    legs: dict[str, WorkingOrder] = {}
    for who, amount in steps:
        qty = D(amount)
        if who == "entry":
            if bought + qty > 100 or any(not leg.status.working for leg in legs.values()):
                continue  # a 100-share entry; a finished exit ends the bracket (its entry is canceled)
            bought += qty
            if not legs:
                legs = {leg.client_order_id[-2:]: working(leg) for leg in exit_legs(entry(), qty)}
            else:
                legs = {k: grown_with_entry(leg, qty) for k, leg in legs.items()}
            continue
        leg = legs.get(who)
        if leg is None or not leg.status.working:
            continue
        qty = min(qty, leg.remaining_qty)
        filled = leg.filled_qty + qty
        legs[who] = leg.moved(
            OrderStatus.FILLED if filled == leg.request.qty else OrderStatus.PARTIALLY_FILLED, filled_qty=filled
        )
        other = "sl" if who == "tp" else "tp"
        legs[other] = after_partner_fill(legs[other], qty, who)
        sold = sum((leg.filled_qty for leg in legs.values()), D(0))
        assert sold <= bought
        for each in legs.values():
            if each.status.working:
                assert each.remaining_qty == bought - sold


# validation ------------------------------------------------------------------------------------------------------


def test_an_oco_needs_both_prices_the_right_way_round_and_its_take_profit_as_its_limit() -> None:
    with pytest.raises(Rejected, match="for an OCO that sells the stop-loss must be below the take-profit"):
        oco_order("o", "acct", "XYZ", Side.SELL, D(1), take_profit=D(90), stop_loss=D(95))
    with pytest.raises(Rejected, match="an OCO needs both a take-profit and a stop-loss"):
        SubmitOrder(
            client_order_id="o", account_id="acct", symbol="XYZ", side=Side.SELL, qty=D(1), order_type=OrderType.LIMIT,
            limit_price=D(110), bracket=Bracket(take_profit=D(110)), order_class=OrderClass.OCO,
        )  # fmt: skip
    with pytest.raises(Rejected, match="placed as its take-profit limit order"):
        SubmitOrder(
            client_order_id="o", account_id="acct", symbol="XYZ", side=Side.SELL, qty=D(1),
            bracket=Bracket(take_profit=D(110), stop_loss=D(95)), order_class=OrderClass.OCO,
        )  # fmt: skip
    with pytest.raises(Rejected, match="must be a day or gtc order, not ioc"):
        oco_order("o", "acct", "XYZ", Side.BUY, D(1), take_profit=D(90), stop_loss=D(95), time_in_force=TimeInForce.IOC)


def test_a_bracket_or_oco_id_leaves_room_for_its_legs_names() -> None:
    with pytest.raises(Rejected, match="at most 61 characters"):
        oco_order("x" * 62, "acct", "XYZ", Side.SELL, D(1), take_profit=D(110), stop_loss=D(95))
    assert len(exit_legs(oco_order("x" * 61, "acct", "XYZ", Side.SELL, D(1), take_profit=D(110), stop_loss=D(95)),
                         D(1))[0].client_order_id) == 64  # fmt: skip


def test_an_ocos_prices_must_straddle_the_market() -> None:
    sell = oco_order("o", "acct", "XYZ", Side.SELL, D(1), take_profit=D(110), stop_loss=D(95))
    assert exit_price_problems(sell, D(100)) == []
    assert exit_price_problems(sell, D(94)) == ["the stop-loss 95 must be below the last price 94"]
    assert exit_price_problems(sell, D(111)) == ["the take-profit 110 must be above the last price 111"]
    cover = oco_order("c", "acct", "XYZ", Side.BUY, D(1), take_profit=D(90), stop_loss=D(105))
    assert exit_price_problems(cover, D(100)) == []
    assert exit_price_problems(cover, D(89)) == ["the take-profit 90 must be below the last price 89"]


def test_a_bracket_stays_a_bracket_and_describes_its_exits() -> None:
    order = entry()
    assert order.order_class is OrderClass.BRACKET
    assert order.describe() == "BUY 100 XYZ limit 100 with take-profit 110 / stop-loss 95 (gtc)"
    with pytest.raises(Rejected, match="a bracket needs a take-profit or a stop-loss"):
        SubmitOrder(
            client_order_id="b", account_id="acct", symbol="XYZ", side=Side.BUY, qty=D(1),
            order_class=OrderClass.BRACKET,
        )  # fmt: skip
