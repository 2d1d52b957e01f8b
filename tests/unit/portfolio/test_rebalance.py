"""The rebalancing advisor on cases computed by hand (the arithmetic beside each), and its invariants as
properties: after the suggested trades at the quoted prices every line is inside its band or its remaining gap is
under the minimum trade size; no sell exceeds the shares held; the cash never goes below zero."""

from __future__ import annotations

import doctest
from datetime import date
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from marketdesk.portfolio import rebalance as engine
from marketdesk.portfolio.allocation import CASH, SECTOR, SYMBOL, OpenLot, Position, Targets, allocate
from marketdesk.portfolio.rebalance import Advice, Trade, VerdictReading, rebalance, sell_lots, verdict_actions

D = Decimal
IT, HC = "Information Technology", "Health Care"


def lot(year: int, qty: int, cost: int) -> OpenLot:
    return OpenLot(date(year, 1, 3), D(qty), D(cost))


def by_symbol(advice: Advice) -> dict[str, Trade]:
    return {t.symbol: t for t in advice.trades}


def test_60_40_drifted_to_70_30_sells_1000_of_a_and_buys_1000_of_b() -> None:
    # $10,000: A 70 × $100 = $7,000 (70%), B 60 × $50 = $3,000 (30%); back to 60/40 is $1,000 each way
    book = [Position("A", D(70), D(100), lots=(lot(2024, 70, 5600),)), Position("B", D(60), D(50))]
    advice = rebalance(book, D(0), Targets({SYMBOL: {"A": D(60), "B": D(40)}}))
    a, b = by_symbol(advice)["A"], by_symbol(advice)["B"]
    assert (a.side, a.qty, a.value) == ("sell", D(10), D(1000))
    assert (b.side, b.qty, b.value) == ("buy", D(20), D(1000))
    assert a.realized_pnl == a.realized_pnl_fifo == D(200)  # 10 × ($100 − $5,600/70 = $80)
    assert "A is 70.00% of the portfolio, 10.00 pp over its 60% target (band ±5 pp): back to 60%" in a.reason
    assert a.preview_url == "/trade?symbol=A&side=sell&qty=10"
    assert b.preview_url == "/trade?symbol=B&side=buy&qty=20"
    assert [t.symbol for t in advice.trades] == ["A", "B"]  # sells first: they fund the buys
    assert advice.cash_after == D(0)
    after = {line.key: line for line in advice.after[SYMBOL]}
    assert (after["A"].weight_pct, after["B"].weight_pct) == (D(60), D(40))


def test_inside_the_band_nothing_is_traded() -> None:
    book = [Position("A", D(65), D(100)), Position("B", D(35), D(100))]  # 65/35 against 60/40: drift 5 = the edge
    advice = rebalance(book, D(0), Targets({SYMBOL: {"A": D(60), "B": D(40)}}))
    assert advice.trades == () and advice.skipped == ()
    assert "Every line with a target is inside its band: nothing to trade." in advice.notes
    book = [Position("A", D("65.01"), D(100)), Position("B", D("34.99"), D(100))]  # 65.01%: just outside
    assert {
        t.symbol for t in rebalance(book, D(0), Targets({SYMBOL: {"A": D(60), "B": D(40)}}), fractional=True).trades
    } == {"A", "B"}


def test_a_trade_under_the_minimum_size_is_skipped_and_says_so() -> None:
    # $1,500 at 70/30 against 60/40: each way is 10% × $1,500 = $150
    book = [Position("A", D(21), D(50)), Position("B", D(9), D(50))]
    targets = Targets({SYMBOL: {"A": D(60), "B": D(40)}}, min_trade=D(200))
    advice = rebalance(book, D(0), targets)
    assert advice.trades == ()
    assert {s.line for s in advice.skipped} == {"A", "B"}
    assert all("the $150.00 trade is under the minimum trade size ($200.00)" in s.reason for s in advice.skipped)
    assert {t.qty for t in rebalance(book, D(0), Targets(targets.weights, min_trade=D(150))).trades} == {D(3)}


