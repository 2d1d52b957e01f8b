"""The Python API behind `import marketdesk as md`: each call prepares a desk on the embedded defaults (or
the given settings) and returns pandas objects or plain data. Works inside a running event loop (Jupyter).

Also here: what `md.Desk` (`marketdesk.notebook_desk`) returns and takes: `OrderResult`, `PreviewResult` and
`Fill`, the order input it checks (`order_command`), and its DataFrames."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.roles import CurrentUser
from marketdesk.clock import LiveClock
from marketdesk.config import load_settings
from marketdesk.desk import Desk, build_desk
from marketdesk.errors import NotFound, Rejected
from marketdesk.kit.money import to_decimal
from marketdesk.portfolio.service import PortfolioView
from marketdesk.trading.activity import Side
from marketdesk.trading.orders import Bracket, OrderStatus, OrderType, SubmitOrder, TimeInForce
from marketdesk.trading.service import OrderView, Preview

T = TypeVar("T")


def _run(coroutine_factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coroutine_factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:  # a notebook's loop is already running
        return pool.submit(asyncio.run, main()).result()


async def prepared_desk(data_dir: Path | str | None = None, **settings: Any) -> Desk:
    """A desk with migrations applied and the simulated market stored (when it is a source); no live parts."""
    desk = build_desk(load_settings(data_dir=data_dir, **settings), LiveClock())
    await desk.start()
    await desk.quotes.stop()
    await desk.paper_feed.stop()  # an md.Desk may be running this data dir's paper venue: never feed it here
    return desk


async def _with_desk(data_dir: Path | str | None, action: Callable[[Desk], Awaitable[T]], **settings: Any) -> T:
    desk = await prepared_desk(data_dir, **settings)
    try:
        return await action(desk)
    finally:
        await desk.stop()


def screen(
    preset: str | None = None,
    where: Sequence[str] | str = (),
    *,
    universe: str = "all",
    asset: str | None = None,
    sort: str | None = None,
    limit: int = 1000,
    data_dir: Path | str | None = None,
) -> pd.DataFrame:
    """Screen a universe; one row per symbol with verdict, score and metrics, best first.

    >>> md.screen("value", "pe < 15 and roe > 0.12", limit=10)  # doctest: +SKIP
    """
    expressions = [where] if isinstance(where, str) else list(where)

    async def action(desk: Desk) -> pd.DataFrame:
        async with desk.db.session() as session:
            return await desk.screener.frame(
                session, preset=preset, where=expressions, universe=universe, asset=asset, sort=sort, limit=limit
            )

    return _run(lambda: _with_desk(data_dir, action))


def tearsheet(symbol: str, *, preset: str | None = None, data_dir: Path | str | None = None) -> dict[str, Any]:
    """The research tearsheet of one symbol (seven sections, verdict, flags, explanation, DCF)."""

    async def action(desk: Desk) -> dict[str, Any]:
        async with desk.db.session() as session:
            return await desk.screener.research(session, symbol, preset=preset)

    return _run(lambda: _with_desk(data_dir, action))


def dips(
    threshold: float = 5.0, *, universe: str = "largecap", min_verdict: str = "Hold", data_dir: Path | str | None = None
) -> pd.DataFrame:
    """Quality names below their 52-week high, with why they dipped and a suggested play."""

    async def action(desk: Desk) -> pd.DataFrame:
        async with desk.db.session() as session:
            report = await desk.screener.dips(
                session, universe=universe, threshold_pct=threshold, min_verdict=min_verdict
            )
        return pd.DataFrame.from_records(report.rows, index="symbol") if report.rows else pd.DataFrame()

    return _run(lambda: _with_desk(data_dir, action))


# ---- md.portfolio ----------------------------------------------------------------------------------------

HOLDING_COLUMNS = [
    "qty", "average_cost", "cost_basis", "price", "price_date", "market_value", "unrealized_pnl", "realized_pnl",
    "dividends", "weight",
]  # fmt: skip
DAILY_COLUMNS = ["value", "positions_value", "cash", "net_flow", "return", "growth_100"]
TOTAL_FIELDS = (
    "total_value", "market_value", "cash", "cost_basis", "unrealized_pnl", "realized_pnl", "dividend_income", "fees",
    "commissions", "deposits", "withdrawals", "net_contributions", "total_return",
)  # fmt: skip


@dataclass(frozen=True, repr=False)
class PortfolioReport:
    """One of your portfolios as `md.portfolio` reads it: holdings, totals, returns and the daily series.

    Money is `Decimal`. `holdings` has a row per open position (index: symbol); `totals` maps `total_value`,
    `cash`, `unrealized_pnl`, `total_return` … to amounts; `twr`, `twr_annualized` and `xirr` are fractions (None
    where they do not exist, with the reason in `notes`); `daily` has a row per valued day (index: date) with the
    end-of-day `value`, `positions_value`, `cash` and `net_flow` (Decimal), the day's time-weighted `return` and
    `growth_100` from the range's first day.
    """

    id: str
    name: str
    kind: str  # manual or linked
    as_of: date
    holdings: pd.DataFrame
    totals: dict[str, Decimal]
    total_return_pct: float | None
    start: date | None
    end: date | None
    twr: float | None
    twr_annualized: float | None
    xirr: float | None
    notes: tuple[str, ...]
    daily: pd.DataFrame

    def __repr__(self) -> str:
        twr = "—" if self.twr is None else f"{self.twr:+.2%}"
        xirr = "—" if self.xirr is None else f"{self.xirr:+.2%}"
        return (
            f"<PortfolioReport {self.name}: {len(self.holdings)} holdings, value {self.totals['total_value']:,.2f} "
            f"on {self.as_of}, TWR {twr}, XIRR {xirr}>"
        )


def portfolio(
    name_or_id: str | None = None,
    *,
    user: str | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    as_of: date | str | None = None,
    data_dir: Path | str | None = None,
    **settings: Any,
) -> PortfolioReport:
    """One of your portfolios: holdings (a DataFrame), totals, TWR and XIRR, and the daily series (a DataFrame).

    >>> book = md.portfolio("Long term", user="ann@example.com")  # doctest: +SKIP
    >>> book.holdings[["qty", "market_value", "weight"]], book.twr, book.daily["value"]  # doctest: +SKIP

    `name_or_id` may be left out when the user has one portfolio, and `user` (an email) when the desk has one
    user. `start`/`end` bound the returns and the daily series (default: all of it); `as_of` values the holdings
    at that day's close (default: today). It only reads: a viewer may use it too. `settings` are the desk's
    settings (`market_data=["files"]`, `database_url=…`).
    """
    first, last, day = _date(start, "start"), _date(end, "end"), _date(as_of, "as_of")

    async def action(desk: Desk) -> PortfolioReport:
        from marketdesk.analytics.compare_service import snapshot_returns

        async with desk.db.session() as session:
            who = await _desk_user(desk, session, user)
            chosen = await _portfolio_named(desk, session, who, name_or_id)
            valuation = await desk.portfolios.valuation(session, who, chosen.id, day)
            performance = await desk.portfolios.returns(session, who, chosen.id, first, last)
            snapshots = await desk.portfolios.snapshots(session, who, chosen.id)
        holdings = frame_of([
            {"symbol": h.symbol, **{c: getattr(h, c) for c in HOLDING_COLUMNS}} for h in valuation.holdings
        ], HOLDING_COLUMNS, index="symbol")  # fmt: skip
        returns = snapshot_returns(snapshots) if snapshots else pd.Series(dtype=float)
        rows = [
            {"date": pd.Timestamp(s.day), "value": s.value, "positions_value": s.positions_value, "cash": s.cash,
             "net_flow": s.net_flow, "return": float(r)}
            for s, r in zip(snapshots, returns, strict=True)
            if (first is None or s.day >= first) and (last is None or s.day <= last)
        ]  # fmt: skip
        daily = frame_of(rows, DAILY_COLUMNS[:-1], index="date")
        daily["growth_100"] = 100.0 * (1.0 + daily["return"].astype(float)).cumprod()
        return PortfolioReport(
            id=chosen.id, name=chosen.name, kind=chosen.kind, as_of=valuation.as_of, holdings=holdings,
            totals={name: getattr(valuation, name) for name in TOTAL_FIELDS},
            total_return_pct=valuation.total_return_pct, start=performance.start, end=performance.end,
            twr=performance.twr, twr_annualized=performance.twr_annualized, xirr=performance.xirr,
            notes=performance.notes, daily=daily,
        )  # fmt: skip

    return _run(lambda: _with_desk(data_dir, action, **settings))


def _date(value: date | str | None, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise Rejected(f"{field} {value!r} is not a date", hint="Write it like 2024-01-31.") from None


async def _desk_user(desk: Desk, session: AsyncSession, email: str | None) -> CurrentUser:
    """The enabled user with this email; without one, the desk's only enabled user."""
    users = [u for u in await desk.accounts.users(session) if not u.disabled]
    if email is not None:
        users = [u for u in users if u.email.lower() == email.strip().lower()]
        if not users:
            raise NotFound(f"no user {email!r} on this desk", hint="`marketdesk users list` shows the desk's users.")
    elif len(users) != 1:
        raise Rejected(
            f"the desk has {len(users)} users: say whose portfolio to read",
            hint='Add user="you@example.com".' if users else "Create one: `marketdesk users create`.",
        )
    found = users[0]
    return CurrentUser(found.id, found.email, found.role, session_id="notebook", via="notebook")


