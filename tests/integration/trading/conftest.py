"""Fixtures of the trading integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from marketdesk.clock import SimClock
from marketdesk.db import Database
from support.books import Books
from support.databases import sqlite_copy


@pytest.fixture
async def books(tmp_path: Path, clock: SimClock, database: Database) -> AsyncIterator[Books]:
    """An in-process desk with a user and a paper account, opened (stopped after the test)."""
    books = Books(tmp_path, clock, database)
    await books.open()
    yield books
    await books.desk.stop()


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database of this test's own (for tests about the paper broker's rules, not its storage)."""
    async with sqlite_copy(sqlite_template, tmp_path / "paper.db") as db:
        yield db