def test_loss_first_lots_change_the_realized_pnl_by_the_hand_computed_amount() -> None:
    # A: 20 shares at $100 = $2,000 in two lots, 10 bought at $50 (2023) and 10 at $120 (2024); B not held, $50.
    # 50/50 sells $1,000 of A = 10 shares. FIFO closes the 2023 lot: 10 × (100 − 50) = +$500. Loss first closes the
    # 2024 lot: 10 × (100 − 120) = −$200. The choice realizes $700 less.
    book = [Position("A", D(20), D(100), lots=(lot(2023, 10, 500), lot(2024, 10, 1200))), Position("B", D(0), D(50))]
    targets = Targets({SYMBOL: {"A": D(50), "B": D(50)}})
    fifo = by_symbol(rebalance(book, D(0), targets))["A"]
    assert (fifo.realized_pnl, fifo.realized_pnl_fifo) == (D(500), D(500))
    assert [(s.day.year, s.qty) for s in fifo.lots] == [(2023, D(10))]
    losses = rebalance(book, D(0), targets, prefer_losses=True)
    sell = by_symbol(losses)["A"]
    assert (sell.realized_pnl, sell.realized_pnl_fifo) == (D(-200), D(500))
    assert sell.realized_pnl - sell.realized_pnl_fifo == D(-700)
    assert [(s.day.year, s.qty, s.pnl) for s in sell.lots] == [(2024, D(10), D(-200))]
    assert (losses.realized_pnl, losses.realized_pnl_fifo) == (D(-200), D(500))
    assert by_symbol(losses)["B"].qty == D(20)  # the buy is the same either way


def test_the_example_of_the_docs_holds() -> None:
    # docs/portfolio.md: A's 70 shares are 60 bought at $50 and 10 at $120; 60/40 sells 10 A and buys 20 B.
    # FIFO: 10 × (100 − 50) = +$500; loss first: 10 × (100 − 120) = −$200.
    book = [Position("A", D(70), D(100), lots=(lot(2023, 60, 3000), lot(2024, 10, 1200))), Position("B", D(60), D(50))]
    targets = Targets({SYMBOL: {"A": D(60), "B": D(40)}})
    fifo, losses = rebalance(book, D(0), targets), rebalance(book, D(0), targets, prefer_losses=True)
    assert [(t.side, t.symbol, t.qty) for t in fifo.trades] == [("sell", "A", D(10)), ("buy", "B", D(20))]
    assert (fifo.realized_pnl, losses.realized_pnl, losses.realized_pnl_fifo) == (D(500), D(-200), D(500))


def test_loss_first_takes_the_biggest_loss_per_share_first_then_fifo() -> None:
    lots = [lot(2021, 5, 400), lot(2022, 5, 600), lot(2023, 5, 550)]  # $80, $120 and $110 a share
    sales = sell_lots(lots, D(12), D(100), prefer_losses=True)
    # the $120 lot (−$20 a share), the $110 lot (−$10), then FIFO: 2 of the $80 lot (+$20 a share)
    assert [(s.day.year, s.qty, s.pnl) for s in sales] == [(2022, D(5), D(-100)), (2023, D(5), D(-50)),
                                                           (2021, D(2), D(40))]  # fmt: skip


def test_a_zero_target_sells_every_share_held_and_never_more() -> None:
    book = [Position("A", D("10.5"), D(100)), Position("B", D(10), D(100))]  # 10.5 shares, whole-share mode
    advice = rebalance(book, D(0), Targets({SYMBOL: {"A": D(0), "B": D(100)}}))
    a = by_symbol(advice)["A"]
    assert (a.side, a.qty, a.value) == ("sell", D("10.5"), D(1050))  # the whole position, fraction included
    assert by_symbol(advice)["B"].qty == D(10)  # $1,050 buys 10 whole shares of B; $50 stays in cash
    assert advice.cash_after == D(50)


def test_whole_shares_round_sells_up_and_buys_down_so_the_cash_never_runs_out() -> None:
    # $10,000: A 40 × $150 = $6,000 (60%), B 133 × $30 = $3,990, cash $10. At 50/50, A sells $1,000 = 6.67
    # shares → 7 ($1,050); B buys $1,010 = 33.67 shares → 33 ($990). Cash: 10 + 1,050 − 990 = $70.
    book = [Position("A", D(40), D(150)), Position("B", D(133), D(30))]
    targets = Targets({SYMBOL: {"A": D(50), "B": D(50)}})
    whole = rebalance(book, D(10), targets)
    assert [(t.side, t.qty, t.value) for t in whole.trades] == [("sell", D(7), D(1050)), ("buy", D(33), D(990))]
    assert whole.cash_after == D(70)
    fractional = rebalance(book, D(10), targets, fractional=True)
    sell, buy = fractional.trades
    assert sell.qty == D("6.666666667")  # 1,000 / 150, rounded up at 1e-9
    assert buy.qty == D("33.666666666")  # 1,010 / 30, rounded down at 1e-9
    assert fractional.cash_after >= 0


