"""Pydantic in/out shapes of the key-vault API. A secret's value goes in and never comes back out."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from marketdesk.vault.checks import MAX_SECRET_CHARS, SecretKind
from marketdesk.vault.service import SecretInfo


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretPut(Strict):
    """The body of `PUT /vault/secrets/{name}`: the value to store (format-checked per provider)."""

    value: SecretStr = Field(min_length=1, max_length=MAX_SECRET_CHARS, description="the key or URL; never shown again")


class SecretOut(Strict):
    """A stored secret as shown back: masked."""

    name: str
    provider: str
    hint: str = Field(description="bullets and the last two characters, e.g. ••••••42")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, info: SecretInfo) -> SecretOut:
        return cls(
            name=info.name,
            provider=info.provider,
            hint=info.hint,
            created_at=info.created_at,
            updated_at=info.updated_at,
        )


class SecretKindOut(Strict):
    """A secret the vault accepts, and what a valid value looks like."""

    name: str
    provider: str
    label: str
    expected: str
    where: str

    @classmethod
    def of(cls, kind: SecretKind) -> SecretKindOut:
        return cls(name=kind.name, provider=kind.provider, label=kind.label, expected=kind.expected, where=kind.where)
