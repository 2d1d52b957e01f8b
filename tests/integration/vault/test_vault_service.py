"""The vault service on SQLite and PostgreSQL: put, list, reveal, delete, scoping, audit and rotation."""

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from marketdesk.accounts.models import SigningKey
from marketdesk.audit.models import AuditEntry
from marketdesk.audit.service import AuditService
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.db import Database
from marketdesk.errors import NotFound, Operational, Rejected
from marketdesk.vault.crypto import KEYRING_FILE, Keyring, signing_key_aad
from marketdesk.vault.models import Secret
from marketdesk.vault.service import VaultService

ALPACA_ID = "PKA1B2C3D4E5F6G7H8I9"
ALPACA_SECRET = "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b"  # noqa: S105 - a made-up value of the right shape
FRED = "0123456789abcdef0123456789abcdef"


async def audit_rows(database: Database) -> list[AuditEntry]:
    async with database.session() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def test_a_stored_secret_is_listed_masked_and_revealed_whole(
    database: Database, users: tuple[str, str], vault: VaultService
) -> None:
    alice, _ = users
    async with database.session() as session:
        info = await vault.put(session, alice, "alpaca_key_id", f"  {ALPACA_ID}\n")
        await vault.put(session, alice, "fred_api_key", FRED)
    assert (info.name, info.provider, info.hint) == ("alpaca_key_id", "alpaca", "••••••I9")
    async with database.session() as session:
        listed = await vault.list(session, alice)
        revealed = await vault.reveal(session, alice, "alpaca_key_id", purpose="alpaca broker")
    assert [(s.name, s.provider, s.hint) for s in listed] == [
        ("alpaca_key_id", "alpaca", "••••••I9"),
        ("fred_api_key", "fred", "••••••ef"),
    ]
    assert ALPACA_ID not in repr(listed)
    assert revealed == ALPACA_ID


async def test_replacing_a_secret_keeps_one_row_and_its_creation_time(
    database: Database, users: tuple[str, str], vault: VaultService, clock: SimClock
) -> None:
    alice, _ = users
    async with database.session() as session:
        first = await vault.put(session, alice, "fred_api_key", FRED)
    clock.advance(timedelta(hours=1))
    async with database.session() as session:
        second = await vault.put(session, alice, "fred_api_key", "f" * 32)
        rows = (await session.scalars(select(Secret).where(Secret.owner_id == alice))).all()
        assert await vault.reveal(session, alice, "fred_api_key") == "f" * 32
    assert len(rows) == 1
    assert second.created_at == first.created_at
    assert second.updated_at == first.updated_at + timedelta(hours=1)
    assert second.hint == "••••••ff"


async def test_a_malformed_or_unknown_secret_stores_nothing(
    database: Database, users: tuple[str, str], vault: VaultService
) -> None:
    alice, _ = users
    with pytest.raises(Rejected, match="does not look like a FRED API key"):
        async with database.session() as session:
            await vault.put(session, alice, "fred_api_key", "NOT-A-FRED-KEY")
    with pytest.raises(Rejected, match="Use one of: alpaca_key_id"):
        async with database.session() as session:
            await vault.put(session, alice, "binance_key", "whatever-it-is")
    async with database.session() as session:
        assert await vault.list(session, alice) == []
    assert await audit_rows(database) == []


async def test_one_user_never_reaches_anothers_secrets(
    database: Database, users: tuple[str, str], vault: VaultService
) -> None:
    alice, bob = users
    async with database.session() as session:
        await vault.put(session, alice, "alpaca_secret_key", ALPACA_SECRET)
    async with database.session() as session:
        assert await vault.list(session, bob) == []
        with pytest.raises(NotFound):
            await vault.reveal(session, bob, "alpaca_secret_key")
        with pytest.raises(NotFound):
            await vault.delete(session, bob, "alpaca_secret_key")
    async with database.session() as session:
        assert await vault.reveal(session, alice, "alpaca_secret_key") == ALPACA_SECRET


async def test_delete_removes_the_secret_and_a_second_delete_is_not_found(
    database: Database, users: tuple[str, str], vault: VaultService
) -> None:
    alice, _ = users
    async with database.session() as session:
        await vault.put(session, alice, "fred_api_key", FRED)
    async with database.session() as session:
        await vault.delete(session, alice, "fred_api_key")
    with pytest.raises(NotFound, match="no fred_api_key"):
        async with database.session() as session:
            await vault.delete(session, alice, "fred_api_key")
    async with database.session() as session:
        with pytest.raises(NotFound):
            await vault.reveal(session, alice, "fred_api_key")


