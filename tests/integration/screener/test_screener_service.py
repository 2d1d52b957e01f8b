"""The screener service over a small simulated market stored in SQLite and the real PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.db import Database
from marketdesk.desk import Desk, build_desk
from marketdesk.errors import NotFound, Rejected
from marketdesk.screener.model import VERDICT_RANK, Verdict

SECTIONS = {
    "core_metrics", "valuation_context", "decision_framework", "risk_breakdown",
    "threshold_sensitivity", "peers", "events",
}  # fmt: skip


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    settings = load_settings(data_dir=tmp_path, database_url=database.url, sim_symbols=60, sim_history_years=2, seed=5)
    the_desk = build_desk(settings, SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC)))
    await the_desk.start()
    await the_desk.quotes.stop()
    yield the_desk
    await the_desk.stop()


async def test_every_name_gets_a_verdict_or_a_stated_reason(desk: Desk) -> None:
    async with desk.db.session() as session:
        page = await desk.screener.screen(session, limit=1000)
    assert page.total == len(page.rows) > 60  # 60 equities plus ETFs and bonds
    for row in page.rows:
        assert row["verdict"] in {v.value for v in Verdict} or row["no_score"], row["symbol"]
        assert row["score"] is None or 0.0 <= row["score"] <= 10.0
        assert row["gates"], "every gate result is kept"
    assert page.version and page.preset == "balanced"
    assert page.regime.reason


async def test_a_failed_gate_never_rises_above_hold(desk: Desk) -> None:
    async with desk.db.session() as session:
        page = await desk.screener.screen(session, limit=1000)
    failed = [r for r in page.rows if any(g["status"] == "fail" for g in r["gates"])]
    assert failed, "the simulated market has names that fail gates"
    assert all(VERDICT_RANK[Verdict(r["verdict"])] <= VERDICT_RANK[Verdict.HOLD] for r in failed)


async def test_presets_give_different_top_lists_and_the_same_inputs_the_same_answer(desk: Desk) -> None:
    tops = {}
    async with desk.db.session() as session:
        for preset in ("balanced", "momentum", "value", "growth-at-fair-price"):
            page = await desk.screener.screen(session, preset=preset, asset="stock", limit=10)
            tops[preset] = [r["symbol"] for r in page.rows]
        again = await desk.screener.screen(session, preset="value", asset="stock", limit=10)
    assert len({tuple(t) for t in tops.values()}) == len(tops)
    assert [r["symbol"] for r in again.rows] == tops["value"]


async def test_filters_sorting_and_paging(desk: Desk) -> None:
    async with desk.db.session() as session:
        page = await desk.screener.screen(
            session, where=["pe < 25 and roe > 0.10"], asset="stock", sort="pe", descending=False, limit=5
        )
        second = await desk.screener.screen(
            session, where=["pe < 25 and roe > 0.10"], asset="stock", sort="pe", descending=False, limit=5, offset=5
        )
    pes = [r["metrics"]["pe"] for r in page.rows + second.rows]
    assert pes == sorted(pes)
    assert all(pe < 25 for pe in pes)
    assert all(r["metrics"]["roe"] > 0.10 for r in page.rows)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"preset": "yolo"}, "Valid presets"),
        ({"where": ["pe < 25 and moon > 3"]}, "Valid fields"),
        ({"where": ["pe ~ 25"]}, "Valid operators"),
        ({"asset": "crypto"}, "stock, etf or bond"),
        ({"limit": 5000}, "0 to 1000"),
        ({"universe": "nasdaq9000"}, "Known universes"),
    ],
)
async def test_bad_requests_list_the_valid_choices(desk: Desk, kwargs: dict[str, object], needle: str) -> None:
    async with desk.db.session() as session:
        with pytest.raises(Rejected, match=needle):
            await desk.screener.screen(session, **kwargs)  # type: ignore[arg-type]


async def test_an_empty_universe_says_what_to_do(desk: Desk) -> None:
    async with desk.db.session() as session:
        await desk.market.create_watchlist(session, "Empty", owner_id=None)
    async with desk.db.session() as session:
        with pytest.raises(NotFound, match="is empty") as caught:
            await desk.screener.screen(session, universe="watchlist:Empty")
    assert "import" in caught.value.one_line().lower()


async def test_research_has_the_seven_sections_and_a_dcf_or_its_refusal(desk: Desk) -> None:
    async with desk.db.session() as session:
        page = await desk.screener.screen(session, asset="stock", limit=1)
        symbol = page.rows[0]["symbol"]
        sheet = await desk.screener.research(session, symbol)
        with pytest.raises(Rejected):
            await desk.screener.research(session, "NOPE")
    assert set(sheet["sections"]) == SECTIONS
    assert sheet["verdict"] == page.rows[0]["verdict"]
    assert sheet["plain"]
    assert sheet["dcf"]["refused"] is not None or sheet["dcf"]["intrinsic_value"] > 0
    assert sheet["sections"]["peers"], "a sector always has other names in the sim"
    assert all(p["symbol"] != symbol for p in sheet["sections"]["peers"])
    assert sheet["sections"]["events"]["reports"] > 0


async def test_dips_are_cached_for_a_day_and_refused_for_odd_thresholds(desk: Desk) -> None:
    async with desk.db.session() as session:
        first = await desk.screener.dips(session, universe="all", threshold_pct=5)
        second = await desk.screener.dips(session, universe="all", threshold_pct=5)
        fresh = await desk.screener.dips(session, universe="all", threshold_pct=5, refresh=True)
        with pytest.raises(Rejected, match="5, 10, 15"):
            await desk.screener.dips(session, universe="all", threshold_pct=7)
    assert (first.cached, second.cached, fresh.cached) == (False, True, False)
    assert [r["symbol"] for r in first.rows] == [r["symbol"] for r in second.rows]
    for row in first.rows:
        assert row["dip_pct"] >= 5
        assert VERDICT_RANK[Verdict(row["verdict"])] >= VERDICT_RANK[Verdict.HOLD]
        assert row["cause"] in {"market-wide", "sector", "company"}
        assert row["why"] and row["play"]
