"""Yahoo Finance through yfinance: daily bars, quotes, statements, earnings dates, dividends and splits.

No key is needed. How the library is used, and why:

- **Bars.** `Ticker.history(auto_adjust=False)` returns Yahoo's `Open … Close` and `Adj Close`. Yahoo's
  `Close` is adjusted for splits (not dividends) and `Adj Close` for both. The port wants prices as traded,
  so `parse_to_bars` multiplies each session back by the splits that came after it (and divides volume).
  The request therefore runs from `start` to today (from the injected clock), so that every later split
  is known; the frame is then cut to [start, end].
- **Dividends and splits** come from the same chart response (its `events`); dividends are un-adjusted
  the same way, so they are the cash amounts paid per share at the time.
- **Quotes** come from `Ticker.info` (quoteSummary + v7 quote), prices parsed into Decimal.
- **Fundamentals** are the quarterly and annual statements (`get_income_stmt`, `get_balance_sheet`,
  `get_cash_flow`, from Yahoo's fundamentals-timeseries API) plus one dated snapshot of ratios from
  `info`. Yahoo's signs are kept: capital expenditure is negative, as in the filings.
- **Earnings** come from `Ticker.get_earnings_dates`, which reads Yahoo's earnings calendar page.

yfinance is configured process-wide, so this module sets two things when an adapter is built:
`yf.config.debug.hide_exceptions = False` (otherwise yfinance logs failures and returns empty frames,
and a network failure would look like an unknown symbol), and, when `cache_dir` is given, the folder of
yfinance's timezone/cookie cache. yfinance also memoises GET responses for the life of the process; the
adapter clears that memo before each call so a long-running desk sees fresh statements and a retry does
not replay a failed response (the fallback chain keeps its own TTL cache).

yfinance accepts `session=` a `curl_cffi.requests.Session` (its default, with browser impersonation) or
a `requests.Session`; tests pass a `requests.Session` and replay recorded responses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import requests
import yfinance as yf
from yfinance.data import YfData
from yfinance.exceptions import (
    YFDataException,
    YFException,
    YFPricesMissingError,
    YFRateLimitError,
    YFTickerMissingError,
)

from marketdesk.clock import Clock
from marketdesk.errors import MarketdeskError, RateLimited, Temporary, UnknownSymbol
from marketdesk.kit.money import to_decimal
from marketdesk.kit.retry import RetryPolicy, Sleep
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.adapters._common import DEFAULT_TIMEOUT_S, OnlineSource, bars_frame, optional_float
from marketdesk.marketdata.port import (
    CorporateAction,
    CorporateActionKind,
    DataCapabilities,
    DataKind,
    EarningsEvent,
    Fundamentals,
    Quote,
    check_range,
    empty_bars,
)

# yfinance's column names for `history(auto_adjust=False, actions=True)`
OPEN, HIGH, LOW, CLOSE, ADJ_CLOSE, VOLUME = "Open", "High", "Low", "Close", "Adj Close", "Volume"
DIVIDENDS, SPLITS = "Dividends", "Stock Splits"

# yfinance's column names for `get_earnings_dates()`
EPS_ESTIMATE, EPS_REPORTED, SURPRISE_PCT = "EPS Estimate", "Reported EPS", "Surprise(%)"

STATEMENT_ROWS: Mapping[str, tuple[str, ...]] = {
    "revenue": ("TotalRevenue", "OperatingRevenue"),
    "gross_profit": ("GrossProfit",),
    "operating_income": ("OperatingIncome",),
    "net_income": ("NetIncome", "NetIncomeCommonStockholders"),
    "ebitda": ("EBITDA", "NormalizedEBITDA"),
    "eps": ("DilutedEPS", "BasicEPS"),
    "interest_expense": ("InterestExpense",),
    "operating_cash_flow": ("OperatingCashFlow",),
    "capex": ("CapitalExpenditure",),
    "free_cash_flow": ("FreeCashFlow",),
    "total_assets": ("TotalAssets",),
    "total_liabilities": ("TotalLiabilitiesNetMinorityInterest",),
    "total_equity": ("StockholdersEquity", "TotalEquityGrossMinorityInterest"),
    "total_debt": ("TotalDebt",),
    "cash": ("CashAndCashEquivalents", "CashCashEquivalentsAndShortTermInvestments"),
    "current_assets": ("CurrentAssets",),
    "current_liabilities": ("CurrentLiabilities",),
    "shares_outstanding": ("OrdinarySharesNumber", "ShareIssued"),
}
"""Our `Fundamentals` field → Yahoo statement rows, in order of preference."""

SNAPSHOT_KEYS: Mapping[str, str] = {
    "price": "regularMarketPrice",
    "market_cap": "marketCap",
    "pe": "trailingPE",
    "pb": "priceToBook",
    "ps": "priceToSalesTrailing12Months",
    "dividend_yield": "trailingAnnualDividendYield",  # a fraction; `dividendYield` became a percent in 2025
    "week52_high": "fiftyTwoWeekHigh",
    "week52_low": "fiftyTwoWeekLow",
    "shares_outstanding": "sharesOutstanding",
    "ebitda": "ebitda",
    "total_debt": "totalDebt",
    "cash": "totalCash",
    "revenue": "totalRevenue",
    "free_cash_flow": "freeCashflow",
    "operating_cash_flow": "operatingCashflow",
    "eps": "trailingEps",
    "dividends_per_share": "trailingAnnualDividendRate",
}
"""Our `Fundamentals` field → Yahoo `info` key, for the dated snapshot."""


def _session_dates(index: pd.Index) -> list[date]:
    """yfinance's daily index (midnight in the exchange's zone) → plain session dates."""
    return [pd.Timestamp(ts).date() for ts in index]


def split_factors(history: pd.DataFrame) -> list[float]:
    """For each row, the product of the split ratios on later sessions (1.0 when none came after)."""
    ratios = history[SPLITS].fillna(0.0).to_list() if SPLITS in history.columns else [0.0] * len(history)
    factors = [1.0] * len(ratios)
    running = 1.0
    for position in range(len(ratios) - 1, -1, -1):
        factors[position] = running
        if ratios[position] and ratios[position] > 0:
            running *= ratios[position]
    return factors


def parse_to_bars(history: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Map yfinance's `history(auto_adjust=False)` frame to port bars for the sessions in [start, end].

    Yahoo's `Open/High/Low/Close/Volume` are split-adjusted; multiply prices (divide volume) by the
    splits after each session to recover what traded. `Adj Close` becomes `adj_close` unchanged.
    """
    if history.empty:
        return empty_bars()
    history = history.sort_index()
    factors = split_factors(history)
    rows = []
    for day, factor, (_, row) in zip(_session_dates(history.index), factors, history.iterrows(), strict=True):
        prices = [float(row[column]) for column in (OPEN, HIGH, LOW, CLOSE)]
        if not all(math.isfinite(p) and p > 0 for p in prices) or not math.isfinite(float(row[ADJ_CLOSE])):
            continue  # Yahoo pads holidays and halts with nulls
        raw = [round(p * factor, 6) for p in prices]
        volume = float(row[VOLUME]) / factor if math.isfinite(float(row[VOLUME])) else 0.0
        rows.append((day, raw[0], raw[1], raw[2], raw[3], float(row[ADJ_CLOSE]), round(volume)))
    return bars_frame(rows, start, end)


