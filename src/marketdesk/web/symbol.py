"""The symbol page: who it is, its live price, a candlestick and volume chart, key statistics, recent corporate
actions and earnings. An unknown symbol gets a friendly not-found state with a search hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from nicegui import ui
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError, NotFound, Rejected
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, EarningsEvent, SymbolInfo
from marketdesk.marketdata.service import DEFAULT_WATCHLIST, normalize_symbol
from marketdesk.marketdata.stats import KeyStats
from marketdesk.web import format as fmt
from marketdesk.web.charts import DEFAULT_RANGE, RANGES, candlestick_options, range_named
from marketdesk.web.identity import refuse_viewer, web_identity
from marketdesk.web.layout import simulated_badge, symbol_path
from marketdesk.web.live import LiveQuotes
from marketdesk.web.registry import desk_page
from marketdesk.web.theme import flash, set_direction

RECENT_ACTIONS = 8
RECENT_EARNINGS = 4
UPCOMING_EARNINGS = 2
NOT_FOUND_SUGGESTIONS = 6


@desk_page("/symbol/{symbol}", title="Symbol")
async def symbol_page(desk: Desk, symbol: str) -> None:
    try:
        async with desk.db.session() as session:
            info = await desk.market.symbol(session, symbol)
            stats = await desk.market.key_stats(session, info.symbol)
            earnings = await desk.market.earnings(session, info.symbol)
            watched = await _watched(desk, session)
        actions = await desk.market.actions(info.symbol)
    except Rejected as exc:  # unknown or malformed symbol: the user's input, explained
        await _not_found(desk, symbol, exc)
        return
    ui.page_title(f"{info.symbol} · {info.name} · marketdesk")
    today = desk.clock.now().astimezone(NEW_YORK).date()
    live = _heading(desk, info, stats, in_watchlist=info.symbol in watched)
    await PriceChart(desk, info.symbol, first=stats.first_date, last=stats.last_date, today=today).build()
    with ui.row().classes("w-full gap-4 items-stretch no-wrap max-md:flex-wrap"):
        values = _key_stats(stats)
        _events(earnings, actions, today)
    live.mirrors.append(values["Last"])
    LiveQuotes(desk, live.on_quote).follow([info.symbol])


async def _watched(desk: Desk, session: AsyncSession) -> list[str]:
    try:
        return (await desk.market.watchlist(session, DEFAULT_WATCHLIST, owner_id=web_identity().owner_id)).symbols
    except NotFound:
        return []


# ---- heading and live price ---------------------------------------------------------------------------------


@dataclass
class LivePrice:
    """The big live price of the heading; `mirrors` are other labels that show the same last price."""

    last: ui.label
    change: ui.label
    as_of: ui.label
    price: Decimal | None = None
    mirrors: list[ui.label] = field(default_factory=list)

    def show(self, last: Decimal, prev_close: Decimal | None, change_pct: float | None, ts: str | None) -> None:
        change = None if prev_close is None else last - prev_close
        direction = fmt.direction(change)
        if self.price is not None and last != self.price:
            flash(self.last, 1 if last > self.price else -1)
        self.price = last
        for label in (self.last, *self.mirrors):
            label.set_text(fmt.price(last))
        self.change.set_text(f"{fmt.change(change)} ({fmt.percent(change_pct, 2, signed=True)})")
        set_direction(self.change, direction)
        if ts:
            self.as_of.set_text(f"as of {_time_et(ts)}")

    def on_quote(self, data: dict[str, Any]) -> None:
        try:
            last = Decimal(str(data["last"]))
            prev = None if data.get("prev_close") is None else Decimal(str(data["prev_close"]))
        except (KeyError, InvalidOperation):
            return
        change_pct = data.get("change_pct")
        self.show(last, prev, float(change_pct) if change_pct is not None else None, data.get("ts"))


def _time_et(ts: str) -> str:
    try:
        instant = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    if instant.tzinfo is None:
        return ts
    return f"{instant.astimezone(NEW_YORK):%H:%M:%S} ET"


def _heading(desk: Desk, info: SymbolInfo, stats: KeyStats, *, in_watchlist: bool) -> LivePrice:
    with ui.row().classes("w-full items-start gap-6 max-md:flex-wrap"):
        with ui.column().classes("gap-1 grow"):
            with ui.row().classes("items-baseline gap-3"):
                ui.label(info.symbol).classes("text-3xl font-bold").props("data-testid=symbol-ticker")
                ui.label(info.name).classes("text-xl opacity-70").props("data-testid=symbol-name")
            with ui.row().classes("gap-1 items-center"):
                ui.chip(info.asset_class.value.upper(), icon="category").props("dense outline")
                for text, icon in instrument_facts(info):
                    ui.chip(text, icon=icon).props("dense outline")
                if desk.simulated:
                    simulated_badge(desk)
        with ui.column().classes("items-end gap-0"):
            last = ui.label(fmt.price(stats.last)).classes("text-3xl font-semibold desk-num rounded px-1")
            last.props("data-testid=symbol-last")
            change = ui.label().classes("text-base desk-num").props("data-testid=symbol-change")
            as_of = ui.label().classes("text-xs text-grey-7")
            live = LivePrice(last, change, as_of)
            quote = desk.quotes.get(info.symbol)
            if quote is not None:
                live.show(quote.last, quote.prev_close, quote.change_pct, quote.ts.isoformat())
            elif stats.last is not None:
                live.show(
                    Decimal(str(stats.last)),
                    None if stats.prev_close is None else Decimal(str(stats.prev_close)),
                    stats.change_pct,
                    None,
                )
            if web_identity().can_write:  # a viewer reads the page; adding to a watchlist is a change
                _watch_button(desk, info.symbol, in_watchlist)
    return live


def instrument_facts(info: SymbolInfo) -> list[tuple[str, str]]:
    """What kind of instrument it is, as (text, icon) chips: sector and industry, exchange, and for bonds and
    funds their terms (maturity, coupon, rating, expense ratio)."""
    facts: list[tuple[str | None, str]] = [
        (info.sector, "domain"),
        (info.industry, "factory"),
        (info.exchange, "account_balance"),
        (None if info.maturity_years is None else f"Maturity {_years(info.maturity_years)}", "event"),
        (None if info.coupon_pct is None else f"Coupon {info.coupon_pct:g}%", "payments"),
        (None if info.credit_rating is None else f"Rated {info.credit_rating}", "verified"),
        (
            None if info.expense_ratio_pct is None else f"Expense ratio {fmt.percent(info.expense_ratio_pct, 2)}",
            "percent",
        ),
    ]
    return [(text, icon) for text, icon in facts if text]


def _years(years: float) -> str:
    if years < 1:
        months = max(1, round(years * 12))
        return "1 month" if months == 1 else f"{months} months"
    return "1 year" if years == 1 else f"{years:g} years"


def _watch_button(desk: Desk, symbol: str, in_watchlist: bool) -> None:
    async def add() -> None:
        if refuse_viewer("change watchlists"):
            return
        owner_id = web_identity().owner_id
        try:
            async with desk.db.session() as session:
                await desk.market.ensure_watchlist(session, DEFAULT_WATCHLIST, [], owner_id=owner_id)
                await desk.market.add_to_watchlist(session, DEFAULT_WATCHLIST, symbol, owner_id=owner_id)
        except MarketdeskError as exc:
            ui.notify(exc.one_line(), type="negative", multi_line=True)
            return
        ui.notify(f"Added {symbol} to {DEFAULT_WATCHLIST}", type="positive")
        button.set_text(f"In {DEFAULT_WATCHLIST}")
        button.props("icon=check").disable()

    button = ui.button(
        f"In {DEFAULT_WATCHLIST}" if in_watchlist else f"Add to {DEFAULT_WATCHLIST}",
        icon="check" if in_watchlist else "playlist_add",
        on_click=add,
    ).props("flat dense data-testid=watch-button")
    if in_watchlist:
        button.disable()


# ---- chart --------------------------------------------------------------------------------------------------


class PriceChart:
    """Daily candles and volume, with range buttons that reload the bars from the market-data service."""

    def __init__(self, desk: Desk, symbol: str, *, first: date | None, last: date | None, today: date) -> None:
        self.desk = desk
        self.symbol = symbol
        self.first = first
        self.today = today
        # a range reaches back from the newest bar held, so a history that ends before today still fills it
        self.anchor = min(last, today) if last is not None else today
        self.chart: ui.echart | None = None

    async def build(self) -> None:
        with ui.card().classes("w-full gap-2").props("flat bordered"):
            with ui.row().classes("w-full items-center"):
                ui.label("Price").classes("text-lg font-semibold")
                ui.space()
                ui.toggle(
                    [r.label for r in RANGES], value=DEFAULT_RANGE, on_change=lambda e: self.show(str(e.value))
                ).props("dense unelevated no-caps data-testid=range-toggle")
            self.area = ui.column().classes("w-full")
        await self.show(DEFAULT_RANGE)

    async def show(self, label: str) -> None:
        span = range_named(label)
        start = span.start(self.anchor, self.first)
        try:
            bars = await self.desk.market.bars(self.symbol, start, self.today)
        except MarketdeskError as exc:
            ui.notify(exc.one_line(), type="negative", multi_line=True)
            return
        if not len(bars):
            self.area.clear()
            self.chart = None
            with self.area:
                ui.label(f"No daily bars held for {self.symbol} in this range.").classes("text-grey-7 py-8")
            return
        options = candlestick_options(bars, self.symbol, simulated=self.desk.simulated)
        if self.chart is None:
            self.area.clear()
            with self.area:
                self.chart = (
                    ui.echart(options).classes("desk-chart").props(f"data-testid=price-chart data-range={label}")
                )
        else:
            self.chart.options.clear()
            self.chart.options.update(options)
            self.chart.props(f"data-range={label}")
            self.chart.update()


# ---- statistics and events ----------------------------------------------------------------------------------


def stat_rows(stats: KeyStats) -> list[tuple[str, str]]:
    """The key statistics as (label, text) pairs, formatted for people."""
    return [
        ("Last", fmt.price(stats.last)),
        ("Previous close", fmt.price(stats.prev_close)),
        ("Day range", fmt.price_range(stats.day_low, stats.day_high)),
        ("52-week range", fmt.price_range(stats.week52_low, stats.week52_high)),
        ("Below 52-week high", fmt.percent(stats.below_52w_high_pct)),
        ("Avg volume (3M)", fmt.compact(stats.avg_volume_3m)),
        ("Market cap", fmt.compact(stats.market_cap)),
        ("P/E (TTM)", fmt.ratio(stats.pe)),
        ("EPS (TTM)", fmt.price(stats.eps_ttm)),
        ("Dividend yield", fmt.percent(stats.dividend_yield_pct, 2)),
        ("1-year return", fmt.percent(stats.return_1y_pct, signed=True)),
        ("1-year volatility", fmt.percent(stats.volatility_1y_pct)),
        ("History", f"{fmt.day(stats.first_date)} – {fmt.day(stats.last_date)} ({stats.bars:,} bars)"),
    ]


def _key_stats(stats: KeyStats) -> dict[str, ui.label]:
    values: dict[str, ui.label] = {}
    with ui.card().classes("grow basis-0 min-w-80 gap-1").props("flat bordered data-testid=key-stats"):
        ui.label("Key statistics").classes("text-lg font-semibold pb-1")
        with ui.grid(columns="auto 1fr").classes("w-full gap-x-6 gap-y-1 text-sm"):
            for label, text in stat_rows(stats):
                ui.label(label).classes("text-grey-7")
                values[label] = ui.label(text).classes("desk-num text-right").props(f'data-stat="{label}"')
    return values


def action_text(action: CorporateAction) -> str:
    """`Dividend 0.24` or `Split 4-for-1` / `Split 1-for-10`."""
    if action.kind is CorporateActionKind.DIVIDEND:
        return f"Dividend {fmt.price(action.value, 4 if action.value < Decimal('0.01') else 2)}"
    ratio = float(action.value)
    if ratio >= 1:
        return f"Split {ratio:g}-for-1"
    return f"Split 1-for-{1 / ratio:g}" if ratio > 0 else "Split"


def _events(earnings: list[EarningsEvent], actions: list[CorporateAction], today: date) -> None:
    upcoming = sorted((e for e in earnings if e.report_date >= today), key=lambda e: e.report_date)
    recent = sorted((e for e in earnings if e.report_date < today), key=lambda e: e.report_date, reverse=True)
    shown = upcoming[:UPCOMING_EARNINGS] + recent[:RECENT_EARNINGS]
    with ui.card().classes("grow basis-0 min-w-80 gap-1").props("flat bordered data-testid=events"):
        ui.label("Earnings").classes("text-lg font-semibold")
        if shown:
            with ui.grid(columns="auto 1fr 1fr 1fr").classes("w-full gap-x-4 gap-y-1 text-sm"):
                for header in ("Date", "EPS est.", "EPS actual", "Surprise"):
                    ui.label(header).classes("text-grey-7 text-xs uppercase")
                for event in shown:
                    when = fmt.day(event.report_date) + (" (next)" if event.report_date >= today else "")
                    ui.label(when).classes("whitespace-nowrap")
                    ui.label(fmt.price(event.eps_estimate)).classes("desk-num")
                    ui.label(fmt.price(event.eps_actual)).classes("desk-num")
                    surprise = ui.label(fmt.percent(event.surprise_pct, signed=True)).classes("desk-num")
                    set_direction(surprise, fmt.direction(event.surprise_pct))
        else:
            ui.label("No earnings dates held.").classes("text-grey-7 text-sm")
        ui.separator().classes("my-2")
        ui.label("Corporate actions").classes("text-lg font-semibold")
        latest = sorted(actions, key=lambda a: a.ex_date, reverse=True)[:RECENT_ACTIONS]
        if latest:
            with ui.grid(columns="auto 1fr").classes("w-full gap-x-4 gap-y-1 text-sm"):
                for action in latest:
                    ui.label(fmt.day(action.ex_date)).classes("whitespace-nowrap")
                    ui.label(action_text(action)).classes("desk-num")
        else:
            ui.label("No splits or dividends held.").classes("text-grey-7 text-sm")


# ---- not found ----------------------------------------------------------------------------------------------


async def _not_found(desk: Desk, text: str, exc: MarketdeskError) -> None:
    ui.status_code(404)
    ui.page_title("Not found · marketdesk")
    suggestions: list[SymbolInfo] = []
    query = text.strip()[:32]
    if query:
        async with desk.db.session() as session:
            suggestions = (await desk.market.search(session, query, limit=NOT_FOUND_SUGGESTIONS)).items
    with ui.card().classes("w-full items-center py-10 gap-2").props("flat bordered data-testid=symbol-not-found"):
        ui.icon("search_off", size="3rem").classes("text-grey-6")
        try:
            shown = normalize_symbol(text)
        except Rejected:
            shown = text
        ui.label(f"No symbol called “{shown}”").classes("text-xl font-semibold")
        ui.label(exc.one_line()).classes("text-grey-7 text-center")
        ui.label("Search by ticker or company name with the box at the top of the page.").classes("text-grey-7")
        ui.button("Back to the dashboard", icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props(
            "flat data-testid=back-to-dashboard"
        )
        if suggestions:
            with ui.row().classes("items-center gap-2 pt-2"):
                ui.label("Did you mean:").classes("text-grey-7")
                for info in suggestions:
                    ui.link(info.symbol, symbol_path(info.symbol)).classes("font-semibold")
