"""An OCO at Alpaca: the request body (checked by alpaca-py's own request model), and Alpaca's answer (the
take-profit order with the stop-loss nested in `legs`) mapped back, end to end through the adapter on
replayed responses. The answer is the recorded bracket's two legs regrouped as Alpaca groups an OCO."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from alpaca.trading.enums import OrderClass as AlpacaOrderClass
from alpaca.trading.models import Order
from alpaca.trading.requests import LimitOrderRequest, StopLossRequest, TakeProfitRequest

from contract.recorded import BodyRouter, Reply, recorded_json, replay_requests_with_bodies
from marketdesk.clock import SimClock
from marketdesk.errors import Rejected
from marketdesk.kit.retry import RetryPolicy
from marketdesk.trading.activity import Side
from marketdesk.trading.adapters.alpaca import AlpacaBroker
from marketdesk.trading.adapters.alpaca_schema import parse_to_order, to_order_body
from marketdesk.trading.orders import OrderStatus, OrderType, TimeInForce, oco_order

VENDOR = "alpaca_trading"
PAPER = "https://paper-api.alpaca.markets/v2"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def exit_pair(qty: str = "3", tif: TimeInForce = TimeInForce.GTC) -> Any:
    return oco_order(
        "oco-1", "acct", "AAPL", Side.SELL, Decimal(qty), take_profit=Decimal(245), stop_loss=Decimal(210),
        time_in_force=tif,
    )  # fmt: skip


def oco_answer() -> dict[str, Any]:
    """Alpaca's order for an OCO: the take-profit (limit) at the top, its stop-loss in `legs`, both class oco."""
    take_profit, stop_loss = copy.deepcopy(recorded_json(VENDOR, "order_bracket_nested.json")["legs"])
    for leg in (take_profit, stop_loss):
        leg.update(order_class="oco", status="new", position_intent="sell_to_close")
    take_profit.update(client_order_id="oco-1", legs=[stop_loss])
    return take_profit


def test_an_oco_is_alpacas_oco_class_with_its_exits_and_no_top_level_limit() -> None:
    body = to_order_body(exit_pair())
    assert body == {
        "symbol": "AAPL", "qty": "3", "side": "sell", "type": "limit", "time_in_force": "gtc",
        "client_order_id": "oco-1", "order_class": "oco", "take_profit": {"limit_price": "245"},
        "stop_loss": {"stop_price": "210"},
    }  # fmt: skip
    request = LimitOrderRequest(  # alpaca-py's own model takes it as an OCO (it refuses one without both exits)
        **{k: v for k, v in body.items() if k not in {"take_profit", "stop_loss", "type"}},
        take_profit=TakeProfitRequest(**body["take_profit"]),
        stop_loss=StopLossRequest(**body["stop_loss"]),
    )
    assert request.order_class is AlpacaOrderClass.OCO
    assert request.limit_price is None


def test_a_fractional_oco_is_refused_before_it_is_sent() -> None:
    with pytest.raises(Rejected, match=r"fractional quantity \(1.5\) on an OCO order"):
        to_order_body(exit_pair("1.5", TimeInForce.DAY))


def test_alpacas_oco_maps_to_the_take_profit_with_the_stop_loss_as_its_leg() -> None:
    raw = oco_answer()
    Order(**copy.deepcopy(raw))  # still Alpaca's format
    order = parse_to_order(raw)
    assert (order.client_order_id, order.order_type, order.limit_price, order.side, order.status) == (
        "oco-1", OrderType.LIMIT, Decimal(245), Side.SELL, OrderStatus.ACCEPTED,
    )  # fmt: skip
    (stop,) = order.legs
    assert (stop.order_type, stop.stop_price, stop.side, stop.qty, stop.time_in_force) == (
        OrderType.STOP, Decimal(210), Side.SELL, Decimal(3), TimeInForce.GTC,
    )  # fmt: skip


@pytest.fixture
def router() -> Iterator[BodyRouter]:
    with replay_requests_with_bodies() as router:
        yield router
    assert router.unplanned == []


async def test_the_adapter_sends_an_oco_and_reports_its_stop_loss_leg(router: BodyRouter) -> None:
    router.route("orders", "POST", re.escape(PAPER + "/orders"), lambda request, match: Reply.json(oco_answer()))
    broker = AlpacaBroker("PKTEST00000000000000", "test-secret", clock=SimClock(NOW), retry=RetryPolicy(attempts=1))
    placed = await broker.submit(exit_pair())
    (_, _, sent) = router.bodies[0]
    assert json.loads(sent)["order_class"] == "oco"
    assert (placed.client_order_id, placed.limit_price, [leg.stop_price for leg in placed.legs]) == (
        "oco-1", Decimal(245), [Decimal(210)],
    )  # fmt: skip