def parse_to_corporate_actions(symbol: str, history: pd.DataFrame, start: date, end: date) -> list[CorporateAction]:
    """Dividends (un-adjusted to the cash paid at the time) and splits from yfinance's history frame."""
    if history.empty:
        return []
    history = history.sort_index()
    actions: list[CorporateAction] = []
    factors = split_factors(history)
    for day, factor, (_, row) in zip(_session_dates(history.index), factors, history.iterrows(), strict=True):
        if not start <= day <= end:
            continue
        dividend = optional_float(row.get(DIVIDENDS))
        if dividend:
            amount = (to_decimal(dividend, field="dividend") * to_decimal(factor, field="split factor")).normalize()
            actions.append(CorporateAction(symbol, day, CorporateActionKind.DIVIDEND, amount, source="yahoo"))
        ratio = optional_float(row.get(SPLITS))
        if ratio:
            actions.append(
                CorporateAction(
                    symbol, day, CorporateActionKind.SPLIT, to_decimal(ratio, field="split"), source="yahoo"
                )
            )
    return actions


def _price(info: Mapping[str, Any], *keys: str) -> Decimal | None:
    for key in keys:
        value = optional_float(info.get(key))
        if value is not None and value > 0:
            return to_decimal(value, field=key)
    return None


def parse_to_quote(symbol: str, info: Mapping[str, Any], *, received: datetime) -> Quote:
    """Map yfinance's `info` (quoteSummary + v7 quote fields) to a `Quote`; Yahoo's 0 bid/ask means none."""
    last = _price(info, "regularMarketPrice", "currentPrice")
    if last is None:
        raise UnknownSymbol(symbol, source="yahoo")
    stamp = info.get("regularMarketTime")
    # without Yahoo's trade time, the time we received the price is the honest stamp
    ts = datetime.fromtimestamp(int(stamp), UTC) if isinstance(stamp, int | float) and stamp > 0 else received
    volume = optional_float(info.get("regularMarketVolume"))
    bid, ask = _price(info, "bid"), _price(info, "ask")
    if bid is not None and ask is not None and bid > ask:
        bid = ask = None  # a crossed book outside hours is noise, not a market
    return Quote(
        symbol=symbol,
        ts=ts,
        last=last,
        bid=bid,
        ask=ask,
        volume=int(volume) if volume is not None else None,
        prev_close=_price(info, "regularMarketPreviousClose", "previousClose"),
        source="yahoo",
    )


