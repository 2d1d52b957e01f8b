"""`md.Desk`: one desk kept open behind plain synchronous calls, for notebooks and strategies.

    import marketdesk as md

    with md.Desk() as desk:                        # the default data dir, or md.Desk("~/desk-data")
        desk.preview("BUY 10 AAPL")                 # risk and compliance verdicts; places nothing
        desk.buy("AAPL", 10)                        # a market order; waits for its fill at the next tick
        desk.buy("AAPL", 10, limit=180, tif="gtc")  # a limit order; returns at once, working
        desk.positions()                            # a DataFrame
        desk.kill_switch(True)                      # HALTED: only cancels pass

Unlike `md.screen`, which opens and closes a desk per call, `md.Desk` starts the whole desk once (database,
live quotes, the paper venue and its feed) and keeps it until `close()`. The desk runs on its own event loop in
a background thread and every call is handed to that loop and waited for, so the facade works the same in a
script and inside a running event loop (Jupyter). Every order goes through `OrderService`, the one road to the
broker (risk engine, compliance, outbox, broker); the facade never calls a broker itself.

Refusals are the project's errors (`marketdesk.errors`): `str(exc)` is one line with the fix. A `Rejected`
(bad input, a wrong password, a viewer trading) is raised without the background thread's frames, so a
notebook shows the message under the line that caused it; other errors keep their whole traceback.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import secrets
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from marketdesk.accounts.errors import Forbidden, Unauthorized
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.accounts.views import ClientInfo
from marketdesk.clock import LiveClock
from marketdesk.config import Settings, load_settings
from marketdesk.db import upgrade
from marketdesk.desk import Desk as CoreDesk
from marketdesk.desk import build_desk
from marketdesk.errors import NotFound, Rejected
from marketdesk.kit import datadir_lock
from marketdesk.marketdata.port import Quote
from marketdesk.notebook import (
    ACCOUNT_COLUMNS,
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    Number,
    OrderResult,
    PreviewResult,
    ends_at_next_tick,
    frame_of,
    order_command,
    order_row,
    with_limit,
)
from marketdesk.trading.activity import Side
from marketdesk.trading.orders import OrderStatus
from marketdesk.trading.tradefile import parse_order

T = TypeVar("T")

NOTEBOOK_EMAIL = "notebook@localhost"  # the local identity a desk with no users gets (see `Desk`)
CLIENT = ClientInfo(ip="", user_agent="marketdesk notebook (md.Desk)")
DEFAULT_ACCOUNT = "Paper"
WAIT_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 30.0


class Desk:
    """A desk kept open for a notebook or a strategy; every method is a plain blocking call.

    >>> with md.Desk() as desk:  # doctest: +SKIP
    ...     desk.buy("AAPL", 10)
    <OrderResult FILLED BUY 10 AAPL at market (day): 10 of 10 filled at 189.27 on average · order 5c0e…>

    `data_dir` and `settings` are the desk's settings (`marketdesk.config.Settings`: `sim_symbols=60`,
    `database_url=…`); unknown names are refused. `account` names the default trading account (name or id); by
    default the user's first, and a paper account called "Paper" is opened for a trader who has none. Every
    trading method also takes `account=`.

    Who the desk acts as:

    - `email` and `password` given: that user signs in through the accounts service, exactly like the web desk
      (failed sign-ins count and lock the same way, the session shows among the user's sessions and ends on
      `close()`). On a desk with no users yet, this creates that user as the desk's first admin instead, as
      registering would; you can then sign in to the web desk with the same email and password.
    - nothing given, on a desk with no users: a local user `notebook@localhost` is created as the desk's admin,
      with a random password nobody knows, so a fresh data dir works out of the box. It keeps working without a
      password on later runs. To use the web desk too, create yourself a user from the machine
      (`marketdesk users create --role admin --email you@example.com`).
    - nothing given, on a desk whose users do not include that local user: refused; sign in as one of them.

    The local user needs no password because whoever can open the data dir (or the database URL) can already
    read and change everything in it directly; a password there would protect nothing. On a desk shared with
    other people, sign in as yourself so the audit log names you. The user's role and whether it is disabled
    are read again before every command: a viewer can read but not trade, and a user disabled meanwhile is
    refused.

    One process at a time runs a data dir's paper venue: md.Desk holds `<data dir>/desk.lock` while open, so a
    second md.Desk on the same data dir is refused. Do not open a data dir that a running `marketdesk up`
    serves: two processes would each run a paper venue on the same accounts. Talk to that desk through its API
    (`marketdesk trade`, REST) instead.

    Close the desk with `close()` or a `with` block; an open desk is closed when the interpreter exits.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        email: str | None = None,
        password: str | None = None,
        account: str | None = None,
        **settings: Any,
    ) -> None:
        if (email is None) != (password is None):
            raise Rejected(
                "give both email and password, or neither",
                hint="Sign in with md.Desk(email=..., password=getpass.getpass()); a desk with no users needs neither.",
            )
        self.settings: Settings = load_settings(data_dir=data_dir, **settings)
        self._wanted_account = account
        self._account_id: str | None = None
        self._closed = False
        self._close_lock = threading.Lock()
        self._lock = datadir_lock.hold(self.settings.data_dir, "an md.Desk")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=f"md.Desk {self.settings.data_dir}", daemon=True)
        self._thread.start()
        self._refresh_token: str | None = None
        self._account_lock = asyncio.Lock()
        try:
            self._core, self._user = self._call(self._open(email, password))
        except BaseException:
            self._closed = True
            self._halt()
            raise
        atexit.register(self.close)

    # ---- the desk's life -------------------------------------------------------------------------------

    def __enter__(self) -> Desk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<md.Desk {state}: {self._user.email} ({self._user.role.value}) on {self.settings.data_dir}>"

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def user(self) -> CurrentUser:
        """Who this desk acts as (as signed in; the role is read again before each command)."""
        return self._user

    def close(self) -> None:
        """Sign out, stop the desk (quotes, paper venue, database) and its thread. Closing again does nothing."""
        with self._close_lock:
            if self._closed:
                return
            if threading.current_thread() is self._thread:
                raise RuntimeError("md.Desk.close() was called from the desk's own thread; call it from yours")
            self._closed = True
        atexit.unregister(self.close)
        try:
            if self._thread.is_alive():
                asyncio.run_coroutine_threadsafe(self._shut(), self._loop).result(timeout=STOP_TIMEOUT_S)
        finally:
            self._halt()

    async def _open(self, email: str | None, password: str | None) -> tuple[CoreDesk, CurrentUser]:
        core = build_desk(self.settings, LiveClock())
        try:
            # sign in first (on the migrated database), so a refusal starts no quotes, venue or reconciliation
            await asyncio.to_thread(upgrade, self.settings.effective_database_url)
            async with core.db.session() as session:
                await core.accounts.start(session)
            user = await self._sign_in(core, email, password)
            await core.start()
        except BaseException:
            await core.stop()
            raise
        return core, user

    async def _sign_in(self, core: CoreDesk, email: str | None, password: str | None) -> CurrentUser:
        async with core.db.session() as session:
            has_users = await core.accounts.has_users(session)
            if email is not None and password is not None:
                # on a desk with no users, registering makes this user its first admin
                sign = core.accounts.login if has_users else core.accounts.register
                pair = await sign(session, email, password, client=CLIENT)
                self._refresh_token = pair.refresh_token
                return CurrentUser(pair.user.id, pair.user.email, pair.user.role, pair.session_id, via="notebook")
            if not has_users:
                local = await core.accounts.create_user(session, NOTEBOOK_EMAIL, secrets.token_urlsafe(32), Role.ADMIN)
            else:
                found = [u for u in await core.accounts.users(session) if u.email == NOTEBOOK_EMAIL]
                if not found:
                    raise Unauthorized(
                        "this desk has users, so md.Desk needs one of them to sign in",
                        hint='Open it with md.Desk(email="you@example.com", password=getpass.getpass()).',
                    )
                local = found[0]
                if local.disabled:
                    raise Unauthorized(
                        f"the local user {NOTEBOOK_EMAIL} is disabled",
                        hint="Sign in as yourself: md.Desk(email=..., password=...), or ask an admin to enable it.",
                    )
            await core.audit.record(session, "login.local", actor_id=local.id, target=NOTEBOOK_EMAIL,
                                    detail={"via": "md.Desk"})  # fmt: skip
            return CurrentUser(local.id, local.email, local.role, "local", via="notebook")

    async def _shut(self) -> None:
        core = self._core
        try:
            if self._refresh_token is not None:
                async with core.db.session() as session:
                    await core.accounts.logout(session, refresh_token=self._refresh_token, client=CLIENT)
        finally:
            await core.stop()

    def _serve(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    def _halt(self) -> None:
        """Stop the loop, wait for its thread and release the data dir."""
        with contextlib.suppress(RuntimeError):  # the loop already closed
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=STOP_TIMEOUT_S)
        datadir_lock.release(self._lock)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the desk's loop and wait for it; refusals travel without the loop's frames."""
        if self._closed:
            coroutine.close()
            raise Rejected("this md.Desk is closed", hint="Open another: md.Desk(...).")
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("md.Desk methods block; from the desk's own loop use desk.run(...) instead")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result()
        except Rejected as exc:
            raise exc.with_traceback(None) from None
        except BaseException:
            future.cancel()  # an interrupt (Ctrl-C) stops the waiting; submissions are shielded from it
            raise

    def run(self, action: Callable[[CoreDesk, CurrentUser], Awaitable[T]]) -> T:
        """Run `await action(desk, user)` on the desk's loop with the underlying `marketdesk.desk.Desk` and the
        signed-in user, for what the facade does not cover. Orders go through its order service
        (`desk.orders`, an `OrderService`), never to a broker directly."""

        async def call() -> T:
            return await action(self._core, await self._acting(write=False))

        return self._call(call())

    # ---- accounts ----------------------------------------------------------------------------------------

    def accounts(self) -> pd.DataFrame:
        """Your trading accounts, one row per account (index: id)."""

        async def call() -> list[dict[str, Any]]:
            return await self._core.trading_accounts.list_accounts(await self._acting(write=False))

        return frame_of(self._call(call()), ACCOUNT_COLUMNS, index="id")

    def account(self, name_or_id: str | None = None) -> dict[str, Any]:
        """One account with its balances, positions, risk limits and compliance settings (default: the desk's
        default account, opened as "Paper" for a trader who has none)."""

        async def call() -> dict[str, Any]:
            user = await self._acting(write=False)
            return await self._core.trading_accounts.get(user, await self._account(user, name_or_id))

        return self._call(call())

    def open_account(
        self, name: str, *, broker: str = "paper", kind: str = "margin", policy: str = "auto"
    ) -> dict[str, Any]:
        """Open a trading account (paper, margin, policy `auto` unless told otherwise)."""

        async def call() -> dict[str, Any]:
            user = await self._acting(write=True)
            return await self._core.trading_accounts.open(user, name, broker=broker, kind=kind, policy=policy)

        return self._call(call())

    def positions(self, *, account: str | None = None) -> pd.DataFrame:
        """Open positions marked at the last price, with P&L (index: symbol). Amounts are exact Decimals."""

        async def call() -> list[dict[str, Any]]:
            user = await self._acting(write=False)
            views = await self._core.trading_accounts.positions(user, await self._account(user, account))
            return [asdict(v) for v in views]

        return frame_of(self._call(call()), POSITION_COLUMNS, index="symbol")

    def risk(self, *, account: str | None = None, **changes: Any) -> dict[str, Any]:
        """The account's risk limits and trading state; keyword arguments change limits first, e.g.
        `desk.risk(max_position_pct=5, max_daily_loss=2000)` (None turns a limit off; unknown names are refused
        with the valid ones)."""

        async def call() -> dict[str, Any]:
            user = await self._acting(write=bool(changes))
            account_id = await self._account(user, account)
            if changes:
                await self._core.trading_accounts.update_risk(user, account_id, changes)
            detail = await self._core.trading_accounts.get(user, account_id)
            return {"limits": detail["risk"], "state": detail["state"], "state_reason": detail["state_reason"]}

        return self._call(call())

    def kill_switch(self, on: bool, *, reason: str = "", account: str | None = None) -> dict[str, Any]:
        """Halt the account (`True`: only cancels pass) or let it trade again (`False`)."""
        if not isinstance(on, bool):
            raise Rejected(f"kill_switch takes True (halt) or False (trade again), not {on!r}")

        async def call() -> dict[str, Any]:
            user = await self._acting(write=True)
            account_id = await self._account(user, account)
            return await self._core.trading_accounts.set_kill_switch(user, account_id, on=on, reason=reason)

        return self._call(call())

    def compliance(self, *, account: str | None = None) -> dict[str, Any]:
        """The account's day-trading policy settings and where it stands under it now."""

        async def call() -> dict[str, Any]:
            user = await self._acting(write=False)
            account_id = await self._account(user, account)
            detail = await self._core.trading_accounts.get(user, account_id)
            status = await self._core.trading_accounts.compliance_status(user, account_id)
            return {"settings": detail["compliance"], "status": status}

        return self._call(call())

    def quote(self, symbol: str) -> Quote:
        """The latest quote of `symbol`: the live one, else the market data's fallbacks."""

        async def call() -> Quote:
            await self._acting(write=False)
            known = await self._symbol(symbol)
            return self._core.quotes.get(known) or await self._core.market.quote(known)

        return self._call(call())

    # ---- orders ------------------------------------------------------------------------------------------

    def buy(
        self,
        symbol: str,
        qty: Number,
        *,
        limit: Number | None = None,
        stop: Number | None = None,
        tif: str = "day",
        take_profit: Number | None = None,
        stop_loss: Number | None = None,
        extended_hours: bool = False,
        tag: str | None = None,
        client_order_id: str | None = None,
        account: str | None = None,
        wait: bool | None = None,
        timeout: float = WAIT_TIMEOUT_S,
    ) -> OrderResult:
        """Buy `qty` of `symbol`: at market, or `limit`/`stop` (both: stop-limit); `take_profit`/`stop_loss`
        attach a bracket where the broker takes one. A refusal by risk or compliance is a result in status
        `rejected` with the reason; bad input raises `Rejected`.

        `wait`: wait until the order is final (filled, canceled, rejected, expired) or `timeout` seconds have
        passed, then return it as it stands. By default market, IOC and FOK orders are waited for (they end at
        the next tick) and resting limit and stop orders are not. Interrupting the wait leaves the order working.
        The same `client_order_id` again returns the first order rather than placing another.
        """
        options = {"limit": limit, "stop": stop, "tif": tif, "take_profit": take_profit, "stop_loss": stop_loss,
                   "extended_hours": extended_hours, "tag": tag, "client_order_id": client_order_id}  # fmt: skip
        return self._place(Side.BUY, symbol, qty, options, account, wait, timeout)

    def sell(
        self,
        symbol: str,
        qty: Number,
        *,
        limit: Number | None = None,
        stop: Number | None = None,
        tif: str = "day",
        take_profit: Number | None = None,
        stop_loss: Number | None = None,
        extended_hours: bool = False,
        tag: str | None = None,
        client_order_id: str | None = None,
        account: str | None = None,
        wait: bool | None = None,
        timeout: float = WAIT_TIMEOUT_S,
    ) -> OrderResult:
        """Sell `qty` of `symbol`; the options are those of `buy`."""
        options = {"limit": limit, "stop": stop, "tif": tif, "take_profit": take_profit, "stop_loss": stop_loss,
                   "extended_hours": extended_hours, "tag": tag, "client_order_id": client_order_id}  # fmt: skip
        return self._place(Side.SELL, symbol, qty, options, account, wait, timeout)

    def place(
        self,
        order: str,
        *,
        account: str | None = None,
        wait: bool | None = None,
        timeout: float = WAIT_TIMEOUT_S,
        **options: Any,
    ) -> OrderResult:
        """Place an order written as text: "BUY 10 AAPL" (market) or "SELL 5 MSFT @ 410" (limit 410), with the
        keyword options of `buy` (`tif="gtc"`, `stop=…`, `tag=…`)."""
        intent = parse_order(order)
        return self._place(intent.side, intent.symbol, intent.qty, with_limit(options, intent.price), account,
                           wait, timeout)  # fmt: skip

    def preview(self, order: str, *, account: str | None = None, **options: Any) -> PreviewResult:
        """What placing `order` ("BUY 10 AAPL", "SELL 5 MSFT @ 410") would do, without placing it: the risk and
        compliance verdicts, their reasons and the estimated cost."""
        intent = parse_order(order)
        build = order_command(intent.side, intent.symbol, intent.qty, with_limit(options, intent.price))

        async def call() -> PreviewResult:
            user = await self._acting(write=True)
            known = await self._symbol(intent.symbol)  # before the account: a typo opens no "Paper" account
            command = build(await self._account(user, account), known)
            return PreviewResult.of(await self._core.orders.preview(user, command))

        return self._call(call())

    def orders(self, *, open_only: bool = False, account: str | None = None, limit: int = 200) -> pd.DataFrame:
        """The account's orders, newest first (index: id); `open_only` keeps the working ones."""

        async def call() -> list[dict[str, Any]]:
            user = await self._acting(write=False)
            account_id = await self._account(user, account)
            views = await self._core.orders.orders(
                user, account_id=account_id, status="open" if open_only else None, limit=limit
            )
            return [order_row(v) for v in views]

        return frame_of(self._call(call()), ORDER_COLUMNS, index="id")

    def order(self, order_id: str | OrderResult) -> OrderResult:
        """One order as it stands now, with its fills."""
        return self.wait(order_id, timeout=0)

    def wait(self, order_id: str | OrderResult, *, timeout: float = WAIT_TIMEOUT_S) -> OrderResult:
        """Wait until the order is final or `timeout` seconds have passed; the order as it then stands."""
        wanted = order_id.id if isinstance(order_id, OrderResult) else order_id

        async def call() -> OrderResult:
            return await self._settle(await self._acting(write=False), wanted, timeout)

        return self._call(call())

    def cancel(self, order_id: str | OrderResult) -> OrderResult:
        """Cancel a working order (cancels pass even when the kill switch is on)."""
        wanted = order_id.id if isinstance(order_id, OrderResult) else order_id

        async def call() -> OrderResult:
            user = await self._acting(write=True)
            await _orders_hint(asyncio.shield(self._core.orders.cancel(user, wanted)))
            return await self._settle(user, wanted, 0)

        return self._call(call())

    def _place(
        self,
        side: Side,
        symbol: str,
        qty: object,
        options: dict[str, Any],
        account: str | None,
        wait: bool | None,
        timeout: float,
    ) -> OrderResult:
        build = order_command(side, symbol, qty, options)

        async def call() -> OrderResult:
            user = await self._acting(write=True)
            known = await self._symbol(symbol)  # before the account: a typo opens no "Paper" account
            command = build(await self._account(user, account), known)
            # a submission runs to its end even if the caller stops waiting (Ctrl-C): no half-placed orders
            view = await asyncio.shield(self._core.orders.submit(user, command))
            waits = wait if wait is not None else ends_at_next_tick(command)
            return await self._settle(user, view.id, timeout if waits else 0)

        return self._call(call())

    # ---- on the desk's loop ----------------------------------------------------------------------------

    async def _acting(self, *, write: bool) -> CurrentUser:
        """The signed-in user as stored now: refused when disabled, or when a viewer tries to change something."""
        async with self._core.db.session() as session:
            stored = await self._core.accounts.user(session, self._user.id)
        if stored.disabled:
            raise Unauthorized(f"the user {stored.email} is disabled", hint="Ask an admin to enable it.")
        user = CurrentUser(stored.id, stored.email, stored.role, self._user.session_id, via="notebook")
        if write and not user.can_write:
            raise Forbidden(
                f"{stored.email} is a {stored.role.value}: viewers see everything and trade nothing",
                hint="Ask an admin to make you a trader.",
            )
        return user

    async def _account(self, user: CurrentUser, wanted: str | None) -> str:
        """The id of the account named `wanted` (name or id), else of the desk's default account."""
        if wanted is None and self._account_id is not None:
            return self._account_id
        async with self._account_lock:  # two first calls at once must not both open "Paper"
            if wanted is None and self._account_id is not None:
                return self._account_id
            accounts = await self._core.trading_accounts.list_accounts(user)
            name = wanted if wanted is not None else self._wanted_account
            if name is not None:
                found = [a["id"] for a in accounts if name in (a["id"], a["name"])]
                if not found:
                    names = ", ".join(a["name"] for a in accounts) or "none yet"
                    raise NotFound(
                        f"no trading account {name!r}", hint=f"Yours: {names}. Open one: desk.open_account(NAME)."
                    )
                account_id = str(found[0])
            elif accounts:
                account_id = str(accounts[0]["id"])
            elif user.can_write:
                account_id = str((await self._core.trading_accounts.open(user, DEFAULT_ACCOUNT))["id"])
            else:
                raise NotFound("you have no trading account", hint="Viewers cannot open one; ask an admin.")
            if wanted is None:
                self._account_id = account_id
            return account_id

    async def _symbol(self, symbol: str) -> str:
        """The symbol as stored; `UnknownSymbol` (with its hint) when the desk's market data does not know it."""
        async with self._core.db.session() as session:
            return (await self._core.market.symbol(session, symbol)).symbol

    async def _settle(self, user: CurrentUser, order_id: str, timeout: float) -> OrderResult:  # noqa: ASYNC109 (a deadline for polling, not for the calls)
        """The order once final, or as it stands when `timeout` seconds have passed (polled)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        interval = min(max(self.settings.tick_interval_s / 4, 0.02), 0.25)
        while True:
            view, events = await _orders_hint(self._core.orders.order(user, order_id))
            if OrderStatus(view.status).final or loop.time() >= deadline:
                return OrderResult.of(view, events)
            await asyncio.sleep(interval)


# ---- helpers ----------------------------------------------------------------------------------------------


async def _orders_hint(call: Awaitable[T]) -> T:
    """The order service's not-found hint names the REST API; in a notebook, name the facade."""
    try:
        return await call
    except NotFound as exc:
        raise NotFound(exc.message, hint="List yours: desk.orders().") from None