def test_a_target_on_a_symbol_not_held_buys_it_and_one_without_a_price_says_why() -> None:
    book = [Position("A", D(100), D(100)), Position("NEW", D(0), D(25))]
    advice = rebalance(book, D(0), Targets({SYMBOL: {"A": D(80), "NEW": D(20)}}))
    assert [(t.symbol, t.side, t.qty) for t in advice.trades] == [("A", "sell", D(20)), ("NEW", "buy", D(80))]
    unpriced = [Position("A", D(100), D(100)), Position("NOPE", D(0), None)]
    advice = rebalance(unpriced, D(0), Targets({SYMBOL: {"A": D(80), "NOPE": D(20)}}))
    (skipped,) = [s for s in advice.skipped if s.line == "NOPE"]
    assert "NOPE has no price to trade at" in skipped.reason


def test_buys_are_funded_by_trimming_lines_inside_their_band_above_target() -> None:
    # $10,000 at $10 a share: A, B, C 29% each (in a ±5 band around 25%), D 10% (15 under), cash 3% ($300).
    # D needs $1,500; the cash gives $300; A, B and C each give their $400 over target.
    book = [Position(s, D(290), D(10)) for s in "ABC"] + [Position("D", D(100), D(10))]
    targets = Targets({SYMBOL: {s: D(25) for s in "ABCD"}})
    advice = rebalance(book, D(300), targets)
    assert {(t.symbol, t.side, t.qty) for t in advice.trades} == {
        ("A", "sell", D(40)), ("B", "sell", D(40)), ("C", "sell", D(40)), ("D", "buy", D(150))
    }  # fmt: skip
    assert "raises cash for the buys" in by_symbol(advice)["A"].reason
    assert advice.cash_short == 0 and advice.cash_after == 0
    assert all(line.weight_pct == 25 for line in advice.after[SYMBOL] if line.key != CASH)


def test_when_the_money_is_short_the_buys_are_cut_and_the_advice_says_so() -> None:
    # A $5,000 and B $2,000 against 50/50, and C $3,000 with no target; no cash. B needs $3,000. A is at its target,
    # so it can give only down to halfway down its band: 50 − 5/2 = 47.5%, $250. B's buy is cut to those $250:
    # 2 whole shares ($200). A sells 2.5 shares, rounded up to 3 ($300). The cash ends at 300 − 200 = $100.
    book = [Position("A", D(50), D(100)), Position("B", D(20), D(100)), Position("C", D(30), D(100))]
    advice = rebalance(book, D(0), Targets({SYMBOL: {"A": D(50), "B": D(50)}}))
    assert [(t.symbol, t.side, t.qty) for t in advice.trades] == [("A", "sell", D(3)), ("B", "buy", D(2))]
    assert advice.cash_short == D(2750)
    assert advice.cash_after == D(100)
    assert any(
        "The cash is short: the sells and the cash on hand fund $250.00 of the $3,000.00 of buys, so each buy is cut "
        "by 91.7%" in note
        for note in advice.notes
    )
    assert "cut to $250.00 because the money is short" in advice.trades[1].reason


def test_a_sector_trade_is_spread_in_proportion_or_to_the_losses_first() -> None:
    # IT 40% of $10,000 against 30%: sell $1,000, spread over AAA $3,000 and AAB $1,000 as $750 and $250
    book = [
        Position("AAA", D(300), D(10), "equity", IT, (lot(2024, 300, 2000),)),  # a $1,000 gain
        Position("AAB", D(100), D(10), "equity", IT, (lot(2024, 100, 1500),)),  # a $500 loss
        Position("HHH", D(500), D(10), "equity", HC),
    ]
    targets = Targets({SECTOR: {IT: D(30)}})
    pro_rata = rebalance(book, D(1000), targets)
    assert {(t.symbol, t.qty) for t in pro_rata.trades} == {("AAA", D(75)), ("AAB", D(25))}
    assert all(t.dimension == SECTOR and t.line == IT for t in pro_rata.trades)
    losses = rebalance(book, D(1000), targets, prefer_losses=True)
    assert [(t.symbol, t.qty, t.realized_pnl) for t in losses.trades] == [("AAB", D(100), D(-500))]