def _statement_value(frame: pd.DataFrame, rows: tuple[str, ...], column: Any) -> float | None:
    for row in rows:
        if row in frame.index:
            value = optional_float(frame.at[row, column])
            if value is not None:
                return value
    return None


def parse_to_fundamentals(
    symbol: str,
    statements: Mapping[str, list[pd.DataFrame]],
    info: Mapping[str, Any],
    *,
    today: date,
) -> list[Fundamentals]:
    """Map Yahoo statements (`{"Q": [income, balance, cash], "FY": [...]}`) and `info` to `Fundamentals`.

    One record per period end with any mapped figure, oldest first, then a snapshot dated `today`.
    """
    records: list[Fundamentals] = []
    for period, frames in statements.items():
        ends = sorted({pd.Timestamp(c).date() for frame in frames for c in frame.columns})
        for period_end in ends:
            values: dict[str, Any] = {}  # Fundamentals field name → figure
            for field_name, rows in STATEMENT_ROWS.items():
                for frame in frames:
                    column = next((c for c in frame.columns if pd.Timestamp(c).date() == period_end), None)
                    if column is None:
                        continue
                    value = _statement_value(frame, rows, column)
                    if value is not None:
                        values[field_name] = value
                        break
            if values:
                records.append(Fundamentals(symbol, period_end, period, source="yahoo", **values))
    snapshot = {name: optional_float(info.get(key)) for name, key in SNAPSHOT_KEYS.items()}
    present: dict[str, Any] = {name: value for name, value in snapshot.items() if value is not None}
    if present:
        records.append(Fundamentals(symbol, today, "snapshot", source="yahoo", **present))
    records.sort(key=lambda r: (r.period_end, r.period))
    return records


def _time_of_day(instant: pd.Timestamp) -> str | None:
    local = instant.tz_convert(NEW_YORK) if instant.tzinfo is not None else instant
    minutes = local.hour * 60 + local.minute
    if minutes == 0:
        return None  # a date without a time
    if minutes < 9 * 60 + 30:
        return "bmo"
    if minutes >= 16 * 60:
        return "amc"
    return None


def parse_to_earnings(symbol: str, table: pd.DataFrame | None, start: date, end: date) -> list[EarningsEvent]:
    """Map yfinance's earnings-dates frame (index: report time; EPS estimate, reported, surprise %)."""
    if table is None or table.empty:
        return []
    events = []
    for instant, row in zip(pd.DatetimeIndex(table.index), table.to_dict(orient="records"), strict=True):
        day = (instant.tz_convert(NEW_YORK) if instant.tzinfo is not None else instant).date()
        if not start <= day <= end:
            continue
        events.append(
            EarningsEvent(
                symbol=symbol,
                report_date=day,
                eps_estimate=optional_float(row.get(EPS_ESTIMATE)),
                eps_actual=optional_float(row.get(EPS_REPORTED)),
                surprise_pct=optional_float(row.get(SURPRISE_PCT)),
                time_of_day=_time_of_day(instant),
                source="yahoo",
            )
        )
    events.sort(key=lambda e: e.report_date)
    return events


def _statement(read: Callable[..., pd.DataFrame], freq: str) -> pd.DataFrame:
    """One statement (`read(freq=…)`), or an empty frame when Yahoo has none (funds, new listings)."""
    try:
        return read(freq=freq)
    except YFRateLimitError:
        raise
    except YFException:  # yfinance's "Empty fundamentals-timeseries result"; network errors are not YFException
        return pd.DataFrame()


def _forget_yfinance_memo() -> None:
    clear: Callable[[], None] | None = getattr(YfData.cache_get, "cache_clear", None)
    if clear is not None:
        clear()


