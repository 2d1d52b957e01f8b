"""What the symbol page says about an instrument, its statistics and its corporate actions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marketdesk.marketdata.port import AssetClass, CorporateAction, CorporateActionKind, SymbolInfo
from marketdesk.marketdata.stats import KeyStats
from marketdesk.web.symbol import action_text, instrument_facts, stat_rows


def stats(**overrides: object) -> KeyStats:
    values: dict[str, object] = dict.fromkeys(KeyStats.__dataclass_fields__)
    values.update(bars=0, first_date=None, last_date=None)
    values.update(overrides)
    return KeyStats(**values)  # type: ignore[arg-type]


def test_missing_statistics_read_as_dashes_not_none_or_nan() -> None:
    rows = dict(stat_rows(stats()))
    assert rows["Market cap"] == "—"
    assert rows["P/E (TTM)"] == "—"
    assert rows["52-week range"] == "—"
    assert "None" not in " ".join(rows.values())
    assert "nan" not in " ".join(rows.values()).lower()


def test_statistics_are_formatted_for_people() -> None:
    rows = dict(
        stat_rows(
            stats(
                last=1234.5,
                market_cap=2.345e12,
                avg_volume_3m=45_600_000.0,
                week52_low=98.1,
                week52_high=143.25,
                below_52w_high_pct=12.34,
                pe=23.44,
                return_1y_pct=-4.0,
                dividend_yield_pct=1.5,
                bars=753,
                first_date=date(2023, 11, 21),
                last_date=date(2026, 11, 20),
            )
        )
    )
    assert rows["Last"] == "1,234.50"
    assert rows["Market cap"] == "2.35T"
    assert rows["Avg volume (3M)"] == "45.60M"
    assert rows["52-week range"] == "98.10 – 143.25"
    assert rows["Below 52-week high"] == "12.3%"
    assert rows["P/E (TTM)"] == "23.4×"
    assert rows["1-year return"] == "−4.0%"
    assert rows["Dividend yield"] == "1.50%"
    assert rows["History"] == "Tue 21 Nov 2023 – Fri 20 Nov 2026 (753 bars)"


def test_splits_read_both_ways_and_dividends_as_amounts() -> None:
    def action(kind: CorporateActionKind, value: str) -> CorporateAction:
        return CorporateAction("ABC", date(2026, 1, 5), kind, Decimal(value))

    assert action_text(action(CorporateActionKind.SPLIT, "4")) == "Split 4-for-1"
    assert action_text(action(CorporateActionKind.SPLIT, "0.1")) == "Split 1-for-10"
    assert action_text(action(CorporateActionKind.DIVIDEND, "0.24")) == "Dividend 0.24"
    assert action_text(action(CorporateActionKind.DIVIDEND, "0.0035")) == "Dividend 0.0035"


def test_bond_and_fund_terms_show_next_to_the_name() -> None:
    bond = SymbolInfo(
        "UST1M", "Treasury 1-Month", AssetClass.BOND, industry="Government Bonds",
        maturity_years=0.0833, coupon_pct=3.125, credit_rating="AAA",
    )  # fmt: skip
    fund = SymbolInfo("SIMB", "Bond ETF", AssetClass.ETF, exchange="ARCX", expense_ratio_pct=0.04)
    assert [text for text, _ in instrument_facts(bond)] == [
        "Government Bonds",
        "Maturity 1 month",
        "Coupon 3.125%",
        "Rated AAA",
    ]
    assert [text for text, _ in instrument_facts(fund)] == ["ARCX", "Expense ratio 0.04%"]
    ten_year = SymbolInfo("UST10Y", "Treasury 10-Year", AssetClass.BOND, maturity_years=10.0, coupon_pct=4.0)
    assert [text for text, _ in instrument_facts(ten_year)] == ["Maturity 10 years", "Coupon 4%"]