async def _portfolio_named(desk: Desk, session: AsyncSession, who: CurrentUser, wanted: str | None) -> PortfolioView:
    portfolios = await desk.portfolios.list_portfolios(session, who)
    names = ", ".join(p.name for p in portfolios) or "none yet"
    if wanted is None:
        if len(portfolios) == 1:
            return portfolios[0]
        raise Rejected(f"{who.email} has {len(portfolios)} portfolios: say which", hint=f"Theirs: {names}.")
    for candidate in portfolios:
        if wanted.strip() in (candidate.id, candidate.name):
            return candidate
    raise NotFound(f"no portfolio {wanted!r} of {who.email}", hint=f"Theirs: {names}.")


# ---- what md.Desk returns and takes ---------------------------------------------------------------------

ORDER_COLUMNS = [
    "symbol", "side", "qty", "type", "tif", "status", "filled_qty", "average_price", "limit_price", "stop_price",
    "reason", "tag", "created_at", "updated_at", "client_order_id", "account_id",
]  # fmt: skip
POSITION_COLUMNS = ["qty", "average_price", "market_price", "market_value", "unrealized_pnl", "realized_pnl"]
ACCOUNT_COLUMNS = ["name", "broker", "kind", "live", "policy", "state", "state_reason", "created_at"]


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order."""

    qty: Decimal
    price: Decimal
    commission: Decimal
    time: datetime


@dataclass(frozen=True, slots=True, repr=False)
class OrderResult:
    """An order as the facade returns it: its status, why (when refused, canceled or expired) and its fills."""

    id: str
    client_order_id: str
    account_id: str
    symbol: str
    side: str
    qty: Decimal
    order_type: str
    time_in_force: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: str
    reason: str | None
    filled_qty: Decimal
    average_price: Decimal | None
    fills: tuple[Fill, ...]
    tag: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: OrderView, events: Iterable[dict[str, Any]]) -> OrderResult:
        fills = tuple(
            Fill(Decimal(str(e["data"]["qty"])), Decimal(str(e["data"]["price"])),
                 Decimal(str(e["data"].get("commission", 0))), e["ts"])
            for e in events
            if e["kind"] in {"filled", "partially_filled"} and "fill_id" in e["data"]
        )  # fmt: skip
        return cls(
            id=view.id, client_order_id=view.client_order_id, account_id=view.account_id, symbol=view.symbol,
            side=view.side, qty=view.qty, order_type=view.order_type, time_in_force=view.time_in_force,
            limit_price=view.limit_price, stop_price=view.stop_price, status=view.status, reason=view.reason,
            filled_qty=view.filled_qty, average_price=view.average_fill_price, fills=fills, tag=view.tag,
            created_at=view.created_at, updated_at=view.updated_at,
        )  # fmt: skip

    @property
    def final(self) -> bool:
        """True once nothing more can happen to it: filled, canceled, rejected or expired."""
        return OrderStatus(self.status).final

    @property
    def filled(self) -> bool:
        return self.status == OrderStatus.FILLED

    @property
    def rejected(self) -> bool:
        return self.status == OrderStatus.REJECTED

    @property
    def working(self) -> bool:
        """True while it can still fill."""
        return OrderStatus(self.status).working

    def describe(self) -> str:
        """The order as words, e.g. "BUY 10 AAPL limit 180 (gtc)"."""
        kind = {
            OrderType.LIMIT: f"limit {self.limit_price}",
            OrderType.STOP: f"stop {self.stop_price}",
            OrderType.STOP_LIMIT: f"stop {self.stop_price} limit {self.limit_price}",
        }.get(OrderType(self.order_type), "at market")
        return f"{self.side.upper()} {_plain(self.qty)} {self.symbol} {kind} ({self.time_in_force})"

    def __str__(self) -> str:
        if self.filled_qty:
            outcome = f"{_plain(self.filled_qty)} of {_plain(self.qty)} filled at {self.average_price} on average"
        else:
            outcome = "nothing filled"
        if self.reason and self.status != OrderStatus.FILLED:
            outcome = f"{outcome}: {self.reason}" if self.filled_qty else self.reason
        return f"{self.status.upper()} {self.describe()}: {outcome} · order {self.id}"

    def __repr__(self) -> str:
        return f"<OrderResult {self}>"


@dataclass(frozen=True, slots=True, repr=False)
class PreviewResult:
    """What placing an order would do: allowed or not, the reasons, the estimated cost and both verdicts."""

    order: str
    allowed: bool
    reasons: tuple[str, ...]
    estimated_price: Decimal | None
    estimated_cost: Decimal | None
    risk: dict[str, Any]
    compliance: dict[str, Any] | None  # None when risk already refused (compliance was not asked)

    @classmethod
    def of(cls, preview: Preview) -> PreviewResult:
        shown = preview.to_dict()
        return cls(
            order=preview.order.describe(),
            allowed=preview.allowed,
            reasons=preview.reasons,
            estimated_price=preview.estimated_price,
            estimated_cost=preview.estimated_cost,
            risk=shown["risk"],
            compliance=shown["compliance"],
        )

    @property
    def reason(self) -> str:
        """Why it would be refused ("" when it would pass)."""
        return "; ".join(self.reasons)

    def __str__(self) -> str:
        cost = "" if self.estimated_cost is None else f", about {self.estimated_cost:,}"
        if self.allowed:
            return f"ALLOWED {self.order}{cost}"
        return f"DENIED {self.order}{cost}: {self.reason}"

    def __repr__(self) -> str:
        return f"<PreviewResult {self}>"


Number = Decimal | int | float | str  # a float goes through its repr: 0.1 is Decimal("0.1")


def _amount(value: object, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return to_decimal(value, field=field)
    except ValueError as exc:
        raise Rejected(str(exc), hint="Give a positive number, e.g. 10 or '12.5'.") from None


def with_limit(options: dict[str, Any], price: Decimal | None) -> dict[str, Any]:
    if price is None:
        return options
    if options.get("limit") is not None:
        raise Rejected("the order names its limit twice (after @ and as limit=)", hint="Give it once.")
    return {**options, "limit": price}


ORDER_OPTIONS = {"limit", "stop", "tif", "take_profit", "stop_loss", "extended_hours", "tag", "client_order_id"}


def order_command(side: Side, symbol: str, qty: object, options: dict[str, Any]) -> Callable[[str, str], SubmitOrder]:
    """Check the order's input now (in the caller's thread) and return how to build it once the account and
    the symbol are known."""
    unknown = sorted(set(options) - ORDER_OPTIONS)
    if unknown:
        raise Rejected(f"unknown order option {unknown[0]!r}", hint=f"Valid: {', '.join(sorted(ORDER_OPTIONS))}.")
    quantity = _amount(qty, "quantity")
    if quantity is None:
        raise Rejected("an order needs a quantity", hint="Give how many, e.g. desk.buy('AAPL', 10).")
    limit, stop = _amount(options.get("limit"), "limit"), _amount(options.get("stop"), "stop")
    take_profit, stop_loss = (
        _amount(options.get("take_profit"), "take_profit"),
        _amount(options.get("stop_loss"), "stop_loss"),
    )
    tif_text = str(options.get("tif") or "day").lower()
    try:
        tif = TimeInForce(tif_text)
    except ValueError:
        raise Rejected(f"unknown time in force {tif_text!r}", hint=f"Use one of {', '.join(TimeInForce)}.") from None
    kind = {(False, False): OrderType.MARKET, (True, False): OrderType.LIMIT, (False, True): OrderType.STOP,
            (True, True): OrderType.STOP_LIMIT}[(limit is not None, stop is not None)]  # fmt: skip
    bracket = None if take_profit is None and stop_loss is None else Bracket(take_profit, stop_loss)
    client_order_id = options.get("client_order_id") or f"nb-{uuid.uuid4().hex[:24]}"

    def build(account_id: str, known_symbol: str) -> SubmitOrder:
        return SubmitOrder(
            client_order_id=str(client_order_id), account_id=account_id, symbol=known_symbol, side=side, qty=quantity,
            order_type=kind, time_in_force=tif, limit_price=limit, stop_price=stop,
            extended_hours=bool(options.get("extended_hours", False)), bracket=bracket, tag=options.get("tag"),
        )  # fmt: skip

    # SubmitOrder's own checks (quantity, prices, bracket), here, before any account is looked up or opened
    build("-", symbol)
    return build


def ends_at_next_tick(command: SubmitOrder) -> bool:
    return command.order_type is OrderType.MARKET or command.time_in_force in {TimeInForce.IOC, TimeInForce.FOK}


def order_row(view: OrderView) -> dict[str, Any]:
    return {
        "id": view.id, "symbol": view.symbol, "side": view.side, "qty": view.qty, "type": view.order_type,
        "tif": view.time_in_force, "status": view.status, "filled_qty": view.filled_qty,
        "average_price": view.average_fill_price, "limit_price": view.limit_price, "stop_price": view.stop_price,
        "reason": view.reason, "tag": view.tag, "created_at": view.created_at, "updated_at": view.updated_at,
        "client_order_id": view.client_order_id, "account_id": view.account_id,
    }  # fmt: skip


def frame_of(rows: list[dict[str, Any]], columns: list[str], *, index: str) -> pd.DataFrame:
    """Rows as a DataFrame with these columns even when there are none (so `frame["qty"]` always works)."""
    return pd.DataFrame.from_records(rows, columns=[index, *columns]).set_index(index)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
