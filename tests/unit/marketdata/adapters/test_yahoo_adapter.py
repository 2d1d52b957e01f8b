"""The yahoo adapter: what it makes of recorded Yahoo responses, and how it fails.

The recorded chart is real AAPL trading from July to September 2020 (a $0.82 dividend on 2020-08-07 and
a 4:1 split on 2020-08-31) in the v8 chart format, where Yahoo reports split-adjusted prices.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest
import requests

from contract.recorded import Reply, Router, install_yahoo, replay_requests
from marketdesk.clock import SimClock
from marketdesk.errors import RateLimited, Temporary, UnknownSymbol
from marketdesk.kit.retry import RetryPolicy
from marketdesk.marketdata.adapters.yahoo import YahooSource, parse_to_bars, split_factors
from marketdesk.marketdata.port import CorporateActionKind, validate_bars

# yfinance 1.7 calls pandas methods with `inplace=`, which pandas 3.1 deprecates; not our code.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning:yfinance")

JULY, SEPTEMBER_END = date(2020, 7, 1), date(2020, 9, 30)


@pytest.fixture
def router() -> Iterator[Router]:
    with replay_requests() as router:
        install_yahoo(router)
        yield router
    assert router.unplanned == []


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def source(router: Router, waits: list[float], tmp_path_factory: pytest.TempPathFactory) -> YahooSource:
    return YahooSource(
        clock=SimClock(datetime(2020, 10, 1, 14, 0, tzinfo=UTC)),
        session=requests.Session(),
        cache_dir=tmp_path_factory.getbasetemp() / "yfinance-cache",
        retry=RetryPolicy(attempts=3, base_delay_s=1.0, jitter=0.0),
        sleep=waits.append,
    )


def is_data_request(request: object) -> bool:
    """The chart request for the asked range (not yfinance's one-day timezone probe)."""
    return "period1=" in getattr(request, "url", "")


def test_bars_are_raw_prices_as_traded_before_and_after_the_split(source: YahooSource) -> None:
    bars = source.bars("AAPL", JULY, SEPTEMBER_END)
    assert validate_bars(bars) == []
    assert len(bars) == 64
    friday = bars.loc["2020-08-28"]
    assert friday["close"] == pytest.approx(499.23)  # what traded; Yahoo's chart says 124.8075
    assert friday["volume"] == 46_907_479
    monday = bars.loc["2020-08-31"]
    assert monday["close"] == pytest.approx(129.04)
    assert monday["volume"] == 223_505_733


def test_adj_close_is_yahoos_split_and_dividend_adjusted_close(source: YahooSource) -> None:
    bars = source.bars("AAPL", JULY, SEPTEMBER_END)
    before_dividend = bars.loc["2020-08-06"]
    assert before_dividend["adj_close"] < before_dividend["close"] / 4
    assert bars.loc["2020-09-30", "adj_close"] == pytest.approx(bars.loc["2020-09-30", "close"])


def test_bars_are_cut_to_the_asked_range(source: YahooSource) -> None:
    bars = source.bars("AAPL", date(2020, 8, 3), date(2020, 8, 7))
    assert [d.date() for d in bars.index] == [date(2020, 8, d) for d in (3, 4, 5, 6, 7)]


def test_the_chart_request_runs_to_today_so_later_splits_are_known(source: YahooSource, router: Router) -> None:
    source.bars("AAPL", date(2020, 7, 1), date(2020, 7, 31))
    data_requests = [r for r in router.calls_to("yahoo.chart") if is_data_request(r)]
    period2 = int(data_requests[-1].param("period2") or 0)
    assert datetime.fromtimestamp(period2, UTC).date() >= date(2020, 10, 1)


def test_split_factors_multiply_the_splits_after_each_session() -> None:
    history = pd.DataFrame({"Stock Splits": [0.0, 2.0, 0.0, 3.0, 0.0]})
    assert split_factors(history) == [6.0, 3.0, 3.0, 1.0, 1.0]


def test_rows_yahoo_pads_with_nulls_are_dropped() -> None:
    index = pd.DatetimeIndex(
        [pd.Timestamp("2020-07-02", tz="America/New_York"), pd.Timestamp("2020-07-03", tz="America/New_York")]
    )
    history = pd.DataFrame(
        {
            "Open": [367.85, float("nan")],
            "High": [370.47, float("nan")],
            "Low": [363.64, float("nan")],
            "Close": [364.11, float("nan")],
            "Adj Close": [90.56, float("nan")],
            "Volume": [28_814_516, 0],
            "Dividends": [0.0, 0.0],
            "Stock Splits": [0.0, 0.0],
        },
        index=index,
    )
    bars = parse_to_bars(history, date(2020, 7, 1), date(2020, 7, 3))
    assert validate_bars(bars) == []
    assert len(bars) == 1


def test_corporate_actions_are_the_dividend_as_paid_and_the_split(source: YahooSource) -> None:
    actions = source.corporate_actions("AAPL", JULY, SEPTEMBER_END)
    assert [(a.ex_date, a.kind, a.value) for a in actions] == [
        (date(2020, 8, 7), CorporateActionKind.DIVIDEND, Decimal("0.82")),
        (date(2020, 8, 31), CorporateActionKind.SPLIT, Decimal("4.0")),
    ]
    assert all(isinstance(a.value, Decimal) for a in actions)


def test_the_quote_is_decimal_from_the_vendors_numbers(source: YahooSource) -> None:
    quote = source.quote("AAPL")
    assert quote.last == Decimal("115.81")
    assert (quote.bid, quote.ask) == (Decimal("115.75"), Decimal("115.84"))
    assert quote.prev_close == Decimal("114.09")
    assert quote.volume == 142_675_184
    assert quote.ts == datetime(2020, 9, 30, 20, 0, 2, tzinfo=UTC)
    assert quote.source == "yahoo"


def test_fundamentals_map_the_statements_and_end_with_a_snapshot(source: YahooSource) -> None:
    records = source.fundamentals("AAPL")
    quarters = [r for r in records if r.period == "Q"]
    assert [r.period_end for r in quarters] == [
        date(2019, 9, 30),
        date(2019, 12, 31),
        date(2020, 3, 31),
        date(2020, 6, 30),
    ]
    june = quarters[-1]
    assert june.revenue == 59_685_000_000
    assert june.net_income == 11_253_000_000
    assert june.eps == pytest.approx(2.58)
    assert june.capex == -1_565_000_000, "Yahoo's sign is kept: money spent is negative"
    assert june.free_cash_flow == 14_706_000_000
    assert june.total_equity == 72_282_000_000
    assert june.shares_outstanding == 4_275_634_000
    years = [r for r in records if r.period == "FY"]
    assert [r.period_end for r in years] == [date(2018, 9, 30), date(2019, 9, 30)]
    snapshot = records[-1]
    assert (snapshot.period, snapshot.period_end) == ("snapshot", date(2020, 10, 1))
    assert snapshot.pe == pytest.approx(35.09394)
    assert snapshot.dividend_yield == pytest.approx(0.0069682)
    assert snapshot.market_cap == 1_980_707_274_752


def test_earnings_carry_estimate_actual_surprise_and_time_of_day(source: YahooSource) -> None:
    events = source.earnings("AAPL", date(2020, 7, 1), date(2020, 12, 31))
    assert [e.report_date for e in events] == [date(2020, 7, 30), date(2020, 10, 29)]
    reported, upcoming = events
    assert (reported.eps_estimate, reported.eps_actual, reported.surprise_pct) == (0.51, 0.65, 26.25)
    assert reported.time_of_day == "amc"
    assert upcoming.eps_actual is None and upcoming.surprise_pct is None


@pytest.mark.parametrize("call", ["quote", "fundamentals", "earnings", "bars", "corporate_actions"])
def test_an_unknown_symbol_is_unknown_for_every_kind(source: YahooSource, call: str) -> None:
    with pytest.raises(UnknownSymbol):
        if call in {"quote", "fundamentals"}:
            getattr(source, call)("ZZZZNOTREAL")
        else:
            getattr(source, call)("ZZZZNOTREAL", JULY, SEPTEMBER_END)


def test_a_rate_limit_is_retried_with_backoff_and_then_answers(
    source: YahooSource, router: Router, waits: list[float]
) -> None:
    # yfinance repeats a failed request once with its other cookie strategy, so one attempt costs two 429s
    too_many = Reply.text("Too Many Requests\r\n", 429, "text/html")
    router.queue("yahoo.chart", too_many, too_many, when=is_data_request)
    bars = source.bars("AAPL", JULY, SEPTEMBER_END)
    assert len(bars) == 64
    assert waits == [1.0]


def test_a_lasting_rate_limit_ends_as_rate_limited(source: YahooSource, router: Router, waits: list[float]) -> None:
    router.always("yahoo.quote_summary", Reply.text("Too Many Requests\r\n", 429, "text/html"))
    with pytest.raises(RateLimited):
        source.quote("AAPL")
    assert waits == [1.0, 2.0]


def test_a_network_failure_is_temporary_and_names_the_source(source: YahooSource, router: Router) -> None:
    router.always("yahoo.quote_summary", Reply.failure(requests.exceptions.ConnectionError("Connection reset by peer")))
    with pytest.raises(Temporary) as raised:
        source.quote("AAPL")
    assert "cannot reach yahoo" in raised.value.message
    assert raised.value.__cause__ is None, "no vendor traceback travels with our error"


def test_a_truncated_chart_is_a_temporary_error_not_a_traceback(source: YahooSource, router: Router) -> None:
    router.always(
        "yahoo.chart", Reply.text('{"chart": {"result": [{"meta": {"currency": "USD", "sym', 200, "application/json")
    )
    with pytest.raises(Temporary) as raised:
        source.bars("MSFT", JULY, SEPTEMBER_END)
    assert "yahoo sent an unreadable response" in raised.value.message


def test_a_failed_page_is_fetched_again_rather_than_replayed_from_yfinances_memo(
    source: YahooSource, router: Router
) -> None:
    outage = Reply.text("<html><body>Will be right back...</body></html>", 503, "text/html")
    router.queue("yahoo.earnings", outage, outage)
    assert source.earnings("AAPL", JULY, SEPTEMBER_END) == []
    events = source.earnings("AAPL", JULY, SEPTEMBER_END)
    assert [e.report_date for e in events] == [date(2020, 7, 30)]


def test_a_refused_cookie_check_is_temporary_not_a_key_problem(source: YahooSource, router: Router) -> None:
    router.always(
        "yahoo.quote_summary",
        Reply.json(
            {"finance": {"result": None, "error": {"code": "Unauthorized", "description": "Invalid Crumb"}}}, 401
        ),
    )
    with pytest.raises(Temporary, match="cookie check"):
        source.quote("AAPL")


def test_a_symbol_without_statements_still_gets_its_snapshot(source: YahooSource, router: Router) -> None:
    router.always("yahoo.timeseries", Reply.json({"timeseries": {"result": [], "error": None}}))
    records = source.fundamentals("AAPL")
    assert [r.period for r in records] == ["snapshot"]
    assert records[0].market_cap == 1_980_707_274_752
