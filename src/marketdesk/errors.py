"""The error hierarchy: one root, subclasses chosen by how the caller should react.

- `Rejected`: the user's input is wrong. HTTP 4xx, CLI exit 2, a toast. The message says what to fix.
- `Temporary`: try again later (rate limit, locked database, a provider that timed out). Retried with backoff.
- `Operational`: something is broken that a person must look at. Stop and alert.

Every message is one line a person can act on; `hint` carries the fix when it is not already in the message.
"""

from __future__ import annotations


class MarketdeskError(Exception):
    """Root of every error marketdesk raises on purpose."""

    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.one_line()

    def one_line(self) -> str:
        """Return the message and its fix as one line."""
        if self.hint:
            return f"{self.message}. {self.hint}" if not self.message.endswith(".") else f"{self.message} {self.hint}"
        return self.message


class Rejected(MarketdeskError):
    """The caller's input is wrong; the message says what to change."""

    http_status = 422
    exit_code = 2


class NotFound(Rejected):
    """The thing asked for does not exist."""

    http_status = 404


class UnknownSymbol(NotFound):
    """A symbol no source knows."""

    def __init__(self, symbol: str, *, source: str | None = None) -> None:
        where = f" in {source}" if source else ""
        super().__init__(
            f"unknown symbol {symbol!r}{where}",
            hint="Check the spelling, or import its prices with `marketdesk data import prices FILE`.",
        )
        self.symbol = symbol


class Unsupported(Rejected):
    """The source or component cannot do what was asked (a capability it does not declare)."""

    http_status = 400


class ConfigError(Rejected):
    """A setting has a bad value or an unknown name."""


class Temporary(MarketdeskError):
    """A transient failure; retrying later may succeed."""

    http_status = 503
    exit_code = 75  # EX_TEMPFAIL

    def __init__(self, message: str, *, hint: str | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s


class RateLimited(Temporary):
    """A provider said slow down."""

    http_status = 429


class Operational(MarketdeskError):
    """Something is broken and needs a person: stop and alert."""

    http_status = 500
    exit_code = 70  # EX_SOFTWARE
