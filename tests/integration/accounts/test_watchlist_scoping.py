"""Ownership is enforced where the SQL is: every watchlist query names its owner, and a list id of another
owner reads as empty and cannot be changed. A call that forgets the owner does not run. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketdesk.accounts.models import User
from marketdesk.accounts.repository import AccountRepository
from marketdesk.db import Database
from marketdesk.marketdata.repository import MarketDataRepository

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


def user(user_id: str) -> User:
    return User(
        id=user_id,
        email=f"{user_id}@example.com",
        password_hash="x",  # noqa: S106 (no hash of anything: these users never sign in)
        role="trader",
        disabled=False,
        failed_logins=0,
        locked_until=None,
        created_at=NOW,
        password_changed_at=NOW,
    )


async def test_a_list_is_only_reachable_through_its_owner(database: Database) -> None:
    async with database.session() as session:
        for user_id in ("ua", "ub"):
            assert await AccountRepository(session).add_user(user(user_id))
        repository = MarketDataRepository(session)
        mine = await repository.create_watchlist("Main", NOW, owner_id="ua")
        theirs = await repository.create_watchlist("Main", NOW, owner_id="ub")  # same name, another owner
        shared = await repository.create_watchlist("Main", NOW, owner_id=None)
        assert await repository.add_to_watchlist(mine.id, "AAA", owner_id="ua")
        assert await repository.add_to_watchlist(theirs.id, "BBB", owner_id="ub")
        assert await repository.add_to_watchlist(shared.id, "CCC", owner_id=None)
    async with database.session() as session:
        repository = MarketDataRepository(session)
        found = await repository.watchlist_by_name("Main", owner_id="ua")
        assert found is not None and found.id == mine.id
        assert [w.id for w in await repository.watchlists(owner_id="ub")] == [theirs.id]
        assert [w.id for w in await repository.watchlists(owner_id=None)] == [shared.id]
        # another owner's list id: empty, unchangeable, untouched
        assert await repository.watchlist_symbols(mine.id, owner_id="ub") == []
        assert await repository.watchlist_symbols(mine.id, owner_id=None) == []
        assert not await repository.add_to_watchlist(mine.id, "ZZZ", owner_id="ub")
        assert not await repository.remove_from_watchlist(mine.id, "AAA", owner_id="ub")
        assert not await repository.remove_from_watchlist(mine.id, "AAA", owner_id=None)
        assert await repository.watchlist_symbols(mine.id, owner_id="ua") == ["AAA"]
        assert await repository.watchlist_symbols(shared.id, owner_id=None) == ["CCC"]


async def test_a_query_without_its_owner_does_not_run(database: Database) -> None:
    async with database.session() as session:
        repository = MarketDataRepository(session)
        with pytest.raises(TypeError, match="owner_id"):
            await repository.watchlists()  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="owner_id"):
            await repository.watchlist_by_name("Main")  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="owner_id"):
            await repository.watchlist_symbols(1)  # type: ignore[call-arg]
