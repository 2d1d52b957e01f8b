"""The live side of the simulated market: quotes at the clock's instant and the ticker's stream."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from marketdesk.clock import SimClock
from marketdesk.errors import Rejected, UnknownSymbol
from marketdesk.marketdata.port import AssetClass, Quote
from marketdesk.marketdata.sim import SIM_BENCHMARK, SimMarketData, SimTicker
from marketdesk.marketdata.sim.intraday import SESSION_SECONDS

FRIDAY_10AM = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 10:00 New York
FRIDAY_CLOSE = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
MONDAY_OPEN = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


class Ticks:
    """A sleep for the ticker that moves a SimClock instead of waiting, and counts the ticks."""

    def __init__(self, clock: SimClock, step: timedelta | None = None) -> None:
        self.clock = clock
        self.step = step
        self.count = 0

    async def __call__(self, seconds: float) -> None:
        self.count += 1
        self.clock.advance(self.step if self.step is not None else timedelta(seconds=seconds))


def _market(clock: SimClock, **options: float | bool) -> SimMarketData:
    return SimMarketData(clock, seed=7, n_symbols=30, history_years=1, **options)  # type: ignore[arg-type]


async def _take(stream: AsyncIterator[list[Quote]], count: int) -> list[list[Quote]]:
    batches = [await anext(stream) for _ in range(count)]
    await stream.aclose()  # type: ignore[attr-defined]
    return batches


async def test_the_ticker_emits_changing_prices_every_tick() -> None:
    clock = SimClock(FRIDAY_10AM)
    sim = _market(clock)
    batches = await _take(SimTicker(sim, tick_interval_s=1.0, sleep=Ticks(clock)).stream(), 6)
    assert all(len(batch) == len(sim.symbols()) for batch in batches)
    assert [b[0].ts for b in batches] == [FRIDAY_10AM + timedelta(seconds=k) for k in range(6)]
    traded = {i.symbol for i in sim.symbols() if i.asset_class is not AssetClass.BOND}
    for before, after in itertools.pairwise(batches):
        moved = sum(a.last != b.last for a, b in zip(before, after, strict=True) if a.symbol in traded)
        assert moved >= 0.8 * len(traded), f"only {moved} of {len(traded)} prices changed in one tick"


async def test_the_same_seed_gives_the_same_stream() -> None:
    first_clock, second_clock = SimClock(FRIDAY_10AM), SimClock(FRIDAY_10AM)
    first = await _take(SimTicker(_market(first_clock), sleep=Ticks(first_clock)).stream(["SIMX", "UST2Y"]), 4)
    second = await _take(SimTicker(_market(second_clock), sleep=Ticks(second_clock)).stream(["SIMX", "UST2Y"]), 4)
    assert first == second
    other_clock = SimClock(FRIDAY_10AM)
    other = SimMarketData(other_clock, seed=8, n_symbols=30, history_years=1)
    assert await _take(SimTicker(other, sleep=Ticks(other_clock)).stream(["SIMX"]), 1) != first[:1]


async def test_a_quote_agrees_with_the_stream_at_the_same_instant() -> None:
    clock = SimClock(FRIDAY_10AM)
    sim = _market(clock)
    stream = SimTicker(sim, sleep=Ticks(clock)).stream()
    for _ in range(3):
        batch = await anext(stream)
        assert sim.quote(batch[5].symbol) == batch[5]
        assert sim.quotes() == batch
    await stream.aclose()  # type: ignore[attr-defined]


def test_quotes_are_decimal_with_a_spread_and_the_last_close() -> None:
    sim = _market(SimClock(FRIDAY_10AM))
    last_close = {
        info.symbol: sim.bars(info.symbol, date(2026, 11, 19), date(2026, 11, 19))["close"].iloc[0]
        for info in sim.symbols()
    }
    for quote in sim.quotes():
        assert quote.source == "sim" and quote.ts == FRIDAY_10AM and not quote.stale
        assert isinstance(quote.last, Decimal) and quote.last == quote.last.quantize(Decimal("0.01"))
        assert quote.bid is not None and quote.ask is not None and quote.bid < quote.last < quote.ask
        assert quote.prev_close == Decimal(f"{last_close[quote.symbol]:.2f}")
        assert quote.volume is not None and quote.volume > 0
        assert quote.change_pct is not None and abs(quote.change_pct) < 25


def test_the_session_starts_from_the_previous_close_and_ends_at_the_next_bar() -> None:
    clock = SimClock(datetime(2026, 11, 20, 14, 30, tzinfo=UTC))  # the open, real hours
    sim = _market(clock, real_hours=True)
    at_open = {q.symbol: q for q in sim.quotes()}
    clock.set(FRIDAY_CLOSE)
    at_close = {q.symbol: q for q in sim.quotes()}
    clock.set(MONDAY_OPEN)
    bars = {i.symbol: sim.bars(i.symbol, date(2026, 11, 19), date(2026, 11, 20)) for i in sim.symbols()}
    for symbol, frame in bars.items():
        previous, session = frame.iloc[0], frame.iloc[1]
        assert at_open[symbol].prev_close == Decimal(f"{previous['close']:.2f}")
        assert at_open[symbol].last == Decimal(f"{session['open']:.2f}")
        assert at_close[symbol].last == Decimal(f"{session['close']:.2f}"), "the last tick is the day's close"
        assert at_close[symbol].volume == int(session["volume"])
        assert abs(float(session["open"]) / float(previous["close"]) - 1) < 0.2


async def test_speed_accelerates_intraday_time() -> None:
    clock = SimClock(FRIDAY_10AM)
    sim = _market(clock, speed=60.0)
    seconds = []
    for _ in range(4):
        seconds.append(sim.live_point().second)
        clock.advance(timedelta(seconds=1))
    steps = {round(abs(b - a), 6) for a, b in itertools.pairwise(seconds)}
    assert steps == {60.0}


def test_the_always_open_session_sweeps_back_instead_of_jumping() -> None:
    clock = SimClock(datetime(2026, 11, 20, 20, 59, tzinfo=UTC))  # a minute before 16:00 in New York
    sim = _market(clock)
    positions, sessions = [], set()
    for _ in range(5):
        point = sim.live_point()
        positions.append(point.second)
        sessions.add(point.session)
        clock.advance(timedelta(seconds=30))
    assert max(positions) == pytest.approx(SESSION_SECONDS)
    assert positions[0] < positions[2] and positions[-1] < positions[2], "it turns at the close"
    assert sessions == {date(2026, 11, 20)}, "the same session all along"


def test_always_open_on_a_weekend_trades_the_next_session() -> None:
    clock = SimClock(datetime(2026, 11, 21, 16, 0, tzinfo=UTC))  # Saturday
    sim = _market(clock)
    assert sim.live_point().session == date(2026, 11, 23)
    friday_close = sim.bars(SIM_BENCHMARK, date(2026, 11, 20), date(2026, 11, 20))["close"].iloc[0]
    first = sim.quote(SIM_BENCHMARK)
    clock.advance(timedelta(seconds=2))
    second = sim.quote(SIM_BENCHMARK)
    assert first.prev_close == second.prev_close == Decimal(f"{friday_close:.2f}")
    assert first.last != second.last
    header = sim.market_clock()
    assert header.is_open and header.simulated_hours and header.session == date(2026, 11, 23)


async def test_real_hours_stand_still_outside_the_session_until_the_open() -> None:
    clock = SimClock(datetime(2026, 11, 21, 16, 0, tzinfo=UTC))  # Saturday
    sim = _market(clock, real_hours=True)
    ticks = Ticks(clock, step=timedelta(minutes=30))
    stream = SimTicker(sim, sleep=ticks).stream([SIM_BENCHMARK])
    closed = (await anext(stream))[0]
    assert closed.ts == FRIDAY_CLOSE
    friday = sim.bars(SIM_BENCHMARK, date(2026, 11, 20), date(2026, 11, 20))["close"].iloc[0]
    assert closed.last == Decimal(f"{friday:.2f}")
    assert not sim.market_clock().is_open
    opened = (await anext(stream))[0]
    await stream.aclose()  # type: ignore[attr-defined]
    assert MONDAY_OPEN <= opened.ts < MONDAY_OPEN + timedelta(minutes=30)
    assert ticks.count >= 90, "no batch while the market was closed"
    assert opened.prev_close == closed.last


async def test_real_hours_yield_the_close_once_then_nothing_new() -> None:
    clock = SimClock(FRIDAY_CLOSE - timedelta(seconds=3))

    class Adaptive(Ticks):
        async def __call__(self, seconds: float) -> None:
            self.count += 1
            near_close = self.clock.now() < FRIDAY_CLOSE + timedelta(seconds=5)
            self.clock.advance(timedelta(seconds=seconds) if near_close else timedelta(hours=1))

    sim = _market(clock, real_hours=True)
    ticks = Adaptive(clock)
    batches = await _take(SimTicker(sim, sleep=ticks).stream([SIM_BENCHMARK]), 5)
    stamps = [b[0].ts for b in batches]
    assert stamps[:4] == [FRIDAY_CLOSE - timedelta(seconds=s) for s in (3, 2, 1)] + [FRIDAY_CLOSE]
    assert stamps[4] >= MONDAY_OPEN, "after the close, the next batch comes at the open"
    assert batches[3][0].last != batches[2][0].last or batches[3][0].ts != batches[2][0].ts


async def test_unknown_symbols_fail_before_the_first_tick() -> None:
    clock = SimClock(FRIDAY_10AM)
    stream = SimTicker(_market(clock), sleep=Ticks(clock)).stream(["SIMX", "NOPE"])
    with pytest.raises(UnknownSymbol):
        await anext(stream)


def test_a_tick_interval_must_be_positive() -> None:
    with pytest.raises(Rejected):
        SimTicker(_market(SimClock(FRIDAY_10AM)), tick_interval_s=0)
