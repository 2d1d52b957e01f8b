"""Passwords: the policy a new password must pass, and argon2id hashing.

Hashing is argon2id (pwdlib over argon2-cffi) with RFC 9106's second recommended setting:
memory 64 MiB, time cost 3 passes, parallelism 4, a 16-byte salt and a 32-byte tag. Verifying costs tens of
milliseconds of CPU and 64 MiB, so it runs in a worker thread (the event loop keeps serving everyone else)
and at most `MAX_CONCURRENT_HASHES` run at once (a burst of sign-ins cannot exhaust memory).

The policy follows NIST SP 800-63B: a minimum length and a check against common passwords, no composition
rules. Text is NFKC-normalised before it is checked or hashed, so the same password typed on two keyboards
(composed or decomposed accents) is the same password.
"""

from __future__ import annotations

import asyncio
import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from marketdesk.errors import Rejected

MIN_LENGTH = 12
MAX_LENGTH = 256  # long enough for any passphrase; short enough that hashing it is not a denial of service
MIN_DISTINCT_CHARACTERS = 5
MAX_CONCURRENT_HASHES = 4


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """The cost of one hash. Raising them makes new hashes stronger; old hashes are upgraded at sign-in."""

    memory_kib: int = 65536
    time_cost: int = 3
    parallelism: int = 4

    def describe(self) -> str:
        return f"argon2id m={self.memory_kib // 1024}MiB t={self.time_cost} p={self.parallelism}"


DEFAULT_ARGON2 = Argon2Parameters()


class PasswordRejected(Rejected):
    """A new password that fails the policy; the message says why and what to choose instead."""


class PasswordHasher:
    """argon2id hashing with the desk's parameters; blocking work runs off the event loop."""

    def __init__(self, parameters: Argon2Parameters = DEFAULT_ARGON2) -> None:
        self.parameters = parameters
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=parameters.time_cost,
                    memory_cost=parameters.memory_kib,
                    parallelism=parameters.parallelism,
                ),
            )
        )
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_HASHES)
        self._decoy: str | None = None

    def hash_now(self, password: str) -> str:
        """Hash in the calling thread (the CLI and benchmarks; the server uses `hash`)."""
        return self._hash.hash(_normalize(password))

    def verify_now(self, password: str, stored: str) -> tuple[bool, str | None]:
        """(matches, a new hash when the stored one used weaker parameters) in the calling thread."""
        try:
            return self._hash.verify_and_update(_normalize(password), stored)
        except Exception:  # a malformed stored hash never matches (and never crashes a sign-in)
            return False, None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hash_now, password)

    async def verify(self, password: str, stored: str) -> tuple[bool, str | None]:
        async with self._slots:
            return await asyncio.to_thread(self.verify_now, password, stored)

    async def verify_decoy(self, password: str) -> None:
        """Spend the time of one verification, for an email nobody has (no timing oracle for accounts)."""
        if self._decoy is None:
            self._decoy = await self.hash("decoy password for unknown accounts")
        await self.verify(password, self._decoy)


def check_password(password: str, *, email: str) -> None:
    """Refuse a password that is too short, too long, too common, too simple, or built from the email.

    >>> check_password("violet trombone harbour 9", email="ann@example.com")
    """
    problem = password_problem(password, email=email)
    if problem is not None:
        raise PasswordRejected(f"this password {problem}", hint=_ADVICE)


_ADVICE = "Choose at least 12 characters; three or four unrelated words make a strong password you can remember."


def password_problem(password: str, *, email: str) -> str | None:
    """Why `password` is not acceptable (a phrase finishing "this password …"), or None when it is."""
    text = _normalize(password)
    if len(text) < MIN_LENGTH:
        return f"has {len(text)} characters; use at least {MIN_LENGTH}"
    if len(text) > MAX_LENGTH:
        return f"has {len(text)} characters; use at most {MAX_LENGTH}"
    lowered = text.lower()
    if len(set(lowered)) < MIN_DISTINCT_CHARACTERS:
        return "repeats too few different characters"
    if _is_common(lowered):
        return "is one of the most common passwords (or a small change to one)"
    if _is_sequence(lowered):
        return "is a keyboard or alphabet sequence"
    for part in _email_parts(email):
        if part in lowered:
            return "contains your email address's name"
    return None


def _normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The rejection list shipped with marketdesk (accounts/common-passwords.txt)."""
    text = resources.files("marketdesk.accounts").joinpath("common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


_LEET = str.maketrans(
    {"@": "a", "4": "a", "8": "b", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s", "5": "s", "7": "t"}
)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SPACES = re.compile(r"[\s._\-]+")


def _stems(lowered: str) -> set[str]:
    """The password as typed, without spaces, without digits and symbols at either end, and de-leeted."""
    squeezed = _SPACES.sub("", lowered)
    stems = {lowered, squeezed, _EDGES.sub("", squeezed)}
    stems |= {stem.translate(_LEET) for stem in list(stems)}
    stems |= {_EDGES.sub("", stem) for stem in list(stems)}
    stems |= {unit for stem in list(stems) if (unit := _repeated_unit(stem))}
    return {stem for stem in stems if stem}


def _repeated_unit(text: str) -> str | None:
    """ "passwordpassword" → "password": the unit a string repeats, when it is one repeated several times."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return None


def _is_common(lowered: str) -> bool:
    common = common_passwords()
    return any(stem in common for stem in _stems(lowered))


_WALKS = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "zxcvbnmasdfghjklqwertyuiop",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)


def _is_sequence(lowered: str) -> bool:
    core = _SPACES.sub("", lowered)
    for walk in _WALKS:
        for line in (walk * 3, walk[::-1] * 3):
            if core in line:
                return True
    return False


def _email_parts(email: str) -> list[str]:
    local, _, domain = email.strip().lower().partition("@")
    parts = {local, *re.split(r"[._+\-]", local)}
    if domain:
        parts.add(domain.split(".")[0])
    return sorted(part for part in parts if len(part) >= 4)
