"""The refusals of the accounts domain, as HTTP maps them: 401 (who are you?), 403 (not allowed), 429 (slow down).

A refusal that is itself a state change (a failed sign-in counted, a reused refresh token's family revoked)
sets `keeps_changes`: the unit of work commits what the service wrote before raising, instead of rolling it
back, so an attacker cannot undo the record of an attack by causing the error that reports it.
"""

from __future__ import annotations

from marketdesk.errors import RateLimited, Rejected


class Unauthorized(Rejected):
    """No valid credentials: sign in (again)."""

    http_status = 401

    def __init__(self, message: str, *, hint: str | None = None, keeps_changes: bool = False) -> None:
        super().__init__(message, hint=hint or "Sign in again.")
        self.keeps_changes = keeps_changes


class Forbidden(Rejected):
    """Signed in, but this role may not do that."""

    http_status = 403


class CsrfRefused(Forbidden):
    """A cookie-authenticated request that changes something came without the right X-CSRF-Token header."""


class SignInThrottled(RateLimited):
    """Too many failed sign-ins for one account: refused until `retry_after_s` have passed."""

    def __init__(self, message: str, *, retry_after_s: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, retry_after_s=retry_after_s)
        self.keeps_changes = True


class TooManyRequests(RateLimited):
    """A client went over a rate limit."""


def keeps_changes(exc: BaseException) -> bool:
    """True when the unit of work must commit what was written before `exc` was raised."""
    return bool(getattr(exc, "keeps_changes", False))
