"""Allocation against a target: weights, drift and band status by symbol, sector and asset class, computed by hand
beside each case; the band's edges (absolute and relative); the cash line; and the targets' validation."""

from __future__ import annotations

import doctest
from decimal import Decimal

import pytest

from marketdesk.portfolio import allocation
from marketdesk.portfolio.allocation import (
    ASSET_CLASS,
    CASH,
    SECTOR,
    SYMBOL,
    UNKNOWN,
    Line,
    Position,
    Targets,
    allocate,
    targets_problem,
)

D = Decimal


def lines(result: allocation.Allocation, dimension: str) -> dict[str, Line]:
    return {line.key: line for line in result[dimension]}


def test_a_60_40_target_drifted_to_70_30_is_out_of_band_by_10_points_each_way() -> None:
    # A: 70 shares × $100 = $7,000; B: 60 × $50 = $3,000; total $10,000 → 70% / 30%
    book = [Position("A", D(70), D(100)), Position("B", D(60), D(50))]
    result = allocate(book, D(0), Targets({SYMBOL: {"A": D(60), "B": D(40)}}))
    by_symbol = lines(result, SYMBOL)
    assert result.total_value == D(10_000)
    assert (by_symbol["A"].weight_pct, by_symbol["A"].drift_pp, by_symbol["A"].status) == (D(70), D(10), "out_of_band")
    assert (by_symbol["B"].weight_pct, by_symbol["B"].drift_pp, by_symbol["B"].status) == (D(30), D(-10), "out_of_band")
    assert by_symbol["A"].gap(result.total_value) == D(-1000)  # (60 − 70)% × $10,000
    assert by_symbol["B"].gap(result.total_value) == D(1000)
    assert by_symbol[CASH].status == "cash"
    assert by_symbol[CASH].target_pct == D(0)  # the targets sum to 100: nothing is left for cash


@pytest.mark.parametrize(
    ("a_value", "status"),
    [
        (D(6500), "in_band"),  # 65% against 60%: drift exactly +5 pp, the edge counts as inside
        (D("6500.01"), "out_of_band"),  # 65.0001%: just over
        (D(5500), "in_band"),  # 55%: drift exactly −5 pp
        (D("5499.99"), "out_of_band"),
    ],
)
def test_the_band_edge_counts_as_inside(a_value: Decimal, status: str) -> None:
    book = [Position("A", D(1), a_value), Position("B", D(1), D(10_000) - a_value)]
    result = allocate(book, D(0), Targets({SYMBOL: {"A": D(60), "B": D(40)}}, band_pp=D(5)))
    assert lines(result, SYMBOL)["A"].status == status


def test_a_relative_band_is_the_smaller_of_the_two_bands() -> None:
    # 5/25: a 10% target gets ±2.5 pp (25% of 10), a 60% target keeps ±5 pp (25% of 60 is 15)
    targets = Targets({SYMBOL: {"A": D(10), "B": D(60)}}, band_pp=D(5), band_relative_pct=D(25))
    book = [Position("A", D(1), D(1250)), Position("B", D(1), D(6400)), Position("C", D(1), D(2350))]
    by_symbol = lines(allocate(book, D(0), targets), SYMBOL)
    assert (by_symbol["A"].band_pp, by_symbol["A"].status) == (D("2.5"), "in_band")  # 12.5%: drift 2.5 = the edge
    assert (by_symbol["B"].band_pp, by_symbol["B"].status) == (D(5), "in_band")  # 64%: drift 4
    assert by_symbol["C"].status == "untargeted"
    book[0] = Position("A", D(1), D(1260))  # 12.6%: 2.6 pp over a ±2.5 band
    assert lines(allocate(book, D(0), targets), SYMBOL)["A"].status == "out_of_band"


