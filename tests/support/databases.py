"""Databases of a test's own."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from marketdesk.db import Database


@asynccontextmanager
async def sqlite_copy(template: Path, target: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database at `target`, copied from the session's `template`; disposed and deleted after
    (a hypothesis example makes one per run)."""
    shutil.copy(template, target)
    db = Database(f"sqlite:///{target}")
    try:
        yield db
    finally:
        await db.dispose()
        await asyncio.to_thread(target.unlink, missing_ok=True)
