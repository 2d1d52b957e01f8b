"""Queries of the accounts domain: users, refresh tokens, signing keys and desk settings. The only SQL here.

Takes a session; never commits. Everything that belongs to one user takes that user's id as a required
keyword (`user_id=`), so a query without its owner does not type-check and does not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.models import DeskSetting, RefreshToken, SigningKey, User


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One active sign-in (a refresh-token family) as the user sees it."""

    family_id: str
    started_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str


class AccountRepository:
    """SQL for the accounts tables, scoped to one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- users ----------------------------------------------------------------------------------------

    async def user(self, user_id: str) -> User | None:
        return await self.session.get(User, user_id)

    async def user_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def users(self) -> list[User]:
        return list(await self.session.scalars(select(User).order_by(User.created_at, User.email)))

    async def user_count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(User)) or 0)

    async def enabled_admin_count(self) -> int:
        query = select(func.count()).select_from(User).where(User.role == "admin", User.disabled.is_(False))
        return int(await self.session.scalar(query) or 0)

    async def add_user(self, user: User) -> bool:
        """Insert a user; False when the email is taken (checked by the database, so races lose cleanly).

        After False the session must be rolled back: the caller raises.
        """
        self.session.add(user)
        try:
            await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def save(self) -> None:
        """Write pending changes of loaded rows (a user's counters, role, state)."""
        await self.session.flush()

    # ---- refresh tokens ---------------------------------------------------------------------------------

    async def add_refresh_token(self, token: RefreshToken) -> None:
        self.session.add(token)
        await self.session.flush()

    async def refresh_token_by_hash(self, token_hash: str) -> RefreshToken | None:
        return await self.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))

    async def claim_refresh_token(self, token_id: str, now: datetime) -> bool:
        """Mark a token rotated; False when someone else already used or revoked it (one winner per token)."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.rotated_at.is_(None), RefreshToken.revoked_at.is_(None))
            .values(rotated_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def revoke_family(self, family_id: str, now: datetime, *, user_id: str) -> int:
        """Revoke every token of one of `user_id`'s families; the number of tokens newly revoked."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.family_id == family_id,
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def revoke_user_families(self, now: datetime, *, user_id: str, keep_family: str | None = None) -> int:
        """Revoke all of `user_id`'s tokens (except one family's, when given); the number newly revoked."""
        query = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        if keep_family is not None:
            query = query.where(RefreshToken.family_id != keep_family)
        result = await self.session.execute(query.values(revoked_at=now))
        return int(getattr(result, "rowcount", 0) or 0)

    async def family_active(self, family_id: str, now: datetime, *, user_id: str) -> bool:
        """True while the family holds an unrevoked, unexpired token of `user_id` (the sign-in still stands)."""
        query = (
            select(RefreshToken.id)
            .where(
                RefreshToken.family_id == family_id,
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .limit(1)
        )
        return await self.session.scalar(query) is not None

    async def active_sessions(self, now: datetime, *, user_id: str) -> list[SessionRow]:
        """`user_id`'s families that still hold a live token, most recently used first."""
        started = (
            select(RefreshToken.family_id, func.min(RefreshToken.issued_at).label("started_at"))
            .where(RefreshToken.user_id == user_id)
            .group_by(RefreshToken.family_id)
            .subquery()
        )
        query = (
            select(RefreshToken, started.c.started_at)
            .join(started, started.c.family_id == RefreshToken.family_id)
            .where(
                RefreshToken.user_id == user_id,
                RefreshToken.rotated_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .order_by(RefreshToken.issued_at.desc())
        )
        rows = (await self.session.execute(query)).all()
        return [
            SessionRow(
                family_id=token.family_id,
                started_at=started_at,
                last_used_at=token.issued_at,
                expires_at=token.expires_at,
                user_agent=token.user_agent,
                ip=token.ip,
            )
            for token, started_at in rows
        ]

    async def delete_expired_refresh_tokens(self, before: datetime) -> int:
        """Forget tokens that expired before `before` (housekeeping; reuse detection needs recent ones only)."""
        result = await self.session.execute(delete(RefreshToken).where(RefreshToken.expires_at < before))
        return int(getattr(result, "rowcount", 0) or 0)

    # ---- signing keys -----------------------------------------------------------------------------------

    async def signing_keys(self) -> list[SigningKey]:
        return list(await self.session.scalars(select(SigningKey).order_by(SigningKey.created_at)))

    async def signing_key(self, kid: str) -> SigningKey | None:
        return await self.session.get(SigningKey, kid)

    async def add_signing_key(self, key: SigningKey) -> None:
        self.session.add(key)
        await self.session.flush()

    async def retire_signing_keys(self, now: datetime) -> None:
        await self.session.execute(update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=now))

    async def delete_signing_keys_retired_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(SigningKey).where(SigningKey.retired_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

    # ---- desk settings ----------------------------------------------------------------------------------

    async def setting(self, key: str) -> str | None:
        row = await self.session.get(DeskSetting, key)
        return None if row is None else row.value

    async def set_setting(self, key: str, value: str) -> None:
        row = await self.session.get(DeskSetting, key)
        if row is None:
            self.session.add(DeskSetting(key=key, value=value))
        else:
            row.value = value
        await self.session.flush()

    async def claim_setting(self, key: str, value: str) -> bool:
        """Insert a setting that is written once; False when it exists (a concurrent writer got there first).

        After False the session must be rolled back: the caller raises.
        """
        self.session.add(DeskSetting(key=key, value=value))
        try:
            await self.session.flush()
        except IntegrityError:
            return False
        return True
