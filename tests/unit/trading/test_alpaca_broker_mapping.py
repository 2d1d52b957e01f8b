"""The Alpaca broker adapter: recorded Alpaca payloads mapped field by field, every order status, request bodies,
error translation through alpaca-py, retries, the live-trading guard and the key-vault factory."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from alpaca.trading.enums import OrderStatus as AlpacaOrderStatus
from alpaca.trading.models import Order, Position, TradeAccount

from contract.recorded import BodyRouter, Reply, recorded_json, recorded_path, replay_requests_with_bodies
from marketdesk.accounts.models import User
from marketdesk.audit.service import AuditService
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.db import Database
from marketdesk.errors import MarketdeskError, NotFound, Operational, RateLimited, Rejected, Temporary
from marketdesk.kit.retry import RetryPolicy
from marketdesk.trading.activity import Side
from marketdesk.trading.adapters.alpaca import (
    ALPACA_CAPABILITIES,
    LIVE_CONFIRMATION_PHRASE,
    AlpacaBroker,
    alpaca_broker_from_vault,
    is_live_confirmation,
)
from marketdesk.trading.adapters.alpaca_schema import (
    map_order_status,
    parse_to_account,
    parse_to_fill,
    parse_to_order,
    parse_to_position,
    to_order_body,
    to_replace_body,
)
from marketdesk.trading.orders import Bracket, OrderStatus, OrderType, SubmitOrder, TimeInForce
from marketdesk.vault.crypto import Keyring
from marketdesk.vault.service import VaultService

VENDOR = "alpaca_trading"
PAPER = "https://paper-api.alpaca.markets/v2"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
KEY_ID, SECRET = "PKA1B2C3D4E5F6G7H8I9", "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b"  # made up, right shape
ORDER_FILES = sorted(p.name for p in recorded_path(VENDOR, "account.json").parent.glob("order_*.json"))


def payload(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = recorded_json(VENDOR, name)
    data.update(changes)
    return data


def submit(**fields: Any) -> SubmitOrder:
    values: dict[str, Any] = {"client_order_id": "c-1", "account_id": "a", "symbol": "AAPL", "side": Side.BUY}
    return SubmitOrder(**{**values, "qty": Decimal(2), **fields})


# -- the recorded payloads are Alpaca's format -------------------------------------------------------------


@pytest.mark.parametrize("name", ORDER_FILES)
def test_each_recorded_order_is_an_order_alpaca_py_accepts(name: str) -> None:
    raw = payload(name)
    model = Order(**copy.deepcopy(raw))
    assert (str(model.id), model.client_order_id, model.status.value) == (
        raw["id"],
        raw["client_order_id"],
        raw["status"],
    )


def test_recorded_orders_cover_market_limit_bracket_fractional_cancel_and_replace() -> None:
    assert len(ORDER_FILES) >= 8
    assert {payload(name)["status"] for name in ORDER_FILES} >= {"accepted", "filled", "canceled", "replaced", "new"}


def test_recorded_positions_and_account_are_what_alpaca_py_accepts() -> None:
    positions = [Position(**p) for p in recorded_json(VENDOR, "positions.json")]
    account = TradeAccount(**recorded_json(VENDOR, "account.json"))
    assert [(p.symbol, p.side.value) for p in positions] == [("AAPL", "long"), ("TSLA", "short")]
    assert account.last_maintenance_margin == "1184.01"


def test_recorded_fill_activities_carry_exactly_the_documented_trade_activity_fields() -> None:
    documented = {
        "activity_type", "cum_qty", "id", "leaves_qty", "price", "qty", "side", "symbol", "transaction_time",
        "order_id", "type", "order_status",
    }  # fmt: skip
    activities = recorded_json(VENDOR, "activities_fill.json")
    assert [set(a) for a in activities] == [documented] * 3
    assert all(re.fullmatch(r"\d{17}::[0-9a-f-]{36}", a["id"]) for a in activities)


# -- orders ------------------------------------------------------------------------------------------------


def test_a_recorded_limit_order_maps_field_by_field() -> None:
    order = parse_to_order(payload("order_limit_gtc_accepted.json"))
    assert order.client_order_id == "rest-limit-1"
    assert order.broker_order_id == "7d1e3a52-9c4b-4f0e-8a61-2b5f0c9e4d17"
    assert (order.symbol, order.side, order.qty) == ("AAPL", Side.BUY, Decimal(2))
    assert (order.order_type, order.time_in_force, order.status) == (
        OrderType.LIMIT,
        TimeInForce.GTC,
        OrderStatus.ACCEPTED,
    )
    assert (order.limit_price, order.stop_price, order.filled_qty) == (Decimal(150), None, Decimal(0))
    assert order.average_fill_price is None
    assert order.submitted_at == datetime(2026, 11, 20, 15, 0, 1, 401095, tzinfo=UTC)  # nanoseconds cut to µs
    assert order.updated_at.tzinfo is UTC


EXPECTED_STATUS = {
    # Alpaca status: (desk status with nothing filled, desk status with 1 of 2 filled)
    "pending_new": (OrderStatus.NEW, OrderStatus.NEW),
    "pending_review": (OrderStatus.NEW, OrderStatus.NEW),
    "held": (OrderStatus.NEW, OrderStatus.NEW),
    "new": (OrderStatus.ACCEPTED, OrderStatus.ACCEPTED),
    "accepted": (OrderStatus.ACCEPTED, OrderStatus.ACCEPTED),
    "accepted_for_bidding": (OrderStatus.ACCEPTED, OrderStatus.ACCEPTED),
    "partially_filled": (OrderStatus.PARTIALLY_FILLED, OrderStatus.PARTIALLY_FILLED),
    "filled": (OrderStatus.FILLED, OrderStatus.FILLED),
    "done_for_day": (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED),
    "pending_cancel": (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED),
    "pending_replace": (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED),
    "stopped": (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED),
    "suspended": (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED),
    "calculated": (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED),
    "canceled": (OrderStatus.CANCELED, OrderStatus.CANCELED),
    "expired": (OrderStatus.EXPIRED, OrderStatus.EXPIRED),
    "rejected": (OrderStatus.REJECTED, OrderStatus.REJECTED),
    "replaced": (OrderStatus.CANCELED, OrderStatus.CANCELED),
}


def test_the_status_table_covers_every_status_alpaca_py_knows() -> None:
    assert {status.value for status in AlpacaOrderStatus} == set(EXPECTED_STATUS)


@pytest.mark.parametrize(("alpaca_status", "expected"), EXPECTED_STATUS.items())
def test_every_alpaca_order_status_maps_to_its_documented_desk_status(
    alpaca_status: str, expected: tuple[OrderStatus, OrderStatus]
) -> None:
    nothing = parse_to_order(payload("order_limit_gtc_accepted.json", status=alpaca_status))
    half = parse_to_order(
        payload("order_limit_gtc_accepted.json", status=alpaca_status, filled_qty="1", filled_avg_price="149.99")
    )
    assert (nothing.status, half.status) == expected


def test_calculated_is_filled_only_when_everything_filled() -> None:
    assert map_order_status("calculated", filled_qty=Decimal(2), qty=Decimal(2)) == (OrderStatus.FILLED, None)
    status, reason = map_order_status("calculated", filled_qty=Decimal(1), qty=Decimal(2))
    assert status is OrderStatus.PARTIALLY_FILLED and reason is not None and "settlement" in reason


def test_a_replaced_order_is_canceled_and_names_its_replacement() -> None:
    order = parse_to_order(payload("order_limit_gtc_replaced.json"))
    assert order.status is OrderStatus.CANCELED
    assert order.reason == "replaced by order e4a0c6f1-3b2d-4c8e-9f57-61d2a8b0c394"


def test_a_pending_cancel_is_still_working_and_says_it_may_fill() -> None:
    order = parse_to_order(payload("order_limit_gtc_accepted.json", status="pending_cancel"))
    assert order.status.working and order.reason is not None and "may still fill" in order.reason


def test_an_unknown_status_raises_naming_it_rather_than_guessing() -> None:
    with pytest.raises(Operational, match=r"'parked'.*does not know"):
        parse_to_order(payload("order_limit_gtc_accepted.json", status="parked"))


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("type", "trailing_stop", "trailing-stop"),
        ("time_in_force", "opg", "market-on-open"),
        ("time_in_force", "cls", "market-on-close"),
        ("order_class", "mleg", "multi-leg"),
        ("side", "buy_to_cover", "does not know"),
    ],
)
def test_alpaca_values_the_desk_cannot_represent_are_refused_by_name(field: str, value: str, said: str) -> None:
    raw = payload("order_limit_gtc_accepted.json", **{field: value, "order_type": None})
    with pytest.raises(Operational, match=said):
        parse_to_order(raw)


def test_a_notional_order_is_refused_because_its_quantity_is_unknown() -> None:
    with pytest.raises(Operational, match="notional"):
        parse_to_order(payload("order_market_day_accepted.json", qty=None, notional="500"))


def test_a_bracket_nests_its_exit_legs_which_are_new_until_the_entry_fills() -> None:
    order = parse_to_order(payload("order_bracket_nested.json"))
    assert order.status is OrderStatus.ACCEPTED
    take_profit, stop_loss = order.legs
    assert (take_profit.order_type, take_profit.limit_price, take_profit.side) == (
        OrderType.LIMIT,
        Decimal(245),
        Side.SELL,
    )
    assert (stop_loss.order_type, stop_loss.stop_price) == (OrderType.STOP, Decimal(210))
    assert {leg.status for leg in order.legs} == {OrderStatus.NEW}
    assert all(leg.reason == "held until its entry order fills" for leg in order.legs)


@pytest.mark.parametrize(
    ("alpaca_type", "desk_type", "prices"),
    [
        ("market", OrderType.MARKET, {}),
        ("limit", OrderType.LIMIT, {"limit_price": "150"}),
        ("stop", OrderType.STOP, {"stop_price": "250"}),
        ("stop_limit", OrderType.STOP_LIMIT, {"stop_price": "250", "limit_price": "251"}),
    ],
)
@pytest.mark.parametrize(("alpaca_tif", "desk_tif"), [("day", TimeInForce.DAY), ("gtc", TimeInForce.GTC),
                                                       ("ioc", TimeInForce.IOC), ("fok", TimeInForce.FOK)])  # fmt: skip
def test_order_types_and_times_in_force_map_both_ways(
    alpaca_type: str, desk_type: OrderType, prices: dict[str, str], alpaca_tif: str, desk_tif: TimeInForce
) -> None:
    desk_prices = {name: Decimal(value) for name, value in prices.items()}
    body = to_order_body(submit(order_type=desk_type, time_in_force=desk_tif, **desk_prices))
    assert (body["type"], body["time_in_force"]) == (alpaca_type, alpaca_tif)
    assert {k: body[k] for k in ("limit_price", "stop_price") if k in body} == prices
    raw = payload("order_limit_gtc_accepted.json", type=alpaca_type, order_type=alpaca_type,
                  time_in_force=alpaca_tif, limit_price=prices.get("limit_price"), stop_price=prices.get("stop_price"))  # fmt: skip
    back = parse_to_order(raw)
    assert (back.order_type, back.time_in_force, back.limit_price, back.stop_price) == (
        desk_type,
        desk_tif,
        desk_prices.get("limit_price"),
        desk_prices.get("stop_price"),
    )


def test_decimal_strings_stay_exact_to_the_last_digit() -> None:
    fractional = parse_to_order(payload("order_fractional_filled.json"))
    assert (fractional.qty, fractional.filled_qty) == (Decimal("0.123456789"), Decimal("0.123456789"))
    assert fractional.average_fill_price == Decimal("228.7791")
    account = parse_to_account(recorded_json(VENDOR, "account.json"))
    assert account.last_equity == Decimal("100046.3142857142857143")  # 22 significant digits: no float survives that
    assert all(type(v) is Decimal for v in (account.cash, account.equity, account.buying_power, account.last_equity))


def test_a_zero_average_price_before_any_fill_is_no_price() -> None:
    order = parse_to_order(payload("order_limit_gtc_accepted.json", filled_avg_price="0"))
    assert order.average_fill_price is None


def test_a_held_leg_without_a_submission_time_counts_from_its_creation() -> None:
    order = parse_to_order(payload("order_limit_gtc_accepted.json", submitted_at=None))
    assert order.submitted_at == datetime(2026, 11, 20, 15, 0, 1, 402718, tzinfo=UTC)


# -- positions, fills, account ---------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["-5", "5"])
def test_a_short_position_is_negative_whichever_sign_alpaca_puts_on_qty(sent: str) -> None:
    raw = recorded_json(VENDOR, "positions.json")[1] | {"qty": sent}
    position = parse_to_position(raw)
    assert (position.symbol, position.qty, position.average_price, position.market_price) == (
        "TSLA",
        Decimal(-5),
        Decimal("342.5"),
        Decimal("338.2"),
    )


def test_fill_activities_map_with_a_short_sale_as_a_sell() -> None:
    partial, full, short = (parse_to_fill(a, "cid") for a in recorded_json(VENDOR, "activities_fill.json"))
    assert (partial.qty, partial.price, full.qty, full.price) == (
        Decimal(4),
        Decimal("224.1"),
        Decimal(6),
        Decimal("224.14"),
    )
    assert (short.side, short.symbol, short.commission) == (Side.SELL, "TSLA", Decimal(0))
    assert partial.time == datetime(2026, 11, 18, 14, 31, 5, 120371, tzinfo=UTC)
    assert partial.fill_id == "20261118093105120::6c1e0b4f-2a7d-4c95-8e3b-f1d6a9027c48"


def test_the_account_keeps_the_previous_close_and_alpacas_flags() -> None:
    account = parse_to_account(recorded_json(VENDOR, "account.json"))
    assert (account.account_id, account.currency) == ("5f0c8a2e-9b1d-4e67-a3f4-7c2d6b9e0a18", "USD")
    assert (account.cash, account.equity, account.buying_power) == (
        Decimal("99471.26"),
        Decimal("100067.26"),
        Decimal("196156.52"),
    )
    assert account.last_maintenance_margin == Decimal("1184.01")
    assert account.extra["pattern_day_trader"] == "false"
    assert (account.extra["account_number"], account.extra["daytrade_count"], account.extra["multiplier"]) == (
        "PA3K7Q2M9XWD",
        "0",
        "2",
    )


# -- request bodies --------------------------------------------------------------------------------------


def test_an_order_body_sends_decimal_strings_and_passes_the_client_order_id_through() -> None:
    body = to_order_body(submit(order_type=OrderType.LIMIT, limit_price=Decimal("150.10"), extended_hours=True))
    assert body == {
        "symbol": "AAPL", "qty": "2", "side": "buy", "type": "limit", "time_in_force": "day",
        "client_order_id": "c-1", "limit_price": "150.10", "extended_hours": True,
    }  # fmt: skip
    assert json.loads(json.dumps(body))["limit_price"] == "150.10"  # a string on the wire, not 150.1


def test_a_bracket_with_both_exits_is_alpacas_bracket_class_and_with_one_is_oto() -> None:
    both = to_order_body(submit(bracket=Bracket(take_profit=Decimal(260), stop_loss=Decimal(200))))
    assert (both["order_class"], both["take_profit"], both["stop_loss"]) == (
        "bracket",
        {"limit_price": "260"},
        {"stop_price": "200"},
    )
    one = to_order_body(submit(bracket=Bracket(stop_loss=Decimal("199.5"))))
    assert (one["order_class"], one["stop_loss"], "take_profit" in one) == ("oto", {"stop_price": "199.5"}, False)


@pytest.mark.parametrize("order_type", [OrderType.MARKET, OrderType.LIMIT])
def test_a_fractional_quantity_goes_out_on_a_day_order(order_type: OrderType) -> None:
    price = {"limit_price": Decimal(150)} if order_type is OrderType.LIMIT else {}
    body = to_order_body(submit(qty=Decimal("0.123456789"), order_type=order_type, **price))
    assert (body["qty"], body["time_in_force"]) == ("0.123456789", "day")


def test_a_fractional_gtc_order_is_refused_before_it_is_sent() -> None:
    with pytest.raises(Rejected, match="only on day orders, not gtc"):
        to_order_body(submit(qty=Decimal("0.5"), time_in_force=TimeInForce.GTC))


def test_a_fractional_bracket_is_refused_before_it_is_sent() -> None:
    with pytest.raises(Rejected, match="bracket"):
        to_order_body(submit(qty=Decimal("1.5"), bracket=Bracket(stop_loss=Decimal(200))))


def test_a_replace_body_carries_only_what_changes_and_must_change_something() -> None:
    assert to_replace_body(limit_price=Decimal("135.00")) == {"limit_price": "135.00"}
    with pytest.raises(Rejected, match="must change"):
        to_replace_body()


def test_capabilities_are_declared_as_data() -> None:
    assert (ALPACA_CAPABILITIES.fractional, ALPACA_CAPABILITIES.short, ALPACA_CAPABILITIES.brackets) == (True,) * 3
    assert (ALPACA_CAPABILITIES.extended_hours, ALPACA_CAPABILITIES.streams_updates) == (True, False)


# -- through alpaca-py: errors, retries, idempotency ----------------------------------------------------------


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def router() -> Iterator[BodyRouter]:
    with replay_requests_with_bodies() as router:
        yield router
    assert router.unplanned == []


def make_broker(*, retry: RetryPolicy | None = None, waits: Waits | None = None, **options: Any) -> AlpacaBroker:
    return AlpacaBroker(
        KEY_ID,
        SECRET,
        clock=SimClock(NOW),
        retry=retry or RetryPolicy(attempts=1),
        sleep=Waits() if waits is None else waits,
        **options,
    )


def error_reply(name: str, status: int, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, recorded_path(VENDOR, name).read_bytes(), "application/json", headers or {})


def serve(router: BodyRouter, name: str, method: str, path: str, reply: Reply) -> None:
    router.route(name, method, re.escape(PAPER + path), lambda request, match: reply)


RESET = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW.timestamp()) + 7)}


@pytest.mark.parametrize(
    ("reply", "error", "said"),
    [
        (error_reply("error_401_unauthorized.json", 401), Rejected, r"refused the API key.*Key vault"),
        (error_reply("error_403_forbidden.json", 403), Rejected, r"refused the API key.*alpaca_secret_key"),
        (error_reply("error_403_insufficient_buying_power.json", 403), Rejected, r"insufficient buying power"),
        (error_reply("error_422_sub_penny.json", 422), Rejected, r"sub-penny increment"),
        (error_reply("error_404_order_not_found.json", 404), NotFound, r"order not found"),
        (error_reply("error_429_rate_limit.json", 429, RESET), RateLimited, r"rate limit exceeded"),
        (error_reply("error_500_internal.json", 500), Temporary, r"internal server error occurred"),
        (Reply.failure(requests.exceptions.ConnectionError("connection refused")), Temporary, r"cannot reach Alpaca"),
        (Reply.text("<html>502 Bad Gateway</html>", 200, "text/html"), Temporary, r"unreadable"),
    ],
)
async def test_alpaca_failures_become_the_desks_errors(
    router: BodyRouter, reply: Reply, error: type[MarketdeskError], said: str
) -> None:
    serve(router, "orders", "POST", "/orders", reply)
    with pytest.raises(error, match=said) as caught:
        await make_broker().submit(submit(order_type=OrderType.LIMIT, limit_price=Decimal("150.001")))
    assert type(caught.value) is error
    if error is Rejected and "buying power" in said:
        assert "Key vault" not in str(caught.value)  # an order refusal is not blamed on the key


async def test_a_rate_limit_carries_alpacas_reset_and_a_read_is_retried_after_it(router: BodyRouter) -> None:
    serve(router, "account", "GET", "/account", Reply.file(VENDOR, "account.json"))
    router.queue("account", error_reply("error_429_rate_limit.json", 429, RESET))
    waits = Waits()
    account = await make_broker(retry=RetryPolicy(attempts=3, jitter=0.0), waits=waits).account()
    assert account.equity == Decimal("100067.26")
    assert waits == [7.0]  # Alpaca's X-RateLimit-Reset, 7 s after the clock's now
    assert len(router.calls_to("account")) == 2


async def test_a_submit_that_timed_out_is_resent_and_returns_the_order_alpaca_already_had(router: BodyRouter) -> None:
    serve(router, "orders", "POST", "/orders", error_reply("error_422_duplicate_client_order_id.json", 422))
    router.queue("orders", Reply.failure(requests.exceptions.ReadTimeout("read timed out")))
    serve(router, "by_client", "GET", "/orders:by_client_order_id", Reply.file(VENDOR, "order_limit_gtc_accepted.json"))
    broker = make_broker(retry=RetryPolicy(attempts=3, jitter=0.0))
    order = await broker.submit(
        submit(client_order_id="rest-limit-1", order_type=OrderType.LIMIT, limit_price=Decimal(150))
    )
    assert order.broker_order_id == "7d1e3a52-9c4b-4f0e-8a61-2b5f0c9e4d17"
    assert [json.loads(body)["client_order_id"] for method, _, body in router.bodies if method == "POST"] == [
        "rest-limit-1",
        "rest-limit-1",
    ]
    assert router.calls_to("by_client")[0].param("client_order_id") == "rest-limit-1"


async def test_a_client_order_id_naming_a_different_order_is_rejected(router: BodyRouter) -> None:
    serve(router, "orders", "POST", "/orders", error_reply("error_422_duplicate_client_order_id.json", 422))
    serve(router, "by_client", "GET", "/orders:by_client_order_id", Reply.file(VENDOR, "order_limit_gtc_accepted.json"))
    with pytest.raises(Rejected, match="already names another order at Alpaca: BUY 2 AAPL"):
        await make_broker().submit(submit(client_order_id="rest-limit-1", qty=Decimal(7)))


async def test_a_replace_is_never_resent(router: BodyRouter) -> None:
    order_id = "7d1e3a52-9c4b-4f0e-8a61-2b5f0c9e4d17"
    serve(router, "replace", "PATCH", f"/orders/{order_id}", error_reply("error_500_internal.json", 500))
    with pytest.raises(Temporary):
        await make_broker(retry=RetryPolicy(attempts=4, jitter=0.0)).replace(order_id, limit_price=Decimal(135))
    assert len(router.calls_to("replace")) == 1
    assert json.loads(router.bodies[0][2]) == {"limit_price": "135"}


async def test_cancelling_an_order_that_already_filled_answers_with_the_fill(router: BodyRouter) -> None:
    order_id = "c58f2e07-1a9d-4b63-8e24-5d0b7f3a9c81"
    serve(router, "cancel", "DELETE", f"/orders/{order_id}", error_reply("error_422_order_filled.json", 422))
    serve(router, "get", "GET", f"/orders/{order_id}", Reply.file(VENDOR, "order_market_day_filled.json"))
    order = await make_broker().cancel(order_id)
    assert (order.status, order.filled_qty, order.average_fill_price) == (
        OrderStatus.FILLED,
        Decimal(2),
        Decimal("228.74"),
    )


async def test_a_cancel_alpaca_has_not_confirmed_is_read_again(router: BodyRouter) -> None:
    order_id = "7d1e3a52-9c4b-4f0e-8a61-2b5f0c9e4d17"
    serve(router, "cancel", "DELETE", f"/orders/{order_id}", Reply(204, b"", "application/json"))
    serve(router, "get", "GET", f"/orders/{order_id}", Reply.file(VENDOR, "order_limit_gtc_canceled.json"))
    router.queue("get", Reply.json(payload("order_limit_gtc_accepted.json", status="pending_cancel")))
    waits = Waits()
    order = await make_broker(waits=waits).cancel(order_id)
    assert order.status is OrderStatus.CANCELED
    assert (len(router.calls_to("get")), len(waits)) == (2, 1)
    assert router.calls_to("get")[0].param("nested") == "true"


async def test_an_id_that_is_not_a_uuid_names_no_alpaca_order(router: BodyRouter) -> None:
    with pytest.raises(NotFound, match="UUID"):
        await make_broker().cancel("not-an-id")
    assert router.calls == []


async def test_fills_name_the_client_order_id_of_orders_the_adapter_never_saw(router: BodyRouter) -> None:
    serve(router, "fills", "GET", "/account/activities/FILL", Reply.file(VENDOR, "activities_fill.json"))
    for closed in recorded_json(VENDOR, "orders_closed.json"):
        serve(router, closed["id"], "GET", f"/orders/{closed['id']}", Reply.json(closed))
    since = datetime(2026, 11, 18, tzinfo=UTC)
    fills = await make_broker().fills(since=since)
    assert [(f.client_order_id, f.qty) for f in fills] == [
        ("desk-aapl-20261118-1", Decimal(4)),
        ("desk-aapl-20261118-1", Decimal(6)),
        ("desk-tsla-20261118-1", Decimal(5)),
    ]
    (request,) = router.calls_to("fills")
    assert (request.param("after"), request.param("direction")) == (since.isoformat(), "asc")
    assert sum(len(router.calls_to(o["id"])) for o in recorded_json(VENDOR, "orders_closed.json")) == 2  # once each


async def test_an_account_missing_a_balance_is_operational(router: BodyRouter) -> None:
    broken = recorded_json(VENDOR, "account.json")
    del broken["equity"]
    serve(router, "account", "GET", "/account", Reply.json(broken))
    with pytest.raises(Operational, match="unexpected shape"):
        await make_broker().account()


# -- live trading and keys -------------------------------------------------------------------------------------


def test_live_trading_without_the_confirmation_is_refused_and_names_the_phrase() -> None:
    with pytest.raises(Rejected, match="real-money") as caught:
        AlpacaBroker("AKA1B2C3D4E5F6G7H8I9", SECRET, paper=False, clock=SimClock(NOW))
    assert LIVE_CONFIRMATION_PHRASE in str(caught.value) and "Settings" in str(caught.value)


async def test_confirmed_live_trading_talks_to_alpacas_live_api(router: BodyRouter) -> None:
    router.route("live", "GET", re.escape("https://api.alpaca.markets/v2/account"),
                 lambda request, match: Reply.file(VENDOR, "account.json"))  # fmt: skip
    broker = AlpacaBroker("AKA1B2C3D4E5F6G7H8I9", SECRET, paper=False, live_confirmed=True, clock=SimClock(NOW))
    assert (await broker.account()).equity > 0
    assert [c.host for c in router.calls] == ["api.alpaca.markets"]


@pytest.mark.parametrize(("key_id", "paper", "said"), [("AKA1B2C3D4E5F6G7H8I9", True, "live key"),
                                                      ("PKA1B2C3D4E5F6G7H8I9", False, "paper key")])  # fmt: skip
def test_a_key_for_the_other_environment_is_refused(key_id: str, paper: bool, said: str) -> None:
    with pytest.raises(Rejected, match=said):
        AlpacaBroker(key_id, SECRET, paper=paper, live_confirmed=True, clock=SimClock(NOW))


def test_a_missing_key_is_refused_pointing_at_the_vault() -> None:
    with pytest.raises(Rejected, match=r"needs alpaca_secret_key.*Key vault"):
        AlpacaBroker(KEY_ID, "  ", clock=SimClock(NOW))


def test_only_the_exact_phrase_confirms_live_trading() -> None:
    assert is_live_confirmation(f"  {LIVE_CONFIRMATION_PHRASE} ")
    assert not is_live_confirmation(LIVE_CONFIRMATION_PHRASE.lower())
    assert not is_live_confirmation("yes")


# -- the key-vault factory ------------------------------------------------------------------------------------


@pytest.fixture
async def vault_owner(database: Database, clock: SimClock, tmp_path: Path) -> tuple[VaultService, str]:
    vault = VaultService(Keyring.load(load_settings(data_dir=tmp_path / "data")), AuditService(clock), clock)
    async with database.session() as session:
        now = clock.now()
        session.add(User(id="usr_trader", email="trader@example.com", password_hash="not-a-hash", role="trader",  # noqa: S106
                         disabled=False, failed_logins=0, created_at=now, password_changed_at=now))  # fmt: skip
    return vault, "usr_trader"


async def test_the_factory_builds_the_broker_from_the_users_vault_keys(
    database: Database, vault_owner: tuple[VaultService, str], clock: SimClock, router: BodyRouter
) -> None:
    vault, owner = vault_owner
    async with database.session() as session:
        await vault.put(session, owner, "alpaca_key_id", KEY_ID)
        await vault.put(session, owner, "alpaca_secret_key", SECRET)
    serve(router, "account", "GET", "/account", Reply.file(VENDOR, "account.json"))
    async with database.session() as session:
        broker = await alpaca_broker_from_vault(vault, session, owner, paper=True, live_confirmed=False, clock=clock)
    assert (await broker.account()).cash == Decimal("99471.26")
    sent = router.calls_to("account")
    assert len(sent) == 1 and broker.paper


async def test_the_factory_refuses_live_trading_before_reading_any_secret(
    database: Database, vault_owner: tuple[VaultService, str], clock: SimClock
) -> None:
    vault, owner = vault_owner  # the vault holds nothing: a read would be NotFound, not this refusal
    async with database.session() as session:
        with pytest.raises(Rejected, match="real-money"):
            await alpaca_broker_from_vault(vault, session, owner, paper=False, live_confirmed=False, clock=clock)


async def test_the_factory_without_keys_is_the_vaults_not_found(
    database: Database, vault_owner: tuple[VaultService, str], clock: SimClock
) -> None:
    vault, owner = vault_owner
    async with database.session() as session:
        with pytest.raises(NotFound, match="no alpaca_key_id in your key vault"):
            await alpaca_broker_from_vault(vault, session, owner, paper=True, live_confirmed=False, clock=clock)


def test_timestamps_are_aware_utc_even_from_an_offset() -> None:
    order = parse_to_order(payload("order_limit_gtc_accepted.json", updated_at="2026-11-20T10:00:01.5-05:00"))
    assert order.updated_at == NOW + timedelta(seconds=1.5)
    assert order.updated_at.utcoffset() == timedelta(0)
