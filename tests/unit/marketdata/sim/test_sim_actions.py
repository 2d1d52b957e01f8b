"""Splits and dividends: raw prices jump, adjusted prices stay continuous, and the actions are reported."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from marketdesk.clock import SimClock
from marketdesk.marketdata.port import AssetClass, CorporateAction, CorporateActionKind
from marketdesk.marketdata.sim import SimMarketData

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim() -> SimMarketData:
    """The default market: 500 equities over 10 years, enough for a few reverse splits."""
    return SimMarketData(SimClock(NOW), seed=42)


@pytest.fixture(scope="module")
def actions(sim: SimMarketData) -> list[CorporateAction]:
    return sim.all_corporate_actions()


@pytest.fixture(scope="module")
def history(sim: SimMarketData) -> pd.DataFrame:
    return sim.history_frame().set_index(["symbol", "date"]).sort_index()


def _bars(history: pd.DataFrame, symbol: str) -> pd.DataFrame:
    bars = history.xs(symbol, level="symbol")
    assert isinstance(bars, pd.DataFrame)
    return bars


def _around(bars: pd.DataFrame, ex_date: date) -> tuple[pd.Series, pd.Series]:
    position = bars.index.get_loc(pd.Timestamp(ex_date))
    assert isinstance(position, int)
    return bars.iloc[position - 1], bars.iloc[position]


def test_splits_happen_both_ways(actions: list[CorporateAction]) -> None:
    splits = [a for a in actions if a.kind is CorporateActionKind.SPLIT]
    ratios = Counter(a.value for a in splits)
    assert 50 <= len(splits) <= 400, len(splits)
    assert ratios[Decimal("2.0")] > 0 and (ratios[Decimal("3.0")] + ratios[Decimal("4.0")]) > 0
    reverse = [a for a in splits if a.value < 1]
    assert 1 <= len(reverse) <= 40, "a few reverse splits"
    assert {a.value for a in reverse} <= {Decimal("0.1"), Decimal("0.2")}


def test_a_split_jumps_the_raw_close_by_its_ratio_and_leaves_adj_close_continuous(
    actions: list[CorporateAction], history: pd.DataFrame
) -> None:
    splits = [a for a in actions if a.kind is CorporateActionKind.SPLIT]
    checked = 0
    for split in splits:
        bars = _bars(history, split.symbol)
        if pd.Timestamp(split.ex_date) == bars.index[0]:
            continue
        before, on = _around(bars, split.ex_date)
        ratio = float(split.value)
        # the raw close falls by the ratio, give or take one day's move
        assert abs(np.log(before["close"] / on["close"]) - np.log(ratio)) < 0.3, split
        assert abs(np.log(on["open"] * ratio / before["close"])) < 0.3, "the open is quoted post-split"
        assert abs(np.log(on["adj_close"] / before["adj_close"])) < 0.3, "adjusted prices do not jump"
        # raw volume is in shares of the day: it scales with the split
        volume_before = bars["volume"].loc[: pd.Timestamp(split.ex_date)].iloc[-21:-1].median()
        volume_after = bars["volume"].loc[pd.Timestamp(split.ex_date) :].iloc[:20].median()
        assert 0.25 * ratio < volume_after / volume_before < 4 * ratio
        checked += 1
    assert checked >= 20


def test_splits_are_reported_per_symbol(sim: SimMarketData, actions: list[CorporateAction]) -> None:
    split = next(a for a in actions if a.kind is CorporateActionKind.SPLIT)
    mine = sim.corporate_actions(split.symbol, split.ex_date, split.ex_date)
    assert split in mine
    assert all(a.symbol == split.symbol and a.source == "sim" for a in mine)


def test_payers_pay_quarterly_and_non_payers_never(sim: SimMarketData, actions: list[CorporateAction]) -> None:
    dividends = Counter(a.symbol for a in actions if a.kind is CorporateActionKind.DIVIDEND)
    equities = [i.symbol for i in sim.symbols() if i.asset_class is AssetClass.EQUITY]
    payers = [s for s in equities if dividends[s]]
    assert 0.4 < len(payers) / len(equities) < 0.9
    regular = [s for s in payers if 38 <= dividends[s] <= 41]
    assert len(regular) >= 0.9 * len(payers), "four a year for ten years (a fallen penny stock may stop paying)"
    assert max(dividends[s] for s in payers) <= 41
    assert dividends["SIMX"] >= 38 and dividends["UST10Y"] == 0
    one = sim.corporate_actions(payers[0], date(2025, 1, 1), date(2025, 12, 31))
    quarters = {(a.ex_date.month - 1) // 3 for a in one if a.kind is CorporateActionKind.DIVIDEND}
    assert quarters == {0, 1, 2, 3}


def test_dividends_are_cash_amounts_and_plausible_yields(actions: list[CorporateAction], history: pd.DataFrame) -> None:
    dividends = [a for a in actions if a.kind is CorporateActionKind.DIVIDEND]
    assert all(a.value == a.value.quantize(Decimal("0.01")) and a.value > 0 for a in dividends)
    yields = []
    for dividend in dividends[::25]:
        before, _ = _around(_bars(history, dividend.symbol), dividend.ex_date)
        yields.append(4 * float(dividend.value) / before["close"])
    assert 0.005 < float(np.median(yields)) < 0.06


def test_adj_close_steps_by_the_dividend_on_its_ex_date(actions: list[CorporateAction], history: pd.DataFrame) -> None:
    dividends = [a for a in actions if a.kind is CorporateActionKind.DIVIDEND]
    for dividend in dividends[::40]:
        bars = _bars(history, dividend.symbol)
        if pd.Timestamp(dividend.ex_date) == bars.index[0]:
            continue
        before, on = _around(bars, dividend.ex_date)
        factor_before = before["adj_close"] / before["close"]
        factor_on = on["adj_close"] / on["close"]
        expected = 1.0 - float(dividend.value) / before["close"]
        assert factor_before / factor_on == pytest.approx(expected, rel=1e-9), dividend


def test_adj_close_equals_close_on_the_last_day(history: pd.DataFrame) -> None:
    last = history.groupby(level="symbol", observed=True).tail(1)
    assert len(last) > 500
    assert (last["adj_close"] == last["close"]).all()


def test_adj_close_is_below_close_before_a_dividend(history: pd.DataFrame, actions: list[CorporateAction]) -> None:
    payer = next(a.symbol for a in actions if a.kind is CorporateActionKind.DIVIDEND)
    bars = _bars(history, payer)
    splits = [a for a in actions if a.symbol == payer and a.kind is CorporateActionKind.SPLIT]
    if not splits:
        assert (bars["adj_close"].iloc[:-80] < bars["close"].iloc[:-80]).all()
    factor = bars["adj_close"] / bars["close"]
    assert factor.iloc[-1] == 1.0
    assert factor.iloc[0] < 1.0


def test_adj_close_of_a_sub_range_matches_the_whole_history(
    sim: SimMarketData, actions: list[CorporateAction], history: pd.DataFrame
) -> None:
    split = next(a for a in actions if a.kind is CorporateActionKind.SPLIT and a.value > 1 and a.ex_date.year >= 2019)
    part = sim.bars(split.symbol, date(2018, 1, 1), date(2018, 12, 31))
    whole = _bars(history, split.symbol).loc[part.index]
    np.testing.assert_allclose(part["adj_close"].to_numpy(), whole["adj_close"].to_numpy(), rtol=1e-12)
    assert (part["adj_close"] < part["close"]).all(), "a later split scales earlier adjusted prices down"
