"""What the accounts service hands back: plain frozen values, no ORM rows (transports render them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from marketdesk.accounts.models import User
from marketdesk.accounts.roles import Role
from marketdesk.errors import Rejected

MAX_DELAY_S = 60
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a request came from, for sessions and the audit log."""

    ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class UserView:
    id: str
    email: str
    role: Role
    disabled: bool
    created_at: datetime
    locked_until: datetime | None

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(user.id, user.email, Role(user.role), user.disabled, user.created_at, user.locked_until)


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a sign-in gives: an access token, a refresh token, and the CSRF token for the web desk's cookies."""

    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    refresh_expires_in: int
    session_id: str
    csrf_token: str
    user: UserView
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)


@dataclass(frozen=True, slots=True)
class SessionView:
    """One active sign-in of a user."""

    id: str
    started_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    current: bool


@dataclass(frozen=True, slots=True)
class DeskSettingsView:
    open_registration: bool
    registration_role: Role


@dataclass(frozen=True, slots=True)
class AuthStatus:
    """What a signed-out client needs to know: whether the desk still needs its first admin."""

    has_users: bool
    registration_open: bool


def normalize_email(text: str) -> str:
    """Trim and lower-case an email; refuse what cannot be one."""
    email = text.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Rejected(f"{text.strip()[:80]!r} is not an email address", hint="Write it like name@example.com.")
    return email


def failure_delay_s(failures: int) -> int:
    """How long an account waits after `failures` failed sign-ins in a row (before the lock): 0, 1, 2, 4 … s."""
    return 0 if failures < 2 else min(2 ** (failures - 2), MAX_DELAY_S)
