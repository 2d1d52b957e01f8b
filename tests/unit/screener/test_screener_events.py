from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, EarningsEvent
from marketdesk.screener.events import earnings_stats, reaction_pct

CLOSES = pd.Series(
    [100.0, 102.0, 110.0, 108.0, 99.0, 100.0],
    index=pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-08", "2025-01-09", "2025-01-10", "2025-01-13"]),
)


def test_reaction_spans_prior_close_to_the_next_session_close() -> None:
    # report on the 8th: from the 7th's close (102) to the 9th's (108)
    assert reaction_pct(CLOSES, date(2025, 1, 8)) == pytest.approx((108 / 102 - 1) * 100)
    # a report on a weekend day counts from the Friday close to the Monday+1 close
    assert reaction_pct(CLOSES, date(2025, 1, 11)) is None  # no session after Monday in the data
    assert reaction_pct(CLOSES, date(2025, 1, 6)) is None  # no close before the first day


def test_beat_rate_and_average_moves_match_a_hand_count() -> None:
    events = [
        EarningsEvent("A", date(2025, 1, 8), eps_estimate=1.0, eps_actual=1.2),  # beat: +5.88%
        EarningsEvent("A", date(2025, 1, 10), eps_estimate=1.0, eps_actual=0.8),  # miss: 108 → 100
        EarningsEvent("A", date(2025, 4, 20), eps_estimate=1.1),  # scheduled
    ]
    dividend = CorporateAction("A", date(2025, 1, 9), CorporateActionKind.DIVIDEND, Decimal("0.25"))
    stats = earnings_stats(events, CLOSES, [dividend], as_of=date(2025, 1, 13))
    assert (stats.reports, stats.beats, stats.misses) == (2, 1, 1)
    assert stats.beat_rate == pytest.approx(0.5)
    assert stats.avg_move_after_beat_pct == pytest.approx((108 / 102 - 1) * 100)
    assert stats.avg_move_after_miss_pct == pytest.approx((100 / 108 - 1) * 100)
    assert (stats.next_report, stats.next_eps_estimate) == (date(2025, 4, 20), 1.1)
    assert (stats.last_ex_dividend, stats.last_dividend) == (date(2025, 1, 9), 0.25)


def test_no_history_gives_no_rates() -> None:
    stats = earnings_stats([], pd.Series(dtype=float), [], as_of=date(2025, 1, 1))
    assert stats.beat_rate is None
    assert stats.next_report is None


def test_the_next_ex_dividend_date_follows_the_quarterly_cadence() -> None:
    from marketdesk.screener.events import next_ex_dividend

    quarterly = [
        CorporateAction("A", day, CorporateActionKind.DIVIDEND, Decimal("0.5"))
        for day in (date(2025, 2, 10), date(2025, 5, 12), date(2025, 8, 11), date(2025, 11, 10))
    ]
    assert next_ex_dividend(quarterly, date(2025, 11, 20)) == date(2026, 2, 9)  # + the median 91 days
    assert next_ex_dividend(quarterly[:1], date(2025, 3, 1)) is None