def test_a_symbol_target_wins_over_its_sectors_and_a_sector_with_nothing_left_to_trade_says_why() -> None:
    book = [Position("AAA", D(600), D(10), "equity", IT), Position("HHH", D(400), D(10), "equity", HC)]
    targets = Targets({SYMBOL: {"AAA": D(60)}, SECTOR: {IT: D(40), HC: D(60)}})
    advice = rebalance(book, D(0), targets)
    # AAA is at its own 60% target; IT (all AAA) cannot be sold down by the sector target; HC buys $2,000 of HHH
    assert [(t.symbol, t.side, t.qty) for t in advice.trades] == [("HHH", "buy", D(200))] or advice.cash_short > 0
    (it,) = [s for s in advice.skipped if s.line == IT]
    assert "only its own holdings may be sold (AAA follow their own, finer targets)" in it.reason


def test_a_verdict_that_fell_asks_for_a_review_with_a_preview_of_selling_and_one_that_rose_is_noted() -> None:
    today, logged = date(2026, 11, 20), date(2026, 9, 1)
    readings = [
        VerdictReading("AAA", "Avoid", 2.0, today, "Buy", logged),
        VerdictReading("BBB", "Hold", 5.0, today, "Strong Buy", logged),
        VerdictReading("CCC", "Buy", 7.0, today, "Hold", logged),
        VerdictReading("DDD", "Avoid", 1.5, today),
        VerdictReading("EEE", "Buy", 7.5, today, "Buy", logged),
        VerdictReading("FFF", None, None, None),
    ]
    out = {s.symbol: s for s in verdict_actions(readings, {"AAA": D(10), "BBB": D(5), "DDD": D(3)})}
    assert set(out) == {"AAA", "BBB", "CCC", "DDD"}
    assert out["AAA"].kind == "review"
    assert out["AAA"].text == "review AAA: its verdict fell from Buy (logged on 2026-09-01) to Avoid (as of 2026-11-20)"
    assert out["AAA"].preview_url == "/trade?symbol=AAA&side=sell&qty=10"
    assert (out["BBB"].kind, out["BBB"].preview_url) == ("review", None)  # fell to Hold: review, no sell preview
    assert (out["CCC"].kind, out["CCC"].text) == ("note", "CCC: its verdict rose from Hold (logged on 2026-09-01) "
                                                         "to Buy (as of 2026-11-20)")  # fmt: skip
    assert out["DDD"].text == "review DDD: the screener rates it Avoid (as of 2026-11-20)"


def test_no_targets_means_no_trades_and_a_note() -> None:
    advice = rebalance([Position("A", D(1), D(100))], D(0), Targets())
    assert advice.trades == ()
    assert "No targets yet, so there is nothing to rebalance against." in advice.notes


def test_the_doctests_hold() -> None:
    result = doctest.testmod(engine, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


# ---- properties ----------------------------------------------------------------------------------------

SYMBOLS = ("A", "B", "C", "D", "E")


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Position], Decimal, Targets]:
    """Up to five symbols, each with a symbol target (sum ≤ 100), prices $1–$500, an absolute band, and a minimum
    trade no more than half the band's dollars (so a line inside its band can always give one minimum trade)."""
    n = draw(st.integers(1, 5))
    positions = []
    for symbol in SYMBOLS[:n]:
        price = D(draw(st.integers(100, 50_000))) / 100
        qty = D(draw(st.integers(0, 2_000)))
        cost = (qty * price * D(draw(st.integers(50, 150))) / 100).quantize(D("0.01"))
        lots = (OpenLot(date(2024, 1, 2), qty, cost),) if qty else ()
        positions.append(Position(symbol, qty, price, lots=lots))
    cash = D(draw(st.integers(0, 5_000_000))) / 100
    raw = [draw(st.integers(0, 100)) for _ in range(n)]
    scale = max(sum(raw), 100)
    weights = {
        p.symbol: (D(w) * 100 / scale).quantize(D("0.01"), rounding="ROUND_FLOOR")
        for p, w in zip(positions, raw, strict=True)
    }
    band = D(draw(st.integers(1, 20)))
    total = sum((p.value for p in positions), D(0)) + cash
    assume(total > 0)
    min_trade = min(D(draw(st.integers(0, 500))), band * total / 100 / 2)
    return positions, cash, Targets({SYMBOL: weights}, band_pp=band, min_trade=min_trade)


