"""Queries of the key vault: the only place with SQL for `vault_secrets`, plus the sealed JWT signing keys that
vault rotation re-encrypts. Takes a session; never commits. Every per-user query is scoped to its owner."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.models import SigningKey
from marketdesk.vault.models import Secret


class VaultRepository:
    """SQL for the vault's ciphertexts, scoped to one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, owner_id: str, name: str) -> Secret | None:
        query = select(Secret).where(Secret.owner_id == owner_id, Secret.name == name)
        return (await self.session.scalars(query)).one_or_none()

    async def for_owner(self, owner_id: str) -> Sequence[Secret]:
        query = select(Secret).where(Secret.owner_id == owner_id).order_by(Secret.provider, Secret.name)
        return (await self.session.scalars(query)).all()

    async def add(self, secret: Secret) -> None:
        self.session.add(secret)
        await self.session.flush()

    async def delete(self, owner_id: str, name: str) -> bool:
        """Delete one secret of one owner; False when there was none."""
        result = await self.session.execute(delete(Secret).where(Secret.owner_id == owner_id, Secret.name == name))
        return bool(getattr(result, "rowcount", 0))

    async def flush(self) -> None:
        await self.session.flush()

    # ---- rotation: every owner's rows, locked against concurrent writers until the transaction ends ----

    async def all_secrets_for_update(self) -> Sequence[Secret]:
        query = select(Secret).order_by(Secret.id).with_for_update()
        return (await self.session.scalars(query)).all()

    async def all_signing_keys_for_update(self) -> Sequence[SigningKey]:
        query = select(SigningKey).order_by(SigningKey.kid).with_for_update()
        return (await self.session.scalars(query)).all()

    async def versions_in_use(self) -> dict[int, int]:
        """How many secrets each master key version seals (signing keys are counted by `signing_key_versions`)."""
        query = select(Secret.key_version, func.count()).group_by(Secret.key_version)
        return {int(version): int(count) for version, count in (await self.session.execute(query)).all()}

    async def signing_key_tokens(self) -> Sequence[str]:
        return (await self.session.scalars(select(SigningKey.sealed_secret))).all()
