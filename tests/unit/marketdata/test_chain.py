"""The fallback chain: order, fallback, TTL cache on the injected clock, stale answers, clear failures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from marketdesk.clock import SimClock
from marketdesk.errors import (
    ConfigError,
    MarketdeskError,
    Operational,
    RateLimited,
    Rejected,
    Temporary,
    UnknownSymbol,
    Unsupported,
)
from marketdesk.marketdata.chain import FallbackChain
from marketdesk.marketdata.port import (
    TREASURY_TENORS,
    DataCapabilities,
    DataKind,
    EarningsEvent,
    MarketData,
    MarketDataBase,
    Quote,
    validate_bars,
)

START, END = date(2026, 11, 2), date(2026, 11, 6)


class FakeSource(MarketDataBase):
    """A small real source: answers quotes, bars, earnings and yields from data, or fails as told."""

    def __init__(
        self,
        name: str,
        kinds: set[DataKind],
        *,
        price: str = "100.00",
        known: frozenset[str] = frozenset({"AAPL", "MSFT"}),
        needs_key: bool = False,
        simulated: bool = False,
    ) -> None:
        self.name = name
        self.capabilities = DataCapabilities(kinds=frozenset(kinds), needs_key=needs_key, simulated=simulated)
        self.price = Decimal(price)
        self.known = known
        self.failure: BaseException | None = None
        self.calls: list[str] = []

    def _answer(self, what: str, symbol: str | None = None) -> None:
        self.calls.append(what)
        if self.failure is not None:
            raise self.failure
        if symbol is not None and symbol not in self.known:
            raise UnknownSymbol(symbol, source=self.name)

    def quote(self, symbol: str) -> Quote:
        self._answer(f"quote {symbol}", symbol)
        return Quote(symbol, datetime(2026, 11, 20, 15, 0, tzinfo=UTC), self.price, source=self.name)

    def bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        self._answer(f"bars {symbol}", symbol)
        days = pd.bdate_range(start, end)
        close = [float(self.price) + i for i in range(len(days))]
        frame = pd.DataFrame(
            {"open": close, "high": close, "low": close, "close": close, "adj_close": close, "volume": 1000.0},
            index=pd.DatetimeIndex(days, name="date"),
        )
        return frame

    def earnings(self, symbol: str, start: date, end: date) -> list[EarningsEvent]:
        self._answer(f"earnings {symbol}", symbol)
        return [EarningsEvent(symbol, start, eps_estimate=1.0, source=self.name)]

    def yields(self, start: date, end: date) -> pd.DataFrame:
        self._answer("yields")
        frame = pd.DataFrame({tenor: [4.0] for tenor in TREASURY_TENORS}, index=pd.DatetimeIndex([start], name="date"))
        return frame


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))


def chain_of(clock: SimClock, *sources: MarketData, ttl_s: float = 60.0, **options: float) -> FallbackChain:
    return FallbackChain(list(sources), clock, ttl_s=ttl_s, **options)  # type: ignore[arg-type]


def test_the_first_source_that_declares_the_kind_answers(clock: SimClock) -> None:
    news_only = FakeSource("news-only", {DataKind.NEWS})
    first = FakeSource("first", {DataKind.QUOTES}, price="101.25")
    second = FakeSource("second", {DataKind.QUOTES}, price="99.00")
    chain = chain_of(clock, news_only, first, second)
    quote = chain.quote("AAPL")
    assert quote.last == Decimal("101.25")
    assert quote.stale is False
    assert chain.last_source == "first"
    assert news_only.calls == [] and second.calls == []


@pytest.mark.parametrize(
    "failure",
    [
        Temporary("timed out"),
        RateLimited("slow down"),
        Operational("format changed"),
        Rejected("key refused"),
        RuntimeError("a bug in the adapter"),
    ],
)
def test_a_failing_source_falls_back_to_the_next(clock: SimClock, failure: BaseException) -> None:
    first = FakeSource("first", {DataKind.QUOTES})
    first.failure = failure
    second = FakeSource("second", {DataKind.QUOTES}, price="99.50")
    chain = chain_of(clock, first, second)
    assert chain.quote("AAPL").last == Decimal("99.50")
    assert chain.last_source == "second"
    assert [f.source for f in chain.last_failures] == ["first"]


def test_a_symbol_every_source_calls_unknown_is_unknown(clock: SimClock) -> None:
    chain = chain_of(clock, FakeSource("a", {DataKind.BARS}), FakeSource("b", {DataKind.BARS}))
    with pytest.raises(UnknownSymbol) as raised:
        chain.bars("ZZZZNOTREAL", START, END)
    assert raised.value.symbol == "ZZZZNOTREAL"
    assert "a, b" in raised.value.message


def test_a_symbol_one_source_lacks_is_answered_by_another(clock: SimClock) -> None:
    narrow = FakeSource("narrow", {DataKind.QUOTES}, known=frozenset({"MSFT"}))
    wide = FakeSource("wide", {DataKind.QUOTES}, known=frozenset({"AAPL", "MSFT", "BRK.B"}))
    chain = chain_of(clock, narrow, wide)
    assert chain.quote("BRK.B").source == "wide"


def test_unknown_in_one_source_and_down_in_another_is_temporary_not_unknown(clock: SimClock) -> None:
    narrow = FakeSource("narrow", {DataKind.QUOTES}, known=frozenset())
    down = FakeSource("down", {DataKind.QUOTES})
    down.failure = Temporary("connection refused")
    chain = chain_of(clock, narrow, down)
    with pytest.raises(Temporary) as raised:
        chain.quote("AAPL")
    assert not isinstance(raised.value, UnknownSymbol)


def test_answers_are_cached_for_the_ttl_on_the_injected_clock(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.QUOTES})
    chain = chain_of(clock, source, ttl_s=60)
    chain.quote("AAPL")
    clock.advance(timedelta(seconds=59))
    chain.quote("AAPL")
    assert len(source.calls) == 1, "a fresh answer comes from the cache"
    clock.advance(timedelta(seconds=1))
    chain.quote("AAPL")
    assert len(source.calls) == 2, "an expired answer is fetched again"


def test_the_cache_key_includes_every_argument(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.BARS})
    chain = chain_of(clock, source)
    chain.bars("AAPL", START, END)
    chain.bars("AAPL", START, END + timedelta(days=3))
    chain.bars("MSFT", START, END)
    chain.bars("AAPL", START, END)
    assert len(source.calls) == 3


def test_when_every_source_fails_the_last_quote_is_served_marked_stale(clock: SimClock) -> None:
    first, second = FakeSource("first", {DataKind.QUOTES}, price="120.00"), FakeSource("second", {DataKind.QUOTES})
    chain = chain_of(clock, first, second)
    fresh = chain.quote("AAPL")
    clock.advance(timedelta(minutes=5))
    first.failure = Temporary("down")
    second.failure = RateLimited("slow down")
    stale = chain.quote("AAPL")
    assert stale.stale is True
    assert stale.last == fresh.last == Decimal("120.00")
    assert chain.last_stale is True
    assert [f.kind for f in chain.last_failures] == ["Temporary", "RateLimited"]
    assert fresh.stale is False, "the cached quote itself is not changed"


def test_a_stale_frame_says_so_in_its_attrs_and_a_fresh_one_does_not(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.BARS})
    chain = chain_of(clock, source)
    fresh = chain.bars("AAPL", START, END)
    assert fresh.attrs["stale"] is False
    assert validate_bars(fresh) == []
    clock.advance(timedelta(minutes=2))
    source.failure = Temporary("down")
    stale = chain.bars("AAPL", START, END)
    assert stale.attrs["stale"] is True
    pd.testing.assert_frame_equal(stale, fresh, check_flags=False)


def test_a_stale_list_is_returned_and_last_stale_reports_it(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.EARNINGS})
    chain = chain_of(clock, source)
    events = chain.earnings("AAPL", START, END)
    assert chain.last_stale is False
    clock.advance(timedelta(hours=1))
    source.failure = Operational("broken")
    assert chain.earnings("AAPL", START, END) == events
    assert chain.last_stale is True
    source.failure = None
    chain.earnings("AAPL", START, END)
    assert chain.last_stale is False


def test_with_nothing_cached_every_failure_is_named_in_one_temporary(clock: SimClock) -> None:
    first, second = FakeSource("yahoo", {DataKind.RATES}), FakeSource("fred", {DataKind.RATES})
    first.failure = Temporary("cannot reach yahoo")
    second.failure = RateLimited("fred is rate limiting requests")
    chain = chain_of(clock, first, second)
    with pytest.raises(Temporary) as raised:
        chain.yields(START, END)
    text = raised.value.one_line()
    assert "yahoo: cannot reach yahoo" in text
    assert "fred: fred is rate limiting requests" in text
    assert raised.value.hint and "retried" in raised.value.hint


def test_when_every_source_refuses_its_key_the_error_is_rejected_with_the_fixes(clock: SimClock) -> None:
    alpaca = FakeSource("alpaca", {DataKind.QUOTES}, needs_key=True)
    alpaca.failure = Rejected("alpaca needs an API key", hint="Set MARKETDESK_ALPACA_KEY_ID, or store it in the vault.")
    chain = chain_of(clock, alpaca)
    with pytest.raises(Rejected) as raised:
        chain.quote("AAPL")
    assert not isinstance(raised.value, UnknownSymbol)
    assert "MARKETDESK_ALPACA_KEY_ID" in raised.value.one_line()


def test_a_stale_answer_older_than_the_limit_is_not_served(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.QUOTES})
    chain = chain_of(clock, source, ttl_s=60, stale_limit_s=3600)
    chain.quote("AAPL")
    source.failure = Temporary("down")
    clock.advance(timedelta(minutes=30))
    assert chain.quote("AAPL").stale is True
    clock.advance(timedelta(hours=1))
    with pytest.raises(Temporary):
        chain.quote("AAPL")


def test_callers_cannot_change_the_cached_frame(clock: SimClock) -> None:
    chain = chain_of(clock, FakeSource("only", {DataKind.BARS}))
    first = chain.bars("AAPL", START, END)
    first.loc[:, "close"] = -1.0
    again = chain.bars("AAPL", START, END)
    assert (again["close"] > 0).all()


def test_capabilities_are_the_union_of_the_sources(clock: SimClock) -> None:
    chain = chain_of(
        clock,
        FakeSource("a", {DataKind.QUOTES}),
        FakeSource("b", {DataKind.RATES}, needs_key=True),
        FakeSource("c", {DataKind.BARS}, simulated=True),
    )
    assert chain.name == "chain"
    assert chain.capabilities.kinds == frozenset({DataKind.QUOTES, DataKind.RATES, DataKind.BARS})
    assert chain.capabilities.needs_key is True
    assert chain.capabilities.simulated is True
    assert isinstance(chain, MarketData)


def test_a_kind_no_source_declares_is_unsupported(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.QUOTES})
    chain = chain_of(clock, source)
    with pytest.raises(Unsupported, match="news"):
        chain.news("AAPL", START, END)
    assert source.calls == []


def test_an_inverted_range_is_rejected_before_any_source_is_asked(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.BARS})
    chain = chain_of(clock, source)
    with pytest.raises(Rejected, match="after end"):
        chain.bars("AAPL", END, START)
    assert source.calls == []


def test_the_cache_keeps_at_most_max_entries(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.QUOTES}, known=frozenset({"A", "B", "C"}))
    chain = chain_of(clock, source, max_entries=2)
    for symbol in ("A", "B", "C"):
        chain.quote(symbol)
    source.failure = Temporary("down")
    clock.advance(timedelta(minutes=5))
    assert chain.quote("C").stale is True
    with pytest.raises(Temporary):
        chain.quote("A")  # evicted, so nothing to fall back on


def test_clear_cache_forgets_every_answer(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.QUOTES})
    chain = chain_of(clock, source)
    chain.quote("AAPL")
    chain.clear_cache()
    chain.quote("AAPL")
    assert len(source.calls) == 2


def test_last_stale_belongs_to_the_thread_that_asked(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.QUOTES})
    chain = chain_of(clock, source)
    chain.quote("AAPL")
    clock.advance(timedelta(minutes=5))
    source.failure = Temporary("down")
    chain.quote("AAPL")
    seen: list[bool] = []
    worker = threading.Thread(target=lambda: seen.append(chain.last_stale))
    worker.start()
    worker.join()
    assert chain.last_stale is True
    assert seen == [False]


@pytest.mark.parametrize(
    "build",
    [
        lambda clock: FallbackChain([], clock),
        lambda clock: FallbackChain([FakeSource("a", {DataKind.QUOTES})], clock, ttl_s=-1),
    ],
)
def test_a_chain_needs_sources_and_sane_limits(clock: SimClock, build: Callable[[SimClock], FallbackChain]) -> None:
    with pytest.raises(ConfigError):
        build(clock)


def test_errors_raised_by_the_chain_are_marketdesk_errors(clock: SimClock) -> None:
    source = FakeSource("only", {DataKind.QUOTES})
    source.failure = ZeroDivisionError("adapter bug")
    chain = chain_of(clock, source)
    with pytest.raises(MarketdeskError) as raised:
        chain.quote("AAPL")
    assert "ZeroDivisionError" in raised.value.message
