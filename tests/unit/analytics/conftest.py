"""Real return series for the analytics tests: the S&P 500 constituents' daily adjusted closes (1999-11-01 to
2021-04-21, ../shared/data/prices-sp500-daily) and the S&P 500 index (^GSPC, ../shared/data/benchmarks).

Per SOURCES.md, five tickers (KIM, RHI, SPGI, VIAC, WELL) miss a few days inside their history; their last
price is carried forward over those days (a 0 return, then the whole move on the next day), as the bench does.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from marketdesk.analytics import simple_returns

SP500_DAILY = "prices-sp500-daily/sp500_daily_adjusted_1999-11-01_2021-04-21.csv.gz"
GSPC = "benchmarks/gspc_daily_yahoo_1927-12-30_2020-06-05.csv"


@pytest.fixture(scope="session")
def sp500_prices(shared_data: Path) -> pd.DataFrame:
    """Adjusted closes, dates × 504 tickers; NaN before a ticker's first and after its last day."""
    long = pd.read_csv(shared_data / SP500_DAILY, usecols=["date", "ticker", "adjusted_close"], engine="pyarrow")
    long["date"] = pd.to_datetime(long["date"])
    wide = long.pivot(index="date", columns="ticker", values="adjusted_close").sort_index()
    wide.columns = wide.columns.astype(str)
    return wide.ffill(limit_area="inside")


@pytest.fixture(scope="session")
def sp500_returns(sp500_prices: pd.DataFrame) -> pd.DataFrame:
    """Daily simple returns of every constituent (ragged: later listings start with NaN)."""
    return simple_returns(sp500_prices)


@pytest.fixture(scope="session")
def gspc_returns(shared_data: Path) -> pd.Series:
    """Daily returns of the S&P 500 index (^GSPC close), 1999-11-01 to 2020-06-05."""
    index = pd.read_csv(shared_data / GSPC, usecols=["Date", "Close"], parse_dates=["Date"], index_col="Date")
    close = index["Close"].loc["1999-10-29":]
    return simple_returns(close).rename("GSPC")
