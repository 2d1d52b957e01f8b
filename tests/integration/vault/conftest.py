"""Fixtures of the vault suite: two users in a migrated database, a keyring and the vault service."""

from pathlib import Path

import pytest

from marketdesk.accounts.models import User
from marketdesk.audit.service import AuditService
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.db import Database
from marketdesk.vault.crypto import Keyring
from marketdesk.vault.service import VaultService

ALICE, BOB = "usr_alice", "usr_bob"


@pytest.fixture
async def users(database: Database, clock: SimClock) -> tuple[str, str]:
    """Alice and Bob, stored (the vault's rows need an owner that exists)."""
    now = clock.now()
    async with database.session() as session:
        for user_id in (ALICE, BOB):
            session.add(
                User(
                    id=user_id,
                    email=f"{user_id}@example.com",
                    password_hash="not-a-real-hash",  # noqa: S106 - these users never sign in
                    role="trader",
                    disabled=False,
                    failed_logins=0,
                    created_at=now,
                    password_changed_at=now,
                )
            )
    return ALICE, BOB


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    """The desk's default keyring: a 0600 key file in a fresh data dir."""
    return Keyring.load(load_settings(data_dir=tmp_path / "data"))


@pytest.fixture
def vault(keyring: Keyring, clock: SimClock) -> VaultService:
    return VaultService(keyring, AuditService(clock), clock)
