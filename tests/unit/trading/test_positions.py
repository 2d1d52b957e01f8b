"""Positions from fills: average cost, FIFO lots, realized and unrealized P&L, flips and shorts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from marketdesk.trading.activity import Side
from marketdesk.trading.positions import Position, replay

T0 = datetime(2026, 11, 20, 15, tzinfo=UTC)
D = Decimal


def fills(*rows: tuple[str, str, str]) -> list[tuple[Side, Decimal, Decimal, Decimal, datetime]]:
    return [
        (Side(side), D(qty), D(price), D(0), T0 + timedelta(minutes=i)) for i, (side, qty, price) in enumerate(rows)
    ]


def test_adding_averages_the_cost() -> None:
    position = replay("XYZ", fills(("buy", "100", "10"), ("buy", "100", "12")))
    assert position.qty == D(200)
    assert position.average_price == D(11)
    assert position.unrealized_pnl(D(13)) == D(400)


def test_selling_realizes_against_the_average_and_fifo_against_the_oldest_lot() -> None:
    position = replay("XYZ", fills(("buy", "100", "10"), ("buy", "100", "12"), ("sell", "100", "15")))
    assert position.realized_pnl == D(400)  # (15 − 11) × 100
    assert position.realized_pnl_fifo == D(500)  # (15 − 10) × 100: the first lot goes first
    assert [(lot.qty, lot.price) for lot in position.lots] == [(D(100), D(12))]
    assert position.average_price == D(11)


def test_a_short_gains_when_the_price_falls() -> None:
    position = replay("XYZ", fills(("sell", "50", "20"), ("buy", "20", "15")))
    assert position.qty == D(-30)
    assert position.realized_pnl == D(100)  # (20 − 15) × 20
    assert position.unrealized_pnl(D(18)) == D(60)  # (18 − 20) × −30


def test_a_flip_closes_the_old_side_and_opens_the_new_at_the_fill_price() -> None:
    position = replay("XYZ", fills(("buy", "10", "100"), ("sell", "25", "110")))
    assert position.qty == D(-15)
    assert position.average_price == D(110)
    assert position.realized_pnl == D(100)
    assert [(lot.qty, lot.price) for lot in position.lots] == [(D(-15), D(110))]


def test_commissions_are_realized_costs() -> None:
    position = (
        Position("XYZ").apply(Side.BUY, D(10), D(100), D("1.50"), T0).apply(Side.SELL, D(10), D(100), D("1.50"), T0)
    )
    assert position.qty == 0
    assert position.realized_pnl == D("-3.00")
    assert position.realized_pnl_fifo == D("-3.00")


trades = st.lists(
    st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 50), st.integers(1, 200)), min_size=1, max_size=30
)


@given(trades)
def test_a_closed_position_realizes_the_same_by_average_cost_and_fifo(rows: list[tuple[Side, int, int]]) -> None:
    # close out at the end; then both methods must agree on the total, which equals the cash the trades made
    history = [(side, D(qty), D(price), D(0), T0 + timedelta(minutes=i)) for i, (side, qty, price) in enumerate(rows)]
    position = replay("XYZ", history)
    if position.qty != 0:
        closing = Side.SELL if position.qty > 0 else Side.BUY
        position = position.apply(closing, abs(position.qty), D(100), D(0), T0 + timedelta(days=1))
        history.append((closing, abs(replay("XYZ", history).qty), D(100), D(0), T0))
    cash = sum((-side.sign * qty * price for side, qty, price, _, _ in history), D(0))
    assert position.qty == 0
    assert position.lots == ()
    assert position.realized_pnl_fifo == cash  # FIFO is exact
    # average cost divides (a third of a cent…), so it may differ in the 20th decimal place, never more
    assert abs(position.realized_pnl - cash) < Decimal("1e-18")