def check_conserved(positions: list[Position], targets: Targets, advice: Advice) -> None:
    held = {p.symbol: p.qty for p in positions}
    for trade in advice.trades:
        assert trade.qty > 0
        if trade.side == "sell":
            assert trade.qty <= held[trade.symbol], "never sell more than is held"
    assert advice.cash_after >= 0, "buys never need more than the sells and the cash raise"
    assert advice.after.total_value == advice.before.total_value  # trades at the quoted prices move no value
    # the targets sum to 100% at most, so money runs short only by what lines too small to trade (each under the
    # minimum trade) hold over their targets
    assert advice.cash_short <= len(positions) * targets.min_trade, (positions, targets, advice.notes)


@settings(max_examples=300, deadline=None)
@given(books(), st.booleans())
def test_fractional_trades_leave_every_line_in_its_band_or_under_the_minimum_trade(
    book: tuple[list[Position], Decimal, Targets], prefer_losses: bool
) -> None:
    positions, cash, targets = book
    advice = rebalance(positions, cash, targets, fractional=True, prefer_losses=prefer_losses)
    check_conserved(positions, targets, advice)
    total = advice.after.total_value
    for line in advice.after[SYMBOL]:
        if line.target_pct is not None and line.key != CASH:
            gap = abs(line.gap(total))
            assert line.in_band or gap < targets.min_trade + D("0.01"), (line, advice.trades, advice.skipped)


@settings(max_examples=300, deadline=None)
@given(books(), st.booleans())
def test_whole_share_trades_leave_every_line_in_its_band_or_within_a_share_of_it(
    book: tuple[list[Position], Decimal, Targets], prefer_losses: bool
) -> None:
    positions, cash, targets = book
    advice = rebalance(positions, cash, targets, prefer_losses=prefer_losses)
    check_conserved(positions, targets, advice)
    assert all(t.qty == t.qty.to_integral_value() or t.qty == next(p.qty for p in positions if p.symbol == t.symbol)
               for t in advice.trades)  # fmt: skip
    total = advice.after.total_value
    prices = {p.symbol: p.price for p in positions}
    for line in advice.after[SYMBOL]:
        if line.target_pct is not None and line.key != CASH:
            share = prices[line.key] or D(0)
            # rounding to whole shares moves a line by less than one share of it
            outside = abs(line.drift_pp or 0) - (line.band_pp or 0)
            assert line.in_band or abs(line.gap(total)) < targets.min_trade + share or outside * total / 100 < share


def test_allocation_before_matches_allocate() -> None:
    book = [Position("A", D(70), D(100)), Position("B", D(60), D(50))]
    targets = Targets({SYMBOL: {"A": D(60), "B": D(40)}})
    assert rebalance(book, D(0), targets).before == allocate(book, D(0), targets)


SECTORS = ("Energy", "Utilities", "Materials")


@st.composite
def sector_books(draw: st.DrawFn) -> tuple[list[Position], Decimal, Targets]:
    """Up to six holdings over three sectors, each sector held has a target (sum ≤ 100); as in `books`."""
    positions = []
    for i in range(draw(st.integers(1, 6))):
        price = D(draw(st.integers(100, 50_000))) / 100
        qty = D(draw(st.integers(1, 2_000)))
        positions.append(Position(f"S{i}", qty, price, "equity", draw(st.sampled_from(SECTORS))))
    held = sorted({p.sector for p in positions})
    raw = [draw(st.integers(0, 100)) for _ in held]
    scale = max(sum(raw), 100)
    weights = {
        s: (D(w) * 100 / scale).quantize(D("0.01"), rounding="ROUND_FLOOR") for s, w in zip(held, raw, strict=True)
    }
    cash = D(draw(st.integers(0, 5_000_000))) / 100
    band = D(draw(st.integers(1, 20)))
    total = sum((p.value for p in positions), D(0)) + cash
    min_trade = min(D(draw(st.integers(0, 500))), band * total / 100 / 2)
    return positions, cash, Targets({SECTOR: weights}, band_pp=band, min_trade=min_trade)


@settings(max_examples=300, deadline=None)
@given(sector_books(), st.booleans())
def test_sector_trades_leave_every_sector_in_its_band_or_under_the_minimum_trade(
    book: tuple[list[Position], Decimal, Targets], prefer_losses: bool
) -> None:
    positions, cash, targets = book
    advice = rebalance(positions, cash, targets, fractional=True, prefer_losses=prefer_losses)
    check_conserved(positions, targets, advice)
    total = advice.after.total_value
    for line in advice.after[SECTOR]:
        if line.target_pct is not None and line.key != CASH:
            assert line.in_band or abs(line.gap(total)) < targets.min_trade + D("0.01"), (line, advice.skipped)
