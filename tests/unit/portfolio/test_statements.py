"""Statements through the mapping layer: the generic layout and Alpaca's account activities (a sample in the
real format: tests/unit/portfolio/data/alpaca_account_activities.csv), row by row with reasons, stable
fingerprints, and whole-file refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from marketdesk.errors import Rejected
from marketdesk.portfolio.ledger import Kind, Transaction, replay
from marketdesk.portfolio.statements import read_statement

D = Decimal
ALPACA_SAMPLE = Path(__file__).parent / "data" / "alpaca_account_activities.csv"
GENERIC = """date,symbol,side,qty,price,fee
2024-01-02,aapl,buy,10,185.64,1
2024-01-03,AAPL,SELL,4,190,
2024-01-04,,deposit,,,

2024-01-05,AAPL,dividend,6,0.24,
2024-01-06,AAPL,hold,1,1,
2024-01-07,AAPL,buy,-3,1,
2024-13-01,AAPL,buy,1,1,
2024-01-08,MSFT,buy,1,abc,
2024-01-09,AAPL,split,4,,
2024-01-10,,deposit,1,1,
2024-01-11,AAPL,buy,1,1
"""


def test_generic_rows_are_accepted_or_rejected_with_their_line_and_reason() -> None:
    statement = read_statement(GENERIC)
    assert statement.layout == "generic"
    outcome = {row.line: row.reason or row.transaction for row in statement.rows}
    assert outcome == {
        2: Transaction(date(2024, 1, 2), Kind.BUY, "AAPL", qty=D(10), price=D("185.64"), fee=D(1)),
        3: Transaction(date(2024, 1, 3), Kind.SELL, "AAPL", qty=D(4), price=D(190)),
        4: "a deposit needs its cash in amount (or as qty × price)",
        # line 5 is blank: no row
        6: Transaction(date(2024, 1, 5), Kind.DIVIDEND, "AAPL", amount=D("1.44")),  # 6 shares × 0.24
        7: "side 'hold' is not one of buy, sell, dividend, split, deposit, withdrawal, fee",
        8: "a buy needs a quantity greater than 0",
        9: "date '2024-13-01' is not a date like YYYY-MM-DD",
        10: "price: 'abc' is not a number",
        11: Transaction(date(2024, 1, 9), Kind.SPLIT, "AAPL", ratio=D(4)),
        12: Transaction(date(2024, 1, 10), Kind.DEPOSIT, amount=D(1)),  # 1 × 1
        13: "has 5 fields; the header has 6",
    }


def test_fingerprints_are_stable_and_tell_repeated_rows_apart() -> None:
    text = "date,symbol,side,qty,price\n2024-01-02,AAA,buy,10,5\n2024-01-02,AAA,buy,10.00,5.0\n2024-01-03,AAA,buy,1,5\n"
    first, again = read_statement(text), read_statement(text)
    prints = [row.fingerprint for row in first.rows]
    assert prints == [row.fingerprint for row in again.rows]
    assert len(set(prints)) == 3  # two identical fills the same day are two rows, not one
    # the same rows in another file, after a new first row: the same fingerprints
    extended = read_statement(text.replace("\n", "\n2023-12-29,AAA,buy,1,4\n", 1))
    assert prints == [row.fingerprint for row in extended.rows][1:]


def test_columns_can_be_renamed_and_dates_given_in_another_format() -> None:
    text = "Trade Date,Ticker,Action,Shares,Price\n01/02/2024,AAA,buy,10,5\n"
    statement = read_statement(
        text, column_map={"date": "Trade Date", "symbol": "Ticker", "side": "Action", "qty": "Shares"},
        date_format="%m/%d/%Y",
    )  # fmt: skip
    assert [row.transaction for row in statement.rows] == [
        Transaction(date(2024, 1, 2), Kind.BUY, "AAA", qty=D(10), price=D(5))
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("when,what\n2024-01-02,x\n", "matches no statement layout"),
        ("date,symbol,side,qty,price,comment\n", "columns the generic layout does not know: comment"),
        ("date,symbol,side,qty,price,price\n", "the columns price appear more than once"),
        ('date,symbol,side,qty,price\n"2024-01-02,AAA,buy,1,1\n', "the file is not CSV"),
        ("activity_type,id,colour\nFILL,1,red\n", "columns Alpaca's account activities do not: colour"),
    ],
)
def test_a_file_that_cannot_be_read_as_a_whole_is_refused(text: str, message: str) -> None:
    with pytest.raises(Rejected, match=message):
        read_statement(text)


def test_an_unknown_layout_is_refused() -> None:
    with pytest.raises(Rejected, match="unknown layout 'ibkr'"):
        read_statement("date,symbol,side,qty,price\n", layout="ibkr")


def test_the_alpaca_sample_maps_each_activity() -> None:
    statement = read_statement(ALPACA_SAMPLE.read_text())
    assert statement.layout == "alpaca"
    by_line = {row.line: row for row in statement.rows}
    accepted = {line: row.transaction for line, row in by_line.items() if row.accepted}
    rejected = {line: row.reason for line, row in by_line.items() if not row.accepted}
    assert accepted == {
        2: Transaction(date(2024, 3, 15), Kind.FEE, None, amount=D("0.02")),  # REG/TAF fee
        3: Transaction(date(2024, 3, 1), Kind.WITHDRAWAL, amount=D("500.00")),  # CSW
        4: Transaction(date(2024, 2, 27), Kind.SELL, "AAPL", qty=D(5), price=D("179.66")),
        6: Transaction(date(2024, 2, 15), Kind.FEE, "AAPL", amount=D("0.36")),  # DIVNRA: tax withheld
        7: Transaction(date(2024, 2, 15), Kind.DIVIDEND, "AAPL", amount=D("2.40")),
        10: Transaction(date(2024, 1, 31), Kind.DIVIDEND, None, amount=D("1.23")),  # INT: interest
        11: Transaction(date(2024, 1, 10), Kind.BUY, "MSFT", qty=D(1), price=D("375.12")),
        12: Transaction(date(2024, 1, 10), Kind.BUY, "MSFT", qty=D(2), price=D("375.10")),  # a partial fill
        13: Transaction(date(2024, 1, 5), Kind.DEPOSIT, amount=D("250.00")),  # JNLC in
        15: Transaction(date(2024, 1, 3), Kind.BUY, "AAPL", qty=D(10), price=D("185.64")),
        16: Transaction(date(2024, 1, 2), Kind.DEPOSIT, amount=D("5000.00")),  # CSD
    }
    assert rejected == {
        5: "Alpaca activity type SSO is not imported (FILL, DIV…, INT…, CSD, CSW, JNLC, FEE, CFEE are)",
        8: "a return of capital (DIVROC) lowers cost basis, which portfolios do not model yet",
        9: "a short sale is not kept in a hand-kept portfolio; link the Alpaca account instead",
        14: "the CSD activity was canceled",
    }
    assert by_line[15].at == datetime(2024, 1, 3, 14, 35, 11, 512000, tzinfo=UTC)
    assert by_line[15].fingerprint != by_line[11].fingerprint


def test_the_alpaca_sample_replays_to_the_cash_and_lots_worked_out_by_hand() -> None:
    rows = [r for r in read_statement(ALPACA_SAMPLE.read_text()).rows if r.accepted]
    ordered = sorted(
        rows, key=lambda r: (r.transaction.day if r.transaction else date.min, r.at or datetime.min.replace(tzinfo=UTC))
    )
    ledger = replay([r.transaction for r in ordered if r.transaction is not None])
    # 5000 + 250 in; AAPL 10 × 185.64 and MSFT 2 × 375.10 + 1 × 375.12 bought; AAPL 5 × 179.66 sold;
    # 2.40 + 1.23 income; 0.36 + 0.02 fees; 500 out:
    # 5250 − 1856.40 − 1125.32 + 898.30 + 3.63 − 0.38 − 500 = 2669.83
    assert ledger.cash == D("2669.83")
    assert ledger.positions["AAPL"].realized == D("-29.90")  # 5 × (179.66 − 185.64)
    assert (ledger.positions["AAPL"].qty, ledger.positions["AAPL"].cost_basis) == (D(5), D("928.20"))
    assert (ledger.positions["MSFT"].qty, ledger.positions["MSFT"].cost_basis) == (D(3), D("1125.32"))
    assert ledger.implicit_deposits == D(0)
