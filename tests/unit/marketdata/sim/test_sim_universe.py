"""The simulated universe: equities over every GICS sector, ETFs with a benchmark, a treasury ladder."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from marketdesk.clock import SimClock
from marketdesk.errors import Rejected
from marketdesk.marketdata.port import GICS_SECTORS, TREASURY_TENORS, AssetClass
from marketdesk.marketdata.sim import SIM_BENCHMARK, SimMarketData
from marketdesk.marketdata.sim.names import SECTOR_PROFILES
from marketdesk.marketdata.sim.universe import build_universe

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def universe_500() -> SimMarketData:
    return SimMarketData(SimClock(NOW), seed=42)


def test_default_universe_has_500_equities_over_all_sectors(universe_500: SimMarketData) -> None:
    infos = universe_500.symbols()
    equities = [i for i in infos if i.asset_class is AssetClass.EQUITY]
    assert len(equities) == 500
    per_sector = Counter(i.sector for i in equities)
    assert set(per_sector) == set(GICS_SECTORS)
    assert min(per_sector.values()) >= 15, per_sector
    for info in equities:
        profile = next(p for p in SECTOR_PROFILES if p.name == info.sector)
        assert info.industry in profile.industry_names
        assert info.exchange in {"XNYS", "XNAS"}


def test_tickers_are_two_to_four_capitals_and_unique(universe_500: SimMarketData) -> None:
    infos = universe_500.symbols()
    equities = [i.symbol for i in infos if i.asset_class is AssetClass.EQUITY]
    assert all(re.fullmatch(r"[A-Z]{2,4}", s) for s in equities), [
        s for s in equities if not re.fullmatch(r"[A-Z]{2,4}", s)
    ]
    assert len({i.symbol for i in infos}) == len(infos)
    assert len({i.name for i in infos}) == len(infos), "company names are unique too"


def test_etfs_carry_expense_ratios_and_include_the_benchmark(universe_500: SimMarketData) -> None:
    etfs = [i for i in universe_500.symbols() if i.asset_class is AssetClass.ETF]
    assert 8 <= len(etfs) <= 12
    assert SIM_BENCHMARK in {e.symbol for e in etfs}
    assert all(e.expense_ratio_pct is not None and 0 < e.expense_ratio_pct < 1 for e in etfs)
    assert {"Sector", "Broad Market"} <= {e.industry for e in etfs}
    assert any("Bond" in e.name or "Treasury" in e.name for e in etfs)


def test_treasury_ladder_covers_every_tenor(universe_500: SimMarketData) -> None:
    bonds = [i for i in universe_500.symbols() if i.asset_class is AssetClass.BOND]
    assert len(bonds) == len(TREASURY_TENORS)
    assert sorted(b.maturity_years for b in bonds if b.maturity_years is not None) == pytest.approx(
        [1 / 12, 0.25, 0.5, 1, 2, 3, 5, 7, 10, 20, 30], abs=1e-3
    )
    assert all(b.credit_rating == "AAA" and b.coupon_pct is not None for b in bonds)
    assert all(b.coupon_pct == 0 for b in bonds if (b.maturity_years or 0) < 1), "bills pay no coupon"
    assert all(1 < (b.coupon_pct or 0) < 8 for b in bonds if (b.maturity_years or 0) >= 1)


def test_same_seed_gives_the_same_universe_and_another_seed_a_different_one() -> None:
    first, again, other = build_universe(11, 80), build_universe(11, 80), build_universe(12, 80)
    assert first.infos == again.infos
    assert (first.loadings == again.loadings).all() and (first.idio_vol == again.idio_vol).all()
    assert first.infos != other.infos
    assert len({i.symbol for i in first.infos} & {i.symbol for i in other.infos}) < 60


def test_universe_size_is_configurable() -> None:
    universe = build_universe(3, 33)
    assert int((universe.kind == 0).sum()) == 33
    assert len({universe.infos[i].sector for i in universe.equities}) == len(GICS_SECTORS)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"seed": -1}, "seed"),
        ({"n_symbols": 5}, "n_symbols"),
        ({"history_years": 0}, "history_years"),
        ({"speed": 0.0}, "speed"),
    ],
)
def test_bad_settings_are_rejected_with_the_setting_named(arguments: dict[str, float], message: str) -> None:
    with pytest.raises(Rejected, match=message):
        SimMarketData(SimClock(NOW), **arguments)  # type: ignore[arg-type]


def test_a_clock_before_the_simulated_epoch_is_rejected() -> None:
    with pytest.raises(Rejected, match="starts on 2000-01-03"):
        SimMarketData(SimClock(datetime(1999, 6, 1, tzinfo=UTC)))


def test_capabilities_say_simulated() -> None:
    sim = SimMarketData(SimClock(NOW), n_symbols=11, history_years=1)
    assert sim.name == "sim"
    assert sim.capabilities.simulated
    assert not sim.capabilities.needs_key
