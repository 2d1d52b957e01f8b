"""Tokens: short-lived JWT access tokens, the signing keys behind them, opaque refresh tokens, CSRF tokens.

Access tokens are HS256 JWTs with the claims sub (user id), role, sid (the sign-in's refresh-token family),
iat, exp, jti and typ="access", and the signing key's `kid` in the header. Verification is strict: the
algorithm is pinned (a header saying `none`, RS256 or anything else is refused before any key is touched),
the kid must name a key the desk holds, every claim must be present and typed, and time is the desk's clock.

Signing keys are 256-bit random secrets stored in `signing_keys`, sealed by the vault's master key. Rotation
makes a new current key; retired keys keep verifying the tokens they signed until those expire, so nobody is
signed out by a rotation. Each process caches the keys: it re-reads the current key every `KEY_CACHE_S`, and
looks up a kid it does not know (one primary-key read), so a rotation made by one worker reaches the others.

Refresh tokens are 256-bit random strings; only their sha256 is stored (accounts/service.py rotates them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.errors import Unauthorized
from marketdesk.accounts.models import SigningKey
from marketdesk.accounts.repository import AccountRepository
from marketdesk.accounts.roles import Role
from marketdesk.clock import Clock
from marketdesk.errors import Operational
from marketdesk.kit.ids import new_id

ALGORITHM = "HS256"
ACCESS_TYPE = "access"
KEY_BYTES = 32  # RFC 7518 §3.2: an HS256 key has at least 256 bits
REFRESH_TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 4096
KEY_CACHE_S = 60.0
MAX_KID_CHARS = 40
CLOCK_SKEW_S = 30  # a token "issued" this far in the future is still accepted (workers' clocks differ a little)
REQUIRED_CLAIMS = ("sub", "role", "sid", "iat", "exp", "jti", "typ")


class Sealer(Protocol):
    """What seals signing keys at rest: the vault's `Keyring`."""

    def seal_text(self, text: str, aad: bytes) -> str: ...

    def open_text(self, token: str, aad: bytes) -> str: ...


def signing_key_aad(kid: str) -> bytes:
    """The associated data a signing key is sealed with: a sealed key cannot be moved to another kid."""
    return f"signing-key:{kid}".encode()


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """A verified access token."""

    user_id: str
    role: Role
    session_id: str
    token_id: str
    issued_at: datetime
    expires_at: datetime
    kid: str


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """One signing key, opened."""

    kid: str
    secret: bytes
    created_at: datetime
    retired_at: datetime | None


class SigningKeys:
    """The desk's JWT signing keys, cached in memory, sealed at rest."""

    def __init__(self, sealer: Sealer, clock: Clock, *, access_lifetime: timedelta) -> None:
        self.sealer = sealer
        self.clock = clock
        self.access_lifetime = access_lifetime
        self._keys: dict[str, KeyMaterial] = {}
        self._current: str | None = None
        self._loaded_at: float | None = None  # monotonic seconds: cache age, not a domain time

    async def load(self, session: AsyncSession) -> None:
        """Read every key from the database (replacing the cache)."""
        keys: dict[str, KeyMaterial] = {}
        for row in await AccountRepository(session).signing_keys():
            text = self.sealer.open_text(row.sealed_secret, signing_key_aad(row.kid))
            keys[row.kid] = KeyMaterial(row.kid, base64.b64decode(text), row.created_at, row.retired_at)
        live = [key for key in keys.values() if key.retired_at is None]
        self._keys = keys
        self._current = max(live, key=lambda key: key.created_at).kid if live else None
        self._loaded_at = time.monotonic()

    async def ensure(self, session: AsyncSession) -> str:
        """Load the keys and make a first one when there is none; return the current kid."""
        await self.load(session)
        if self._current is None:
            return await self._create(session)
        return self._current

    async def rotate(self, session: AsyncSession) -> str:
        """Retire the current key, make a new one, forget keys whose tokens have all expired; return the new kid."""
        repository = AccountRepository(session)
        now = self.clock.now()
        await repository.retire_signing_keys(now)
        # a key retired longer ago than a token lives (plus the other workers' cache age) verifies nothing
        await repository.delete_signing_keys_retired_before(now - self.access_lifetime - timedelta(seconds=KEY_CACHE_S))
        kid = await self._create(session)
        await self.load(session)
        return kid

    async def _create(self, session: AsyncSession) -> str:
        kid = new_id(self.clock, "k")
        secret = secrets.token_bytes(KEY_BYTES)
        sealed = self.sealer.seal_text(base64.b64encode(secret).decode(), signing_key_aad(kid))
        now = self.clock.now()
        await AccountRepository(session).add_signing_key(
            SigningKey(kid=kid, sealed_secret=sealed, created_at=now, retired_at=None)
        )
        self._keys[kid] = KeyMaterial(kid, secret, now, None)
        self._current = kid
        return kid

    async def current(self, session: AsyncSession) -> KeyMaterial:
        """The key new tokens are signed with (re-read when the cache is old, so rotations elsewhere arrive)."""
        if self._loaded_at is None or time.monotonic() - self._loaded_at > KEY_CACHE_S:
            await self.ensure(session)
        if self._current is None:
            raise Operational("no JWT signing key", hint="Restart the desk; it makes one at start-up.")
        return self._keys[self._current]

    async def find(self, session: AsyncSession, kid: str) -> KeyMaterial | None:
        """The key named `kid`; one it has not cached (another worker rotated) is read from the database."""
        key = self._keys.get(kid)
        if key is not None or len(kid) > MAX_KID_CHARS:
            return key
        row = await AccountRepository(session).signing_key(kid)
        if row is None:
            return None
        text = self.sealer.open_text(row.sealed_secret, signing_key_aad(row.kid))
        key = KeyMaterial(row.kid, base64.b64decode(text), row.created_at, row.retired_at)
        self._keys[kid] = key
        return key

    def cached(self, kid: str) -> KeyMaterial | None:
        return self._keys.get(kid)


