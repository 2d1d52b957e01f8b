"""Round trips from fills, computed by hand: partial closes, scale-ins with their own tags, shorts, flips, one
order filled in parts, commissions shared exactly; and the property that the round trips' P&L adds up to the
FIFO realized P&L of the fills (`marketdesk.trading.positions`, an independent implementation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.journal.roundtrips import RoundTrip, TradeFill, TradeSide, match_round_trips
from marketdesk.trading.activity import Side
from marketdesk.trading.positions import replay

T0 = datetime(2026, 3, 2, 15, tzinfo=UTC)
D = Decimal


def fill(n: int, order: str, side: str, qty: str, price: str, commission: str = "0", *, tag: str | None = None,
         symbol: str = "XYZ", account: str = "acct") -> TradeFill:  # fmt: skip
    return TradeFill(f"f{n}", order, account, symbol, side, D(qty), D(price), D(commission),
                     T0 + timedelta(hours=n), tag)  # fmt: skip


def by_id(trips: list[RoundTrip]) -> dict[str, RoundTrip]:
    return {t.id: t for t in trips}


def test_a_buy_closed_in_two_sells_is_one_round_trip_with_its_partial_close_in_between() -> None:
    fills = [
        fill(1, "o1", "buy", "100", "10", "1", tag="breakout"),
        fill(2, "o2", "sell", "40", "12", "1"),
        fill(3, "o3", "sell", "60", "9", "1.5"),
    ]
    partial = match_round_trips(fills[:2])[0]
    assert (partial.status, partial.closed_qty, partial.open_qty, partial.closed_at) == ("open", 40, 60, None)
    assert partial.gross_pnl == D(80)  # 40 × (12 − 10)
    assert partial.pnl == D(78)  # both commissions so far
    (trip,) = match_round_trips(fills)
    assert (trip.id, trip.side, trip.tag, trip.status) == ("o1", TradeSide.LONG, "breakout", "closed")
    assert trip.gross_pnl == D(20)  # 40 × 2 − 60 × 1
    assert trip.commission == D("3.5")
    assert trip.pnl == D("16.5")
    assert trip.exit_price == D("10.2")  # (40 × 12 + 60 × 9) ÷ 100
    assert trip.exit_order_ids == ("o2", "o3")
    assert (trip.opened_at, trip.closed_at, trip.fills) == (T0 + timedelta(hours=1), T0 + timedelta(hours=3), 3)
    assert trip.return_pct == pytest.approx(1.65)  # 16.5 ÷ 1000 entry value, in percent
    assert trip.holding_days == pytest.approx(2 / 24)


def test_a_scale_in_is_a_round_trip_of_its_own_closed_after_the_first() -> None:
    trips = by_id(match_round_trips([
        fill(1, "a", "buy", "10", "100", tag="A"),
        fill(2, "b", "buy", "10", "110", tag="B"),
        fill(3, "s1", "sell", "15", "120"),
        fill(4, "s2", "sell", "5", "90"),
    ]))  # fmt: skip
    assert trips["a"].pnl == D(200)  # 10 × (120 − 100), the oldest units first
    assert trips["a"].closed_at == T0 + timedelta(hours=3)
    assert trips["b"].pnl == D(-50)  # 5 × (120 − 110) + 5 × (90 − 110)
    assert trips["b"].exit_order_ids == ("s1", "s2")
    assert (trips["a"].tag, trips["b"].tag) == ("A", "B")


def test_a_short_gains_when_the_price_falls() -> None:
    (trip,) = match_round_trips([fill(1, "s", "sell", "50", "20", "1"), fill(2, "c", "buy", "50", "18", "1")])
    assert trip.side is TradeSide.SHORT
    assert (trip.gross_pnl, trip.pnl, trip.entry_price, trip.exit_price) == (D(100), D(98), D(20), D(18))


def test_a_flip_closes_the_long_and_opens_a_short_sharing_the_commission_by_quantity() -> None:
    trips = match_round_trips([
        fill(1, "long", "buy", "100", "10"),
        fill(2, "flip", "sell", "150", "11", "3"),
        fill(3, "cover", "buy", "50", "12"),
    ])  # fmt: skip
    long, short = trips
    assert (long.id, long.pnl, long.commission) == ("long", D(98), D(2))  # 100 × 1 − 3 × 100/150
    assert (short.id, short.side, short.qty, short.entry_price) == ("flip", TradeSide.SHORT, D(50), D(11))
    assert (short.commission, short.pnl, short.status) == (D(1), D(-51), "closed")  # 50 × (11 − 12) − 1


def test_one_order_filled_in_parts_is_one_round_trip_at_its_average_price() -> None:
    (trip,) = match_round_trips([fill(1, "x", "buy", "60", "10"), fill(2, "x", "buy", "40", "10.5")])
    assert (trip.qty, trip.entry_price, trip.entry_value, trip.fills, trip.status) == (
        D(100), D("10.2"), D(1020), 2, "open"
    )  # fmt: skip
    assert (trip.exit_price, trip.return_pct, trip.holding_days) == (None, None, None)


def test_an_order_that_opens_again_after_its_round_trip_closed_gets_a_numbered_id() -> None:
    trips = match_round_trips([
        fill(1, "x", "buy", "30", "10"),
        fill(2, "y", "sell", "30", "11"),
        fill(3, "x", "buy", "70", "12"),  # the rest of order x, after its first 30 were sold
    ])  # fmt: skip
    assert [(t.id, t.status, t.qty) for t in trips] == [("x", "closed", D(30)), ("x~2", "open", D(70))]


def test_accounts_and_symbols_are_matched_apart() -> None:
    trips = match_round_trips([
        fill(1, "a", "buy", "1", "10", symbol="AAA"),
        fill(2, "b", "sell", "1", "20", symbol="BBB"),
        fill(3, "c", "buy", "1", "10", account="other"),
    ])  # fmt: skip
    assert [(t.id, t.symbol, t.side, t.status) for t in trips] == [
        ("a", "AAA", TradeSide.LONG, "open"), ("b", "BBB", TradeSide.SHORT, "open"), ("c", "XYZ", TradeSide.LONG, "open"),
    ]  # fmt: skip


def test_commission_shares_add_up_exactly() -> None:
    trips = match_round_trips([
        fill(1, "a", "buy", "1", "10"), fill(2, "b", "buy", "1", "10"), fill(3, "c", "buy", "1", "10"),
        fill(4, "s", "sell", "3", "10", "1"),
    ])  # fmt: skip
    assert [t.commission for t in trips] == [D("0.33333333"), D("0.33333333"), D("0.33333334")]
    assert sum((t.pnl for t in trips), D(0)) == D(-1)


def test_fills_are_taken_in_time_order_whatever_order_they_come_in() -> None:
    fills = [fill(2, "s", "sell", "5", "12"), fill(1, "b", "buy", "5", "10")]
    (trip,) = match_round_trips(fills)
    assert (trip.id, trip.pnl) == ("b", D(10))


def test_a_fill_without_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="quantity must be positive"):
        match_round_trips([fill(1, "a", "buy", "0", "10")])


quantities = st.decimals(min_value=D("0.001"), max_value=D(500), places=3)
prices = st.decimals(min_value=D("0.01"), max_value=D(1000), places=2)
commissions = st.decimals(min_value=D(0), max_value=D(5), places=2)
fill_rows = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell"]),
        quantities,
        prices,
        commissions,
        st.integers(0, 3),
        st.sampled_from(["AAA", "BBB"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(rows=fill_rows)
def test_round_trip_pnl_adds_up_to_the_fifo_realized_pnl_of_the_fills(
    rows: list[tuple[str, Decimal, Decimal, Decimal, int, str]],
) -> None:
    fills = [
        TradeFill(
            f"f{i}",
            f"o{i // (1 + repeat)}-{side}-{symbol}",
            "acct",
            symbol,
            side,
            qty,
            price,
            commission,
            T0 + timedelta(minutes=i),
            None,
        )
        for i, (side, qty, price, commission, repeat, symbol) in enumerate(rows)
    ]
    trips = match_round_trips(fills)
    for symbol in ("AAA", "BBB"):
        mine = [f for f in fills if f.symbol == symbol]
        position = replay(symbol, [(Side(f.side), f.qty, f.price, f.commission, f.time) for f in mine])
        ours = [t for t in trips if t.symbol == symbol]
        assert sum((t.pnl for t in ours), D(0)) == position.realized_pnl_fifo
        signed_open = sum((t.open_qty if t.side is TradeSide.LONG else -t.open_qty for t in ours), D(0))
        assert signed_open == position.qty
        assert all(0 <= t.closed_qty <= t.qty for t in ours)
        assert sum(1 for t in ours if not t.is_closed) <= len({f.order_id for f in mine})
