"""`marketdesk trade oco` and the orders table: the OCO body the CLI posts, its side read from the prices, and how
a bracket's or an OCO's legs are named in `marketdesk trade orders`."""

from __future__ import annotations

import pytest

from marketdesk.errors import Rejected
from marketdesk.trading.trade_cli import _link, oco_body


def test_a_take_profit_above_the_stop_loss_sells_a_long_as_a_limit_at_the_take_profit() -> None:
    assert oco_body("acct-1", "aapl", "10", "210", "180.5", "gtc") == {
        "account_id": "acct-1", "symbol": "AAPL", "side": "sell", "qty": "10", "type": "limit",
        "limit_price": "210", "time_in_force": "gtc", "take_profit": "210", "stop_loss": "180.5",
        "order_class": "oco",
    }  # fmt: skip


def test_a_take_profit_below_the_stop_loss_buys_back_a_short() -> None:
    assert oco_body("acct-1", "TSLA", "5", "150", "190", "day")["side"] == "buy"


@pytest.mark.parametrize(
    ("tp", "sl", "said"),
    [("200", "200", "must differ"), ("abc", "180", "--tp: 'abc' is not a number"), ("210", "-1", "--sl must be")],
)
def test_bad_prices_are_refused_before_anything_is_sent(tp: str, sl: str, said: str) -> None:
    with pytest.raises(Rejected, match=said):
        oco_body("acct-1", "AAPL", "10", tp, sl, "gtc")


def test_the_orders_table_names_each_legs_parent_and_each_parents_class() -> None:
    assert _link({"parent_id": "0123456789abcdef", "type": "limit"}) == "take-profit of 0123456789ab"
    assert _link({"parent_id": "0123456789abcdef", "type": "stop"}) == "stop-loss of 0123456789ab"
    assert _link({"order_class": "bracket"}) == "bracket"
    assert _link({"order_class": "simple"}) == _link({}) == ""