def test_sectors_and_asset_classes_group_the_holdings_and_an_unknown_sector_is_stated() -> None:
    book = [
        Position("AAA", D(10), D(200), "equity", "Information Technology"),  # $2,000
        Position("AAB", D(30), D(100), "equity", "Information Technology"),  # $3,000
        Position("HHH", D(20), D(100), "equity", "Health Care"),  # $2,000
        Position("ETF1", D(20), D(50), "etf", UNKNOWN),  # $1,000
    ]
    targets = Targets({SECTOR: {"Information Technology": D(40), "Energy": D(10)}, ASSET_CLASS: {"bond": D(20)}})
    result = allocate(book, D(2000), targets)  # total $10,000
    sectors = lines(result, SECTOR)
    it = sectors["Information Technology"]
    assert (it.value, it.weight_pct, it.drift_pp, it.status) == (D(5000), D(50), D(10), "out_of_band")
    assert it.symbols == ("AAA", "AAB")
    assert (sectors["Energy"].value, sectors["Energy"].drift_pp) == (D(0), D(-10))  # targeted, not held
    assert sectors["Energy"].status == "out_of_band"
    assert sectors["Health Care"].status == sectors[UNKNOWN].status == "untargeted"
    # cash: 100 − (40 + 10) targeted − (20 Health Care + 10 Unknown) untargeted = 20% implied, and it holds 20%
    assert (sectors[CASH].weight_pct, sectors[CASH].target_pct, sectors[CASH].drift_pp) == (D(20), D(20), D(0))
    classes = lines(result, ASSET_CLASS)
    assert (classes["equity"].weight_pct, classes["etf"].weight_pct) == (D(70), D(10))
    assert (classes["bond"].weight_pct, classes["bond"].status) == (D(0), "out_of_band")  # 20 pp under
    assert any("No sector in the market data for ETF1" in note for note in result.notes)
    assert [line.key for line in result[SECTOR]][-1] == CASH  # cash is its own line, last


def test_holdings_without_a_target_that_leave_no_room_are_said_to_crowd_the_targets() -> None:
    book = [Position("A", D(1), D(5000)), Position("B", D(1), D(3000)), Position("C", D(1), D(2000))]
    result = allocate(book, D(0), Targets({SYMBOL: {"A": D(50), "B": D(40)}}))
    assert lines(result, SYMBOL)[CASH].target_pct is None  # 100 − 90 − 20 (C) is below 0
    assert any("(C) take 10.00 pp more than the targets leave" in note for note in result.notes)


def test_nothing_of_value_has_no_allocation() -> None:
    result = allocate([], D(0), Targets({SYMBOL: {"A": D(50)}}))
    assert all(result[d] == () for d in (SYMBOL, SECTOR, ASSET_CLASS))
    assert result.notes == ("The portfolio holds nothing of value yet, so it has no allocation.",)


@pytest.mark.parametrize(
    ("targets", "problem"),
    [
        (Targets({SYMBOL: {"A": D(70), "B": D(40)}}), "the symbol targets sum to 110%"),
        (Targets({SECTOR: {"Energy": D(101)}}), "the sector target for Energy is 101%"),
        (Targets({ASSET_CLASS: {"bond": D(-1)}}), "the asset class target for bond is -1%"),
        (Targets({"country": {"US": D(1)}}), "unknown target dimension 'country'"),
        (Targets(band_pp=D(-1)), "the band is -1 pp"),
        (Targets(band_relative_pct=D(0)), "the relative band is 0%"),
        (Targets(min_trade=D(-5)), "the minimum trade is -5"),
    ],
)
def test_unsound_targets_are_refused_with_what_to_fix(targets: Targets, problem: str) -> None:
    found = targets_problem(targets)
    assert found is not None
    assert found.startswith(problem)


def test_sound_targets_have_no_problem() -> None:
    assert targets_problem(Targets({SYMBOL: {"A": D(60), "B": D(40)}, SECTOR: {"Energy": D(0)}})) is None


def test_the_doctests_hold() -> None:
    result = doctest.testmod(allocation, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0
