"""The key vault: each user's broker, data, LLM and notification secrets, sealed at rest (AES-256-GCM).

A value goes in through `put` (format-checked, then sealed) and comes out only through `reveal`, which is for
the adapters that need it, never for a transport. `list` shows names and masked hints. Every write, read and
delete is recorded in the audit log (`vault.write`, `vault.read`, `vault.delete`), without the value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.audit.service import AuditService
from marketdesk.clock import Clock
from marketdesk.errors import NotFound
from marketdesk.kit.ids import new_id
from marketdesk.vault.checks import check_secret, kind_of, mask
from marketdesk.vault.crypto import Keyring, KeySource, Sealed, secret_aad, signing_key_aad
from marketdesk.vault.models import Secret
from marketdesk.vault.repository import VaultRepository


@dataclass(frozen=True)
class SecretInfo:
    """What may be shown of a stored secret: never its value."""

    name: str
    provider: str
    hint: str  # bullets and the last two characters, e.g. "••••••42"
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, secret: Secret) -> SecretInfo:
        return cls(secret.name, secret.provider, secret.hint, secret.created_at, secret.updated_at)


@dataclass(frozen=True)
class RotationReport:
    """What `rotate_all` re-encrypted, and under which master key version."""

    version: int
    secrets: int
    signing_keys: int


@dataclass(frozen=True)
class VaultStatus:
    """Where the master keys come from, which versions are held, and which ones stored data still uses."""

    source: KeySource
    current_version: int
    held_versions: tuple[int, ...]
    secrets_by_version: dict[int, int] = field(default_factory=dict)
    signing_keys_by_version: dict[int, int] = field(default_factory=dict)

    @property
    def versions_in_use(self) -> tuple[int, ...]:
        return tuple(sorted({*self.secrets_by_version, *self.signing_keys_by_version}))


class VaultService:
    """Store, list, reveal, delete and re-encrypt secrets. Takes a session; never commits."""

    def __init__(self, keyring: Keyring, audit: AuditService, clock: Clock) -> None:
        self.keyring = keyring
        self.audit = audit
        self.clock = clock

    async def put(
        self,
        session: AsyncSession,
        owner_id: str,
        name: str,
        value: str,
        now: datetime | None = None,
        *,
        ip: str = "",
    ) -> SecretInfo:
        """Add or replace secret `name` of `owner_id`, after its provider's format check; return it masked."""
        kind, cleaned = check_secret(name, value)
        now = now or self.clock.now()
        sealed = self.keyring.seal(cleaned.encode(), secret_aad(owner_id, name))
        repository = VaultRepository(session)
        secret = await repository.get(owner_id, name)
        replaced = secret is not None
        if secret is None:
            secret = Secret(id=new_id(self.clock, "sec_"), owner_id=owner_id, name=name, created_at=now)
        secret.provider = kind.provider
        secret.key_version, secret.nonce, secret.ciphertext = sealed.version, sealed.nonce, sealed.ciphertext
        secret.hint = mask(cleaned)
        secret.updated_at = now
        await repository.add(secret)
        await self.audit.record(
            session,
            "vault.write",
            actor_id=owner_id,
            target=f"vault:{name}",
            detail={"name": name, "provider": kind.provider, "replaced": replaced},
            ip=ip,
        )
        return SecretInfo.of(secret)

    async def list(self, session: AsyncSession, owner_id: str) -> Sequence[SecretInfo]:
        """The secrets of `owner_id`: names, providers and masked hints, by provider then name."""
        return [SecretInfo.of(secret) for secret in await VaultRepository(session).for_owner(owner_id)]

    async def reveal(self, session: AsyncSession, owner_id: str, name: str, *, purpose: str = "") -> str:
        """The plaintext of one secret, for an adapter that must use it; never send it to a client.

        `purpose` says who reads it and why (e.g. "alpaca broker"); it goes into the audit log.
        """
        secret = await VaultRepository(session).get(owner_id, name)
        if secret is None:
            raise NotFound(
                f"there is no {name} in your key vault",
                hint=f"Add it in Settings, Key vault (or PUT /api/v1/vault/secrets/{name}).",
            )
        sealed = Sealed(secret.key_version, secret.nonce, secret.ciphertext)
        plaintext = self.keyring.open(sealed, secret_aad(owner_id, name)).decode()
        await self.audit.record(
            session,
            "vault.read",
            actor_id=owner_id,
            target=f"vault:{name}",
            detail={"name": name, "provider": secret.provider, "purpose": purpose[:120]},
        )
        return plaintext

    async def delete(self, session: AsyncSession, owner_id: str, name: str, *, ip: str = "") -> None:
        """Delete one secret of `owner_id`; `NotFound` when there is none."""
        kind = kind_of(name)
        if not await VaultRepository(session).delete(owner_id, name):
            raise NotFound(f"there is no {name} in your key vault", hint="List yours with GET /api/v1/vault/secrets.")
        await self.audit.record(
            session,
            "vault.delete",
            actor_id=owner_id,
            target=f"vault:{name}",
            detail={"name": name, "provider": kind.provider},
            ip=ip,
        )

    async def rotate_all(self, session: AsyncSession, *, actor_id: str | None = None) -> RotationReport:
        """Re-encrypt every user's secrets and every JWT signing key under the keyring's current version.

        All rows are locked (PostgreSQL) or written under SQLite's write lock, in the caller's transaction:
        either everything is re-encrypted or nothing is.
        """
        repository = VaultRepository(session)
        secrets = await repository.all_secrets_for_update()
        for secret in secrets:
            aad = secret_aad(secret.owner_id, secret.name)
            sealed = self.keyring.reseal(Sealed(secret.key_version, secret.nonce, secret.ciphertext), aad)
            secret.key_version, secret.nonce, secret.ciphertext = sealed.version, sealed.nonce, sealed.ciphertext
        signing_keys = await repository.all_signing_keys_for_update()
        for signing_key in signing_keys:
            sealed = Sealed.from_token(signing_key.sealed_secret)
            signing_key.sealed_secret = self.keyring.reseal(sealed, signing_key_aad(signing_key.kid)).to_token()
        await repository.flush()
        report = RotationReport(self.keyring.current_version, len(secrets), len(signing_keys))
        await self.audit.record(
            session,
            "vault.rotate",
            actor_id=actor_id,
            # "secrets" would trip the audit log's guard against secret-named keys: these are counts
            detail={"version": report.version, "vault_rows": report.secrets, "signing_keys": report.signing_keys},
        )
        return report

    async def status(self, session: AsyncSession) -> VaultStatus:
        """The keyring's versions and the versions stored data uses (to know when an old key can go)."""
        repository = VaultRepository(session)
        signing = Counter(Sealed.from_token(token).version for token in await repository.signing_key_tokens())
        return VaultStatus(
            source=self.keyring.source,
            current_version=self.keyring.current_version,
            held_versions=self.keyring.versions,
            secrets_by_version=await repository.versions_in_use(),
            signing_keys_by_version=dict(signing),
        )