class AccessTokens:
    """Issues and verifies access tokens."""

    def __init__(self, keys: SigningKeys, clock: Clock, lifetime: timedelta) -> None:
        self.keys = keys
        self.clock = clock
        self.lifetime = lifetime

    async def issue(
        self, session: AsyncSession, *, user_id: str, role: Role, session_id: str
    ) -> tuple[str, KeyMaterial]:
        """A signed access token and the key that signed it."""
        key = await self.keys.current(session)
        now = int(self.clock.now().timestamp())
        claims = {
            "sub": user_id,
            "role": role.value,
            "sid": session_id,
            "iat": now,
            "exp": now + int(self.lifetime.total_seconds()),
            "jti": secrets.token_urlsafe(12),
            "typ": ACCESS_TYPE,
        }
        return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid}), key

    async def verify(self, session: AsyncSession, token: str) -> AccessClaims:
        """The claims of a valid token; `Unauthorized` (401) for anything else, saying what was wrong."""
        header = _header(token)
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not kid:
            raise Unauthorized(f"access token must be {ALGORITHM}-signed with a kid")
        key = await self.keys.find(session, kid)
        if key is None:
            raise Unauthorized("access token is signed by a key this desk does not hold")
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key.secret,
                algorithms=[ALGORITHM],
                # expiry is checked below against the desk's clock, not PyJWT's wall clock
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": list(REQUIRED_CLAIMS),
                },
            )
        except jwt.InvalidSignatureError:
            raise Unauthorized("access token signature does not match") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("access token is malformed") from None
        return self._claims(payload, kid)

    def _claims(self, payload: dict[str, Any], kid: str) -> AccessClaims:
        if payload.get("typ") != ACCESS_TYPE:
            raise Unauthorized("this is not an access token")
        user_id, role, session_id, token_id = (payload.get(name) for name in ("sub", "role", "sid", "jti"))
        if not all(isinstance(v, str) and v for v in (user_id, role, session_id, token_id)):
            raise Unauthorized("access token claims are malformed")
        issued, expires = payload.get("iat"), payload.get("exp")
        if not isinstance(issued, int) or isinstance(issued, bool):
            raise Unauthorized("access token times are malformed")
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise Unauthorized("access token times are malformed")
        now = self.clock.now().timestamp()
        if expires <= now:
            raise Unauthorized("access token has expired", hint="Refresh it with POST /api/v1/auth/refresh.")
        if issued > now + CLOCK_SKEW_S or expires - issued > self.lifetime.total_seconds() + CLOCK_SKEW_S:
            raise Unauthorized("access token times are not plausible")
        try:
            parsed_role = Role(str(role))
        except ValueError:
            raise Unauthorized("access token names an unknown role") from None
        return AccessClaims(
            user_id=str(user_id),
            role=parsed_role,
            session_id=str(session_id),
            token_id=str(token_id),
            issued_at=datetime.fromtimestamp(issued, UTC),
            expires_at=datetime.fromtimestamp(expires, UTC),
            kid=kid,
        )


def _header(token: str) -> dict[str, Any]:
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized("access token is missing or too long")
    try:
        return dict(jwt.get_unverified_header(token))
    except jwt.InvalidTokenError:
        raise Unauthorized("access token is malformed") from None


def unverified_kid(token: str) -> str | None:
    """The kid a token names (for tokens already verified, e.g. to check its CSRF token)."""
    try:
        kid = _header(token).get("kid")
    except Unauthorized:
        return None
    return kid if isinstance(kid, str) else None


def new_refresh_token() -> str:
    """A fresh opaque refresh token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def hash_refresh_token(token: str) -> str:
    """What is stored of a refresh token: its sha256, hex (the token has 256 bits; no salt or stretching needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret: bytes, session_id: str) -> str:
    """The CSRF token of one sign-in: an HMAC of its session id, so it cannot be forged or planted."""
    return hmac.new(secret, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def same_secret(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two optional strings (False when either is missing)."""
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())
