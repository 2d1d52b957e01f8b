"""Roles and the signed-in principal.

Roles are ordered: admin ⊃ trader ⊃ viewer. A viewer reads its own data and the market; a trader also
changes its own data and trades; an admin also manages users and desk settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def includes(self, other: Role) -> bool:
        """True when this role may do everything `other` may (admin includes trader includes viewer)."""
        return self.rank >= other.rank


_RANK = {Role.VIEWER: 0, Role.TRADER: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """Who is calling: the user as stored now (role and state read per request, not from the token)."""

    id: str
    email: str
    role: Role
    session_id: str  # the refresh-token family of this sign-in ("sid" in the access token)
    via: str = "bearer"  # bearer (API clients) or cookie (the web desk)

    def can(self, role: Role) -> bool:
        """True when this user holds `role` or a higher one."""
        return self.role.includes(role)

    @property
    def can_write(self) -> bool:
        """Traders and admins change things; viewers never do."""
        return self.can(Role.TRADER)
