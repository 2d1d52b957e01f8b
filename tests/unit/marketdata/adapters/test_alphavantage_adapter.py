"""The alphavantage adapter: news and treasury yields from recorded responses, and Alpha Vantage's notices."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import requests

from contract.recorded import Reply, Router, install_alphavantage, replay_requests
from marketdesk.clock import SimClock
from marketdesk.errors import Operational, RateLimited, Rejected, Temporary, UnknownSymbol
from marketdesk.kit.retry import RetryPolicy
from marketdesk.marketdata.adapters.alphavantage import AlphaVantageNewsItem, AlphaVantageSource, parse_to_news_item

MAY_START, MAY_END = date(2024, 5, 1), date(2024, 5, 31)


@pytest.fixture
def router() -> Iterator[Router]:
    with replay_requests() as router:
        install_alphavantage(router)
        yield router
    assert router.unplanned == []


@pytest.fixture
def waits() -> list[float]:
    return []


def make_source(
    waits: list[float], *, api_key: str | None = "TESTKEY0000000", retry: RetryPolicy | None = None
) -> AlphaVantageSource:
    return AlphaVantageSource(
        clock=SimClock(datetime(2024, 6, 3, 14, 0, tzinfo=UTC)),
        api_key=api_key,
        retry=retry or RetryPolicy(attempts=3, base_delay_s=1.0, jitter=0.0),
        sleep=waits.append,
    )


@pytest.fixture
def source(router: Router, waits: list[float]) -> AlphaVantageSource:
    return make_source(waits)


def test_news_is_newest_first_with_the_tickers_own_sentiment(source: AlphaVantageSource) -> None:
    items = source.news("AAPL", MAY_START, MAY_END)
    assert [i.published for i in items] == sorted((i.published for i in items), reverse=True)
    earnings = next(i for i in items if "Beats Estimates" in i.title)
    assert earnings.published == datetime(2024, 5, 2, 21, 6, 14, tzinfo=UTC)
    assert earnings.sentiment == pytest.approx(0.327711)  # AAPL's score, not the article's 0.288
    assert earnings.sentiment_label == "Somewhat-Bullish"
    assert earnings.symbols == ("AAPL", "QCOM")
    assert earnings.source == "Zacks Commentary"
    assert earnings.url.startswith("https://")
    assert all(-1.0 <= (i.sentiment or 0.0) <= 1.0 for i in items)


def test_news_asks_for_the_range_and_ticker(source: AlphaVantageSource, router: Router) -> None:
    source.news("AAPL", MAY_START, MAY_END)
    (request,) = router.calls_to("alphavantage.query")
    assert request.param("function") == "NEWS_SENTIMENT"
    assert (request.param("tickers"), request.param("time_from"), request.param("time_to")) == (
        "AAPL",
        "20240501T0000",
        "20240531T2359",
    )


def test_an_article_without_a_score_for_the_ticker_uses_the_overall_score() -> None:
    item: AlphaVantageNewsItem = {
        "title": " Chip stocks rally ",
        "url": "https://example.com/a",
        "time_published": "20240510T120000",
        "summary": "",
        "source": "Reuters",
        "overall_sentiment_score": 1.7,
        "overall_sentiment_label": "Bullish",
        "ticker_sentiment": [],
    }
    news = parse_to_news_item(item, "AAPL")
    assert news.sentiment == 1.0, "clamped into [-1, 1]"
    assert news.sentiment_label == "Bullish"
    assert news.title == "Chip stocks rally"


def test_yields_cover_the_six_maturities_with_holidays_as_nan(source: AlphaVantageSource) -> None:
    frame = source.yields(date(2024, 5, 24), date(2024, 5, 31))
    assert list(frame.columns) == ["3m", "2y", "5y", "7y", "10y", "30y"]
    assert frame.index.name == "date"
    assert frame.loc["2024-05-31", "10y"] == pytest.approx(4.51)
    assert frame.loc["2024-05-31", "3m"] == pytest.approx(5.46)
    assert all(math.isnan(v) for v in frame.loc["2024-05-27"])  # Memorial Day
    assert len(frame) == 6  # 24th, 27th (a holiday) and 28th to 31st


def test_the_daily_allowance_used_up_is_rate_limited_without_pointless_retries(
    source: AlphaVantageSource, router: Router, waits: list[float]
) -> None:
    router.always("alphavantage.query", Reply.file("alphavantage", "rate_limit_daily.json"))
    with pytest.raises(RateLimited) as raised:
        source.news("AAPL", MAY_START, MAY_END)
    assert raised.value.retry_after_s is not None and raised.value.retry_after_s > 3600
    assert waits == []


def test_a_per_minute_note_waits_a_minute_when_the_policy_allows(router: Router, waits: list[float]) -> None:
    source = make_source(waits, retry=RetryPolicy(attempts=2, max_delay_s=120.0, jitter=0.0))
    router.queue("alphavantage.query", Reply.file("alphavantage", "rate_limit_note.json"))
    assert source.news("AAPL", MAY_START, MAY_END)
    assert waits == [60.0]


def test_an_invalid_key_is_rejected_with_the_fix(source: AlphaVantageSource, router: Router) -> None:
    router.always("alphavantage.query", Reply.file("alphavantage", "invalid_api_key.json"))
    with pytest.raises(Rejected) as raised:
        source.yields(MAY_START, MAY_END)
    assert "MARKETDESK_ALPHAVANTAGE_API_KEY" in raised.value.one_line()


def test_a_missing_key_is_rejected_before_any_request(router: Router, waits: list[float]) -> None:
    with pytest.raises(Rejected, match="alphavantage needs an API key"):
        make_source(waits, api_key=None).news("AAPL", MAY_START, MAY_END)
    assert router.calls == []


def test_invalid_inputs_for_a_ticker_mean_an_unknown_symbol(source: AlphaVantageSource) -> None:
    with pytest.raises(UnknownSymbol):
        source.news("ZZZZNOTREAL", MAY_START, MAY_END)


def test_an_invalid_call_is_operational(source: AlphaVantageSource, router: Router, waits: list[float]) -> None:
    router.always("alphavantage.query", Reply.file("alphavantage", "invalid_api_call.json"))
    with pytest.raises(Operational, match="Invalid API call"):
        source.yields(MAY_START, MAY_END)
    assert waits == []


def test_server_errors_and_garbled_bodies_are_temporary(source: AlphaVantageSource, router: Router) -> None:
    router.always("alphavantage.query", Reply.text("Service Unavailable", 503, "text/html"))
    with pytest.raises(Temporary, match="HTTP 503"):
        source.news("AAPL", MAY_START, MAY_END)
    router.always("alphavantage.query", Reply.text('{"items": "4", "feed": [{"title": "Apple', 200))
    with pytest.raises(Temporary, match="unreadable"):
        source.news("AAPL", MAY_START, MAY_END)


def test_a_network_failure_is_temporary_without_the_key(source: AlphaVantageSource, router: Router) -> None:
    failure = requests.exceptions.ConnectionError(
        "Max retries exceeded with url: /query?function=X&apikey=TESTKEY0000000"
    )
    router.always("alphavantage.query", Reply.failure(failure))
    with pytest.raises(Temporary) as raised:
        source.news("AAPL", MAY_START, MAY_END)
    assert "TESTKEY0000000" not in raised.value.one_line()


def test_a_news_limit_alpha_vantage_does_not_offer_is_refused(waits: list[float]) -> None:
    with pytest.raises(Rejected, match="50 or 1000"):
        AlphaVantageSource(clock=SimClock(datetime(2024, 6, 3, tzinfo=UTC)), api_key="k", news_limit=200)
