"""The accounts service on a real database (SQLite and PostgreSQL): the first admin, sign-in failures and the
lock on the desk's clock, refresh rotation and reuse, sessions, roles, the audit trail, and users' lists."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from marketdesk.accounts.errors import Forbidden, SignInThrottled, Unauthorized
from marketdesk.accounts.passwords import Argon2Parameters, PasswordHasher
from marketdesk.accounts.repository import AccountRepository
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.accounts.service import FIRST_ADMIN, AccountService
from marketdesk.accounts.views import ClientInfo, TokenPair
from marketdesk.audit.service import AuditService
from marketdesk.clock import SimClock
from marketdesk.config import Settings
from marketdesk.db import Database
from marketdesk.errors import NotFound, Rejected
from marketdesk.vault.crypto import Keyring

PASSWORD = "violet trombone harbour 42"  # noqa: S105 (a test password)
CLIENT = ClientInfo(ip="192.0.2.7", user_agent="pytest")
FAST = Argon2Parameters(memory_kib=8, time_cost=1, parallelism=1)


@pytest.fixture
def audit(clock: SimClock) -> AuditService:
    return AuditService(clock)


@pytest.fixture
def accounts(tmp_path: Path, clock: SimClock, audit: AuditService) -> AccountService:
    settings = Settings(data_dir=tmp_path, login_max_failures=3, login_lock_minutes=10)
    return AccountService(settings, clock, Keyring.generate(), audit, hasher=PasswordHasher(FAST))


async def started(database: Database, accounts: AccountService) -> None:
    async with database.session() as session:
        await accounts.start(session)


async def admin_pair(database: Database, accounts: AccountService) -> TokenPair:
    await started(database, accounts)
    async with database.session() as session:
        return await accounts.register(session, "admin@example.com", PASSWORD, client=CLIENT)


def principal(pair: TokenPair) -> CurrentUser:
    return CurrentUser(pair.user.id, pair.user.email, pair.user.role, pair.session_id)


async def actions(database: Database, audit: AuditService) -> list[str]:
    async with database.session() as session:
        return [entry.action for entry in await audit.entries(session, limit=500)]


async def test_the_first_user_must_be_an_admin_and_is_claimed_once(
    database: Database, accounts: AccountService
) -> None:
    await started(database, accounts)
    async with database.session() as session:
        with pytest.raises(Rejected, match="first user must be an admin"):
            await accounts.create_user(session, "v@example.com", PASSWORD, Role.VIEWER)
    async with database.session() as session:
        admin = await accounts.create_user(session, "a@example.com", PASSWORD, Role.ADMIN)
        assert await AccountRepository(session).setting(FIRST_ADMIN) == admin.id
        # a second writer racing for the first admin loses cleanly
        assert not await AccountRepository(session).claim_setting(FIRST_ADMIN, "someone else")
        await session.rollback()
    async with database.session() as session:
        viewer = await accounts.create_user(session, "v@example.com", PASSWORD, Role.VIEWER, actor_id=admin.id)
        assert viewer.role is Role.VIEWER
        assert (await accounts.status(session)).registration_open is False


async def test_registration_follows_the_desk_settings(database: Database, accounts: AccountService) -> None:
    pair = await admin_pair(database, accounts)
    assert pair.user.role is Role.ADMIN
    async with database.session() as session:
        with pytest.raises(Forbidden, match="closed"):
            await accounts.register(session, "bo@example.com", PASSWORD, client=CLIENT)
        viewer = CurrentUser("u-x", "x@example.com", Role.TRADER, "s-x")
        with pytest.raises(Forbidden, match="admin"):
            await accounts.update_desk_settings(session, viewer, open_registration=True)
        await accounts.update_desk_settings(session, principal(pair), open_registration=True)
    async with database.session() as session:
        joined = await accounts.register(session, "bo@example.com", PASSWORD, client=CLIENT)
        assert joined.user.role is Role.VIEWER


async def test_failed_sign_ins_delay_then_lock_on_the_desks_clock(
    database: Database, accounts: AccountService, audit: AuditService, clock: SimClock
) -> None:
    await admin_pair(database, accounts)

    async def login(password: str) -> str:
        async with database.session() as session:
            try:
                await accounts.login(session, "admin@example.com", password, client=CLIENT)
            except SignInThrottled as exc:
                return f"wait {exc.retry_after_s:g}"
            except Unauthorized:
                return "refused"
            return "ok"

    assert await login("wrong one here") == "refused"
    assert await login("wrong one here") == "refused"
    assert await login(PASSWORD) == "wait 1"
    clock.advance(timedelta(seconds=1))
    assert await login("wrong one here") == "refused"  # the third: locked for 10 minutes
    assert await login(PASSWORD) == "wait 600"
    clock.advance(timedelta(minutes=10))
    assert await login(PASSWORD) == "ok"
    recorded = await actions(database, audit)
    assert recorded.count("login.failed") == 2 and "login.locked" in recorded and "login.throttled" in recorded


async def test_unknown_emails_and_disabled_accounts_are_refused_and_recorded(
    database: Database, accounts: AccountService, audit: AuditService
) -> None:
    pair = await admin_pair(database, accounts)
    async with database.session() as session:
        with pytest.raises(Unauthorized, match="not right"):
            await accounts.login(session, "nobody@example.com", PASSWORD, client=CLIENT)
    async with database.session() as session:
        other = await accounts.create_user(session, "t@example.com", PASSWORD, Role.TRADER)
        await accounts.update_user(session, principal(pair), other.id, disabled=True)
    async with database.session() as session:
        with pytest.raises(Unauthorized, match="disabled"):
            await accounts.login(session, "t@example.com", PASSWORD, client=CLIENT)
    assert {"login.failed", "user.disabled"} <= set(await actions(database, audit))


async def test_refresh_rotates_and_reuse_revokes_the_family(
    database: Database, accounts: AccountService, audit: AuditService
) -> None:
    first = await admin_pair(database, accounts)
    async with database.session() as session:
        second = await accounts.refresh(session, first.refresh_token, client=CLIENT)
    assert second.session_id == first.session_id and second.refresh_token != first.refresh_token
    async with database.session() as session:
        with pytest.raises(Unauthorized, match="already used") as reused:
            await accounts.refresh(session, first.refresh_token, client=CLIENT)
        assert reused.value.keeps_changes
    async with database.session() as session:
        with pytest.raises(Unauthorized, match="signed out"):
            await accounts.refresh(session, second.refresh_token, client=CLIENT)
        with pytest.raises(Unauthorized, match="signed out"):
            await accounts.authenticate(session, second.access_token)
    assert "refresh.reused" in await actions(database, audit)


async def test_refresh_tokens_expire(database: Database, accounts: AccountService, clock: SimClock) -> None:
    pair = await admin_pair(database, accounts)
    clock.advance(timedelta(days=30))
    async with database.session() as session:
        with pytest.raises(Unauthorized, match="expired"):
            await accounts.refresh(session, pair.refresh_token, client=CLIENT)
        assert await accounts.forget_expired_sessions(session) == 0  # kept a day for reuse detection
    clock.advance(timedelta(days=2))
    async with database.session() as session:
        assert await accounts.forget_expired_sessions(session) == 1


async def test_sessions_are_the_users_own(database: Database, accounts: AccountService) -> None:
    pair = await admin_pair(database, accounts)
    async with database.session() as session:
        await accounts.create_user(session, "t@example.com", PASSWORD, Role.TRADER)
        trader = await accounts.login(session, "t@example.com", PASSWORD, client=CLIENT)
    async with database.session() as session:
        with pytest.raises(NotFound):
            await accounts.revoke_session(session, principal(pair), trader.session_id)
        assert [s.current for s in await accounts.sessions(session, principal(pair))] == [True]
        assert await accounts.authenticate(session, trader.access_token)


async def test_the_last_admin_stays_an_enabled_admin(database: Database, accounts: AccountService) -> None:
    pair = await admin_pair(database, accounts)
    me = principal(pair)
    async with database.session() as session:
        with pytest.raises(Rejected, match="last admin"):
            await accounts.update_user(session, me, me.id, role=Role.VIEWER)
        with pytest.raises(Rejected, match="last admin"):
            await accounts.update_user(session, me, me.id, disabled=True)
        updated = await accounts.update_user(session, me, me.id, role=Role.ADMIN, disabled=False)
        assert updated.role is Role.ADMIN and not updated.disabled


async def test_a_new_user_gets_a_copy_of_the_desks_shared_lists(
    database: Database, tmp_path: Path, clock: SimClock
) -> None:
    from marketdesk.config import load_settings
    from marketdesk.desk import build_desk
    from support.fakes import FakeSource

    desk = build_desk(
        load_settings(data_dir=tmp_path / "desk", market_data=["files"], database_url=database.url),
        clock,
        source=FakeSource(clock),
    )
    try:
        async with desk.db.session() as session:
            await desk.accounts.start(session)
            await desk.market.fetch(
                session,
                desk.source,
                ["AAA", "BBB"],
                start=clock.now().date() - timedelta(days=30),
                end=clock.now().date(),
            )
            await desk.market.create_watchlist(session, "Main", ["AAA", "BBB"], owner_id=None)
            user = await desk.accounts.create_user(session, "a@example.com", PASSWORD, Role.ADMIN)
        async with desk.db.session() as session:
            own = await desk.market.watchlists(session, owner_id=user.id)
            assert [(w.name, w.symbols) for w in own] == [("Main", ["AAA", "BBB"])]
            await desk.market.remove_from_watchlist(session, "Main", "AAA", owner_id=user.id)
        async with desk.db.session() as session:
            assert (await desk.market.watchlist(session, "Main", owner_id=None)).symbols == ["AAA", "BBB"]
            assert (await desk.market.watchlist(session, "Main", owner_id=user.id)).symbols == ["BBB"]
    finally:
        await desk.db.dispose()
