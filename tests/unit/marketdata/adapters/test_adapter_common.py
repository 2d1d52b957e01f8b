"""What the online adapters share: key checks, error translation, retry-after parsing, small parsers."""

from __future__ import annotations

import http.client
import json
import urllib.error
from datetime import UTC, date, datetime
from email.utils import format_datetime

import pytest
import requests

from marketdesk.clock import SimClock
from marketdesk.errors import Operational, RateLimited, Rejected, Temporary, UnknownSymbol
from marketdesk.marketdata.adapters._common import (
    bars_frame,
    http_error,
    optional_float,
    parse_utc,
    require_key,
    retry_after_s,
    scrub,
    translate_common,
)
from marketdesk.marketdata.port import validate_bars

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def test_a_missing_key_is_rejected_with_the_settings_to_fill_in() -> None:
    with pytest.raises(Rejected) as raised:
        require_key(None, source="alpaca", setting="alpaca_key_id", all_settings=("alpaca_key_id", "alpaca_secret_key"))
    text = raised.value.one_line()
    assert "MARKETDESK_ALPACA_KEY_ID" in text and "MARKETDESK_ALPACA_SECRET_KEY" in text
    assert "vault" in text


def test_a_blank_key_counts_as_missing_and_a_real_one_is_trimmed() -> None:
    with pytest.raises(Rejected):
        require_key("   ", source="fred", setting="fred_api_key")
    assert require_key(" abc \n", source="fred", setting="fred_api_key") == "abc"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /api/v1//calendar/earnings?token=c8k2abc&symbol=AAPL",
            "GET /api/v1//calendar/earnings?token=***&symbol=AAPL",
        ),
        ("/query?function=NEWS_SENTIMENT&apikey=DEMO123", "/query?function=NEWS_SENTIMENT&apikey=***"),
        ("observations?series_id=DGS10&api_key=abcdef0123", "observations?series_id=DGS10&api_key=***"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_scrub_masks_keys_in_urls(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_retry_after_reads_seconds_dates_and_reset_epochs() -> None:
    assert retry_after_s({"Retry-After": "12"}, NOW) == 12.0
    later = datetime(2026, 11, 20, 15, 0, 30, tzinfo=UTC)
    assert retry_after_s({"Retry-After": format_datetime(later, usegmt=True)}, NOW) == 30.0
    assert retry_after_s({"X-RateLimit-Reset": str(int(NOW.timestamp()) + 5)}, NOW) == 5.0
    assert retry_after_s({}, NOW) is None
    assert retry_after_s({"Retry-After": "soon"}, NOW) is None


def test_http_statuses_map_to_how_the_caller_should_react() -> None:
    limited = http_error("finnhub", 429, detail="API limit reached", wait_s=3.0)
    assert isinstance(limited, RateLimited) and limited.retry_after_s == 3.0
    refused = http_error("finnhub", 401, detail="Invalid API key.", key_settings=("finnhub_api_key",))
    assert isinstance(refused, Rejected) and "MARKETDESK_FINNHUB_API_KEY" in refused.one_line()
    unknown = http_error("yahoo", 404, symbol="ZZZZ")
    assert isinstance(unknown, UnknownSymbol) and unknown.symbol == "ZZZZ"
    assert isinstance(http_error("yahoo", 503), Temporary)
    assert isinstance(http_error("yahoo", 404), Operational), "a 404 that is not about a symbol is our bug"
    assert isinstance(http_error("yahoo", 418), Operational)


def _response(status: int, body: str, url: str = "https://example.test/x?token=SECRET") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.url = url
    return response


def test_vendor_exceptions_become_our_errors_without_leaking_keys() -> None:
    clock = SimClock(NOW)
    network = translate_common(
        "finnhub",
        requests.exceptions.ConnectionError("Max retries exceeded with url: /api/v1/x?token=SECRET123"),
        what="earnings",
        symbol="AAPL",
        clock=clock,
    )
    assert isinstance(network, Temporary)
    assert "SECRET123" not in network.one_line()
    garbled = translate_common(
        "yahoo", json.JSONDecodeError("Expecting value", '{"chart": {', 11), what="chart", symbol=None, clock=clock
    )
    assert isinstance(garbled, Temporary) and "unreadable" in garbled.message
    shape = translate_common("yahoo", KeyError("chart"), what="chart", symbol=None, clock=clock)
    assert isinstance(shape, Operational) and "unexpected shape" in shape.message
    urllib_down = translate_common(
        "fred", urllib.error.URLError(ConnectionRefusedError(111, "refused")), what="DGS10", symbol=None, clock=clock
    )
    assert isinstance(urllib_down, Temporary)
    http = requests.exceptions.HTTPError(response=_response(429, "slow down"))
    assert isinstance(translate_common("x", http, what="q", symbol=None, clock=clock), RateLimited)


def test_timestamps_with_nanoseconds_parse_to_utc() -> None:
    assert parse_utc("2020-09-30T19:59:59.817345024Z") == datetime(2020, 9, 30, 19, 59, 59, 817345, tzinfo=UTC)
    assert parse_utc("2024-05-01T04:00:00Z") == datetime(2024, 5, 1, 4, 0, tzinfo=UTC)
    assert parse_utc("2024-05-01T00:00:00-04:00") == datetime(2024, 5, 1, 4, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="no zone"):
        parse_utc("2024-05-01T04:00:00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (".", None),
        ("-", None),
        ("None", None),
        (float("nan"), None),
        ("4.51", 4.51),
        (3, 3.0),
    ],
)
def test_optional_float_treats_vendor_blanks_as_missing(value: object, expected: float | None) -> None:
    assert optional_float(value) == expected


def test_bars_frame_builds_the_port_shape_and_keeps_only_the_range() -> None:
    rows = [
        (date(2026, 11, 4), 10.0, 11.0, 9.5, 10.5, 10.4, 1000.0),
        (date(2026, 11, 2), 9.0, 10.0, 8.5, 9.5, 9.4, 900.0),
        (date(2026, 11, 9), 11.0, 12.0, 10.5, 11.5, 11.4, 1100.0),
    ]
    frame = bars_frame(rows, date(2026, 11, 1), date(2026, 11, 6))
    assert validate_bars(frame) == []
    assert [d.date() for d in frame.index] == [date(2026, 11, 2), date(2026, 11, 4)]
    assert validate_bars(bars_frame([], date(2026, 11, 1), date(2026, 11, 6))) == []


def test_a_body_cut_short_is_unreadable_and_a_dropped_connection_is_a_network_failure() -> None:
    clock = SimClock(NOW)
    cut = translate_common("fred", http.client.IncompleteRead(b"<observ", 512), what="DGS10", symbol=None, clock=clock)
    assert isinstance(cut, Temporary) and "unreadable" in cut.message
    dropped = translate_common("fred", http.client.RemoteDisconnected("closed"), what="DGS10", symbol=None, clock=clock)
    assert isinstance(dropped, Temporary) and "cannot reach fred" in dropped.message
