from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, Fundamentals, Quote
from marketdesk.marketdata.stats import eps_ttm, key_statistics
from support.fakes import bar_frame


def _bars(n: int = 300) -> pd.DataFrame:
    days = [d.date() for d in pd.bdate_range("2024-01-01", periods=n)]
    closes = np.linspace(100, 130, n)
    return bar_frame(days, closes)


def test_statistics_match_hand_computed_values() -> None:
    bars = _bars()
    fundamentals = [
        Fundamentals("A", date(2024, m, 28), "Q", reported=date(2024, m, 28), eps=1.0, shares_outstanding=1e9)
        for m in (2, 5, 8, 11)
    ]
    dividend = CorporateAction("A", bars.index[-10].date(), CorporateActionKind.DIVIDEND, Decimal("1.30"))
    stats = key_statistics(bars, fundamentals, [dividend], None)
    last = 130.0
    assert stats.last == pytest.approx(last)
    assert stats.prev_close == pytest.approx(bars["close"].iloc[-2])
    assert stats.eps_ttm == pytest.approx(4.0)
    assert stats.pe == pytest.approx(last / 4.0)
    assert stats.market_cap == pytest.approx(1e9 * last)
    assert stats.dividend_yield_pct == pytest.approx(1.30 / last * 100)
    assert stats.week52_high == pytest.approx(bars["high"].iloc[-252:].max())
    window = bars["adj_close"].to_numpy()[-253:]
    assert stats.return_1y_pct == pytest.approx((window[-1] / window[0] - 1) * 100)
    assert stats.bars == 300 and stats.last_date == bars.index[-1].date()


def test_a_live_quote_sets_last_and_change() -> None:
    bars = _bars()
    quote = Quote("A", datetime(2025, 2, 1, tzinfo=UTC), Decimal("143.00"), prev_close=Decimal("130.00"))
    stats = key_statistics(bars, [], [], quote)
    assert stats.last == 143.0 and stats.change_pct == pytest.approx(10.0)
    assert stats.week52_high == pytest.approx(143.0)  # a new high today counts
    assert stats.below_52w_high_pct == pytest.approx(0.0)


def test_missing_inputs_give_missing_statistics_never_nan() -> None:
    from marketdesk.marketdata.port import empty_bars

    empty = empty_bars()
    stats = key_statistics(empty, [], [], None)
    assert stats.last is None and stats.pe is None and stats.market_cap is None and stats.bars == 0
    loss = [Fundamentals("A", date(2024, m, 28), "Q", eps=-1.0) for m in (2, 5, 8, 11)]
    assert key_statistics(_bars(), loss, [], None).pe is None  # no P/E on losses


def test_eps_ttm_respects_what_was_known_and_falls_back_to_annual() -> None:
    quarters = [
        Fundamentals("A", date(2024, m, 28), "Q", reported=date(2024, m + 1, 15), eps=float(m)) for m in (2, 5, 8, 11)
    ]
    annual = [Fundamentals("A", date(2023, 12, 31), "FY", reported=date(2024, 2, 20), eps=9.0)]
    assert eps_ttm(quarters + annual, date(2024, 12, 31)) == pytest.approx(2 + 5 + 8 + 11)
    assert eps_ttm(quarters + annual, date(2024, 10, 1)) == pytest.approx(9.0)  # Q4 not yet reported
    assert eps_ttm([], date(2024, 10, 1)) is None