class YahooSource(OnlineSource):
    """Yahoo Finance via yfinance. See the module docstring for what each kind reads."""

    name = "yahoo"
    capabilities = DataCapabilities(
        kinds=frozenset(
            {DataKind.BARS, DataKind.QUOTES, DataKind.FUNDAMENTALS, DataKind.EARNINGS, DataKind.CORPORATE_ACTIONS}
        ),
        needs_key=False,
    )

    def __init__(
        self,
        *,
        clock: Clock,
        session: object | None = None,
        cache_dir: Path | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        """Build the adapter.

        `session`: a `curl_cffi.requests.Session` or `requests.Session` for yfinance (None: yfinance's own).
        `cache_dir`: where yfinance keeps its timezone and cookie cache (None: its default per-user folder).
        """
        super().__init__(clock=clock, retry=retry, sleep=sleep)
        self._session = session
        self._timeout_s = timeout_s
        yf.config.debug.hide_exceptions = False
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            yf.set_tz_cache_location(str(cache_dir))

    # -- plumbing -------------------------------------------------------------------------------------

    def _ticker(self, symbol: str) -> Any:
        _forget_yfinance_memo()
        return yf.Ticker(symbol, session=self._session)

    def _translate(self, exc: BaseException, *, what: str, symbol: str | None) -> MarketdeskError:
        _forget_yfinance_memo()  # never let yfinance replay a failed response on the retry
        if isinstance(exc, YFRateLimitError):
            return RateLimited(
                "yahoo is rate limiting requests", hint="Wait a few minutes; the chain falls back meanwhile."
            )
        if isinstance(exc, YFPricesMissingError) and exc.yahoo_reason and symbol is not None:
            return UnknownSymbol(symbol, source="yahoo")
        if isinstance(exc, YFTickerMissingError) and symbol is not None:
            return UnknownSymbol(symbol, source="yahoo")
        if isinstance(exc, YFDataException):
            return Temporary(f"yahoo could not answer {what}: {exc}", hint="Retry later.")
        if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            if status in (401, 403):  # Yahoo has no keys: this is its cookie and crumb check failing
                return Temporary(
                    f"yahoo refused {what} (HTTP {status}, its cookie check)",
                    hint="Retry later; if it persists, yfinance may need an update.",
                )
        return super()._translate(exc, what=what, symbol=symbol)

    def _today(self) -> date:
        return self._clock.now().astimezone(NEW_YORK).date()

    def _history(self, symbol: str, start: date) -> pd.DataFrame:
        through = max(start, self._today()) + timedelta(days=1)  # yfinance's `end` is exclusive

        def call() -> pd.DataFrame:
            try:
                frame: pd.DataFrame = self._ticker(symbol).history(
                    start=start.isoformat(),
                    end=through.isoformat(),
                    interval="1d",
                    auto_adjust=False,
                    actions=True,
                    repair=False,
                    timeout=self._timeout_s,
                )
            except YFPricesMissingError as exc:
                if exc.yahoo_reason:
                    raise
                return pd.DataFrame()  # a known symbol with no sessions in the range
            return frame

        return self._fetch(f"daily history of {symbol}", call, symbol=symbol)

    def _info(self, symbol: str) -> dict[str, Any]:
        def call() -> dict[str, Any]:
            info = self._ticker(symbol).info
            if not info or not isinstance(info, dict):
                raise UnknownSymbol(symbol, source="yahoo")
            return info

        return self._fetch(f"quote summary of {symbol}", call, symbol=symbol)

    # -- the port -------------------------------------------------------------------------------------

    def bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        """Daily bars: raw OHLCV as traded and Yahoo's split- and dividend-adjusted close."""
        check_range(start, end)
        return parse_to_bars(self._history(symbol, start), start, end)

    def corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        """Cash dividends (as paid) and splits with an ex-date in [start, end]."""
        check_range(start, end)
        return parse_to_corporate_actions(symbol, self._history(symbol, start), start, end)

    def quote(self, symbol: str) -> Quote:
        """The latest regular-session price, bid/ask when Yahoo has them, volume and previous close."""
        info = self._info(symbol)
        return parse_to_quote(symbol, info, received=self._clock.now())

    def fundamentals(self, symbol: str) -> list[Fundamentals]:
        """Quarterly ("Q") and annual ("FY") statements, then a snapshot of ratios dated today."""
        info = self._info(symbol)

        def call() -> dict[str, list[pd.DataFrame]]:
            ticker = self._ticker(symbol)
            statements: dict[str, list[pd.DataFrame]] = {}
            for period, freq in (("Q", "quarterly"), ("FY", "yearly")):
                statements[period] = [
                    _statement(ticker.get_income_stmt, freq),
                    _statement(ticker.get_balance_sheet, freq),
                    _statement(ticker.get_cash_flow, freq),
                ]
            return statements

        statements = self._fetch(f"statements of {symbol}", call, symbol=symbol)
        return parse_to_fundamentals(symbol, statements, info, today=self._today())

    def earnings(self, symbol: str, start: date, end: date) -> list[EarningsEvent]:
        """Report dates in [start, end] with Yahoo's EPS estimate, reported EPS and surprise %."""
        check_range(start, end)
        quarters_back = max(0, (self._today() - start).days) // 91
        limit = min(100, quarters_back + 8)  # the page lists upcoming reports first

        def call() -> pd.DataFrame | None:
            table: pd.DataFrame | None = self._ticker(symbol).get_earnings_dates(limit=limit)
            return table

        table = self._fetch(f"earnings dates of {symbol}", call, symbol=symbol)
        if table is None:
            self._info(symbol)  # no calendar at all: UnknownSymbol when Yahoo does not know the symbol
        return parse_to_earnings(symbol, table, start, end)
