"""Metrics, regime and DCF on real data: S&P 500 daily prices 2014–2020, ^GSPC, FRED treasury yields, the 10-K
filings 2012–2016 (through the files importer) and the February 2018 constituents snapshot.

Every figure is checked against an independent computation: pandas straight from the CSV files for the price
metrics and the ratios, the snapshot's own 52-week highs for the dip, plain Python for the DCF.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketdesk.marketdata.barstore import UniverseArrays
from marketdesk.marketdata.files import ImportOptions
from marketdesk.marketdata.files.fundamentals import read_fundamentals
from marketdesk.marketdata.files.report import FileReport
from marketdesk.marketdata.port import Fundamentals, SymbolInfo
from marketdesk.screener.dcf import DcfRefusal, DcfRefused, DcfResult, dcf, dcf_for_symbol, dcf_table
from marketdesk.screener.metrics import compute_metrics
from marketdesk.screener.model import RegimeState, UniverseData
from marketdesk.screener.regime import assess_regime
from marketdesk.screener.universe import assemble_universe, matrices_from_long

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

SP500_DAILY = "prices-sp500-daily/sp500_daily_adjusted_1999-11-01_2021-04-21.csv.gz"
CONSTITUENTS = "prices-sp500-daily/constituents_2021.csv"
GSPC = "benchmarks/gspc_daily_yahoo_1927-12-30_2020-06-05.csv"
TEN_K = "fundamentals/nyse_fundamentals_10k_2012-2016.csv"
SNAPSHOT_2018 = "fundamentals/sp500_constituents_financials_2018-02.csv"
FRED = {"DGS1MO": "1m", "DGS3MO": "3m", "DGS6MO": "6m", "DGS1": "1y", "DGS2": "2y", "DGS3": "3y", "DGS5": "5y",
        "DGS7": "7y", "DGS10": "10y", "DGS20": "20y", "DGS30": "30y"}  # fmt: skip
START = "2014-06-01"
BENCHMARK = "^GSPC"


@dataclass(frozen=True)
class RealMarket:
    raw: pd.DataFrame  # long: symbol, date, high, low, close, adj_close, volume (S&P 500 and ^GSPC)
    matrices: dict[str, UniverseArrays]
    instruments: list[SymbolInfo]
    ten_k: list[Fundamentals]
    yields: dict[str, pd.Series]
    shared_data: Path

    def universe(self, as_of: date, fundamentals: Sequence[Fundamentals] = ()) -> UniverseData:
        curve = {}
        for tenor, series in self.yields.items():
            known = series[series.index <= pd.Timestamp(as_of)]
            if len(known):
                curve[tenor] = float(known.iloc[-1])
        return assemble_universe(
            as_of, self.instruments, self.matrices, fundamentals, benchmark_symbol=BENCHMARK, yields=curve
        )

    def series(self, symbol: str, as_of: date) -> pd.DataFrame:
        rows = self.raw[(self.raw["symbol"] == symbol) & (self.raw["date"] <= pd.Timestamp(as_of))]
        return rows.set_index("date").sort_index()


@pytest.fixture(scope="module")
def market(shared_data: Path) -> RealMarket:
    columns = ["date", "ticker", "high", "low", "close", "adjusted_close", "volume"]
    prices = pd.read_csv(shared_data / SP500_DAILY, usecols=columns, engine="pyarrow")
    prices["date"] = pd.to_datetime(prices["date"])
    prices = prices[prices["date"] >= START].rename(columns={"ticker": "symbol", "adjusted_close": "adj_close"})
    gspc = pd.read_csv(shared_data / GSPC, parse_dates=["Date"])
    gspc = gspc[gspc["Date"] >= START]
    benchmark = pd.DataFrame(
        {"symbol": BENCHMARK, "date": gspc["Date"], "high": gspc["High"], "low": gspc["Low"], "close": gspc["Close"],
         "adj_close": gspc["Adj Close"], "volume": gspc["Volume"].astype(float)}
    )  # fmt: skip
    raw = pd.concat([prices.assign(volume=prices["volume"].astype(float)), benchmark], ignore_index=True)
    listed = set(prices["symbol"].unique())
    constituents = pd.read_csv(shared_data / CONSTITUENTS)
    instruments = [
        SymbolInfo(row.Symbol, row.Name, sector=row.Sector) for row in constituents.itertuples() if row.Symbol in listed
    ]
    report = FileReport(TEN_K)
    batch = read_fundamentals(shared_data / TEN_K, ImportOptions(), report, {})
    yields = {}
    for series, tenor in FRED.items():
        frame = pd.read_csv(shared_data / "rates" / f"{series}.csv", na_values=".", parse_dates=["DATE"]).dropna()
        yields[tenor] = frame.set_index("DATE")[series]
    return RealMarket(raw, matrices_from_long(raw), instruments, batch.fundamentals, yields, shared_data)


def _ten_k_frame(shared_data: Path) -> pd.DataFrame:
    frame = pd.read_csv(shared_data / TEN_K, index_col=0)
    frame["period_end"] = pd.to_datetime(frame["Period Ending"], format="%d-%m-%y")
    frame["fcf"] = frame["Net Cash Flow-Operating"] + frame["Capital Expenditures"]
    return frame


def _wilder_rsi(closes: list[float], period: int = 14) -> float:
    changes = [b - a for a, b in itertools.pairwise(closes)]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    for c in changes[period:]:
        gain = (gain * (period - 1) + max(c, 0.0)) / period
        loss = (loss * (period - 1) + max(-c, 0.0)) / period
    return 100.0 * gain / (gain + loss)


# ---- prices ----------------------------------------------------------------------------------------------------

AS_OF_PRICES = date(2020, 6, 5)  # the last ^GSPC session in the file


@pytest.mark.parametrize("symbol", ["AAPL", "MSFT", "XOM", "JPM"])
def test_price_metrics_match_pandas_on_the_csv(market: RealMarket, symbol: str) -> None:
    metrics = compute_metrics(market.universe(AS_OF_PRICES)).loc[symbol]
    own = market.series(symbol, AS_OF_PRICES)
    bench = market.series(BENCHMARK, AS_OF_PRICES)["adj_close"]
    adj = own["adj_close"]
    assert adj.index[-1] == pd.Timestamp(AS_OF_PRICES)
    for name, k in (("return_1m_pct", 21), ("return_3m_pct", 63), ("return_6m_pct", 126), ("return_12m_pct", 252)):
        assert metrics[name] == pytest.approx((adj.iloc[-1] / adj.iloc[-1 - k] - 1) * 100, rel=1e-10)
    for window in (50, 200):
        expected = (adj.iloc[-1] / adj.tail(window).mean() - 1) * 100
        assert metrics[f"above_ma{window}_pct"] == pytest.approx(expected, rel=1e-9)
    adj_high = (own["high"] * own["adj_close"] / own["close"]).tail(252)
    high = max(adj_high.max(), adj.tail(252).max())
    assert metrics["dip_pct"] == pytest.approx((1 - adj.iloc[-1] / high) * 100, rel=1e-9)
    both = pd.concat({"own": adj, "bench": bench}, axis=1, join="inner").pct_change().tail(252)
    assert metrics["volatility_pct"] == pytest.approx(both["own"].std() * math.sqrt(252) * 100, rel=1e-9)
    assert metrics["beta"] == pytest.approx(both["own"].cov(both["bench"]) / both["bench"].var(), rel=1e-9)
    year = adj.tail(253)
    assert metrics["max_drawdown_pct"] == pytest.approx((1 - year / year.cummax()).max() * 100, rel=1e-9)
    assert metrics["avg_dollar_volume"] == pytest.approx((own["close"] * own["volume"]).tail(63).mean(), rel=1e-12)
    # RSI from six years of history by hand vs TA-Lib over the universe's 300 sessions: Wilder's average forgets
    assert metrics["rsi14"] == pytest.approx(_wilder_rsi(adj.tolist()), abs=1e-6)
    assert metrics["price"] == own["close"].iloc[-1]


def test_real_metrics_are_finite_or_missing_and_plausible(market: RealMarket) -> None:
    data = market.universe(AS_OF_PRICES)
    metrics = compute_metrics(data)
    assert not np.isinf(metrics.to_numpy()).any()
    priced = metrics.dropna(subset=["return_12m_pct"])
    assert len(priced) >= 480
    assert 0.8 < priced["beta"].median() < 1.3
    assert 25 < priced["volatility_pct"].median() < 60  # the year of the 2020 crash
    assert priced["rsi14"].between(0, 100).all()
    assert priced["max_drawdown_pct"].between(0, 100).all()


def test_dip_matches_the_52_week_high_of_the_february_2018_snapshot(market: RealMarket) -> None:
    """The snapshot was taken after the close of 2018-02-08; its 52-week columns are swapped (SOURCES.md)."""
    metrics = compute_metrics(market.universe(date(2018, 2, 8)))
    snapshot = pd.read_csv(market.shared_data / SNAPSHOT_2018).set_index("Symbol")
    common = metrics.index.intersection(snapshot.index)
    assert len(common) > 400
    ours, theirs = metrics.loc[common], snapshot.loc[common]
    assert ((ours["price"] / theirs["Price"] - 1).abs() < 1e-3).mean() > 0.95  # the same closing prices
    their_high = theirs[["52 Week Low", "52 Week High"]].max(axis=1)
    implied_high = ours["price"] / (1 - ours["dip_pct"] / 100)  # as-traded high implied by our adjusted dip
    gap = (implied_high / their_high - 1).abs()
    assert gap.median() < 1e-6  # most agree exactly
    assert (gap < 0.02).mean() > 0.85  # the rest: dividends inside the year, and a few vendor differences


# ---- fundamentals, point in time -------------------------------------------------------------------------------

AS_OF_10K = date(2016, 6, 30)  # FY2015 10-Ks are known (period end + 90 days); FY2016 ones are not


def test_fundamental_ratios_of_aapl_match_its_fy2015_10k(market: RealMarket) -> None:
    data = market.universe(AS_OF_10K, market.ten_k)
    aapl = compute_metrics(data).loc["AAPL"]
    filings = _ten_k_frame(market.shared_data)
    filings = filings[filings["Ticker Symbol"] == "AAPL"].set_index("For Year")
    fy15, fy14 = filings.loc[2015.0], filings.loc[2014.0]
    price = market.series("AAPL", AS_OF_10K)["close"].iloc[-1]
    assert price == 95.60
    shares = fy15["Estimated Shares Outstanding"]
    cap = price * shares
    debt = fy15["Long-Term Debt"] + fy15["Short-Term Debt / Current Portion of Long-Term Debt"]
    expected = {
        "pe": price / fy15["Earnings Per Share"],  # 95.60 / 9.28
        "market_cap": cap,
        "pb": cap / fy15["Total Equity"],
        "ps": cap / fy15["Total Revenue"],
        "roe": fy15["Net Income"] / fy15["Total Equity"],
        "roa": fy15["Net Income"] / fy15["Total Assets"],
        "gross_margin": fy15["Gross Profit"] / fy15["Total Revenue"],
        "operating_margin": fy15["Operating Income"] / fy15["Total Revenue"],
        "fcf_margin": fy15["fcf"] / fy15["Total Revenue"],
        "fcf_yield": fy15["fcf"] / cap,
        "debt_to_equity": debt / fy15["Total Equity"],
        "current_ratio": fy15["Total Current Assets"] / fy15["Total Current Liabilities"],
        "revenue_growth": fy15["Total Revenue"] / fy14["Total Revenue"] - 1,
        "eps_growth": fy15["Earnings Per Share"] / fy14["Earnings Per Share"] - 1,
        "fcf_negative_years": 0.0,
    }
    assert expected["pe"] == pytest.approx(10.30, abs=0.01)
    for name, value in expected.items():
        assert aapl[name] == pytest.approx(value, rel=1e-9), name
    assert math.isnan(aapl["earnings_stability"])  # annual filings only: no quarters


def test_fcf_negative_years_counts_real_negative_filings(market: RealMarket) -> None:
    data = market.universe(AS_OF_10K, market.ten_k)
    metrics = compute_metrics(data)
    filings = _ten_k_frame(market.shared_data)
    known = filings[filings["period_end"] + pd.Timedelta(days=90) <= pd.Timestamp(AS_OF_10K)]
    last3 = known.sort_values("period_end").groupby("Ticker Symbol").tail(3)
    expected = last3.groupby("Ticker Symbol")["fcf"].apply(lambda s: float((s < 0).sum()))
    common = expected.index.intersection(metrics.index)
    assert len(common) > 300
    pd.testing.assert_series_equal(
        metrics.loc[common, "fcf_negative_years"], expected.loc[common], check_names=False, check_index=False
    )


# ---- DCF on the 10-K set ---------------------------------------------------------------------------------------


def test_dcf_of_aapl_from_its_fy2015_10k_matches_a_hand_computation(market: RealMarket) -> None:
    data = market.universe(AS_OF_10K, market.ten_k)
    metrics = compute_metrics(data)
    result = dcf_for_symbol(data, metrics, "AAPL")
    assert isinstance(result, DcfResult), result
    filings = _ten_k_frame(market.shared_data)
    fy15 = filings[(filings["Ticker Symbol"] == "AAPL") & (filings["For Year"] == 2015)].iloc[0]
    fcf = fy15["Net Cash Flow-Operating"] + fy15["Capital Expenditures"]
    assert fcf == 81_266_000_000 - 11_247_000_000
    beta = metrics.at["AAPL", "beta"]
    rate = 0.04 + beta * 0.055
    growth = min(max(metrics.at["AAPL", "revenue_growth"], 0.0), 0.15)  # 28 % revenue growth → 15 %
    flows = [fcf * (1 + growth) ** k for k in range(1, 6)]
    enterprise = sum(f / (1 + rate) ** k for k, f in enumerate(flows, 1))
    enterprise += flows[-1] * 1.025 / (rate - 0.025) / (1 + rate) ** 5
    debt = fy15["Long-Term Debt"] + fy15["Short-Term Debt / Current Portion of Long-Term Debt"]
    value = (enterprise - debt + fy15["Cash and Cash Equivalents"]) / fy15["Estimated Shares Outstanding"]
    assert result.intrinsic_value == pytest.approx(value, rel=1e-9)
    assert math.isfinite(result.intrinsic_value) and result.intrinsic_value > 0
    assert result.margin_of_safety == pytest.approx(1 - 95.60 / value, rel=1e-9)
    assert result.stage1_growth == 0.15 and result.assumptions == ()


def test_dcf_runs_on_every_10k_filing_and_refuses_negative_fcf(market: RealMarket) -> None:
    filings = _ten_k_frame(market.shared_data).sort_values(["Ticker Symbol", "period_end"])
    filings["revenue_growth"] = filings.groupby("Ticker Symbol")["Total Revenue"].pct_change()
    filings["debt"] = filings["Long-Term Debt"] + filings["Short-Term Debt / Current Portion of Long-Term Debt"]
    columns = ["fcf", "Estimated Shares Outstanding", "debt", "Cash and Cash Equivalents", "revenue_growth"]
    outcomes = [
        dcf(free_cash_flow=fcf, shares_outstanding=shares, total_debt=debt, cash=cash, revenue_growth=growth)
        for fcf, shares, debt, cash, growth in filings[columns].itertuples(index=False, name=None)
    ]
    assert len(outcomes) == 1777
    negative = filings["fcf"].to_numpy() <= 0
    assert negative.sum() > 50
    for outcome, is_negative in zip(outcomes, negative, strict=True):
        if is_negative:
            assert isinstance(outcome, DcfRefused) and outcome.code is DcfRefusal.FCF_NOT_POSITIVE
            assert outcome.reason.startswith("free cash flow is ")
        elif isinstance(outcome, DcfResult):
            assert math.isfinite(outcome.intrinsic_value) and outcome.intrinsic_value > 0
        else:
            assert outcome.code in {DcfRefusal.SHARES_MISSING, DcfRefusal.EQUITY_NOT_POSITIVE}
    valued = [o for o in outcomes if isinstance(o, DcfResult)]
    assert len(valued) > 1200


def test_dcf_table_on_the_point_in_time_10k_universe(market: RealMarket) -> None:
    data = market.universe(AS_OF_10K, market.ten_k)
    table = dcf_table(data, compute_metrics(data))
    valued = table[table["refusal"].isna()]
    assert len(valued) > 250
    assert np.isfinite(valued["intrinsic_value"]).all() and (valued["intrinsic_value"] > 0).all()
    assert table.loc[table["refusal"].notna(), "intrinsic_value"].isna().all()
    fcf = pd.Series(data.fundamentals.free_cash_flow_ttm, index=list(data.symbols))
    assert (table.loc[fcf[fcf <= 0].index, "refusal"] == "fcf-not-positive").all()
    assert (table.loc[fcf[fcf.isna()].index, "refusal"] == "fcf-missing").all()


# ---- regime through history ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "state"),
    [
        (date(2017, 12, 29), RegimeState.RISK_ON),  # a calm, broad rally
        (date(2020, 3, 31), RegimeState.RISK_OFF),  # the COVID crash
    ],
)
def test_regime_calls_known_episodes(market: RealMarket, as_of: date, state: RegimeState) -> None:
    data = market.universe(as_of)
    regime = assess_regime(data, compute_metrics(data))
    assert regime.state is state, regime.reason
    assert all(s.value is not None for s in regime.signals)


def test_regime_sees_the_inverted_curve_of_august_2019(market: RealMarket) -> None:
    data = market.universe(date(2019, 8, 28))
    regime = assess_regime(data, compute_metrics(data))
    curve = next(s for s in regime.signals if s.name == "yield_curve")
    ten, two = data.yields["10y"], data.yields["2y"]
    assert curve.value == pytest.approx(ten - two) and curve.value < 0 and curve.vote == -1
    assert "the yield curve is inverted" in regime.reason