async def test_every_write_read_and_delete_is_audited_without_the_value(
    database: Database, users: tuple[str, str], vault: VaultService
) -> None:
    alice, _ = users
    async with database.session() as session:
        await vault.put(session, alice, "alpaca_secret_key", ALPACA_SECRET, ip="10.1.2.3")
        await vault.put(session, alice, "alpaca_secret_key", ALPACA_SECRET[::-1])
    async with database.session() as session:
        await vault.reveal(session, alice, "alpaca_secret_key", purpose="alpaca broker")
        await vault.list(session, alice)  # shows no value: not a read of one
        await vault.delete(session, alice, "alpaca_secret_key")
    rows = await audit_rows(database)
    assert [(r.action, r.actor_id, r.target) for r in rows] == [
        ("vault.write", alice, "vault:alpaca_secret_key"),
        ("vault.write", alice, "vault:alpaca_secret_key"),
        ("vault.read", alice, "vault:alpaca_secret_key"),
        ("vault.delete", alice, "vault:alpaca_secret_key"),
    ]
    assert rows[0].ip == "10.1.2.3"
    assert '"replaced":false' in rows[0].detail and '"replaced":true' in rows[1].detail
    assert '"purpose":"alpaca broker"' in rows[2].detail
    for row in rows:
        text = " ".join(str(v) for v in (row.target, row.detail, row.ip, row.actor_id))
        assert ALPACA_SECRET not in text and ALPACA_SECRET[::-1] not in text
    async with database.session() as session:
        assert (await AuditService(vault.clock).verify(session)).ok


async def test_a_ciphertext_copied_to_another_users_row_does_not_open(
    database: Database, users: tuple[str, str], vault: VaultService
) -> None:
    alice, bob = users
    async with database.session() as session:
        await vault.put(session, alice, "fred_api_key", FRED)
        await vault.put(session, bob, "fred_api_key", "f" * 32)
    async with database.session() as session:
        stolen = (await session.scalars(select(Secret).where(Secret.owner_id == alice))).one()
        await session.execute(
            update(Secret)
            .where(Secret.owner_id == bob)
            .values(nonce=stolen.nonce, ciphertext=stolen.ciphertext, key_version=stolen.key_version)
        )
    async with database.session() as session:
        with pytest.raises(Operational, match="failed to decrypt"):
            await vault.reveal(session, bob, "fred_api_key")


async def test_rotate_all_re_encrypts_every_secret_and_signing_key_under_the_new_version(
    database: Database,
    users: tuple[str, str],
    vault: VaultService,
    keyring: Keyring,
    clock: SimClock,
    tmp_path: Path,
) -> None:
    alice, bob = users
    async with database.session() as session:
        await vault.put(session, alice, "alpaca_key_id", ALPACA_ID)
        await vault.put(session, alice, "alpaca_secret_key", ALPACA_SECRET)
        await vault.put(session, bob, "fred_api_key", FRED)
        session.add(
            SigningKey(
                kid="k1", sealed_secret=keyring.seal_text("jwt-secret-1", signing_key_aad("k1")), created_at=clock.now()
            )
        )
    async with database.session() as session:
        before = {s.id: s.ciphertext for s in (await session.scalars(select(Secret))).all()}
        status = await vault.status(session)
    assert (status.secrets_by_version, status.signing_keys_by_version) == ({1: 3}, {1: 1})
    old_dir = tmp_path / "before-rotation"
    old_dir.mkdir()
    assert keyring.path is not None
    shutil.copy2(keyring.path, old_dir / KEYRING_FILE)
    old_only = Keyring.load(load_settings(data_dir=old_dir))

    assert keyring.rotate() == 2
    async with database.session() as session:
        report = await vault.rotate_all(session)
    assert (report.version, report.secrets, report.signing_keys) == (2, 3, 1)

    async with database.session() as session:
        secrets = (await session.scalars(select(Secret))).all()
        signing = (await session.scalars(select(SigningKey))).one()
        assert {s.key_version for s in secrets} == {2}
        assert all(before[s.id] != s.ciphertext for s in secrets)
        assert signing.sealed_secret.startswith("v2.")
        assert keyring.open_text(signing.sealed_secret, signing_key_aad("k1")) == "jwt-secret-1"
        assert await vault.reveal(session, alice, "alpaca_secret_key") == ALPACA_SECRET
        assert await vault.reveal(session, bob, "fred_api_key") == FRED
        status = await vault.status(session)
        # the old key alone opens nothing any more: the data really moved to the new key
        with pytest.raises(Operational, match="version 2"):
            await VaultService(old_only, AuditService(clock), clock).reveal(session, bob, "fred_api_key")
    assert status.versions_in_use == (2,)
    actions = [r.action for r in await audit_rows(database)]
    assert actions[3] == "vault.rotate"
    assert "vault.rotate" not in actions[4:]


async def test_a_rotation_that_fails_half_way_changes_nothing(
    database: Database, users: tuple[str, str], vault: VaultService, keyring: Keyring
) -> None:
    alice, bob = users
    async with database.session() as session:
        await vault.put(session, alice, "fred_api_key", FRED)
        await vault.put(session, bob, "fred_api_key", "f" * 32)
        await session.execute(update(Secret).where(Secret.owner_id == bob).values(ciphertext=b"damaged" * 8))
    keyring.rotate()
    with pytest.raises(Operational, match="failed to decrypt"):
        async with database.session() as session:
            await vault.rotate_all(session)
    async with database.session() as session:
        assert {s.key_version for s in (await session.scalars(select(Secret))).all()} == {1}
        assert await vault.reveal(session, alice, "fred_api_key") == FRED
