"""The ledger: FIFO lots, commissions, splits, cash with implicit deposits, shorts for account fills, refusals
with reasons, and the accounting identity total value = net contributions + total return (property-tested)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.portfolio.ledger import (
    Entry,
    Kind,
    LedgerProblem,
    Transaction,
    admit,
    problem,
    replay,
)

D = Decimal
DAY = date(2024, 1, 2)


def buy(symbol: str, qty: str, price: str, day: date = DAY, fee: str = "0") -> Transaction:
    return Transaction(day, Kind.BUY, symbol, qty=D(qty), price=D(price), fee=D(fee))


def sell(symbol: str, qty: str, price: str, day: date = DAY, fee: str = "0") -> Transaction:
    return Transaction(day, Kind.SELL, symbol, qty=D(qty), price=D(price), fee=D(fee))


def cash(kind: Kind, amount: str, day: date = DAY, symbol: str | None = None) -> Transaction:
    return Transaction(day, kind, symbol, amount=D(amount))


def test_a_sell_closes_the_oldest_lot_first() -> None:
    ledger = replay([
        buy("AAA", "10", "100", date(2024, 1, 2)),
        buy("AAA", "10", "120", date(2024, 2, 1)),
        sell("AAA", "15", "130", date(2024, 3, 1)),
    ])  # fmt: skip
    position = ledger.positions["AAA"]
    # FIFO: 10 @ 100 and 5 @ 120 are sold at 130: (130 − 100) × 10 + (130 − 120) × 5 = 300 + 50
    assert position.realized == D(350)
    assert [(lot.qty, lot.cost) for lot in position.lots] == [(D(5), D(600))]


def test_a_buy_commission_is_cost_and_a_sell_commission_reduces_proceeds() -> None:
    ledger = replay([buy("AAA", "10", "100", fee="5"), sell("AAA", "4", "110", fee="2")])
    position = ledger.positions["AAA"]
    # the lot cost 1005; 4 of 10 shares carry 402 of it; proceeds 440 − 2 = 438; realized 438 − 402 = 36
    assert position.realized == D(36)
    assert position.cost_basis == D(603)
    assert position.commissions == D(7)
    assert ledger.implicit_deposits == D(1005)
    assert ledger.cash == D(438)


def test_a_split_multiplies_the_lots_and_keeps_their_cost() -> None:
    ledger = replay([
        buy("AAA", "10", "400"),
        Transaction(DAY + timedelta(days=1), Kind.SPLIT, "AAA", ratio=D(4)),
        sell("AAA", "20", "110", DAY + timedelta(days=2)),
    ])  # fmt: skip
    position = ledger.positions["AAA"]
    assert position.qty == D(20)
    assert position.cost_basis == D(2000)  # half of the 4000 the lot cost
    assert position.realized == D(20) * D(110) - D(2000)  # 200
    assert position.mark == D(110)


def test_a_reverse_split_shrinks_the_position() -> None:
    ledger = replay([buy("AAA", "100", "2"), Transaction(DAY, Kind.SPLIT, "AAA", ratio=D("0.1"))])
    assert ledger.positions["AAA"].qty == D(10)
    assert ledger.positions["AAA"].cost_basis == D(200)
    assert ledger.positions["AAA"].mark == D(20)


def test_a_buy_the_cash_cannot_cover_brings_the_shortfall_in_as_an_implicit_deposit() -> None:
    ledger = replay([cash(Kind.DEPOSIT, "300"), buy("AAA", "10", "50")])
    assert ledger.deposits == D(300)
    assert ledger.implicit_deposits == D(200)
    assert ledger.cash == D(0)
    assert [s.flow for s in ledger.steps] == [D(300), D(200)]  # both are external inflows


def test_selling_shares_not_held_is_refused_with_the_reason() -> None:
    with pytest.raises(LedgerProblem, match=r"sells 11 AAA on 2024-01-02 but holds only 10 then") as refused:
        replay([buy("AAA", "10", "1"), sell("AAA", "11", "1")])
    assert refused.value.index == 1
    assert refused.value.symbol == "AAA"


def test_withdrawing_more_cash_than_there_is_is_refused() -> None:
    with pytest.raises(LedgerProblem, match=r"withdraws 101 on 2024-01-02 but the cash then is 100"):
        replay([cash(Kind.DEPOSIT, "100"), cash(Kind.WITHDRAWAL, "101")])


def test_a_split_of_nothing_held_is_refused() -> None:
    with pytest.raises(LedgerProblem, match="splits AAA on 2024-01-02 but holds none then"):
        replay([Transaction(DAY, Kind.SPLIT, "AAA", ratio=D(2))])


def test_a_dividend_after_the_shares_are_sold_is_still_income() -> None:
    ledger = replay([buy("AAA", "10", "10"), sell("AAA", "10", "10"), cash(Kind.DIVIDEND, "3", symbol="AAA")])
    assert ledger.dividends == D(3)
    assert ledger.positions["AAA"].dividends == D(3)
    assert ledger.open_positions() == []


def test_an_account_may_sell_short_and_cover() -> None:
    ledger = replay([sell("AAA", "10", "50"), buy("AAA", "4", "40"), buy("AAA", "8", "45")], allow_short=True)
    position = ledger.positions["AAA"]
    # short 10 @ 50; cover 4 @ 40 (+40) and 6 @ 45 (+30); then long 2 @ 45
    assert position.realized == D(70)
    assert [(lot.qty, lot.cost) for lot in position.lots] == [(D(2), D(90))]


@pytest.mark.parametrize(
    ("transaction", "reason"),
    [
        (Transaction(DAY, Kind.BUY, None, qty=D(1), price=D(1)), "a buy needs a symbol"),
        (Transaction(DAY, Kind.SELL, "AAA", qty=D(-1), price=D(1)), "a sell needs a quantity greater than 0"),
        (Transaction(DAY, Kind.BUY, "AAA", qty=D(1)), "a buy needs a price of 0 or more"),
        (Transaction(DAY, Kind.BUY, "AAA", qty=D(1), price=D(1), fee=D(-1)), "a fee cannot be negative"),
        (Transaction(DAY, Kind.BUY, "AAA", qty=D(1), price=D(1), amount=D(1)), "a buy takes no amount"),
        (Transaction(DAY, Kind.SPLIT, "AAA", ratio=D(1)), "a split needs a ratio above 0 and not 1"),
        (Transaction(DAY, Kind.DEPOSIT, amount=D(0)), "a deposit needs an amount greater than 0"),
        (Transaction(DAY, Kind.DEPOSIT, "AAA", amount=D(5)), "a deposit is cash and takes no symbol"),
        (Transaction(DAY, Kind.DIVIDEND, "AAA", amount=D(1), fee=D(1)), "a dividend takes no separate fee"),
        (Transaction(DAY, Kind.FEE, amount=D(1), qty=D(2)), "a fee takes no qty"),
        (Transaction(DAY, Kind.BUY, "AAA", qty=D("NaN"), price=D(1)), "qty NaN is not a finite number"),
    ],
)
def test_a_malformed_transaction_is_named_with_what_to_fix(transaction: Transaction, reason: str) -> None:
    found = problem(transaction)
    assert found is not None
    assert found.startswith(reason)


def test_a_sound_transaction_has_no_problem() -> None:
    assert problem(buy("AAA", "1", "0")) is None  # shares received for nothing are a buy at 0
    assert problem(cash(Kind.DIVIDEND, "1")) is None  # interest: a dividend without a symbol


def test_admit_refuses_a_new_sell_that_leaves_a_recorded_later_sell_short() -> None:
    recorded = [
        Entry((date(2024, 1, 2), 0), buy("AAA", "10", "1", date(2024, 1, 2))),
        Entry((date(2024, 3, 1), 0), sell("AAA", "10", "1", date(2024, 3, 1))),
    ]
    candidates = [
        Entry((date(2024, 2, 1), 1), sell("AAA", "3", "1", date(2024, 2, 1)), tag=7),
        Entry((date(2024, 2, 2), 1), buy("BBB", "1", "1", date(2024, 2, 2)), tag=8),
    ]
    refused = admit(recorded, candidates)
    assert list(refused) == [7]
    assert refused[7] == "it would leave a later transaction short: sells 10 AAA on 2024-03-01 but holds only 7 then"


def test_admit_refuses_only_the_candidates_that_cannot_happen() -> None:
    candidates = [
        Entry((DAY, 1), buy("AAA", "5", "1"), tag=2),
        Entry((DAY, 2), sell("AAA", "6", "1"), tag=3),
        Entry((DAY, 3), sell("AAA", "5", "1"), tag=4),
    ]
    assert admit([], candidates) == {3: "sells 6 AAA on 2024-01-02 but holds only 5 then"}


# ---- properties ------------------------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.01"), max_value=D(10_000), places=2)
prices = st.decimals(min_value=D("0.01"), max_value=D(1_000), places=4)


@st.composite
def histories(draw: st.DrawFn) -> list[Transaction]:
    """Random but possible histories of two symbols: sells never exceed holdings, withdrawals never cash."""
    out: list[Transaction] = []
    held = {"AAA": D(0), "BBB": D(0)}
    cash_now = D(0)
    day = DAY
    for _ in range(draw(st.integers(1, 25))):
        day += timedelta(days=draw(st.integers(0, 3)))
        kind = draw(st.sampled_from(list(Kind)))
        symbol = draw(st.sampled_from(["AAA", "BBB"]))
        if kind is Kind.BUY:
            t = Transaction(day, kind, symbol, qty=draw(st.integers(1, 50)) * D(1), price=draw(prices),
                            fee=draw(st.sampled_from([D(0), D(1)])))  # fmt: skip
        elif kind is Kind.SELL:
            if held[symbol] == 0:
                continue
            qty = draw(st.decimals(min_value=D("0.001"), max_value=held[symbol], places=3))
            t = Transaction(day, kind, symbol, qty=qty, price=draw(prices), fee=draw(st.sampled_from([D(0), D(1)])))
        elif kind is Kind.SPLIT:
            if held[symbol] == 0:
                continue
            t = Transaction(day, kind, symbol, ratio=draw(st.sampled_from([D(2), D(3), D("0.5")])))
        elif kind is Kind.WITHDRAWAL:
            if cash_now <= D("0.01"):
                continue
            t = Transaction(day, kind, amount=draw(st.decimals(min_value=D("0.01"), max_value=cash_now, places=2)))
        else:
            t = Transaction(day, kind, symbol if kind is not Kind.DEPOSIT else None, amount=draw(amounts))
        ledger = replay([*out, t])  # keep the model in step with the ledger itself
        held = {s: ledger.positions[s].qty if s in ledger.positions else D(0) for s in held}
        cash_now = ledger.cash
        out.append(t)
    return out


@settings(max_examples=200, deadline=None)
@given(history=histories(), marks=st.tuples(prices, prices))
def test_total_value_is_net_contributions_plus_total_return_exactly(
    history: list[Transaction], marks: tuple[Decimal, Decimal]
) -> None:
    ledger = replay(history)
    mark = dict(zip(("AAA", "BBB"), marks, strict=True))
    market_value = sum((p.qty * mark[p.symbol] for p in ledger.open_positions()), D(0))
    unrealized = market_value - ledger.cost_basis
    total_return = ledger.realized + unrealized + ledger.dividends - ledger.fees
    assert ledger.cash + market_value == ledger.net_contributions + total_return
    assert ledger.cash >= 0
    last = ledger.steps[-1] if ledger.steps else None
    assert last is None or last.cost_basis == ledger.cost_basis  # the running totals agree with the positions
    assert last is None or last.realized == ledger.realized
    assert sum((s.flow for s in ledger.steps), D(0)) == ledger.net_contributions


@settings(max_examples=100, deadline=None)
@given(
    lots=st.lists(st.tuples(st.integers(1, 100), prices), min_size=1, max_size=8),
    exit_price=prices,
)
def test_selling_everything_realizes_proceeds_less_all_costs(
    lots: list[tuple[int, Decimal]], exit_price: Decimal
) -> None:
    history = [buy("AAA", str(qty), str(price)) for qty, price in lots]
    total = sum(qty for qty, _ in lots)
    ledger = replay([*history, sell("AAA", str(total), str(exit_price))])
    assert ledger.positions["AAA"].lots == type(ledger.positions["AAA"].lots)()
    assert ledger.realized == total * exit_price - sum(qty * price for qty, price in lots)
