"""The paper broker's linked orders: a bracket's exit legs and OCO groups, applied to its kept orders and to the
stage of one state change. The rules themselves are pure and live in `matching` (`exit_legs`,
`after_partner_fill`, `exit_priority` …); this module knows which stored orders are linked and writes what the
rules decide into the stage.

Links are stored: a leg's `parent_id` names its bracket entry or its OCO (the take-profit order), and the
parent keeps its order class and exit prices, so a restart finds every group as it was.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from marketdesk.trading.broker import BrokerOrder
from marketdesk.trading.matching import (
    WorkingOrder,
    after_partner_fill,
    canceled_with_partner,
    exit_legs,
    exit_priority,
    grown_with_entry,
)
from marketdesk.trading.orders import OrderClass, OrderStatus, TimeInForce
from marketdesk.trading.paper_hours import SessionHours
from marketdesk.trading.paper_state import OrderRecord, Stage
from marketdesk.trading.paper_store import PaperStore

ZERO = Decimal(0)
ENDED = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED})


class Links:
    """Brackets and OCO groups over one paper account's orders."""

    def __init__(self, store: PaperStore, hours: SessionHours) -> None:
        self.store = store
        self.hours = hours

    # reading ------------------------------------------------------------------------------------------------

    def current(self, stage: Stage | None, order_id: str) -> OrderRecord:
        """The order as the stage has it, else as kept."""
        if stage is not None and order_id in stage.orders:
            return stage.orders[order_id]
        return self.store.orders[order_id]

    def legs(self, stage: Stage | None, parent_id: str) -> list[OrderRecord]:
        """The legs of a bracket entry or an OCO, in placing order (those the stage is placing included)."""
        ids = list(self.store.children.get(parent_id, ()))
        if stage is not None:
            placing = sorted((stage.orders[i] for i in stage.new_orders), key=lambda record: record.seq)
            ids += [record.id for record in placing if record.parent_id == parent_id and record.id not in ids]
        return [self.current(stage, order_id) for order_id in ids]

    def group(self, stage: Stage | None, record: OrderRecord) -> list[OrderRecord]:
        """The OCO group `record` is a member of (itself included): a bracket's exits, or an OCO's take-profit
        and its stop-loss leg. Empty for an order in none (a simple order, a bracket's entry)."""
        if record.parent_id is not None:
            parent = self.current(stage, record.parent_id)
            if parent.request.order_class is OrderClass.OCO:
                return [parent, *self.legs(stage, parent.id)]
            return self.legs(stage, parent.id)
        if record.request.order_class is OrderClass.OCO:
            return [record, *self.legs(stage, record.id)]
        return []

    @staticmethod
    def in_group(record: OrderRecord) -> bool:
        return record.parent_id is not None or record.request.order_class is OrderClass.OCO

    def sort_key(self, record: OrderRecord) -> tuple[int, int, int]:
        """The order in which an event meets working orders: by placing, a leg with its parent, and within an
        OCO group the stop-loss first (`matching.exit_priority`: the conservative path when both can fill)."""
        root = record.seq if record.parent_id is None else self.store.orders[record.parent_id].seq
        return (root, exit_priority(record.working) if self.in_group(record) else 0, record.seq)

    def report(self, record: OrderRecord) -> BrokerOrder:
        """The order as the Broker port reports it, with its legs."""
        legs = tuple(self.store.orders[i].to_broker() for i in self.store.children.get(record.id, ()))
        return record.to_broker(legs)

    # changing -----------------------------------------------------------------------------------------------

    def place_legs(self, stage: Stage, parent: OrderRecord, qty: Decimal, at: datetime) -> None:
        """Place the legs of `parent` for `qty` into the stage. An OCO's stop-loss works when its take-profit
        does; a bracket's exits work from `at` (the entry's fill), day exits until that session's close."""
        for request in exit_legs(parent.request, qty):
            if parent.request.order_class is OrderClass.OCO:
                active_from, expires_at = parent.working.active_from, parent.working.expires_at
            else:
                window = self.hours.window(at, day_order=request.time_in_force is not TimeInForce.GTC, extended=False)
                active_from, expires_at = window.active_from or at, window.expires_at
            working = WorkingOrder(request, active_from=active_from, expires_at=expires_at)
            seq = len(self.store.orders) + len(stage.new_orders) + 1
            stage.put(OrderRecord(str(uuid.uuid4()), seq, working, at, at, parent_id=parent.id), new=True)

    def follow(self, stage: Stage, before: OrderRecord, after: OrderRecord, filled: Decimal, at: datetime) -> None:
        """Carry one order's change (`before` → `after`, `filled` shares on it) to the orders linked with it:

        - a bracket entry that filled opens its exits (on its first fill) or grows them;
        - an OCO member that filled shrinks its partners by as much, and cancels them when nothing is left to
          exit; a bracket exit that completes the exit also cancels the rest of a still working entry;
        - an OCO member canceled or expired unfilled cancels its partners.
        """
        request = after.request
        if request.order_class is OrderClass.BRACKET and filled > 0:
            legs = self.legs(stage, after.id)
            if not legs:
                self.place_legs(stage, after, filled, at)
            for leg in legs:
                if leg.status.working:
                    stage.put(leg.changed(grown_with_entry(leg.working, filled), at))
        partners = [p for p in self.group(stage, after) if p.id != after.id and p.status.working]
        name = request.client_order_id
        if filled > 0:
            for partner in partners:
                stage.put(partner.changed(after_partner_fill(partner.working, filled, name), at))
            if after.status is OrderStatus.FILLED and after.parent_id is not None:
                self._end_entry(stage, after, at)
        elif after.status in ENDED and before.status.working:
            for partner in partners:
                stage.put(partner.changed(canceled_with_partner(partner.working, name, after.status), at))

    def _end_entry(self, stage: Stage, leg: OrderRecord, at: datetime) -> None:
        # the exits closed what the entry opened: the unfilled rest of the entry would open a position unguarded
        entry = self.current(stage, leg.parent_id or "")
        if entry.request.order_class is OrderClass.BRACKET and entry.status.working:
            reason = f"canceled: its exit {leg.request.client_order_id} closed the position"
            stage.put(entry.changed(entry.working.moved(OrderStatus.CANCELED, reason=reason), at))
