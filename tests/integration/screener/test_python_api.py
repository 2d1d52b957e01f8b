"""`import marketdesk as md`: screen, tearsheet and dips return pandas objects and plain data."""

import asyncio
from pathlib import Path

import pandas as pd
import pytest

import marketdesk as md


@pytest.fixture
def small_sim(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("MARKETDESK_SIM_SYMBOLS", "40")
    monkeypatch.setenv("MARKETDESK_SIM_HISTORY_YEARS", "2")
    return tmp_path


def test_screen_tearsheet_and_dips(small_sim: Path) -> None:
    frame = md.screen("value", "pe < 40", asset="stock", limit=10, data_dir=small_sim)
    assert isinstance(frame, pd.DataFrame)
    assert 0 < len(frame) <= 10
    assert {"verdict", "score", "pe", "roe"} <= set(frame.columns)
    assert (frame["pe"] < 40).all()
    sheet = md.tearsheet(str(frame.index[0]), data_dir=small_sim)
    assert sheet["symbol"] == frame.index[0]
    assert len(sheet["sections"]) == 7
    dips = md.dips(5, universe="all", data_dir=small_sim)
    assert isinstance(dips, pd.DataFrame)
    assert dips.empty or (dips["dip_pct"] >= 5).all()


def test_it_works_inside_a_running_event_loop(small_sim: Path) -> None:
    async def notebook_cell() -> pd.DataFrame:
        return md.screen(limit=3, data_dir=small_sim)

    frame = asyncio.run(notebook_cell())
    assert len(frame) == 3


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'frobnicate'"):
        md.frobnicate  # noqa: B018 - the access is the test
