"""The screener's "Your holdings" column: the words it shows for a name held, from real valuations of replayed
ledgers (weights and P&L worked out by hand)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np

from marketdesk.portfolio.ledger import Kind, Transaction, replay
from marketdesk.portfolio.valuation import PriceHistory, Valuation, value_holdings
from marketdesk.web.screener_holdings import dollars, holding_cells, holding_text, weight_text

D = Decimal
DAY = date(2024, 3, 1)


def valued(cash: str, buys: list[tuple[str, str, str]], closes: dict[str, float]) -> Valuation:
    """A portfolio that deposited `cash` and made `buys` (symbol, qty, price), marked at `closes` on DAY."""
    transactions = [Transaction(date(2024, 1, 2), Kind.DEPOSIT, amount=D(cash))]
    transactions += [Transaction(date(2024, 1, 3), Kind.BUY, s, qty=D(q), price=D(p)) for s, q, p in buys]
    symbols = tuple(closes)
    prices = PriceHistory(
        np.array([DAY], dtype="datetime64[D]"), symbols, np.array([[closes[s] for s in symbols]], dtype=float)
    )
    return value_holdings(replay(transactions), prices, DAY)


def test_a_name_held_in_one_portfolio_shows_its_weight_and_unrealized_pnl() -> None:
    # 10,000 in; 20 AAA bought at 100 and now at 150: 3,000 of 11,000 (27.3%), 1,000 up
    cells = holding_cells([("Long term", valued("10000", [("AAA", "20", "100")], {"AAA": 150.0}))])
    assert cells == {"AAA": {"held": 3000 / 11000, "held_text": "You own 27% · +$1,000"}}


def test_a_name_held_in_two_portfolios_names_each_and_sorts_by_the_larger_weight() -> None:
    # Long term: 10 BBB at 50, now 45: 450 of 9,950 (4.5%), −50.
    # Paper: 5,000 in, 100 BBB at 40, now 45: 4,500 of 5,500 (82%), +500
    long_term = valued("10000", [("BBB", "10", "50")], {"BBB": 45.0})
    paper = valued("5000", [("BBB", "100", "40")], {"BBB": 45.0})
    cells = holding_cells([("Long term", long_term), ("Paper", paper)])
    assert cells["BBB"]["held_text"] == "You own 4.5% of Long term · −$50; 82% of Paper · +$500"
    assert cells["BBB"]["held"] == 4500 / 5500


def test_a_name_not_held_has_no_cell() -> None:
    cells = holding_cells([("Cash only", valued("5000", [], {}))])
    assert cells == {}
    assert holding_text([]) == ""


def test_dollars_are_whole_with_the_sign_of_the_gain() -> None:
    assert [dollars(D(x)) for x in ("1000", "-30.4", "0.4", "2.5", "3.5", "-1234567.89")] == [
        "+$1,000", "−$30", "$0", "+$2", "+$4", "−$1,234,568",
    ]  # fmt: skip


def test_weights_show_a_decimal_below_ten_percent() -> None:
    assert [weight_text(w) for w in (0.004, 0.0213, 0.0999, 0.35, 1.0, None)] == [
        "0.4%", "2.1%", "10.0%", "35%", "100%", "—",
    ]  # fmt: skip
