"""JWT signing keys on a real database: sealed at rest, rotated without signing anyone out, shared by several
workers (each with its own cache), and forgotten once every token they signed has expired."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from sqlalchemy import select

from marketdesk.accounts.errors import Unauthorized
from marketdesk.accounts.models import SigningKey
from marketdesk.accounts.passwords import Argon2Parameters, PasswordHasher
from marketdesk.accounts.roles import Role
from marketdesk.accounts.service import AccountService
from marketdesk.accounts.tokens import KEY_CACHE_S, signing_key_aad
from marketdesk.accounts.views import ClientInfo
from marketdesk.audit.service import AuditService
from marketdesk.clock import SimClock
from marketdesk.config import Settings
from marketdesk.db import Database
from marketdesk.errors import Operational
from marketdesk.vault.crypto import Keyring

PASSWORD = "violet trombone harbour 42"  # noqa: S105 (a test password)
FAST = Argon2Parameters(memory_kib=8, time_cost=1, parallelism=1)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate()


def worker(tmp_path: Path, clock: SimClock, keyring: Keyring) -> AccountService:
    """One server process's accounts service (its own key cache), over the shared database and master key."""
    return AccountService(Settings(data_dir=tmp_path), clock, keyring, AuditService(clock), hasher=PasswordHasher(FAST))


async def sign_up(database: Database, accounts: AccountService) -> str:
    async with database.session() as session:
        await accounts.start(session)
        return (await accounts.register(session, "a@example.com", PASSWORD, client=ClientInfo())).access_token


async def authenticate(database: Database, accounts: AccountService, token: str) -> Role:
    async with database.session() as session:
        return (await accounts.authenticate(session, token)).role


async def test_signing_keys_are_sealed_at_rest(
    database: Database, tmp_path: Path, clock: SimClock, keyring: Keyring
) -> None:
    accounts = worker(tmp_path, clock, keyring)
    token = await sign_up(database, accounts)
    kid = jwt.get_unverified_header(token)["kid"]
    async with database.session() as session:
        row = await session.get(SigningKey, kid)
    assert row is not None
    secret = base64.b64decode(keyring.open_text(row.sealed_secret, signing_key_aad(kid)))
    assert len(secret) == 32
    assert base64.b64encode(secret).decode() not in row.sealed_secret and secret.hex() not in row.sealed_secret
    with pytest.raises(Operational):  # a sealed key moved to another kid does not open
        keyring.open_text(row.sealed_secret, signing_key_aad("k-other"))


async def test_a_restart_keeps_the_key_and_its_tokens(
    database: Database, tmp_path: Path, clock: SimClock, keyring: Keyring
) -> None:
    token = await sign_up(database, worker(tmp_path, clock, keyring))
    restarted = worker(tmp_path, clock, keyring)
    async with database.session() as session:
        await restarted.start(session)
        assert len(list(await session.scalars(select(SigningKey)))) == 1
    assert await authenticate(database, restarted, token) is Role.ADMIN


async def test_rotation_keeps_old_tokens_valid_until_they_expire(
    database: Database, tmp_path: Path, clock: SimClock, keyring: Keyring
) -> None:
    accounts = worker(tmp_path, clock, keyring)
    old_token = await sign_up(database, accounts)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    clock.advance(timedelta(seconds=1))
    async with database.session() as session:
        new_kid = await accounts.rotate_signing_key(session)
        fresh = await accounts.login(session, "a@example.com", PASSWORD, client=ClientInfo())
    assert new_kid != old_kid and jwt.get_unverified_header(fresh.access_token)["kid"] == new_kid
    assert await authenticate(database, accounts, old_token) is Role.ADMIN  # the retired key still verifies
    clock.advance(timedelta(minutes=15))
    with pytest.raises(Unauthorized, match="expired"):
        await authenticate(database, accounts, old_token)
    # once no token of it can be alive, the next rotation forgets the retired key altogether
    clock.advance(timedelta(seconds=KEY_CACHE_S + 1))
    async with database.session() as session:
        await accounts.rotate_signing_key(session)
        kids = set(await session.scalars(select(SigningKey.kid)))
    assert old_kid not in kids and new_kid in kids


async def test_a_rotation_by_one_worker_reaches_the_others(
    database: Database, tmp_path: Path, clock: SimClock, keyring: Keyring
) -> None:
    first, second = worker(tmp_path, clock, keyring), worker(tmp_path, clock, keyring)
    token = await sign_up(database, first)
    async with database.session() as session:
        await second.start(session)
    assert await authenticate(database, second, token) is Role.ADMIN
    async with database.session() as session:
        await first.rotate_signing_key(session)
        rotated = await first.login(session, "a@example.com", PASSWORD, client=ClientInfo())
    # the second worker has never seen the new kid: it reads the keys again and accepts the token
    assert await authenticate(database, second, rotated.access_token) is Role.ADMIN


async def test_a_token_signed_with_another_desks_key_is_refused(
    database: Database, tmp_path: Path, clock: SimClock, keyring: Keyring
) -> None:
    token = await sign_up(database, worker(tmp_path, clock, keyring))
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(payload, b"another desk's 32-byte secret!!!", algorithm="HS256", headers={"kid": header["kid"]})
    with pytest.raises(Unauthorized, match="signature"):
        await authenticate(database, worker(tmp_path, clock, keyring), forged)
