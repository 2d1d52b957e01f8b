"""The alpaca adapter: what it makes of recorded Alpaca market-data responses, and how it fails.

The recorded bars are real AAPL sessions from July to September 2020, raw and adjusted for the
2020-08-31 4:1 split and the 2020-08-07 dividend, in Alpaca's v2 format.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import requests

from contract.recorded import Reply, Router, install_alpaca, replay_requests
from marketdesk.clock import SimClock
from marketdesk.errors import ConfigError, Operational, RateLimited, Rejected, Temporary, UnknownSymbol
from marketdesk.kit.retry import RetryPolicy
from marketdesk.marketdata.adapters.alpaca import AlpacaSnapshot, AlpacaSource, parse_to_quote
from marketdesk.marketdata.port import validate_bars

NOW = datetime(2020, 10, 1, 14, 0, tzinfo=UTC)
JULY, SEPTEMBER_END = date(2020, 7, 1), date(2020, 9, 30)
FAKE_SECRET = "test-secret"  # noqa: S105 - a fake key; every response is replayed


@pytest.fixture
def router() -> Iterator[Router]:
    with replay_requests() as router:
        install_alpaca(router)
        yield router
    assert router.unplanned == []


@pytest.fixture
def waits() -> list[float]:
    return []


def make_source(
    waits: list[float], key_id: str | None = "PKTEST0000000000000", secret: str | None = FAKE_SECRET
) -> AlpacaSource:
    return AlpacaSource(
        clock=SimClock(NOW),
        key_id=key_id,
        secret_key=secret,
        retry=RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=30.0, jitter=0.0),
        sleep=waits.append,
    )


@pytest.fixture
def source(router: Router, waits: list[float]) -> AlpacaSource:
    return make_source(waits)


def test_bars_are_raw_with_the_fully_adjusted_close(source: AlpacaSource, router: Router) -> None:
    bars = source.bars("AAPL", JULY, SEPTEMBER_END)
    assert validate_bars(bars) == []
    assert len(bars) == 64
    assert bars.loc["2020-08-28", "close"] == pytest.approx(499.23)
    assert bars.loc["2020-08-28", "volume"] == 46_907_479
    assert bars.loc["2020-08-28", "adj_close"] == pytest.approx(124.8075, abs=1e-3)
    adjustments = [r.param("adjustment") for r in router.calls_to("alpaca.bars")]
    assert adjustments == ["raw", "all"]


def test_bars_are_dated_by_the_new_york_session(source: AlpacaSource) -> None:
    bars = source.bars("AAPL", date(2020, 8, 3), date(2020, 8, 7))
    assert [d.date() for d in bars.index] == [date(2020, 8, d) for d in (3, 4, 5, 6, 7)]


def test_the_quote_is_decimal_from_the_snapshot(source: AlpacaSource) -> None:
    quote = source.quote("AAPL")
    assert quote.last == Decimal("115.81")
    assert (quote.bid, quote.ask) == (Decimal("115.78"), Decimal("115.84"))
    assert quote.prev_close == Decimal("114.09")
    assert quote.volume == 142_675_184
    assert quote.ts == datetime(2020, 9, 30, 19, 59, 59, 817345, tzinfo=UTC)
    assert quote.source == "alpaca"


def test_a_crossed_book_gives_no_bid_or_ask() -> None:
    snapshot: AlpacaSnapshot = {
        "latestTrade": {"t": "2020-09-30T19:59:59Z", "p": 115.81, "s": 100, "x": "V"},
        "latestQuote": {"t": "2020-09-30T19:59:59Z", "ap": 115.0, "bp": 116.0},
    }
    quote = parse_to_quote("AAPL", snapshot)
    assert (quote.bid, quote.ask, quote.volume, quote.prev_close) == (None, None, None, None)


@pytest.mark.parametrize(("key_id", "secret"), [(None, FAKE_SECRET), ("PKTEST", None), ("", "")])
def test_a_missing_key_is_rejected_with_the_fix_before_any_request(
    router: Router, waits: list[float], key_id: str | None, secret: str | None
) -> None:
    source = make_source(waits, key_id, secret)
    with pytest.raises(Rejected) as raised:
        source.quote("AAPL")
    text = raised.value.one_line()
    assert "MARKETDESK_ALPACA_KEY_ID" in text and "vault" in text
    assert router.calls == []


def test_a_refused_key_is_rejected_at_once(source: AlpacaSource, router: Router, waits: list[float]) -> None:
    router.always("alpaca.snapshots", Reply.json({"message": "forbidden."}, status=403))
    with pytest.raises(Rejected) as raised:
        source.quote("AAPL")
    assert "HTTP 403" in raised.value.message and "MARKETDESK_ALPACA_SECRET_KEY" in raised.value.one_line()
    assert waits == []


def test_a_rate_limit_waits_until_alpacas_reset_then_answers(
    source: AlpacaSource, router: Router, waits: list[float]
) -> None:
    reset = str(int(NOW.timestamp()) + 5)
    router.queue(
        "alpaca.snapshots",
        Reply.json(
            {"code": 42910000, "message": "rate limit exceeded"}, status=429, headers={"X-RateLimit-Reset": reset}
        ),
    )
    assert source.quote("AAPL").last == Decimal("115.81")
    assert waits == [5.0]


def test_alpaca_pys_own_retries_are_off_so_attempts_are_ours(
    source: AlpacaSource, router: Router, waits: list[float]
) -> None:
    router.always("alpaca.snapshots", Reply.json({"message": "too many requests."}, status=429))
    with pytest.raises(RateLimited):
        source.quote("AAPL")
    assert len(router.calls_to("alpaca.snapshots")) == 3
    assert waits == [1.0, 2.0]


def test_a_network_failure_is_temporary(source: AlpacaSource, router: Router) -> None:
    router.always("alpaca.bars", Reply.failure(requests.exceptions.ConnectTimeout("timed out")))
    with pytest.raises(Temporary, match="cannot reach alpaca"):
        source.bars("AAPL", JULY, SEPTEMBER_END)


def test_a_garbled_response_is_temporary(source: AlpacaSource, router: Router) -> None:
    router.always(
        "alpaca.snapshots", Reply.text('{"AAPL": {"latestTrade": {"t": "2020-09-30T19:5', 200, "application/json")
    )
    with pytest.raises(Temporary, match="unreadable"):
        source.quote("AAPL")


def test_a_response_of_the_wrong_shape_is_operational(source: AlpacaSource, router: Router, waits: list[float]) -> None:
    router.always("alpaca.bars", Reply.json({"unexpected": []}))
    with pytest.raises(Operational, match="unexpected shape"):
        source.bars("AAPL", JULY, SEPTEMBER_END)
    assert waits == []


def test_an_invalid_symbol_is_unknown(source: AlpacaSource, router: Router) -> None:
    router.always("alpaca.bars", Reply.json({"code": 40010001, "message": "invalid symbol: ZZZZ NOTREAL"}, status=400))
    with pytest.raises(UnknownSymbol):
        source.bars("ZZZZ NOTREAL", JULY, SEPTEMBER_END)


def test_an_unknown_symbol_is_unknown_for_quotes_and_bars(source: AlpacaSource) -> None:
    with pytest.raises(UnknownSymbol):
        source.quote("ZZZZNOTREAL")
    with pytest.raises(UnknownSymbol):
        source.bars("ZZZZNOTREAL", JULY, SEPTEMBER_END)


def test_a_known_symbol_with_no_sessions_in_range_is_an_empty_frame(source: AlpacaSource, router: Router) -> None:
    router.queue("alpaca.bars", Reply.json({"bars": {}, "next_page_token": None}))
    bars = source.bars("AAPL", date(2020, 9, 5), date(2020, 9, 7))  # a weekend and Labor Day
    assert bars.empty and validate_bars(bars) == []


def test_an_unknown_feed_is_a_config_error_listing_the_feeds() -> None:
    with pytest.raises(ConfigError) as raised:
        AlpacaSource(clock=SimClock(NOW), key_id="PK", secret_key=FAKE_SECRET, feed="nasdaq")
    assert "iex" in raised.value.one_line() and "sip" in raised.value.one_line()
