"""A started desk freezes what start-up built, so full garbage collections skip it; a stopped desk unfreezes
it, so nothing the desk held outlives it."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path

from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.desk import build_desk


async def test_start_freezes_the_heap_and_stop_unfreezes_it(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, market_data=["files"])
    desk = build_desk(settings, SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC)))
    gc.unfreeze()
    await desk.start()
    try:
        assert gc.get_freeze_count() > 1_000  # the modules and what start-up built
    finally:
        await desk.stop()
    assert gc.get_freeze_count() == 0
