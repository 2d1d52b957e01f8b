"""A replayed Alpaca paper account: Alpaca's Trading API answered from the recorded payloads in
tests/fixtures/recorded/alpaca_trading/, with just enough state to behave like Alpaca's paper venue.

`AlpacaPaperVenue(router)` answers /v2/orders, /v2/orders/{id}, /v2/orders:by_client_order_id, /v2/positions,
/v2/account and /v2/account/activities/FILL on a `BodyRouter`:

- a new order is a recorded order with the request's own fields (ids, symbol, quantities, prices, times) written
  in, so every reply keeps the recorded shape; a duplicate client order id is Alpaca's 422; an order too big for
  the buying power is its 403; a cancel ends a working order (204) and a finished one is a 422; `advance()` fills
  every working market order at the recorded price (`MARKET_PRICE`);
- **brackets** (`order_class` bracket, or oto with one exit) are placed as `order_bracket_market_accepted.json`
  (a market entry) or `order_bracket_nested.json` (a limit entry): the entry with its take-profit and stop-loss
  legs `held`. When the entry fills the take-profit becomes `new` and the stop-loss stays `held`
  (`order_bracket_market_entry_filled.json`: Alpaca routes one exit at a time); `fill_exit()` fills the
  take-profit at its limit and cancels the stop-loss (`order_bracket_market_take_profit_filled.json`).
  Canceling an entry that has not filled cancels its legs (`order_bracket_canceled.json`);
- an **OCO** (`order_class` oco) is placed as `order_oco_accepted.json`: the take-profit limit order, `new`,
  with the stop-loss nested in `legs`, `held`;
- legs are nested only where Alpaca nests them: in the answer to POST /v2/orders and in the nested form
  (`?nested=true`) of GET /v2/orders/{id} and GET /v2/orders, never in GET /v2/orders:by_client_order_id (which
  takes no `nested`). The nested list shows a bracket under its entry, filtered by the entry's status; the flat
  list shows every order, legs included, each by its own status;
- what it does not model it refuses loudly (recorded in `router.unplanned`, so the test fails): canceling one
  exit of a group, replacing any member of a bracket or OCO, and unknown order classes.

Every order, position and account it sends is first validated by alpaca-py's own models, so a state change can
never drift from Alpaca's format. Nothing leaves the process.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from alpaca.trading.models import Order, Position, TradeAccount

from contract.recorded import BodyRouter, Reply, Request, recorded_json
from marketdesk.clock import SimClock
from marketdesk.kit.timeutil import NEW_YORK

VENDOR = "alpaca_trading"
PAPER = r"https://paper-api\.alpaca\.markets/v2"
MARKET_PRICE = Decimal("228.74")  # what a market AAPL buy fills at (order_market_day_filled.json)
OPEN = frozenset(
    {
        "new", "accepted", "pending_new", "accepted_for_bidding", "partially_filled", "held", "done_for_day",
        "pending_cancel", "pending_replace", "stopped", "suspended", "calculated", "pending_review",
    }
)  # fmt: skip
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
MULTI_LEG = frozenset({"bracket", "oto", "oco"})


def _text(value: Decimal) -> str:
    """A number as Alpaca writes it: no exponent, no trailing zeros ("224.124", "2287")."""
    return format(value.normalize(), "f")


class AlpacaPaperVenue:
    """A paper account answering Alpaca's Trading API from recorded payloads, with state (module docstring)."""

    def __init__(self, router: BodyRouter) -> None:
        self.router = router
        self.clock = SimClock(START)
        self.account: dict[str, Any] = recorded_json(VENDOR, "account.json")
        self.positions: dict[str, dict[str, Any]] = {p["symbol"]: p for p in recorded_json(VENDOR, "positions.json")}
        self.activities: list[dict[str, Any]] = recorded_json(VENDOR, "activities_fill.json")
        self.orders: dict[str, dict[str, Any]] = {o["id"]: o for o in recorded_json(VENDOR, "orders_closed.json")}
        self.legs: dict[str, list[str]] = {}  # a bracket's or OCO's parent id → its legs' ids (take-profit first)
        self.parent_of: dict[str, str] = {}
        self._serial = 0
        routes = (
            ("alpaca.orders.create", "POST", r"/orders", self.create),
            ("alpaca.orders.list", "GET", r"/orders", self.list_orders),
            ("alpaca.orders.by_client_id", "GET", r"/orders:by_client_order_id", self.by_client_order_id),
            ("alpaca.orders.get", "GET", r"/orders/(?P<id>[^/]+)", self.get_order),
            ("alpaca.orders.cancel", "DELETE", r"/orders/(?P<id>[^/]+)", self.cancel),
            ("alpaca.orders.replace", "PATCH", r"/orders/(?P<id>[^/]+)", self.replace),
            ("alpaca.positions", "GET", r"/positions", self.list_positions),
            ("alpaca.account", "GET", r"/account", self.get_account),
            ("alpaca.fills", "GET", r"/account/activities/FILL", self.list_fills),
        )
        for name, method, path, handler in routes:
            router.route(name, method, PAPER + path, handler)

    # -- helpers -------------------------------------------------------------------------------------

    def _stamp(self) -> str:
        """The venue's time, advanced a little per event, written as Alpaca does (nanoseconds, Z)."""
        now = self.clock.advance(timedelta(milliseconds=137))
        return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond:06d}{self._serial % 1000:03d}Z"

    def _new_id(self) -> str:
        self._serial += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-paper-venue/{self._serial}"))

    def _nested(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order in Alpaca's nested form: a parent with its legs, anything else as it is."""
        ids = self.legs.get(order["id"])
        if not ids:
            return order
        return {**order, "legs": [self.orders[leg] for leg in ids]}

    def _order_reply(self, order: dict[str, Any], status: int = 200) -> Reply:
        Order(**copy.deepcopy(order))  # raises if a state change left Alpaca's format
        return Reply.json(order, status)

    def _error(self, name: str, status: int) -> Reply:
        return Reply.file(VENDOR, name, status=status)

    def _by_client(self, client_order_id: str) -> dict[str, Any] | None:
        return next((o for o in self.orders.values() if o["client_order_id"] == client_order_id), None)

    def _unplanned(self, request: Request, why: str) -> Reply:
        self.router.unplanned.append(f"{request.method} {request.url}: {why}")
        return Reply.json({"code": 40010000, "message": f"the replay venue does not model {why}"}, 400)

    def _expires(self, time_in_force: str) -> str:
        close = self.clock.now().astimezone(NEW_YORK).replace(hour=16, minute=0, second=0, microsecond=0)
        expires = close if time_in_force == "day" else close + timedelta(days=90)
        return expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- orders --------------------------------------------------------------------------------------

    def create(self, request: Request, match: re.Match[str]) -> Reply:
        body = self.router.body_json()
        order_class = body.get("order_class") or "simple"
        if order_class not in MULTI_LEG | {"simple"}:
            return self._unplanned(request, f"order_class {order_class}")
        client_order_id = body.get("client_order_id") or str(uuid.uuid4())
        if self._by_client(client_order_id) is not None:
            return self._error("error_422_duplicate_client_order_id.json", 422)
        qty = Decimal(body["qty"])
        price = Decimal(body.get("limit_price") or body.get("stop_price") or MARKET_PRICE)
        if body["side"] == "buy" and qty * price > Decimal(self.account["buying_power"]):
            return self._error("error_403_insufficient_buying_power.json", 403)
        market = body["type"] == "market"
        if order_class == "oco":
            template = "order_oco_accepted.json"
        elif order_class != "simple":
            template = "order_bracket_market_accepted.json" if market else "order_bracket_nested.json"
        else:
            template = "order_market_day_accepted.json" if market else "order_limit_gtc_accepted.json"
        order = recorded_json(VENDOR, template)
        recorded_legs = order.pop("legs") or []
        stamp = self._stamp()
        held = self.positions.get(body["symbol"], {})
        order.update(
            id=self._new_id(),
            client_order_id=client_order_id,
            created_at=stamp,
            updated_at=stamp,
            submitted_at=stamp,
            asset_id=held.get("asset_id", order["asset_id"]),
            symbol=body["symbol"],
            qty=body["qty"],
            side=body["side"],
            position_intent=f"{body['side']}_to_{'close' if held and body['side'] == 'sell' else 'open'}",
            type=body["type"],
            order_type=body["type"],
            time_in_force=body["time_in_force"],
            limit_price=body.get("limit_price"),
            stop_price=body.get("stop_price"),
            extended_hours=bool(body.get("extended_hours", False)),
            expires_at=self._expires(body["time_in_force"]),
            legs=None,
        )
        if order_class == "oco":  # Alpaca answers with the take-profit; the stop-loss is its leg
            order.update(limit_price=body["take_profit"]["limit_price"], order_class="oco")
            self._place_legs(order, recorded_legs, body, stamp, exits=("stop_loss",))
        elif order_class != "simple":
            order["order_class"] = order_class
            exits = tuple(name for name in ("take_profit", "stop_loss") if name in body)
            self._place_legs(order, recorded_legs, body, stamp, exits=exits)
        self.orders[order["id"]] = order
        return self._order_reply(self._nested(order))

    def _place_legs(
        self,
        parent: dict[str, Any],
        recorded: list[dict[str, Any]],
        body: dict[str, Any],
        stamp: str,
        *,
        exits: tuple[str, ...],
    ) -> None:
        """Write the parent's exits, each from its recorded leg (the limit for a take-profit, the stop for a
        stop-loss), on the other side for the parent's quantity, and link them to it."""
        by_type = {leg["type"]: leg for leg in recorded}
        exit_side = parent["side"] if parent["order_class"] == "oco" else {"buy": "sell", "sell": "buy"}[parent["side"]]
        ids = []
        for name in exits:
            leg = copy.deepcopy(by_type["limit" if name == "take_profit" else "stop"])
            leg.update(
                id=self._new_id(),
                client_order_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-generated/{self._serial}")),
                created_at=stamp,
                updated_at=stamp,
                submitted_at=stamp,
                asset_id=parent["asset_id"],
                symbol=parent["symbol"],
                qty=parent["qty"],
                side=exit_side,
                position_intent=f"{exit_side}_to_close",
                time_in_force=parent["time_in_force"],
                order_class=parent["order_class"],
                limit_price=body[name].get("limit_price") if name == "take_profit" else None,
                stop_price=body[name]["stop_price"] if name == "stop_loss" else None,
                expires_at=parent["expires_at"],
            )
            self.orders[leg["id"]] = leg
            self.parent_of[leg["id"]] = parent["id"]
            ids.append(leg["id"])
        self.legs[parent["id"]] = ids

    def list_orders(self, request: Request, match: re.Match[str]) -> Reply:
        wanted = request.param("status") or "open"
        nested = request.param("nested") == "true"
        candidates = [o for o in self.orders.values() if not (nested and o["id"] in self.parent_of)]
        orders = [o for o in candidates if wanted == "all" or (o["status"] in OPEN) == (wanted == "open")]
        orders.sort(key=lambda o: o["submitted_at"], reverse=request.param("direction") != "asc")
        until = request.param("until")
        if until is not None:
            orders = [o for o in orders if o["submitted_at"] < until]
        answer = [self._nested(o) if nested else o for o in orders[: int(request.param("limit") or 50)]]
        for order in answer:
            Order(**copy.deepcopy(order))
        return Reply.json(answer)

    def by_client_order_id(self, request: Request, match: re.Match[str]) -> Reply:
        order = self._by_client(request.param("client_order_id") or "")
        return self._error("error_404_order_not_found.json", 404) if order is None else self._order_reply(order)

    def get_order(self, request: Request, match: re.Match[str]) -> Reply:
        order = self.orders.get(match.group("id"))
        if order is None:
            return self._error("error_404_order_not_found.json", 404)
        return self._order_reply(self._nested(order) if request.param("nested") == "true" else order)

    def _not_working(self, order: dict[str, Any]) -> Reply:
        refusal = recorded_json(VENDOR, "error_422_order_filled.json")
        refusal["message"] = refusal["message"].replace('"filled"', f'"{order["status"]}"')
        return Reply.json(refusal, 422)

    def cancel(self, request: Request, match: re.Match[str]) -> Reply:
        order = self.orders.get(match.group("id"))
        if order is None:
            return self._error("error_404_order_not_found.json", 404)
        if order["id"] in self.parent_of:
            return self._unplanned(request, "canceling one exit of a bracket or OCO")
        if order["status"] not in OPEN:
            return self._not_working(order)
        stamp = self._stamp()
        order.update(status="canceled", canceled_at=stamp, updated_at=stamp)
        for leg_id in self.legs.get(order["id"], ()):  # an entry canceled unfilled takes its held exits along
            leg = self.orders[leg_id]
            if leg["status"] in OPEN:
                leg.update(status="canceled", canceled_at=stamp, updated_at=stamp)
        return Reply(204, b"", "application/json")

    def replace(self, request: Request, match: re.Match[str]) -> Reply:
        original = self.orders.get(match.group("id"))
        if original is None:
            return self._error("error_404_order_not_found.json", 404)
        if original["id"] in self.parent_of or original["id"] in self.legs:
            return self._unplanned(request, "replacing a member of a bracket or OCO")
        if original["status"] not in OPEN:
            return self._not_working(original)
        changes = self.router.body_json()
        replacement = recorded_json(VENDOR, "order_limit_gtc_replacement.json")
        stamp = self._stamp()
        kept = {k: original[k] for k in ("asset_id", "symbol", "side", "position_intent", "type", "order_type")}
        replacement.update(
            kept,
            id=self._new_id(),
            client_order_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-generated/{self._serial}")),
            created_at=stamp,
            updated_at=stamp,
            submitted_at=stamp,
            replaces=original["id"],
            qty=changes.get("qty", original["qty"]),
            limit_price=changes.get("limit_price", original["limit_price"]),
            stop_price=changes.get("stop_price", original["stop_price"]),
            time_in_force=changes.get("time_in_force", original["time_in_force"]),
            expires_at=original["expires_at"],
        )
        original.update(status="replaced", replaced_at=stamp, replaced_by=replacement["id"], updated_at=stamp)
        self.orders[replacement["id"]] = replacement
        return self._order_reply(replacement)

    # -- account ---------------------------------------------------------------------------------------

    def list_positions(self, request: Request, match: re.Match[str]) -> Reply:
        for position in self.positions.values():
            Position(**copy.deepcopy(position))
        return Reply.json(list(self.positions.values()))

    def get_account(self, request: Request, match: re.Match[str]) -> Reply:
        TradeAccount(**copy.deepcopy(self.account))
        return Reply.json(self.account)

    def list_fills(self, request: Request, match: re.Match[str]) -> Reply:
        activities = sorted(self.activities, key=lambda a: a["transaction_time"])
        after = request.param("after")
        if after is not None:
            cutoff = datetime.fromisoformat(after.replace("Z", "+00:00"))
            activities = [
                a for a in activities if datetime.fromisoformat(a["transaction_time"].replace("Z", "+00:00")) > cutoff
            ]
        token = request.param("page_token")
        if token is not None:
            ids = [a["id"] for a in activities]
            activities = activities[ids.index(token) + 1 :]
        if request.param("direction") != "asc":
            activities.reverse()
        return Reply.json(activities[: int(request.param("page_size") or 100)])

    # -- the market --------------------------------------------------------------------------------------

    async def advance(self) -> None:
        """Fill every working market order at the recorded price, as the paper venue does within a second; a
        bracket entry that fills sends its take-profit (`new`) and holds its stop-loss, as Alpaca does."""
        for order in list(self.orders.values()):
            if order["type"] == "market" and order["status"] in OPEN:
                self._fill(order, Decimal(order["qty"]), MARKET_PRICE)
                recorded = recorded_json(VENDOR, "order_bracket_market_entry_filled.json")["legs"]
                statuses = {leg["type"]: leg["status"] for leg in recorded}
                for leg_id in self.legs.get(order["id"], ()):
                    leg = self.orders[leg_id]
                    leg.update(status=statuses[leg["type"]], updated_at=order["updated_at"])

    def fill_exit(self, client_order_id: str) -> None:
        """The market reaches the take-profit of the bracket whose entry is `client_order_id`: the take-profit
        fills at its limit and the stop-loss is canceled (order_bracket_market_take_profit_filled.json)."""
        entry = self._by_client(client_order_id)
        assert entry is not None and entry["status"] == "filled", f"no filled bracket entry {client_order_id}"
        take_profit, stop_loss = (self.orders[leg] for leg in self.legs[entry["id"]])
        after = recorded_json(VENDOR, "order_bracket_market_take_profit_filled.json")
        recorded = {leg["type"]: leg for leg in after["legs"]}
        self._fill(take_profit, Decimal(take_profit["qty"]), Decimal(take_profit["limit_price"]))
        stamp = self._stamp()
        stop_loss.update(status=recorded["stop"]["status"], canceled_at=stamp, updated_at=stamp)

    def _fill(self, order: dict[str, Any], qty: Decimal, price: Decimal) -> None:
        stamp = self._stamp()
        filled = recorded_json(VENDOR, "order_market_day_filled.json")
        order.update(
            status=filled["status"],
            filled_at=stamp,
            updated_at=stamp,
            filled_qty=order["qty"],
            filled_avg_price=_text(price),
        )
        when = datetime.fromisoformat(stamp[:26] + "+00:00")
        local = when.astimezone(NEW_YORK)
        sign = 1 if order["side"] == "buy" else -1
        self.activities.append(
            {
                "activity_type": "FILL", "cum_qty": order["qty"],
                "id": f"{local:%Y%m%d%H%M%S}{local.microsecond // 1000:03d}::{uuid.uuid5(uuid.NAMESPACE_URL, stamp)}",
                "leaves_qty": "0", "price": _text(price), "qty": order["qty"], "side": order["side"],
                "symbol": order["symbol"], "transaction_time": f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond:06d}Z",
                "order_id": order["id"], "type": "fill", "order_status": "filled",
            }
        )  # fmt: skip
        position = self.positions.get(order["symbol"])
        if position is None:
            position = copy.deepcopy(next(iter(self.positions.values())))
            position.update(symbol=order["symbol"], asset_id=order["asset_id"], qty="0", avg_entry_price="0")
            self.positions[order["symbol"]] = position
        held, average = Decimal(position["qty"]), Decimal(position["avg_entry_price"])
        total = held + sign * qty
        if total == 0:
            del self.positions[order["symbol"]]
        else:
            new_average = (held * average + sign * qty * price) / total if abs(total) > abs(held) else average
            current = Decimal(position["current_price"])
            position.update(
                qty=_text(total),
                qty_available=_text(total),
                side="long" if total > 0 else "short",
                avg_entry_price=_text(new_average.quantize(Decimal("0.0001"))),
                cost_basis=_text((total * new_average).quantize(Decimal("0.01"))),
                market_value=_text(total * current),
            )
        cash = Decimal(self.account["cash"]) - sign * qty * price
        self.account.update(
            cash=_text(cash),
            buying_power=_text(Decimal(self.account["buying_power"]) - 2 * qty * price * sign),
        )
