"""Trade links (`/trade?symbol=…&side=…&qty=…`) read into a prefilled ticket, and a position size in the ticket's
words: every bad parameter is named, nothing unknown is dropped silently."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest

from marketdesk.errors import Rejected
from marketdesk.portfolio.sizing import SizingInputs, recommend
from marketdesk.screener.model import RegimeState, Verdict
from marketdesk.web.trade_text import Prefill, read_link, size_shares, stars, trade_link


def test_a_bare_trade_page_has_nothing_to_fill() -> None:
    assert read_link([]) is None


def test_a_link_fills_symbol_side_and_quantity() -> None:
    assert read_link([("symbol", "aapl"), ("side", "SELL"), ("qty", "12")]) == Prefill("AAPL", "sell", "12")
    assert read_link([("symbol", "MSFT")]) == Prefill("MSFT", "buy", "")  # buy unless told; no qty: no preview


def test_trade_link_round_trips() -> None:
    url = trade_link("BRK.B", "buy", 7)
    assert url == "/trade?symbol=BRK.B&side=buy&qty=7"
    parts = urlsplit(url)
    assert parts.path == "/trade"
    assert read_link(parse_qsl(parts.query)) == Prefill("BRK.B", "buy", "7")


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ([("side", "buy"), ("qty", "1")], "the link names no symbol (add symbol=AAPL)"),
        ([("symbol", "AA PL")], "'AA PL' is not a ticker symbol"),
        ([("symbol", "AAPL"), ("side", "short")], "side must be buy or sell, not 'short'"),
        ([("symbol", "AAPL"), ("qty", "-3")], "the quantity must be above 0, got -3"),
        ([("symbol", "AAPL"), ("qty", "ten")], "the quantity 'ten' is not a number"),
        ([("symbol", "AAPL"), ("qty", "")], "give a quantity"),
        ([("symbol", "AAPL"), ("price", "10")], "unknown parameter price (a trade link takes symbol, side and qty)"),
        ([("symbol", "AAPL"), ("symbol", "MSFT")], "symbol given more than once"),
    ],
)
def test_a_bad_link_is_refused_naming_the_problem(params: list[tuple[str, str]], says: str) -> None:
    with pytest.raises(Rejected) as refused:
        read_link(params)
    assert refused.value.message.startswith("this trade link cannot fill the ticket: ")
    assert says in refused.value.message


def test_every_problem_of_a_link_is_named_at_once() -> None:
    with pytest.raises(Rejected) as refused:
        read_link([("side", "up"), ("qty", "0"), ("submit", "yes")])
    message = refused.value.message
    for problem in ("unknown parameter submit", "no symbol", "side must be buy or sell", "must be above 0"):
        assert problem in message


def test_stars_and_shares_in_words() -> None:
    assert stars(3) == "★★★☆☆"
    assert stars(5) == "★★★★★"
    r = recommend(SizingInputs("AAA", Decimal(100), Decimal(100_000), Verdict.BUY, RegimeState.NEUTRAL, atr=Decimal(2)))
    assert size_shares(r) == "20–40 shares at $100.00"  # $2,000 and $4,000 at $100
    held = recommend(
        SizingInputs("AAA", Decimal(100), Decimal(100_000), Verdict.BUY, atr=Decimal(2), held_value=Decimal(9950))
    )
    assert size_shares(held) == "less than one share at $100.00"  # $50 of room at $100 a share
    avoid = recommend(SizingInputs("AAA", Decimal(100), Decimal(100_000), Verdict.AVOID))
    assert size_shares(avoid) == "nothing to buy"
