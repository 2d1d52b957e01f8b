"""`PaperBroker`: the embedded default venue. It fills orders against the prices it is shown, keeps the books in
Decimal and stores every state change in the `paper_*` tables, so it survives a restart.

Wiring::

    broker = PaperBroker(database, clock, account_id="paper", opening_cash=Decimal(100_000))
    await broker.on_tick("AAPL", Decimal("189.20"), clock.now(), volume=Decimal(1200))  # live: the quote feed
    await broker.on_bar("AAPL", Bar(...))                                               # backtests
    order = await broker.submit(SubmitOrder(...))

Prices: `on_tick` and `on_bar` run the fill engine (`trading/matching.py`) over the symbol's working orders;
`paper_feed.follow_quotes` feeds them from the QuoteHub's bus channels. An order sees only prices stamped at or
after its placing, so a market order fills at the next price, not at submission. `account().last_equity` is
the equity marked when the last session closed (at the last prices seen before the close), recorded the first
time the broker is used after that close.

Hours (XNYS through the injected calendar): outside regular hours, day and GTC orders are accepted and queued to
the next open; IOC and FOK orders are refused. An `extended_hours` day limit trades from 04:00 until four hours
after the close. Day orders expire at their session's close. Bars are taken as regular-session bars.

Refusals (`Rejected`, with what to change): an order the buying power cannot carry (open orders count against
it), a short sale in a cash account or of a hard-to-borrow name (`AccountPolicy.hard_to_borrow`), an OCO that
exits more than the position or whose prices the market has already passed, and an order for another account.
The same checks run again at each fill with the prices of the moment; an order that fails them then is canceled
with the reason.

Brackets and OCO (`paper_brackets`, rules in `matching`): a bracket entry's exits are placed as it fills, for
what it filled, as their own orders `<entry>-tp` (limit) and `<entry>-sl` (stop) on the other side; an OCO is
its take-profit limit with its stop-loss leg `<oco>-sl`. The exits of one position cancel each other: a fill
shrinks the partner by as much and a complete exit, a cancel or an expiry ends it. When one event reaches both,
the stop-loss fills first. Canceling an entry that has not filled leaves no exits. Legs show in their parent's
`BrokerOrder.legs` and on their own in `order()`, `orders()` and the fills.

Exchanges: `submit`, `cancel`, `replace`, `order` and `positions` note each call for the audit trail
(`broker.note_exchange`):
the request as data (the `SubmitOrder`, or the ids and prices asked for) and the answer as data (the
`BrokerOrder`), or the refusal in one line.

Consistency: each state change (a submission, a cancel, the fills of one price, an expiry, a close's mark, a
corporate action) is written in one transaction, and the in-memory state moves only once it has committed. One
`PaperBroker` per account and process: two processes on the same account would not see each other's changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from marketdesk.clock import Clock
from marketdesk.db import Database
from marketdesk.errors import ConfigError, MarketdeskError, NotFound, Rejected, Unsupported
from marketdesk.kit.ids import new_id
from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.kit.timeutil import ensure_utc
from marketdesk.trading.activity import OrderIntent, Side, trade_date
from marketdesk.trading.broker import (
    BrokerAccount,
    BrokerCapabilities,
    BrokerExchange,
    BrokerFill,
    BrokerOrder,
    BrokerPosition,
    collecting,
    note_exchange,
)
from marketdesk.trading.margin import MarginRates
from marketdesk.trading.matching import Bar, FillModel, MarketEvent, Tick, WorkingOrder, expire_if_due, match
from marketdesk.trading.orders import Bracket, OrderClass, OrderStatus, SubmitOrder, TimeInForce, exit_price_problems
from marketdesk.trading.paper_brackets import Links
from marketdesk.trading.paper_hours import SessionHours, TradingCalendar
from marketdesk.trading.paper_ledger import AccountPolicy, AccountType, borrow_list, exposure_added, refusal
from marketdesk.trading.paper_state import (
    CorporateAction,
    Mark,
    OrderRecord,
    Stage,
)
from marketdesk.trading.paper_store import PaperStore
from marketdesk.unit import TaskLock

T = TypeVar("T")

ZERO = Decimal(0)
CAPABILITIES = BrokerCapabilities(fractional=True, short=True, extended_hours=True, brackets=True)


class PaperBroker:
    """The paper venue for one account (see the module docstring). State loads on first use."""

    name = "paper"
    capabilities = CAPABILITIES

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        account_id: str = "paper",
        calendar: TradingCalendar | None = None,
        opening_cash: Decimal = Decimal(100_000),
        account_type: AccountType = AccountType.MARGIN,
        fill_model: FillModel | None = None,
        margin_multiplier: Decimal = Decimal(2),
        hard_to_borrow: Collection[str] | Callable[[str], bool] = frozenset(),
        margin_rates: MarginRates | None = None,
    ) -> None:
        if calendar is None:
            from marketdesk.marketdata.calendar import ExchangeCalendar

            calendar = ExchangeCalendar("XNYS")
        if not opening_cash > 0:
            raise ConfigError(f"opening_cash must be positive, got {opening_cash}")
        self.clock = clock
        self.account_id = account_id
        self.hours = SessionHours(calendar)
        self.fill_model = fill_model if fill_model is not None else FillModel()
        borrow = hard_to_borrow if callable(hard_to_borrow) else borrow_list(hard_to_borrow)
        self.policy = AccountPolicy(account_type, margin_multiplier, borrow, margin_rates or MarginRates())
        self.store = PaperStore(database, clock, account_id, account_type, opening_cash)
        self.links = Links(self.store, self.hours)
        self._lock = TaskLock()  # reentrant for its task: `hold()`
        self._next_roll = clock.now()

    @property
    def database(self) -> Database:
        """Where the venue's books are written (`broker.InProcessVenue`)."""
        return self.store.database

    def hold(self) -> TaskLock:
        """The venue's lock, for a caller whose unit of work spans venue calls (`broker.InProcessVenue`)."""
        return self._lock

    # the Broker port ------------------------------------------------------------------------------------------

    async def submit(self, order: SubmitOrder) -> BrokerOrder:
        """Place `order`; the same `client_order_id` again returns the existing order (not a second one)."""
        return await self._noted("submit", lambda: to_jsonable(order), self._submit(order))

    async def _submit(self, order: SubmitOrder) -> BrokerOrder:
        async with self._lock:
            await self._ensure_loaded()
            existing = self.store.by_client.get(order.client_order_id)
            if existing is not None:
                return self.links.report(self.store.orders[existing])
            now = self.clock.now()
            await self._catch_up(now)
            self._check_acceptable(order, now)
            reason = self._exit_refusal(order) or self._refusal(order)
            if reason is not None:
                raise Rejected(f"order {order.client_order_id} refused: {reason}")
            window = self.hours.window(
                now, day_order=order.time_in_force is not TimeInForce.GTC, extended=order.extended_hours
            )
            # an order sees only prices from its placing on (or from the open it is queued to)
            active_from = window.active_from or now
            working = WorkingOrder(order, active_from=active_from, expires_at=window.expires_at)
            record = OrderRecord(str(uuid.uuid4()), len(self.store.orders) + 1, working, now, now)
            stage = self.store.stage()
            stage.put(record, new=True)
            if order.order_class is OrderClass.OCO:  # both exits work from the start
                self.links.place_legs(stage, record, order.qty, now)
            await self.store.commit(stage)
            return self.links.report(self.store.orders[record.id])

    async def cancel(self, broker_order_id: str) -> BrokerOrder:
        """Cancel a working order; a final one is returned as it is (it may have filled first)."""
        request = {"broker_order_id": broker_order_id}
        return await self._noted("cancel", lambda: request, self._cancel(broker_order_id))

    async def _cancel(self, broker_order_id: str) -> BrokerOrder:
        async with self._lock:
            await self._ensure_loaded()
            now = self.clock.now()
            await self._catch_up(now)
            record = self._find(broker_order_id)
            if not record.status.working:
                return self.links.report(record)
            stage = self.store.stage()
            canceled = record.changed(record.working.moved(OrderStatus.CANCELED, reason="canceled on request"), now)
            stage.put(canceled)
            self.links.follow(stage, record, canceled, ZERO, now)
            await self.store.commit(stage)
            return self.links.report(self.store.orders[record.id])

    async def replace(
        self,
        broker_order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> BrokerOrder:
        """Change a working order's quantity or prices in place (same ids); the answer is the changed order."""
        request = {"broker_order_id": broker_order_id, "qty": qty, "limit_price": limit_price, "stop_price": stop_price}
        changed = self._replace(broker_order_id, qty=qty, limit_price=limit_price, stop_price=stop_price)
        return await self._noted("replace", lambda: to_jsonable(request), changed)

    async def _replace(
        self,
        broker_order_id: str,
        *,
        qty: Decimal | None,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> BrokerOrder:
        async with self._lock:
            await self._ensure_loaded()
            now = self.clock.now()
            await self._catch_up(now)
            record = self._find(broker_order_id)
            if not record.status.working:
                raise Rejected(
                    f"order {broker_order_id} is {record.status.value}; only a working order can be replaced"
                )
            if qty is None and limit_price is None and stop_price is None:
                raise Rejected("replace needs a new qty, limit_price or stop_price")
            if qty is not None and self.links.in_group(record):
                raise Rejected(
                    f"order {record.request.client_order_id} is an exit of a bracket or an OCO: its quantity follows "
                    "the entry and its partner's fills",
                    hint="Change its price, or cancel it (its partner is canceled with it).",
                )
            bracket = record.request.bracket
            if record.request.order_class is OrderClass.OCO and limit_price is not None and bracket is not None:
                bracket = Bracket(take_profit=limit_price, stop_loss=bracket.stop_loss)  # an OCO is its take-profit
            request = replace(
                record.request,
                qty=record.request.qty if qty is None else qty,
                limit_price=record.request.limit_price if limit_price is None else limit_price,
                stop_price=record.request.stop_price if stop_price is None else stop_price,
                bracket=bracket,
            )  # SubmitOrder validates the result (a limit on a market order, a non-positive price …)
            if request.qty <= record.working.filled_qty:
                filled = record.working.filled_qty.normalize()
                raise Rejected(f"the new quantity {request.qty} must exceed the {filled:f} already filled")
            reason = self._refusal(request, exclude=broker_order_id)
            if reason is not None:
                raise Rejected(f"replacement of order {request.client_order_id} refused: {reason}")
            stage = self.store.stage()
            changed = record.changed(replace(record.working, request=request), now)
            stage.put(changed)
            await self.store.commit(stage)
            return self.links.report(changed)

    async def order(self, *, client_order_id: str) -> BrokerOrder | None:
        request = {"client_order_id": client_order_id}
        return await self._noted("order", lambda: request, self._order(client_order_id))

    async def _order(self, client_order_id: str) -> BrokerOrder | None:
        async with self._lock:
            await self._ensure_loaded()
            await self._catch_up(self.clock.now())
            order_id = self.store.by_client.get(client_order_id)
            return None if order_id is None else self.links.report(self.store.orders[order_id])

    async def orders(self, *, open_only: bool = True) -> list[BrokerOrder]:
        request = {"open_only": open_only}
        return await self._noted("orders", lambda: request, self._orders(open_only))

    async def _orders(self, open_only: bool) -> list[BrokerOrder]:
        async with self._lock:
            await self._ensure_loaded()
            await self._catch_up(self.clock.now())
            records = self.store.working.values() if open_only else self.store.orders.values()
            return [self.links.report(r) for r in sorted(records, key=_placed)]

    async def fills(self, *, since: datetime | None = None) -> list[BrokerFill]:
        """Fills in the order they happened; `since` keeps those at or after it (dedupe by `fill_id`)."""
        return await self._noted("fills", lambda: to_jsonable({"since": since}), self._fills(since))

    async def _fills(self, since: datetime | None) -> list[BrokerFill]:
        async with self._lock:
            await self._ensure_loaded()
            if since is None:
                return list(self.store.fills)
            since = ensure_utc(since)
            return [f for f in self.store.fills if f.time >= since]

    async def positions(self) -> list[BrokerPosition]:
        return await self._noted("positions", dict, self._positions())

    async def _positions(self) -> list[BrokerPosition]:
        async with self._lock:
            await self._ensure_loaded()
            return [
                BrokerPosition(p.symbol, p.qty, p.average_price, self.store.prices.get(p.symbol))
                for p in sorted(self.store.ledger.positions.values(), key=lambda p: p.symbol)
            ]

    async def account(self) -> BrokerAccount:
        async with self._lock:
            await self._ensure_loaded()
            await self._catch_up(self.clock.now())
            ledger, mark = self.store.ledger, self.store.mark
            valuation = ledger.valuation(self.store.prices, self.policy)
            cash_account = ledger.account_type is AccountType.CASH
            return BrokerAccount(
                account_id=self.account_id,
                cash=ledger.cash,
                equity=valuation.equity,
                buying_power=valuation.buying_power,
                last_equity=mark.equity,
                last_maintenance_margin=mark.maintenance_margin,
                settled_cash=ledger.settled_cash if cash_account else None,
                extra={
                    "account_type": ledger.account_type.value,
                    "realized_pnl": format(ledger.realized_pnl, "f"),
                    "commissions": format(ledger.commissions, "f"),
                    "unsettled_cash": format(ledger.unsettled_cash, "f"),
                    "maintenance_margin": format(valuation.maintenance_margin, "f"),
                    "marked_session": mark.session.isoformat(),
                },
            )

    async def _noted(self, operation: str, request: Callable[[], dict[str, Any]], call: Awaitable[T]) -> T:
        """Await `call` and note it as an exchange (when a caller collects them): the request and the answer as
        data, or the refusal."""
        if not collecting():
            return await call
        try:
            answer = await call
        except Exception as exc:
            error = exc.one_line() if isinstance(exc, MarketdeskError) else type(exc).__name__
            note_exchange(BrokerExchange(operation, request(), None, error, self.name))
            raise
        note_exchange(BrokerExchange(operation, request(), to_jsonable(answer), None, self.name))
        return answer

    # prices ---------------------------------------------------------------------------------------------------

    async def waiting_symbols(self) -> list[str]:
        """The symbols that working orders wait on: the prices a quote feed should show this venue."""
        async with self._lock:
            await self._ensure_loaded()
            return sorted(self.store.working_by_symbol)

    async def on_tick(
        self,
        symbol: str,
        price: Decimal,
        time: datetime,
        volume: Decimal | int | None = None,
        *,
        bid: Decimal | None = None,
        ask: Decimal | None = None,
    ) -> list[BrokerFill]:
        """Show the venue a trade price (and optionally the bid/ask and the volume since the last tick); return
        the fills it made. Ticks outside regular hours fill only extended-hours orders."""
        tick = Tick(time, price, bid, ask, None if volume is None else Decimal(volume))
        return await self._on_event(symbol, tick)

    async def on_bar(self, symbol: str, bar: Bar) -> list[BrokerFill]:
        """Show the venue a bar (its `time` is when it opens); return the fills it made."""
        return await self._on_event(symbol, bar)

    async def _on_event(self, symbol: str, event: MarketEvent) -> list[BrokerFill]:
        async with self._lock:
            await self._ensure_loaded()
            await self._catch_up(event.time)
            is_tick = isinstance(event, Tick)
            self.store.prices[symbol] = event.price if isinstance(event, Tick) else event.open
            regular = not is_tick or self.hours.regular(event.time)  # bars are regular-session bars
            extended = not is_tick or self.hours.extended(event.time)
            stage = self.store.stage()
            taken = ZERO
            working = sorted(self.store.working_by_symbol.get(symbol, {}).values(), key=self.links.sort_key)
            for kept in working:
                record = stage.orders.get(kept.id, kept)  # an OCO partner's fill on this event may have changed it
                if not record.status.working or not (regular or (record.request.extended_hours and extended)):
                    continue
                taken += self._fill(stage, record, event, taken)
            if isinstance(event, Bar):
                self.store.prices[symbol] = event.close
            await self.store.commit(stage)
            return stage.fills

    def _fill(self, stage: Stage, record: OrderRecord, event: MarketEvent, taken: Decimal) -> Decimal:
        """Match one order against the event into `stage`; return the quantity it filled."""
        result = match(record.working, event, self.fill_model, taken=taken)
        after = result.order
        filled = ZERO
        request = record.request
        for fill in result.fills:
            intent = OrderIntent(request.symbol, request.side, fill.qty, fill.price)
            reason = refusal(stage.current, intent, self.store.prices, self.policy)
            if reason is not None:
                after = record.working.moved(
                    OrderStatus.CANCELED, reason=f"canceled when it came to fill: {reason}", seen_event=True
                )
                break
            books = stage.books()
            books.apply_fill(
                request.symbol, request.side, fill.qty, fill.price, fill.commission,
                trade_day=trade_date(fill.time), calendar=self.hours,
            )  # fmt: skip
            stage.positions.add(request.symbol)
            stage.fills.append(
                BrokerFill(
                    fill_id=new_id(self.clock, "pf"), broker_order_id=record.id,
                    client_order_id=request.client_order_id, symbol=request.symbol, side=request.side,
                    qty=fill.qty, price=fill.price, commission=fill.commission, time=fill.time,
                )
            )  # fmt: skip
            filled += fill.qty
        if after != record.working:
            changed = record.changed(after, event.time)
            stage.put(changed)
            self.links.follow(stage, record, changed, filled, event.time)
        return filled

    # corporate actions ----------------------------------------------------------------------------------------

    async def apply_split(self, symbol: str, ratio: Decimal, at: datetime) -> BrokerPosition | None:
        """Apply a split of `ratio` new shares per old one (2 for 2-for-1, 0.1 for 1-for-10) effective `at`:
        the position's quantity × ratio and average price ÷ ratio; the symbol's working orders are canceled
        (their prices no longer mean what they did). Applying the same split (symbol, at) again does nothing.
        Returns the position after it."""
        if not ratio > 0:
            raise Rejected(f"a split ratio must be positive (2 for a 2-for-1 split), got {ratio}")
        async with self._lock:
            await self._ensure_loaded()
            at = ensure_utc(at)
            await self._catch_up(self.clock.now())
            if (symbol, "split", at) not in self.store.actions:
                stage = self.store.stage()
                stage.books().apply_split(symbol, ratio)
                stage.positions.add(symbol)
                stage.actions.append(CorporateAction(symbol, "split", ratio, ZERO, at))
                reason = f"canceled: {symbol} split {ratio.normalize():f} for 1; place it again at adjusted prices"
                for record in self.store.working_by_symbol.get(symbol, {}).values():
                    stage.put(record.changed(record.working.moved(OrderStatus.CANCELED, reason=reason), at))
                last = self.store.prices.get(symbol)
                if last is not None:  # the position row is written with the adjusted mark
                    self.store.prices[symbol] = last / ratio
                try:
                    await self.store.commit(stage)
                except BaseException:
                    if last is not None:
                        self.store.prices[symbol] = last
                    raise
            held = self.store.ledger.positions.get(symbol)
            if held is None:
                return None
            return BrokerPosition(symbol, held.qty, held.average_price, self.store.prices.get(symbol))

    async def apply_dividend(self, symbol: str, amount_per_share: Decimal, at: datetime) -> Decimal:
        """Credit a cash dividend of `amount_per_share` on the position held `at` (a short position pays it).
        Applying the same dividend (symbol, at) again does nothing. Returns the cash it moved."""
        if not amount_per_share > 0:
            raise Rejected(f"a dividend must be a positive amount per share, got {amount_per_share}")
        async with self._lock:
            await self._ensure_loaded()
            at = ensure_utc(at)
            await self._catch_up(self.clock.now())
            done = self.store.actions.get((symbol, "dividend", at))
            if done is not None:
                return done.cash
            stage = self.store.stage()
            cash = stage.books().apply_dividend(symbol, amount_per_share)
            stage.actions.append(CorporateAction(symbol, "dividend", amount_per_share, cash, at))
            await self.store.commit(stage)
            return cash

    # checks ---------------------------------------------------------------------------------------------------

    def _check_acceptable(self, order: SubmitOrder, now: datetime) -> None:
        if order.account_id != self.account_id:
            raise Rejected(
                f"order {order.client_order_id} is for account {order.account_id!r}; this paper broker keeps "
                f"account {self.account_id!r}"
            )
        if order.order_class is not OrderClass.SIMPLE and not self.capabilities.brackets:
            raise Unsupported(
                f"the {self.name} broker here places no bracket or OCO orders; send the entry and its exits apart"
            )
        immediate = order.time_in_force in {TimeInForce.IOC, TimeInForce.FOK}
        if immediate and not self.hours.regular(now):
            opens = self.hours.current_or_next(now).open
            raise Rejected(
                f"a {order.time_in_force.value} order trades only in regular hours and the market is closed; it "
                f"opens at {opens.isoformat()}. Use a day or gtc order to queue it to the open"
            )

    def _exit_refusal(self, order: SubmitOrder) -> str | None:
        """Why an OCO cannot exit the position (None: it can, or the order is no OCO)."""
        if order.order_class is not OrderClass.OCO:
            return None
        held = self.store.ledger.qty(order.symbol)
        holding = held if order.side is Side.SELL else -held
        if holding < order.qty:
            position = f"{held.normalize():f} {order.symbol}" if held else f"no {order.symbol}"
            verb = "sell" if order.side is Side.SELL else "buy back"
            most = max(holding, ZERO).normalize()
            return f"an OCO exits a position held: you hold {position}, so this one can {verb} at most {most:f}"
        last = self.store.prices.get(order.symbol)
        problems = [] if last is None else exit_price_problems(order, last)
        return "; ".join(problems) or None

    def _refusal(self, order: SubmitOrder, *, exclude: str | None = None) -> str | None:
        """Why the account cannot carry `order` beside its other working orders (None: it can)."""
        ledger = self.store.ledger
        price = self._expected_price(order)
        # only a sale counts the shares open sell orders already deliver, and only an order that adds exposure
        # at a known price the buying power they hold (`refusal`): spare the scans when neither is read
        committed_sells = ZERO if order.side is Side.BUY else self._committed_sells(order.symbol, exclude)
        added = exposure_added(ledger.qty(order.symbol), order.side, order.qty, committed_sells=committed_sells)
        reserved = ZERO if added == 0 or price is None else self._reserved(exclude)
        intent = OrderIntent(order.symbol, order.side, order.qty, price)
        return refusal(
            ledger, intent, self.store.prices, self.policy, reserved=reserved, committed_sells=committed_sells
        )

    def _counted(self, exclude: str | None, orders: Iterable[OrderRecord]) -> Iterator[OrderRecord]:
        """The working `orders` that hold buying power or shares, in turn: an OCO group's members exit the
        same shares, so only the first of each counts."""
        groups: set[str] = set()
        for record in orders:
            if record.id == exclude:
                continue
            if self.links.in_group(record):
                root = record.parent_id or record.id
                if root in groups:
                    continue
                groups.add(root)
            yield record

    def _committed_sells(self, symbol: str, exclude: str | None) -> Decimal:
        """The shares of `symbol` that working sell orders will deliver (an OCO group's are all of one symbol)."""
        committed = ZERO
        same_symbol = self.store.working_by_symbol.get(symbol)
        if same_symbol is None:
            return committed
        for record in self._counted(exclude, same_symbol.values()):
            if record.request.side is Side.SELL:
                committed += record.working.remaining_qty
        return committed

    def _reserved(self, exclude: str | None) -> Decimal:
        """The buying power the working orders hold: what each adds to a position, at its expected price."""
        reserved = ZERO
        ledger = self.store.ledger
        if not self.store.working:
            return reserved
        for record in self._counted(exclude, self.store.working.values()):
            request = record.request
            price = self._expected_price(request)
            if price is not None:
                held = ledger.qty(request.symbol)
                reserved += exposure_added(held, request.side, record.working.remaining_qty) * price
        return reserved

    def _expected_price(self, order: SubmitOrder) -> Decimal | None:
        """The price to judge an order's buying power at, erring high: a buy pays at most its limit, a buy
        stop at least its stop; a sale brings at least its limit, a sell stop about its stop; else the last
        price (None when the venue has seen none)."""
        last = self.store.prices.get(order.symbol)
        limit, stop = order.limit_price, order.stop_price
        if order.side is Side.BUY:
            if limit is not None:
                return limit
            if stop is not None:
                return stop if last is None else max(stop, last)
            return last
        if limit is not None:
            return limit if last is None else max(limit, last)
        return stop if stop is not None else last

    def _find(self, broker_order_id: str) -> OrderRecord:
        record = self.store.orders.get(broker_order_id)
        if record is None:
            raise NotFound(f"the paper broker has no order {broker_order_id!r}")
        return record

    # state ----------------------------------------------------------------------------------------------------

    async def _ensure_loaded(self) -> None:
        if not self.store.loaded:
            await self.store.load(self.hours.last_close(self.clock.now()).day)
            self._next_roll = self.hours.close_after(self.store.mark.session)

    async def _catch_up(self, now: datetime) -> None:
        """Bring the books to `now`: settle credits, expire day orders, mark a session close that has passed."""
        store = self.store
        settles = bool(store.ledger.unsettled) and store.ledger.unsettled[0][0] <= trade_date(now)
        next_expiry = store.next_expiry()
        expiring = next_expiry is not None and now >= next_expiry
        if not (settles or expiring or now >= self._next_roll):
            return  # nothing is due, as on most calls
        stage = store.stage()
        if settles:
            stage.books().settle(trade_date(now))
        ended = []
        if expiring:
            for record in store.working.values():
                expired = expire_if_due(record.working, now)
                if expired is not None:
                    ended.append((record, record.changed(expired, record.working.expires_at or now)))
                    stage.put(ended[-1][1])
        for record, expired_record in ended:  # after all: exits that expire together both say expired
            self.links.follow(stage, record, expired_record, ZERO, expired_record.updated_at)
        next_roll = self._next_roll
        if now >= self._next_roll:
            session = self.hours.last_close(now)
            if session.day > store.mark.session:
                ledger = stage.current  # before this event's prices: the books as the session closed
                stage.mark = Mark(
                    session.day, ledger.equity(store.prices),
                    ledger.maintenance_margin(store.prices, self.policy.margin_rates),
                )  # fmt: skip
                stage.positions.update(ledger.positions)  # store the closing marks with the positions
            next_roll = self.hours.close_after(max(session.day, store.mark.session))
        await store.commit(stage)
        self._next_roll = next_roll


def _placed(record: OrderRecord) -> int:
    return record.seq
