"""The fred adapter: the treasury curve and the risk-free rate from recorded FRED XML, and its failures.

The recorded observations are the real H.15 yields of July to September 2020 (see the fixtures README);
fredapi reads them over HTTP from a server on 127.0.0.1.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contract.recorded import LoopbackServer, Reply, Router, install_fred
from marketdesk.clock import SimClock
from marketdesk.errors import NotFound, Operational, RateLimited, Rejected, Temporary
from marketdesk.kit.retry import RetryPolicy
from marketdesk.marketdata.adapters.fred import FredSource
from marketdesk.marketdata.port import TREASURY_TENORS

FAKE_KEY = "abcdef0123456789abcdef0123456789"


@pytest.fixture
def router() -> Router:
    return Router()


@pytest.fixture
def server(router: Router) -> Iterator[LoopbackServer]:
    with LoopbackServer(router) as server:
        install_fred(router, server.base_url)
        yield server
    assert router.unplanned == []


@pytest.fixture
def waits() -> list[float]:
    return []


def make_source(server: LoopbackServer, waits: list[float], api_key: str | None = FAKE_KEY) -> FredSource:
    return FredSource(
        clock=SimClock(datetime(2020, 10, 1, 14, 0, tzinfo=UTC)),
        api_key=api_key,
        root_url=f"{server.base_url}/fred",
        retry=RetryPolicy(attempts=3, base_delay_s=1.0, jitter=0.0),
        sleep=waits.append,
    )


@pytest.fixture
def source(server: LoopbackServer, waits: list[float]) -> FredSource:
    return make_source(server, waits)


def test_yields_have_every_tenor_in_percent_with_holidays_as_nan(source: FredSource) -> None:
    frame = source.yields(date(2020, 9, 1), date(2020, 9, 30))
    assert list(frame.columns) == list(TREASURY_TENORS)
    assert frame.index.name == "date"
    assert frame.loc["2020-09-30", "10y"] == pytest.approx(0.69)
    assert frame.loc["2020-09-30", "3m"] == pytest.approx(0.10)
    assert frame.loc["2020-09-30", "1m"] == pytest.approx(0.08)
    assert all(math.isnan(v) for v in frame.loc["2020-09-07"])  # Labor Day: FRED writes "."
    assert frame.index.min().date() == date(2020, 9, 1) and frame.index.max().date() == date(2020, 9, 30)


def test_yields_ask_fred_for_each_series_over_the_range(source: FredSource, router: Router) -> None:
    source.yields(date(2020, 9, 1), date(2020, 9, 30))
    requests = router.calls_to("fred.observations")
    assert sorted(r.param("series_id") or "" for r in requests) == sorted(
        ["DGS1MO", "DGS3MO", "DGS6MO", "DGS1", "DGS2", "DGS3", "DGS5", "DGS7", "DGS10", "DGS20", "DGS30"]
    )
    assert {(r.param("observation_start"), r.param("observation_end")) for r in requests} == {
        ("2020-09-01", "2020-09-30")
    }


def test_the_risk_free_rate_is_the_3_month_bill_as_a_decimal_fraction(source: FredSource) -> None:
    rate = source.risk_free_rate(date(2020, 9, 30))
    assert rate == Decimal("0.001")
    assert isinstance(rate, Decimal)


def test_on_a_bond_holiday_the_risk_free_rate_is_the_previous_days(source: FredSource) -> None:
    assert source.risk_free_rate(date(2020, 9, 7)) == Decimal("0.0011")  # Labor Day → Friday 2020-09-04


def test_with_no_observation_in_the_lookback_the_rate_is_not_found(source: FredSource) -> None:
    with pytest.raises(NotFound, match="DGS3MO"):
        source.risk_free_rate(date(2020, 6, 10))  # the recording starts in July


def test_an_unregistered_key_is_rejected_with_the_fix(source: FredSource, router: Router, waits: list[float]) -> None:
    router.always("fred.observations", Reply.file("fred", "error_api_key_not_registered.xml", status=400))
    with pytest.raises(Rejected) as raised:
        source.yields(date(2020, 9, 1), date(2020, 9, 30))
    assert "MARKETDESK_FRED_API_KEY" in raised.value.one_line()
    assert FAKE_KEY not in raised.value.one_line()
    assert waits == []


def test_a_missing_key_is_rejected_before_any_request(
    server: LoopbackServer, router: Router, waits: list[float]
) -> None:
    with pytest.raises(Rejected, match="fred needs an API key"):
        make_source(server, waits, api_key=None).yields(date(2020, 9, 1), date(2020, 9, 30))
    assert router.calls == []


def test_a_rate_limit_is_retried_then_answers(source: FredSource, router: Router, waits: list[float]) -> None:
    router.queue("fred.observations", Reply.file("fred", "error_rate_limit.xml", status=429))
    assert source.risk_free_rate(date(2020, 9, 30)) == Decimal("0.001")
    assert waits == [1.0]


def test_a_lasting_rate_limit_ends_as_rate_limited(source: FredSource, router: Router, waits: list[float]) -> None:
    router.always("fred.observations", Reply.file("fred", "error_rate_limit.xml", status=429))
    with pytest.raises(RateLimited):
        source.risk_free_rate(date(2020, 9, 30))
    assert waits == [1.0, 2.0]


def test_a_missing_series_is_operational(source: FredSource, router: Router) -> None:
    router.always("fred.observations", Reply.file("fred", "error_series_does_not_exist.xml", status=400))
    with pytest.raises(Operational, match="series does not exist"):
        source.risk_free_rate(date(2020, 9, 30))


def test_a_dropped_connection_is_temporary(source: FredSource, router: Router) -> None:
    router.always("fred.observations", Reply.failure(ConnectionResetError("dropped")))
    with pytest.raises(Temporary, match="cannot reach fred") as raised:
        source.risk_free_rate(date(2020, 9, 30))
    assert FAKE_KEY not in raised.value.one_line()


def test_garbled_xml_is_temporary(source: FredSource, router: Router) -> None:
    router.always(
        "fred.observations",
        Reply.text('<?xml version="1.0"?><observations><observation date="2020-09-3', 200, "text/xml"),
    )
    with pytest.raises(Temporary, match="unreadable"):
        source.risk_free_rate(date(2020, 9, 30))


@pytest.mark.parametrize(
    "page", ["<html><body>502 Bad Gateway</body>", "<html><body><h1>503 Service Unavailable</h1></body></html>"]
)
def test_a_gateway_error_page_is_temporary(source: FredSource, router: Router, page: str) -> None:
    router.always("fred.observations", Reply.text(page, 502, "text/html"))
    with pytest.raises(Temporary):
        source.risk_free_rate(date(2020, 9, 30))
