"""The accounts service: users, sign-in, sessions, roles and desk settings. Every transport calls it.

Takes a session per call and never commits. A refusal that records something (a failed sign-in counted, a
lock, a reused refresh token's family revoked) raises an error with `keeps_changes` set, and the unit of
work commits before the error travels on (see `marketdesk.deps.get_session`).

Registration: the first account of a desk with no users becomes its admin, by registering or with
`marketdesk users create --role admin`. After that, registration is closed unless an admin opens it (desk
setting `open_registration`); people who register then get `registration_role` (viewer unless changed).

Sign-in failures: the first failure costs nothing, each further one makes the account wait (1 s, 2 s, 4 s …,
answered 429 with Retry-After rather than by sleeping, so nobody else waits), and `login_max_failures` in a
row lock it for `login_lock_minutes`. A success clears the count.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.errors import Forbidden, SignInThrottled, Unauthorized
from marketdesk.accounts.models import RefreshToken, User
from marketdesk.accounts.passwords import PasswordHasher, check_password
from marketdesk.accounts.repository import AccountRepository
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.accounts.tokens import (
    AccessTokens,
    Sealer,
    SigningKeys,
    csrf_token,
    hash_refresh_token,
    new_refresh_token,
    same_secret,
    unverified_kid,
)
from marketdesk.accounts.views import (
    AuthStatus,
    ClientInfo,
    DeskSettingsView,
    SessionView,
    TokenPair,
    UserView,
    failure_delay_s,
    normalize_email,
)
from marketdesk.clock import Clock
from marketdesk.config import Settings
from marketdesk.errors import NotFound, Rejected
from marketdesk.kit.ids import new_id

OPEN_REGISTRATION = "open_registration"
REGISTRATION_ROLE = "registration_role"
FIRST_ADMIN = "first_admin"
INVALID_CREDENTIALS = "email or password is not right"

UserCreated = Callable[[AsyncSession, str], Awaitable[None]]


class Audit(Protocol):
    """Where security events go: `marketdesk.audit.service.AuditService`."""

    async def record(
        self,
        session: AsyncSession,
        action: str,
        *,
        actor_id: str | None = None,
        target: str = "",
        detail: dict[str, Any] | None = None,
        ip: str = "",
    ) -> Any: ...


class AccountService:
    """Users, sign-in and sessions, roles, desk settings."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        sealer: Sealer,
        audit: Audit,
        *,
        hasher: PasswordHasher | None = None,
        on_user_created: UserCreated | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.audit = audit
        self.hasher = hasher or PasswordHasher()
        self.access_lifetime = timedelta(minutes=settings.access_token_minutes)
        self.refresh_lifetime = timedelta(days=settings.refresh_token_days)
        self.keys = SigningKeys(sealer, clock, access_lifetime=self.access_lifetime)
        self.tokens = AccessTokens(self.keys, clock, self.access_lifetime)
        self.on_user_created = on_user_created
        self._has_users = False  # once true, always true: users are disabled, never deleted

    async def start(self, session: AsyncSession) -> None:
        """Make sure a signing key exists (the desk calls this at start-up, after migrations)."""
        await self.keys.ensure(session)

    # ---- the desk's state -------------------------------------------------------------------------------

    async def has_users(self, session: AsyncSession) -> bool:
        if not self._has_users:
            self._has_users = await AccountRepository(session).user_count() > 0
        return self._has_users

    async def status(self, session: AsyncSession) -> AuthStatus:
        return AuthStatus(await self.has_users(session), await self.registration_open(session))

    async def registration_open(self, session: AsyncSession) -> bool:
        """True while the desk has no users (its first account becomes admin) or an admin opened registration."""
        if not await self.has_users(session):
            return True
        return await AccountRepository(session).setting(OPEN_REGISTRATION) == "true"

    async def desk_settings(self, session: AsyncSession) -> DeskSettingsView:
        repository = AccountRepository(session)
        role = await repository.setting(REGISTRATION_ROLE) or Role.VIEWER.value
        return DeskSettingsView(await repository.setting(OPEN_REGISTRATION) == "true", Role(role))

    async def update_desk_settings(
        self,
        session: AsyncSession,
        actor: CurrentUser,
        *,
        open_registration: bool | None = None,
        registration_role: Role | None = None,
        client: ClientInfo | None = None,
    ) -> DeskSettingsView:
        """Change desk-wide settings (admins only: the transport checks the role, this checks the values)."""
        _require(actor, Role.ADMIN)
        repository = AccountRepository(session)
        changed: dict[str, Any] = {}
        if open_registration is not None:
            await repository.set_setting(OPEN_REGISTRATION, "true" if open_registration else "false")
            changed[OPEN_REGISTRATION] = open_registration
        if registration_role is not None:
            if registration_role is Role.ADMIN:
                raise Rejected("people who register cannot become admins", hint="Use viewer or trader.")
            await repository.set_setting(REGISTRATION_ROLE, registration_role.value)
            changed[REGISTRATION_ROLE] = registration_role.value
        if changed:
            await self._audit(session, "settings.changed", actor.id, detail=changed, client=client)
        return await self.desk_settings(session)

    # ---- users ------------------------------------------------------------------------------------------

    async def create_user(
        self,
        session: AsyncSession,
        email: str,
        password: str,
        role: Role,
        *,
        actor_id: str | None = None,
        client: ClientInfo | None = None,
    ) -> UserView:
        """Create an account (the CLI, an admin, or the first registration). The first user must be an admin."""
        return UserView.of(await self._create(session, email, password, role, actor_id=actor_id, client=client))

    async def _create(
        self,
        session: AsyncSession,
        email: str,
        password: str,
        role: Role,
        *,
        actor_id: str | None,
        client: ClientInfo | None,
    ) -> User:
        repository = AccountRepository(session)
        email = normalize_email(email)
        check_password(password, email=email)
        first = not await self.has_users(session)
        if first and role is not Role.ADMIN:
            raise Rejected("the desk's first user must be an admin", hint="Create it with --role admin.")
        if await repository.user_by_email(email) is not None:
            raise Rejected(f"an account for {email} already exists", hint="Sign in, or use another email.")
        now = self.clock.now()
        user = User(
            id=new_id(self.clock, "u"),
            email=email,
            password_hash=await self.hasher.hash(password),
            role=role.value,
            disabled=False,
            failed_logins=0,
            locked_until=None,
            created_at=now,
            password_changed_at=now,
        )
        if first and not await repository.claim_setting(FIRST_ADMIN, user.id):
            raise Rejected("another account became this desk's first admin a moment ago", hint="Sign in with it.")
        if not await repository.add_user(user):
            raise Rejected(f"an account for {email} already exists", hint="Sign in, or use another email.")
        self._has_users = True
        if self.on_user_created is not None:
            await self.on_user_created(session, user.id)
        detail = {"role": role.value, "first_admin": first}
        await self._audit(session, "user.created", actor_id or user.id, target=email, detail=detail, client=client)
        return user

    async def register(self, session: AsyncSession, email: str, password: str, *, client: ClientInfo) -> TokenPair:
        """Create an account and sign it in: the admin on a desk with no users, else when registration is open."""
        if await self.has_users(session):
            if not await self.registration_open(session):
                raise Forbidden(
                    "registration is closed on this desk", hint="Ask an admin to create your account or open it."
                )
            role = (await self.desk_settings(session)).registration_role
        else:
            role = Role.ADMIN
        user = await self._create(session, email, password, role, actor_id=None, client=client)
        pair = await self._open_session(session, user, client)
        await self._audit(session, "login.succeeded", user.id, target=pair.session_id, client=client)
        return pair

    async def users(self, session: AsyncSession) -> list[UserView]:
        return [UserView.of(user) for user in await AccountRepository(session).users()]

    async def user(self, session: AsyncSession, user_id: str) -> UserView:
        found = await AccountRepository(session).user(user_id)
        if found is None:
            raise NotFound(f"no user {user_id!r}")
        return UserView.of(found)

    async def update_user(
        self,
        session: AsyncSession,
        actor: CurrentUser,
        user_id: str,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        client: ClientInfo | None = None,
    ) -> UserView:
        """Re-role, disable or enable a user (admins only). The last enabled admin cannot be demoted or disabled."""
        _require(actor, Role.ADMIN)
        repository = AccountRepository(session)
        user = await repository.user(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}", hint="List users with GET /api/v1/admin/users.")
        new_role = role.value if role is not None else user.role
        new_disabled = disabled if disabled is not None else user.disabled
        was_admin = user.role == Role.ADMIN.value and not user.disabled
        stays_admin = new_role == Role.ADMIN.value and not new_disabled
        if was_admin and not stays_admin and await repository.enabled_admin_count() <= 1:
            raise Rejected("this is the desk's last admin", hint="Make another user admin first.")
        if new_role != user.role:
            detail = {"from": user.role, "to": new_role}
            user.role = new_role
            await self._audit(session, "user.role_changed", actor.id, target=user.email, detail=detail, client=client)
        if new_disabled != user.disabled:
            user.disabled = new_disabled
            revoked = 0
            if new_disabled:
                revoked = await repository.revoke_user_families(self.clock.now(), user_id=user.id)
            action = "user.disabled" if new_disabled else "user.enabled"
            await self._audit(
                session, action, actor.id, target=user.email, detail={"revoked_count": revoked}, client=client
            )
        await repository.save()
        return UserView.of(user)

    # ---- sign-in --------------------------------------------------------------------------------------

    async def login(self, session: AsyncSession, email: str, password: str, *, client: ClientInfo) -> TokenPair:
        """Check the password and open a session; refusals say as little as possible about which part was wrong."""
        repository = AccountRepository(session)
        now = self.clock.now()
        address = email.strip().lower()
        user = await repository.user_by_email(address) if len(address) <= 254 else None
        if user is None:
            await self.hasher.verify_decoy(password)
            await self._audit(
                session, "login.failed", None, target=address[:128], detail={"reason": "unknown"}, client=client
            )
            raise Unauthorized(INVALID_CREDENTIALS, hint="Check both, or ask an admin.", keeps_changes=True)
        if user.locked_until is not None and user.locked_until > now:
            wait = math.ceil((user.locked_until - now).total_seconds())
            await self._audit(
                session, "login.throttled", user.id, target=user.email, detail={"retry_after_s": wait}, client=client
            )
            raise SignInThrottled(
                "too many failed sign-ins for this account", retry_after_s=wait, hint=f"Try again in {_duration(wait)}."
            )
        matches, upgraded = await self.hasher.verify(password, user.password_hash)
        if not matches:
            await self._count_failure(session, user, now, client)
        if user.disabled:
            await self._audit(
                session, "login.failed", user.id, target=user.email, detail={"reason": "disabled"}, client=client
            )
            raise Unauthorized("this account is disabled", hint="Ask an admin to enable it.", keeps_changes=True)
        if upgraded is not None:
            user.password_hash = upgraded
        user.failed_logins = 0
        user.locked_until = None
        pair = await self._open_session(session, user, client)
        await self._audit(session, "login.succeeded", user.id, target=pair.session_id, client=client)
        return pair

    async def _count_failure(self, session: AsyncSession, user: User, now: datetime, client: ClientInfo) -> None:
        user.failed_logins = (user.failed_logins or 0) + 1
        failures = user.failed_logins
        if failures >= self.settings.login_max_failures:
            user.locked_until = now + timedelta(minutes=self.settings.login_lock_minutes)
            detail: dict[str, Any] = {"failures": failures, "locked_minutes": self.settings.login_lock_minutes}
            await self._audit(session, "login.locked", user.id, target=user.email, detail=detail, client=client)
        else:
            delay = failure_delay_s(failures)
            user.locked_until = now + timedelta(seconds=delay) if delay else None
            detail = {"reason": "password", "failures": failures, "delay_s": delay}
            await self._audit(session, "login.failed", user.id, target=user.email, detail=detail, client=client)
        await AccountRepository(session).save()
        raise Unauthorized(INVALID_CREDENTIALS, hint="Check both, or ask an admin.", keeps_changes=True)

    async def _open_session(self, session: AsyncSession, user: User, client: ClientInfo) -> TokenPair:
        family = new_id(self.clock, "s")
        return await self._issue(session, user, family, client)

    async def _issue(self, session: AsyncSession, user: User, family: str, client: ClientInfo) -> TokenPair:
        now = self.clock.now()
        refresh = new_refresh_token()
        await AccountRepository(session).add_refresh_token(
            RefreshToken(
                id=new_id(self.clock, "r"),
                user_id=user.id,
                family_id=family,
                token_hash=hash_refresh_token(refresh),
                issued_at=now,
                expires_at=now + self.refresh_lifetime,
                rotated_at=None,
                revoked_at=None,
                user_agent=client.user_agent[:255],
                ip=client.ip[:64],
            )
        )
        role = Role(user.role)
        access, key = await self.tokens.issue(session, user_id=user.id, role=role, session_id=family)
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self.access_lifetime.total_seconds()),
            refresh_expires_in=int(self.refresh_lifetime.total_seconds()),
            session_id=family,
            csrf_token=csrf_token(key.secret, family),
            user=UserView.of(user),
        )

    async def refresh(self, session: AsyncSession, refresh_token: str, *, client: ClientInfo) -> TokenPair:
        """Swap a refresh token for a new pair. A token used twice revokes its whole family (a copy is loose)."""
        repository = AccountRepository(session)
        now = self.clock.now()
        row = await repository.refresh_token_by_hash(hash_refresh_token(refresh_token)) if refresh_token else None
        if row is None:
            raise Unauthorized("refresh token not recognised")
        if row.revoked_at is not None:
            raise Unauthorized("this session has been signed out")
        if row.expires_at <= now:
            raise Unauthorized("refresh token has expired")
        if row.rotated_at is not None or not await repository.claim_refresh_token(row.id, now):
            revoked = await repository.revoke_family(row.family_id, now, user_id=row.user_id)
            detail = {"revoked_count": revoked}
            await self._audit(
                session, "refresh.reused", row.user_id, target=row.family_id, detail=detail, client=client
            )
            raise Unauthorized(
                "this refresh token was already used, so its session is now signed out",
                hint="Sign in again; if you did not reuse it, someone may hold a copy: change your password.",
                keeps_changes=True,
            )
        user = await repository.user(row.user_id)
        if user is None or user.disabled:
            await repository.revoke_family(row.family_id, now, user_id=row.user_id)
            raise Unauthorized("this account is disabled", hint="Ask an admin to enable it.", keeps_changes=True)
        return await self._issue(session, user, row.family_id, client)

    async def logout(
        self,
        session: AsyncSession,
        *,
        refresh_token: str | None = None,
        user: CurrentUser | None = None,
        client: ClientInfo | None = None,
    ) -> bool:
        """End a sign-in, named by its refresh token or by the caller's own session. False when none was found."""
        repository = AccountRepository(session)
        now = self.clock.now()
        row = await repository.refresh_token_by_hash(hash_refresh_token(refresh_token)) if refresh_token else None
        if row is not None:
            user_id, family = row.user_id, row.family_id
        elif user is not None:
            user_id, family = user.id, user.session_id
        else:
            return False
        revoked = await repository.revoke_family(family, now, user_id=user_id)
        await self._audit(session, "logout", user_id, target=family, detail={"revoked_count": revoked}, client=client)
        return True

    async def authenticate(self, session: AsyncSession, access_token: str, *, via: str = "bearer") -> CurrentUser:
        """The user an access token speaks for, as stored now: refused when disabled or signed out."""
        claims = await self.tokens.verify(session, access_token)
        repository = AccountRepository(session)
        user = await repository.user(claims.user_id)
        if user is None or user.disabled:
            raise Unauthorized("this account is disabled or gone")
        if not await repository.family_active(claims.session_id, self.clock.now(), user_id=user.id):
            raise Unauthorized("this session has been signed out")
        return CurrentUser(user.id, user.email, Role(user.role), claims.session_id, via)

    def csrf_matches(self, access_token: str, session_id: str, presented: str | None) -> bool:
        """True when `presented` is the CSRF token of the sign-in an (already verified) access token belongs to."""
        kid = unverified_kid(access_token)
        key = self.keys.cached(kid) if kid else None
        return key is not None and same_secret(presented, csrf_token(key.secret, session_id))

    # ---- a user's own account ---------------------------------------------------------------------------

    async def change_password(
        self,
        session: AsyncSession,
        user: CurrentUser,
        current_password: str,
        new_password: str,
        *,
        client: ClientInfo | None = None,
    ) -> int:
        """Change the caller's password and sign out every other session; the number of sessions ended."""
        repository = AccountRepository(session)
        stored = await repository.user(user.id)
        if stored is None:
            raise Unauthorized("this account is gone")
        matches, _ = await self.hasher.verify(current_password, stored.password_hash)
        if not matches:
            raise Forbidden("the current password is not right", hint="Type the password you signed in with.")
        check_password(new_password, email=stored.email)
        if new_password == current_password:
            raise Rejected("the new password is the current one", hint="Choose a different password.")
        now = self.clock.now()
        stored.password_hash = await self.hasher.hash(new_password)
        stored.password_changed_at = now
        await repository.save()
        revoked = await repository.revoke_user_families(now, user_id=user.id, keep_family=user.session_id)
        await self._audit(session, "password.changed", user.id, detail={"revoked_count": revoked}, client=client)
        return revoked

    async def sessions(self, session: AsyncSession, user: CurrentUser) -> list[SessionView]:
        rows = await AccountRepository(session).active_sessions(self.clock.now(), user_id=user.id)
        return [
            SessionView(
                id=row.family_id,
                started_at=row.started_at,
                last_used_at=row.last_used_at,
                expires_at=row.expires_at,
                user_agent=row.user_agent,
                ip=row.ip,
                current=row.family_id == user.session_id,
            )
            for row in rows
        ]

    async def revoke_session(
        self, session: AsyncSession, user: CurrentUser, session_id: str, *, client: ClientInfo | None = None
    ) -> None:
        """Sign out one of the caller's own sessions (another user's is "not found", never revoked)."""
        revoked = await AccountRepository(session).revoke_family(session_id, self.clock.now(), user_id=user.id)
        if not revoked:
            raise NotFound(f"no active session {session_id!r}", hint="List them with GET /api/v1/auth/sessions.")
        await self._audit(session, "session.revoked", user.id, target=session_id, client=client)

    async def revoke_other_sessions(
        self, session: AsyncSession, user: CurrentUser, *, client: ClientInfo | None = None
    ) -> int:
        """Sign out every session of the caller but this one; the number of tokens revoked."""
        now = self.clock.now()
        revoked = await AccountRepository(session).revoke_user_families(
            now, user_id=user.id, keep_family=user.session_id
        )
        await self._audit(session, "session.revoked_all", user.id, detail={"revoked_count": revoked}, client=client)
        return revoked

    # ---- keys -------------------------------------------------------------------------------------------

    async def rotate_signing_key(self, session: AsyncSession, *, actor_id: str | None = None) -> str:
        """Make a new signing key; tokens signed by the old one stay valid until they expire."""
        kid = await self.keys.rotate(session)
        await self._audit(session, "signing_key.rotated", actor_id, target=kid)
        return kid

    async def forget_expired_sessions(self, session: AsyncSession) -> int:
        """Delete refresh tokens that expired over a day ago (a housekeeping job)."""
        return await AccountRepository(session).delete_expired_refresh_tokens(self.clock.now() - timedelta(days=1))

    # ---- helpers ----------------------------------------------------------------------------------------

    async def _audit(
        self,
        session: AsyncSession,
        action: str,
        actor_id: str | None,
        *,
        target: str = "",
        detail: dict[str, Any] | None = None,
        client: ClientInfo | None = None,
    ) -> None:
        ip = client.ip if client is not None else ""
        await self.audit.record(session, action, actor_id=actor_id, target=target, detail=detail, ip=ip)


def _require(actor: CurrentUser, role: Role) -> None:
    if not actor.can(role):
        raise Forbidden(f"this needs the {role} role", hint=f"You are signed in as a {actor.role}.")


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} s"
    return f"{math.ceil(seconds / 60)} min"
