"""The screener on the real S&P 500: daily prices 1999–2021, the 10-K fundamentals and GICS sectors,
screened as of 2017-06-30 (when the FY2016 filings were public). The same code as on the sim."""

import asyncio
import statistics
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.desk import Desk, build_desk
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.files import ImportOptions, import_fundamentals, import_prices
from marketdesk.marketdata.repository import MarketDataRepository
from marketdesk.screener.model import VERDICT_RANK, Verdict
from marketdesk.screener.service import ScreenPage

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]
AS_OF = date(2017, 6, 30)


@pytest.fixture(scope="module")
def desk(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Desk:
    folder = tmp_path_factory.mktemp("real-screen")
    settings = load_settings(data_dir=folder, market_data=["files"])
    the_desk = build_desk(settings, SimClock(datetime(2017, 7, 3, 15, tzinfo=UTC)))
    prices = [
        shared_data / "prices-sp500-daily/sp500_daily_adjusted_1999-11-01_2021-04-21.csv.gz",
        shared_data / "benchmarks/spy_us_daily_stooq_2005-02-25_2025-01-29.csv",
    ]
    report = import_prices(prices, BarStore(settings.bar_store_dir), ImportOptions())
    assert report.ok, report.summary()

    async def prepare() -> None:
        await the_desk.start()
        async with the_desk.db.session() as session:
            repository = MarketDataRepository(session)
            for name in ("nyse_securities_2017.csv", "nyse_fundamentals_10k_2012-2016.csv"):
                result = await import_fundamentals(
                    [shared_data / "fundamentals" / name], repository, ImportOptions(), now=the_desk.clock.now()
                )
                assert result.ok, result.summary()
        await the_desk.db.dispose()

    asyncio.run(prepare())
    return the_desk


def run(desk: Desk, **kwargs: object) -> ScreenPage:
    async def go() -> ScreenPage:
        async with desk.db.session() as session:
            return await desk.screener.screen(session, universe="sp500", as_of=AS_OF, limit=1000, **kwargs)  # type: ignore[arg-type]

    try:
        return asyncio.run(go())
    finally:
        asyncio.run(desk.db.dispose())


def test_every_sp500_name_gets_a_verdict_or_a_stated_reason(desk: Desk) -> None:
    page = run(desk)
    assert page.total > 400
    assert page.regime.signals
    for row in page.rows:
        assert row["verdict"] is not None or row["no_score"], row["symbol"]
        if row["score"] is not None:
            assert 0 <= row["score"] <= 10
        failed = [g for g in row["gates"] if g["status"] == "fail"]
        if failed:
            assert VERDICT_RANK[Verdict(row["verdict"])] <= VERDICT_RANK[Verdict.HOLD], row["symbol"]
    # the 10-K set covers 447 of the 2016 tickers; every priced name with a positive 10-K EPS gets a P/E
    priced = [r["metrics"] for r in page.rows if r["metrics"]["price"] is not None]
    earning = [m for m in priced if m["earnings_yield"] is not None and m["earnings_yield"] > 0]
    assert len(earning) > 200
    assert all(m["pe"] == pytest.approx(1 / m["earnings_yield"]) for m in earning)


def test_presets_give_different_and_sensible_top_lists(desk: Desk) -> None:
    everyone = run(desk).rows
    value = run(desk, preset="value").rows[:20]
    momentum = run(desk, preset="momentum").rows[:20]
    assert {r["symbol"] for r in value} != {r["symbol"] for r in momentum}

    def median(rows: list[dict[str, object]], metric: str) -> float:
        values = [r["metrics"][metric] for r in rows if r["metrics"][metric] is not None]  # type: ignore[index]
        return statistics.median(values)  # type: ignore[arg-type]

    assert median(value, "pe") < median(everyone, "pe")
    assert median(momentum, "return_12m_pct") > median(everyone, "return_12m_pct")
