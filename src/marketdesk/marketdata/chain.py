"""The fallback chain: one `MarketData` over several sources, with a TTL cache and stale answers.

For each request the chain asks, in order, the sources that declare that kind of data. The first answer
wins and is cached for `ttl_s` seconds of the injected clock. A source that fails (a `Temporary`, an
`Operational`, a refused key, an unexpected exception) is skipped and the next one asked. When every
source fails, the chain serves the last cached answer marked stale (`Quote.stale`, `frame.attrs["stale"]`,
`chain.last_stale` for lists) rather than crash; with nothing cached it raises one error naming each
source's failure. A symbol that every source calls unknown raises `UnknownSymbol`.

    chain = FallbackChain([yahoo, alpaca], clock, ttl_s=60)
    quote = chain.quote("AAPL")      # yahoo's answer, or alpaca's when yahoo fails
    chain.last_source                # "yahoo"
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import pandas as pd

from marketdesk.clock import Clock
from marketdesk.errors import ConfigError, MarketdeskError, Rejected, Temporary, UnknownSymbol
from marketdesk.logs import get_logger
from marketdesk.marketdata.port import (
    CorporateAction,
    DataCapabilities,
    DataKind,
    EarningsEvent,
    Fundamentals,
    MarketData,
    MarketDataBase,
    NewsItem,
    Quote,
    SymbolInfo,
    check_range,
)

T = TypeVar("T")

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """Why one source could not answer one request."""

    source: str
    error: str
    kind: str  # the error class: "UnknownSymbol", "RateLimited", "Temporary", "Rejected", "Operational", …


@dataclass(slots=True)
class _Entry:
    value: Any
    stored_at: datetime
    source: str


class _LastCall(threading.local):
    stale: bool = False
    source: str | None = None
    failures: tuple[SourceFailure, ...] = ()


def _copy_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.copy()


def _copy_list(items: list[Any]) -> list[Any]:
    return list(items)


def _same(value: T) -> T:
    return value


def _stale_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs["stale"] = True
    return frame


def _stale_quote(quote: Quote) -> Quote:
    return dataclasses.replace(quote, stale=True)


class FallbackChain(MarketDataBase):
    """Ask sources in order, cache answers for `ttl_s`, and fall back to stale answers when all fail.

    `stale_limit_s` bounds how old a cached answer may be to serve it stale (None: any age).
    `max_entries` bounds the cache; the least recently used entries go first.
    """

    name = "chain"

    def __init__(
        self,
        sources: Sequence[MarketData],
        clock: Clock,
        ttl_s: float = 60.0,
        *,
        stale_limit_s: float | None = None,
        max_entries: int = 4096,
    ) -> None:
        if not sources:
            raise ConfigError(
                "a fallback chain needs at least one source", hint="Name one in `market_data`, e.g. ['sim']."
            )
        if ttl_s < 0 or (stale_limit_s is not None and stale_limit_s < 0) or max_entries < 1:
            raise ConfigError("ttl_s and stale_limit_s must not be negative, and max_entries must be at least 1")
        self._sources = tuple(sources)
        self._clock = clock
        self._ttl_s = ttl_s
        self._stale_limit_s = stale_limit_s
        self._max_entries = max_entries
        self._cache: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._last = _LastCall()
        self.capabilities = DataCapabilities(
            kinds=frozenset().union(*(s.capabilities.kinds for s in self._sources)),
            needs_key=any(s.capabilities.needs_key for s in self._sources),
            simulated=any(s.capabilities.simulated for s in self._sources),
        )

    # -- what the last call did (per thread) ----------------------------------------------------------

    @property
    def sources(self) -> tuple[MarketData, ...]:
        """The sources, in the order they are asked."""
        return self._sources

    @property
    def last_stale(self) -> bool:
        """True when this thread's last answer came from the cache because every source failed."""
        return self._last.stale

    @property
    def last_source(self) -> str | None:
        """The source that produced this thread's last answer (from the cache or fresh)."""
        return self._last.source

    @property
    def last_failures(self) -> tuple[SourceFailure, ...]:
        """The sources that failed during this thread's last call, in the order asked."""
        return self._last.failures

    def clear_cache(self) -> None:
        """Forget every cached answer."""
        with self._lock:
            self._cache.clear()

    # -- the engine -----------------------------------------------------------------------------------

    def _lookup(self, key: Hashable) -> _Entry | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)
            return entry

    def _store(self, key: Hashable, value: Any, source: str) -> None:
        with self._lock:
            self._cache[key] = _Entry(value, self._clock.now(), source)
            self._cache.move_to_end(key)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)

    def _age_s(self, entry: _Entry) -> float:
        return (self._clock.now() - entry.stored_at).total_seconds()

    def _answer(
        self,
        kind: DataKind,
        args: tuple[Hashable, ...],
        call: Callable[[MarketData], T],
        *,
        symbol: str | None = None,
        copy: Callable[[T], T] = _same,
        mark_stale: Callable[[T], T] = _same,
    ) -> T:
        self.capabilities.require(kind, self.name)
        what = f"{kind.value} {' '.join(str(a) for a in args)}".strip()
        key = (kind, *args)
        entry = self._lookup(key)
        if entry is not None and self._age_s(entry) < self._ttl_s:
            self._remember(stale=False, source=entry.source, failures=())
            return self._fresh(copy(entry.value))
        failures: list[SourceFailure] = []
        for source in self._sources:
            if kind not in source.capabilities.kinds:
                continue
            try:
                value = call(source)
            except MarketdeskError as exc:
                failures.append(SourceFailure(source.name, exc.one_line(), type(exc).__name__))
                if not isinstance(exc, UnknownSymbol):
                    _log.warning("market data source failed", source=source.name, what=what, error=exc.one_line())
                continue
            except Exception as exc:  # a source's bug must not take the desk down; the next source may answer
                failures.append(SourceFailure(source.name, f"{type(exc).__name__}: {exc}", "unexpected"))
                _log.exception("market data source crashed", source=source.name, what=what)
                continue
            self._store(key, value, source.name)
            self._remember(stale=False, source=source.name, failures=tuple(failures))
            return self._fresh(copy(value))
        self._remember(stale=False, source=None, failures=tuple(failures))
        if entry is not None and (self._stale_limit_s is None or self._age_s(entry) <= self._stale_limit_s):
            _log.warning("serving a stale answer", what=what, age_s=round(self._age_s(entry), 1), source=entry.source)
            self._remember(stale=True, source=entry.source, failures=tuple(failures))
            return mark_stale(copy(entry.value))
        raise self._all_failed(what, failures, symbol)

    def _remember(self, *, stale: bool, source: str | None, failures: tuple[SourceFailure, ...]) -> None:
        self._last.stale = stale
        self._last.source = source
        self._last.failures = failures

    @staticmethod
    def _fresh(value: T) -> T:
        if isinstance(value, pd.DataFrame):
            value.attrs["stale"] = False
        return value

    def _all_failed(self, what: str, failures: list[SourceFailure], symbol: str | None) -> MarketdeskError:
        if symbol is not None and failures and all(f.kind == "UnknownSymbol" for f in failures):
            return UnknownSymbol(symbol, source=", ".join(f.source for f in failures))
        listed = "; ".join(f"{f.source}: {f.error}" for f in failures)
        refused = [f for f in failures if f.kind in {"Rejected", "Unsupported", "ConfigError", "NotFound"}]
        if failures and len(refused) == len(failures):
            return Rejected(
                f"no market data source can answer {what} — {listed}",
                hint="Fix the settings named above (keys, plans), or add a source such as 'sim' to `market_data`.",
            )
        return Temporary(
            f"no market data source could answer {what} and nothing is cached — {listed}",
            hint="Check the network and the keys named above; the request can be retried, and another source "
            "can be added to `market_data`.",
        )

    # -- the port -------------------------------------------------------------------------------------

    def symbols(self) -> list[SymbolInfo]:
        """The symbols of the first source that lists them."""
        return self._answer(DataKind.SYMBOLS, (), lambda s: s.symbols(), copy=_copy_list)

    def bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        """Daily bars from the first source that has them; `attrs["stale"]` says whether they are cached leftovers."""
        check_range(start, end)
        return self._answer(
            DataKind.BARS,
            (symbol, start, end),
            lambda s: s.bars(symbol, start, end),
            symbol=symbol,
            copy=_copy_frame,
            mark_stale=_stale_frame,
        )

    def quote(self, symbol: str) -> Quote:
        """The latest quote; `Quote.stale` is True when every source failed and the cache answered."""
        return self._answer(
            DataKind.QUOTES, (symbol,), lambda s: s.quote(symbol), symbol=symbol, mark_stale=_stale_quote
        )

    def fundamentals(self, symbol: str) -> list[Fundamentals]:
        """Reported fundamentals from the first source that has them."""
        return self._answer(
            DataKind.FUNDAMENTALS, (symbol,), lambda s: s.fundamentals(symbol), symbol=symbol, copy=_copy_list
        )

    def corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        """Splits and dividends from the first source that has them."""
        check_range(start, end)
        return self._answer(
            DataKind.CORPORATE_ACTIONS,
            (symbol, start, end),
            lambda s: s.corporate_actions(symbol, start, end),
            symbol=symbol,
            copy=_copy_list,
        )

    def earnings(self, symbol: str, start: date, end: date) -> list[EarningsEvent]:
        """Earnings dates from the first source that has them."""
        check_range(start, end)
        return self._answer(
            DataKind.EARNINGS,
            (symbol, start, end),
            lambda s: s.earnings(symbol, start, end),
            symbol=symbol,
            copy=_copy_list,
        )

    def news(self, symbol: str, start: date, end: date) -> list[NewsItem]:
        """Headlines from the first source that has them."""
        check_range(start, end)
        return self._answer(
            DataKind.NEWS, (symbol, start, end), lambda s: s.news(symbol, start, end), symbol=symbol, copy=_copy_list
        )

    def yields(self, start: date, end: date) -> pd.DataFrame:
        """The treasury curve from the first source that has it."""
        check_range(start, end)
        return self._answer(
            DataKind.RATES,
            (start, end),
            lambda s: s.yields(start, end),
            copy=_copy_frame,
            mark_stale=_stale_frame,
        )
