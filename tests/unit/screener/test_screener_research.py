from datetime import date

import numpy as np
import pandas as pd
import pytest

from marketdesk.marketdata.port import Fundamentals
from marketdesk.screener.research import multiples_history, peers, risk_breakdown, valuation_context


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sector": ["Tech", "Tech", "Tech", "Tech", "Energy"],
            "industry": ["Chips", "Chips", "Software", "Software", "Oil"],
            "market_cap": [100e9, 90e9, 10e9, 300e9, 95e9],
            "pe": [20.0, 30.0, 10.0, np.nan, 8.0],
            "pb": [4.0, 6.0, 2.0, 5.0, 1.0],
            "ps": [5.0, 5.0, 5.0, 5.0, 1.0],
            "ev_ebitda": [np.nan] * 5,
            "fcf_yield": [0.04, 0.02, 0.05, 0.03, 0.1],
            "dividend_yield": [0.01, 0.0, 0.0, 0.0, 0.05],
        },
        index=pd.Index(["A", "B", "C", "D", "E"], name="symbol"),
    )


def test_peers_fall_back_to_the_sector_and_sort_by_size_distance() -> None:
    found = peers(table(), "A", count=3)
    # only one other Chips name, so the sector; nearest size to $100B: B ($90B), D ($300B), C ($10B)
    assert [p.symbol for p in found] == ["B", "D", "C"]
    assert {p.same for p in found} == {"sector"}
    assert peers(table(), "E") == []  # alone in Energy
    assert peers(table(), "ZZZ") == []


def test_valuation_context_against_the_sector_median_and_own_history() -> None:
    history = pd.DataFrame({"pe": [15.0, 25.0, 25.0], "pb": [np.nan] * 3, "ps": [4.0, 4.0, 6.0]})
    rows = {r.metric: r for r in valuation_context(table(), "A", history)}
    assert rows["pe"].sector_median == pytest.approx(20.0)  # median of 20, 30, 10 (D unknown)
    assert rows["pe"].vs_sector_pct == pytest.approx(0.0)
    assert rows["pe"].own_median_5y == pytest.approx(25.0)
    assert rows["pe"].vs_own_pct == pytest.approx(-20.0)
    assert rows["pb"].own_median_5y is None
    assert rows["ev_ebitda"].value is None


def test_multiples_history_uses_only_what_was_known_at_each_quarter_end() -> None:
    closes = pd.Series(100.0, index=pd.bdate_range("2023-01-02", "2024-12-31"))
    records = [
        Fundamentals("A", date(2023, m, 28 if m != 12 else 31), "Q", reported=None, eps=1.0, revenue=10.0,
                     shares_outstanding=2.0, total_equity=50.0)
        for m in (3, 6, 9, 12)
    ] + [Fundamentals("A", date(2024, 3, 31), "Q", reported=date(2024, 5, 10), eps=2.0, revenue=10.0,
                      shares_outstanding=2.0, total_equity=50.0)]  # fmt: skip
    history = multiples_history(closes, records, years=2)
    # by 2024-03-31 the four 2023 quarters are known (45-day lag): P/E = 100 / 4
    assert history.loc["2024-03-31", "pe"] == pytest.approx(25.0)
    # the 2024-Q1 report is public on 2024-05-10, so by 2024-06-30 EPS TTM = 1 + 1 + 1 + 2
    assert history.loc["2024-06-30", "pe"] == pytest.approx(20.0)
    assert history.loc["2024-06-30", "pb"] == pytest.approx(100 * 2 / 50)
    assert history.loc["2024-06-30", "ps"] == pytest.approx(100 * 2 / 40)


def test_risks_are_ranked_by_severity_with_their_numbers() -> None:
    row = pd.Series({"volatility_pct": 60.0, "max_drawdown_pct": 10.0, "beta": 1.4, "debt_to_equity": np.nan,
                     "interest_coverage": 3.0, "avg_dollar_volume": 1e9})  # fmt: skip
    items = risk_breakdown(row)
    assert [i.name for i in items][:3] == ["volatility_pct", "interest_coverage", "beta"]
    assert items[0].severity == pytest.approx(1.0)
    assert "60%" in items[0].text
    assert {i.name for i in items}.isdisjoint({"debt_to_equity"})  # unknown values are left out


def test_per_share_figures_are_restated_for_splits_after_the_report() -> None:
    from marketdesk.screener.universe import fundamental_arrays

    quarters = [
        Fundamentals("A", date(2024, m, 28), "Q", reported=date(2024, m, 28), eps=2.0, shares_outstanding=100.0,
                     dividends_per_share=0.5)
        for m in (3, 6, 9, 12)
    ]  # fmt: skip
    # a 4:1 split after the last report: TTM EPS 8 → 2, shares 100 → 400
    after = fundamental_arrays(["A"], quarters, date(2025, 2, 1), {"A": [(date(2025, 1, 15), 4.0)]})
    assert after.eps_ttm[0] == pytest.approx(2.0)
    assert after.shares_outstanding[0] == pytest.approx(400.0)
    assert after.dividends_per_share_ttm[0] == pytest.approx(0.5)
    # before the split takes effect nothing changes
    before = fundamental_arrays(["A"], quarters, date(2025, 1, 10), {"A": [(date(2025, 1, 15), 4.0)]})
    assert before.eps_ttm[0] == pytest.approx(8.0)
