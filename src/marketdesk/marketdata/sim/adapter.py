"""`SimMarketData`: the simulated market behind the MarketData port. No keys, no network, same seed, same market.

History runs from `history_years` before the clock's date (at construction) to the last session completed
before the clock's current date, and grows as the clock moves on. Quotes are the intraday price at the
clock's instant (see `live.py` for the two session modes). Fundamentals and earnings are point-in-time: a
quarter appears once its report date has come.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from marketdesk.clock import Clock
from marketdesk.errors import Rejected, UnknownSymbol
from marketdesk.marketdata.calendar import ExchangeCalendar, MarketClock, always_open_clock
from marketdesk.marketdata.port import (
    BAR_COLUMNS,
    TREASURY_TENORS,
    CorporateAction,
    CorporateActionKind,
    DataCapabilities,
    DataKind,
    EarningsEvent,
    Fundamentals,
    MarketDataBase,
    Quote,
    SymbolInfo,
    check_range,
    empty_bars,
)
from marketdesk.marketdata.sim.factors import CALM, quarter_of
from marketdesk.marketdata.sim.intraday import cumulative_volume_share
from marketdesk.marketdata.sim.live import LivePoint, history_end_row, live_point, market_date
from marketdesk.marketdata.sim.market import Bars, SimMarket, Skeleton
from marketdesk.marketdata.sim.prices import SPLIT
from marketdesk.marketdata.sim.statements import SOURCE, earnings_event, fundamentals_records
from marketdesk.marketdata.sim.streams import EPOCH
from marketdesk.marketdata.sim.universe import KIND_EQUITY, SIM_BENCHMARK


class SimMarketData(MarketDataBase):
    """The simulated market as a data source.

    >>> from datetime import UTC, datetime
    >>> from marketdesk.clock import SimClock
    >>> sim = SimMarketData(SimClock(datetime(2026, 1, 6, 15, tzinfo=UTC)), n_symbols=20, history_years=1)
    >>> sim.bars(sim.benchmark, date(2025, 12, 29), date(2026, 1, 5)).index[-1].date()
    datetime.date(2026, 1, 5)
    """

    name = "sim"
    capabilities = DataCapabilities(
        kinds=frozenset(
            {
                DataKind.SYMBOLS,
                DataKind.BARS,
                DataKind.QUOTES,
                DataKind.FUNDAMENTALS,
                DataKind.CORPORATE_ACTIONS,
                DataKind.EARNINGS,
                DataKind.RATES,
            }
        ),
        simulated=True,
    )
    benchmark = SIM_BENCHMARK

    def __init__(
        self,
        clock: Clock,
        seed: int = 42,
        n_symbols: int = 500,
        history_years: int = 10,
        *,
        speed: float = 1.0,
        real_hours: bool = False,
        calendar: ExchangeCalendar | None = None,
    ) -> None:
        if seed < 0:
            raise Rejected(f"seed must be a non-negative integer, got {seed}")
        if n_symbols < 11:
            raise Rejected(f"n_symbols must be at least 11 (one per GICS sector), got {n_symbols}")
        if history_years < 1:
            raise Rejected(f"history_years must be at least 1, got {history_years}")
        if not speed > 0:
            raise Rejected(f"speed must be positive, got {speed}")
        self.clock = clock
        self.seed = seed
        self.speed = float(speed)
        self.real_hours = real_hours
        self.calendar = calendar or ExchangeCalendar()
        self.market = SimMarket(seed, n_symbols, calendar_code=self.calendar.code)
        self.universe = self.market.universe
        today = market_date(clock.now())
        if today.year <= EPOCH.year:
            raise Rejected(
                f"the simulated market starts on {EPOCH}; the clock says {today}",
                hint="Give a clock set after 2000.",
            )
        self.history_start: date = max(_years_before(today, history_years), EPOCH)
        """The first date of history (fixed at construction; the end moves with the clock)."""

    # ---- state -----------------------------------------------------------------------------------------

    def _state(self, instant: datetime) -> tuple[Skeleton, Bars]:
        """The skeleton and bars covering history and the live session at `instant`, generating what is missing."""
        today = market_date(instant)
        skeleton = self.market.skeleton(today.year)
        live_year = int(skeleton.timeline.years[skeleton.timeline.row_on_or_after(today)])
        skeleton = self.market.skeleton(live_year)
        return skeleton, self.market.bars(self.history_start.year, live_year)

    def warm(self) -> None:
        """Generate the market now rather than on the first request (start-up, benchmarks)."""
        self._state(self.clock.now())

    def _column(self, symbol: str) -> int:
        column = self.universe.position.get(symbol)
        if column is None:
            raise UnknownSymbol(symbol, source=self.name)
        return column

    def check_symbols(self, symbols: Sequence[str]) -> None:
        """Raise `UnknownSymbol` for the first symbol this market does not know."""
        for symbol in symbols:
            self._column(symbol)

    def _columns(self, symbols: Sequence[str] | None) -> np.ndarray:
        if symbols is None:
            return np.arange(self.universe.size)
        return np.array([self._column(s) for s in symbols], dtype=np.int64)

    def _first_row(self, skeleton: Skeleton) -> int:
        return skeleton.timeline.row_on_or_after(self.history_start)

    def history_end(self) -> date:
        """The last session of history: the last one completed before the clock's date."""
        instant = self.clock.now()
        skeleton, _ = self._state(instant)
        return skeleton.timeline.day(history_end_row(instant, skeleton.timeline))

    def live_point(self, instant: datetime | None = None) -> LivePoint:
        """The live session and the position in it at `instant` (default: the clock's now)."""
        instant = self.clock.now() if instant is None else instant
        skeleton, _ = self._state(instant)
        return live_point(instant, skeleton.timeline, self.calendar, real_hours=self.real_hours, speed=self.speed)

    def market_clock(self) -> MarketClock:
        """The market's state for the header: always open by default, the XNYS clock with `real_hours`."""
        now = self.clock.now()
        if self.real_hours:
            return self.calendar.clock(now)
        return replace(always_open_clock(now), session=self.live_point(now).session)

    # ---- MarketData ------------------------------------------------------------------------------------

    def symbols(self) -> list[SymbolInfo]:
        """Every instrument: equities, ETFs and the treasury ladder, sorted by symbol."""
        return sorted(self.universe.infos, key=lambda info: info.symbol)

    def bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        """Daily bars of `symbol` from `start` to `end` (both included), within the history."""
        check_range(start, end)
        column = self._column(symbol)
        instant = self.clock.now()
        skeleton, bars = self._state(instant)
        timeline = skeleton.timeline
        history_end = history_end_row(instant, timeline)
        first = max(timeline.row_on_or_after(start), self._first_row(skeleton))
        last = min(timeline.row_on_or_before(end), history_end)
        if first > last:
            return empty_bars()
        local = slice(first - bars.first_row, last + 1 - bars.first_row)
        close = bars.close[local, column]
        # adj_close is relative to the end of history, whatever range is asked for
        adjustment = np.zeros(len(close))
        actions = bars.actions
        mine = (actions.column == column) & (actions.row > first) & (actions.row <= history_end)
        for row, log_factor in zip(actions.row[mine], actions.adjustment[mine], strict=True):
            adjustment[: int(row) - first] += log_factor
        frame = pd.DataFrame(
            {
                "open": bars.open[local, column],
                "high": bars.high[local, column],
                "low": bars.low[local, column],
                "close": close,
                "adj_close": close * np.exp(adjustment),
                "volume": bars.volume[local, column],
            },
            index=pd.DatetimeIndex(timeline.dates[first : last + 1].astype("datetime64[ns]"), name="date"),
        )
        return frame[list(BAR_COLUMNS)]

    def quote(self, symbol: str) -> Quote:
        """The live price of `symbol` at the clock's instant."""
        return self.quotes([symbol])[0]

    def quotes(self, symbols: Sequence[str] | None = None, *, point: LivePoint | None = None) -> list[Quote]:
        """Live quotes of many symbols (all by default) at one instant: the clock's now, or `point`."""
        columns = self._columns(symbols)
        instant = self.clock.now() if point is None else point.ts
        skeleton, bars = self._state(instant)
        if point is None:
            point = live_point(instant, skeleton.timeline, self.calendar, real_hours=self.real_hours, speed=self.speed)
        session = self.market.session_bars(bars, point.row, point.session.toordinal())
        last = np.round(np.exp(self.market.intraday.log_prices(session, point.second, columns)), 2)
        half_spread = np.maximum(last * self.universe.spread_bps[columns] / 2e4, 0.01)
        bid = np.maximum(np.round(last - half_spread, 2), 0.01)
        ask = np.round(last + half_spread, 2)
        local = point.row - bars.first_row
        previous = bars.close[local - 1, columns]
        volume = np.floor(bars.volume[local, columns] * cumulative_volume_share(point.second))
        symbols_of = self.universe.infos
        return [
            Quote(
                symbol=symbols_of[column].symbol,
                ts=point.ts,
                last=_money(p),
                bid=_money(b),
                ask=_money(a),
                volume=int(v),
                prev_close=_money(c),
                source=SOURCE,
            )
            for column, p, b, a, v, c in zip(
                columns.tolist(),
                last.tolist(),
                bid.tolist(),
                ask.tolist(),
                volume.tolist(),
                previous.tolist(),
                strict=True,
            )
        ]

    def fundamentals(self, symbol: str) -> list[Fundamentals]:
        """Quarterly statements of `symbol` reported by the clock's date, oldest first; none for ETFs and bonds."""
        column = self._column(symbol)
        return list(self._fundamentals([column]))

    def corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        """Splits and dividends of `symbol` with ex-dates from `start` to `end`, within the history."""
        check_range(start, end)
        return list(self._actions([self._column(symbol)], start, end))

    def earnings(self, symbol: str, start: date, end: date) -> list[EarningsEvent]:
        """Reported earnings in the range, plus the next scheduled report (estimate only) when it falls in it."""
        check_range(start, end)
        return [e for e in self._earnings([self._column(symbol)]) if start <= e.report_date <= end]

    def yields(self, start: date, end: date) -> pd.DataFrame:
        """The simulated treasury curve (percent), one row per session, columns `TREASURY_TENORS`."""
        check_range(start, end)
        instant = self.clock.now()
        skeleton, _ = self._state(instant)
        timeline = skeleton.timeline
        first = max(timeline.row_on_or_after(start), self._first_row(skeleton))
        last = min(timeline.row_on_or_before(end), history_end_row(instant, timeline))
        rows = slice(first, max(last + 1, first))
        return pd.DataFrame(
            np.round(skeleton.series.yields[rows], 2),
            columns=list(TREASURY_TENORS),
            index=pd.DatetimeIndex(timeline.dates[rows].astype("datetime64[ns]"), name="date"),
        )

    # ---- whole-market access for seeding the database and the bar store --------------------------------

    def history_frame(self, symbols: Sequence[str] | None = None) -> pd.DataFrame:
        """Every daily bar of the history as one long frame (`barstore.LONG_COLUMNS`), sorted by symbol and date."""
        columns = self._columns(symbols)
        instant = self.clock.now()
        skeleton, bars = self._state(instant)
        timeline = skeleton.timeline
        first, last = self._first_row(skeleton), history_end_row(instant, timeline)
        names = np.array([self.universe.infos[c].symbol for c in columns.tolist()])
        order = np.argsort(names, kind="stable")
        columns, names = columns[order], names[order]
        local = slice(first - bars.first_row, last + 1 - bars.first_row)
        sessions = last + 1 - first

        adjustment = np.zeros((sessions + 1, bars.close.shape[1]))
        actions = bars.actions
        keep = (actions.row > first) & (actions.row <= last)
        # an action on row r scales every bar before r: add at r - first, then sum from the end backwards
        np.add.at(adjustment, (actions.row[keep] - first, actions.column[keep]), actions.adjustment[keep])
        factor = np.exp(np.cumsum(adjustment[::-1], axis=0)[::-1][1:])

        def field(values: np.ndarray) -> np.ndarray:
            return values[local][:, columns].T.reshape(-1)

        close = bars.close[local]
        return pd.DataFrame(
            {
                "symbol": pd.Categorical.from_codes(
                    np.repeat(np.arange(len(names)), sessions), categories=pd.Index(names)
                ),
                "date": np.tile(timeline.dates[first : last + 1].astype("datetime64[ns]"), len(names)),
                "open": field(bars.open),
                "high": field(bars.high),
                "low": field(bars.low),
                "close": field(bars.close),
                "adj_close": (close * factor)[:, columns].T.reshape(-1),
                "volume": field(bars.volume),
            }
        )

    def all_fundamentals(self) -> list[Fundamentals]:
        """Every company's reported quarters (see `fundamentals`)."""
        return list(self._fundamentals(self.universe.equities.tolist()))

    def all_earnings(self) -> list[EarningsEvent]:
        """Every company's reported earnings since the history start, plus each one's next scheduled report."""
        return list(self._earnings(self.universe.equities.tolist()))

    def all_corporate_actions(self) -> list[CorporateAction]:
        """Every split and dividend within the history."""
        return list(self._actions(range(self.universe.size), self.history_start, self.history_end()))

    def regimes(self) -> pd.Series:
        """The market's volatility regime ("calm" or "turbulent") on each session of the history."""
        instant = self.clock.now()
        skeleton, _ = self._state(instant)
        first, last = self._first_row(skeleton), history_end_row(instant, skeleton.timeline)
        labels = np.where(skeleton.series.regime[first : last + 1] == CALM, "calm", "turbulent")
        index = pd.DatetimeIndex(skeleton.timeline.dates[first : last + 1].astype("datetime64[ns]"), name="date")
        return pd.Series(labels, index=index, name="regime")

    # ---- helpers ---------------------------------------------------------------------------------------

    def _fundamentals(self, columns: Sequence[int] | np.ndarray) -> Iterator[Fundamentals]:
        instant = self.clock.now()
        skeleton, _ = self._state(instant)
        today = market_date(instant)
        timeline, plan = skeleton.timeline, skeleton.plan
        first_quarter = quarter_of(self.history_start - timedelta(days=365))
        today_row = timeline.row_on_or_before(today)
        for column in columns:
            if self.universe.kind[column] != KIND_EQUITY:
                continue
            rows = plan.report_row[first_quarter:, column]
            unreported = (rows < 0) | (rows > today_row)
            count = int(np.argmax(unreported)) if unreported.any() else len(rows)
            reported = [timeline.day(int(row)) for row in rows[:count]]
            quarters = range(first_quarter, first_quarter + count)
            symbol = self.universe.infos[column].symbol
            yield from fundamentals_records(skeleton.statements, symbol, column, quarters, reported)

    def _earnings(self, columns: Sequence[int] | np.ndarray) -> Iterator[EarningsEvent]:
        instant = self.clock.now()
        skeleton, _ = self._state(instant)
        today = market_date(instant)
        timeline, plan, statements = skeleton.timeline, skeleton.plan, skeleton.statements
        first_quarter = quarter_of(self.history_start) - 1
        for column in columns:
            if not self.universe.reports_earnings[column]:
                continue
            symbol = self.universe.infos[column].symbol
            previous_eps: float | None = None
            for quarter in range(max(first_quarter, 0), plan.n_quarters):
                row = int(plan.report_row[quarter, column])
                if row < 0:
                    break
                day = timeline.day(row)
                if day > today:
                    yield earnings_event(
                        statements, plan, symbol, column, quarter, day, reported=False, previous_eps=previous_eps
                    )
                    break
                previous_eps = float(statements.values["eps"][quarter, column])
                if day >= self.history_start:
                    yield earnings_event(statements, plan, symbol, column, quarter, day, reported=True)

    def _actions(self, columns: Sequence[int] | range, start: date, end: date) -> Iterator[CorporateAction]:
        instant = self.clock.now()
        skeleton, bars = self._state(instant)
        timeline = skeleton.timeline
        first = max(timeline.row_on_or_after(start), self._first_row(skeleton))
        last = min(timeline.row_on_or_before(end), history_end_row(instant, timeline))
        actions = bars.actions
        wanted = np.zeros(self.universe.size, dtype=bool)
        wanted[list(columns)] = True
        keep = np.flatnonzero(wanted[actions.column] & (actions.row >= first) & (actions.row <= last))
        keep = keep[np.lexsort((actions.row[keep], actions.column[keep]))]
        for index in keep.tolist():
            kind = CorporateActionKind.SPLIT if actions.kind[index] == SPLIT else CorporateActionKind.DIVIDEND
            value = actions.value[index]
            yield CorporateAction(
                symbol=self.universe.infos[int(actions.column[index])].symbol,
                ex_date=timeline.day(int(actions.row[index])),
                kind=kind,
                value=Decimal(repr(float(value))) if kind is CorporateActionKind.SPLIT else _money(float(value)),
                source=SOURCE,
            )


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
