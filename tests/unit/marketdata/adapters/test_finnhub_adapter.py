"""The finnhub adapter: earnings from recorded Finnhub responses, and how it fails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from contract.recorded import Reply, Router, install_finnhub, replay_requests
from marketdesk.clock import SimClock
from marketdesk.errors import RateLimited, Rejected, Temporary, UnknownSymbol
from marketdesk.kit.retry import RetryPolicy
from marketdesk.marketdata.adapters.finnhub import FinnhubSource, surprise_pct


@pytest.fixture
def router() -> Iterator[Router]:
    with replay_requests() as router:
        install_finnhub(router)
        yield router
    assert router.unplanned == []


@pytest.fixture
def waits() -> list[float]:
    return []


def make_source(waits: list[float], api_key: str | None = "test-finnhub-key") -> FinnhubSource:
    return FinnhubSource(
        clock=SimClock(datetime(2020, 10, 1, 14, 0, tzinfo=UTC)),
        api_key=api_key,
        retry=RetryPolicy(attempts=3, base_delay_s=1.0, jitter=0.0),
        sleep=waits.append,
    )


@pytest.fixture
def source(router: Router, waits: list[float]) -> FinnhubSource:
    return make_source(waits)


def test_earnings_carry_estimates_actuals_and_finnhubs_surprise(source: FinnhubSource) -> None:
    events = source.earnings("AAPL", date(2020, 4, 1), date(2020, 10, 31))
    assert [e.report_date for e in events] == [date(2020, 4, 30), date(2020, 7, 30), date(2020, 10, 29)]
    july = events[1]
    assert (july.eps_estimate, july.eps_actual) == (0.5103, 0.645)
    assert july.surprise_pct == pytest.approx(26.3962)
    assert (july.revenue_estimate, july.revenue_actual) == (52_248_829_730, 59_685_000_000)
    assert july.time_of_day == "amc"
    assert july.source == "finnhub"


def test_an_upcoming_report_has_an_estimate_and_no_actual(source: FinnhubSource) -> None:
    (upcoming,) = source.earnings("AAPL", date(2020, 10, 1), date(2020, 10, 31))
    assert upcoming.eps_estimate == pytest.approx(0.7005)
    assert upcoming.eps_actual is None and upcoming.surprise_pct is None


def test_when_the_surprise_endpoint_fails_the_surprise_is_computed(source: FinnhubSource, router: Router) -> None:
    router.always("finnhub.stock_earnings", Reply.text("<html>Bad Gateway</html>", 502, "text/html"))
    (july,) = source.earnings("AAPL", date(2020, 7, 1), date(2020, 9, 30))
    assert july.surprise_pct == pytest.approx((0.645 - 0.5103) / 0.5103 * 100)


def test_surprise_is_none_without_both_figures_or_with_a_zero_estimate() -> None:
    assert surprise_pct(None, 1.0) is None
    assert surprise_pct(1.0, 0.0) is None
    assert surprise_pct(-0.5, -1.0) == pytest.approx(50.0)


def test_an_unknown_symbol_is_unknown_and_a_quiet_range_is_empty(source: FinnhubSource) -> None:
    with pytest.raises(UnknownSymbol):
        source.earnings("ZZZZNOTREAL", date(2020, 7, 1), date(2020, 9, 30))
    assert source.earnings("AAPL", date(2020, 8, 1), date(2020, 8, 31)) == []


def test_a_rate_limit_is_retried_then_answers(source: FinnhubSource, router: Router, waits: list[float]) -> None:
    router.queue("finnhub.calendar", Reply.file("finnhub", "error_api_limit.json", status=429))
    events = source.earnings("AAPL", date(2020, 7, 1), date(2020, 9, 30))
    assert [e.report_date for e in events] == [date(2020, 7, 30)]
    assert waits == [1.0]


def test_a_lasting_rate_limit_ends_as_rate_limited(source: FinnhubSource, router: Router, waits: list[float]) -> None:
    router.always("finnhub.calendar", Reply.file("finnhub", "error_api_limit.json", status=429))
    with pytest.raises(RateLimited, match="API limit reached"):
        source.earnings("AAPL", date(2020, 7, 1), date(2020, 9, 30))
    assert waits == [1.0, 2.0]


@pytest.mark.parametrize(("status", "name"), [(401, "error_invalid_api_key.json"), (403, "error_no_access.json")])
def test_a_refused_key_is_rejected_with_the_fix(
    source: FinnhubSource, router: Router, waits: list[float], status: int, name: str
) -> None:
    router.always("finnhub.calendar", Reply.file("finnhub", name, status=status))
    with pytest.raises(Rejected) as raised:
        source.earnings("AAPL", date(2020, 7, 1), date(2020, 9, 30))
    assert "MARKETDESK_FINNHUB_API_KEY" in raised.value.one_line()
    assert waits == []


def test_a_missing_key_is_rejected_before_any_request(router: Router, waits: list[float]) -> None:
    with pytest.raises(Rejected, match="finnhub needs an API key"):
        make_source(waits, api_key=None).earnings("AAPL", date(2020, 7, 1), date(2020, 9, 30))
    assert router.calls == []


def test_an_html_error_page_is_temporary_and_does_not_leak_the_key(source: FinnhubSource, router: Router) -> None:
    router.always("finnhub.calendar", Reply.text("<html>proxy error</html>", 200, "text/html"))
    with pytest.raises(Temporary, match="unreadable") as raised:
        source.earnings("AAPL", date(2020, 7, 1), date(2020, 9, 30))
    assert "test-finnhub-key" not in raised.value.one_line()


def test_a_network_failure_does_not_leak_the_key_in_the_url(source: FinnhubSource, router: Router) -> None:
    failure = ConnectionError("Max retries exceeded with url: /api/v1//calendar/earnings?token=test-finnhub-key")
    router.always("finnhub.calendar", Reply.failure(failure))
    with pytest.raises(Temporary) as raised:
        source.earnings("AAPL", date(2020, 7, 1), date(2020, 9, 30))
    assert "token=***" in raised.value.message
    assert "test-finnhub-key" not in raised.value.one_line()
