"""The keyring: versioned AES-256-GCM master keys that seal the vault's secrets and the JWT signing keys.

Every ciphertext carries the version of the master key that sealed it, a fresh 96-bit random nonce, and is
bound by associated data to the row it lives in (`secret_aad`, `signing_key_aad`): a ciphertext copied to
another row fails to open.

Where the master keys come from, and how rotation works in each mode:

- **Key file** (the default, no `master_key` set): `<data dir>/vault.keys`, JSON
  `{"current": N, "keys": {"1": "<base64 of 32 bytes>", …}}`, created 0600 on first use. marketdesk refuses a
  file that group or others can read. `marketdesk vault rotate` adds version N+1 to the file, makes it current
  and re-encrypts everything under it. Older versions stay in the file, so a desk that is running during the
  rotation still opens every row (it re-reads the file when it meets a version it does not hold); delete them
  by hand once no backup of the database needs them.
- **Environment** (`MARKETDESK_MASTER_KEY`): the value is the base64 of 32 bytes (that key is version 1), or a
  comma-separated list of versioned keys `N:<base64>`, the current one first. To rotate: generate a key
  (`marketdesk vault keygen`), set `MARKETDESK_MASTER_KEY="2:<new>,1:<old>"` and restart the desk; it seals
  with version 2 and still opens version 1. Then run `marketdesk vault rotate`, which re-encrypts everything
  under version 2, and drop `1:<old>` once `marketdesk vault status` shows version 1 is no longer in use. If a
  `vault.keys` file also exists (a desk that moved from the key file to the environment), its keys open the
  versions the environment does not name; a version named by both with different keys is refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from marketdesk.config import Settings
from marketdesk.errors import ConfigError, Operational, Rejected

KEY_BYTES = 32
NONCE_BYTES = 12
KEYRING_FILE = "vault.keys"
KeySource = Literal["file", "environment"]


def secret_aad(owner_id: str, name: str) -> bytes:
    """The associated data binding a vault secret's ciphertext to its owner and name."""
    return f"secret:{owner_id}:{name}".encode()


def signing_key_aad(kid: str) -> bytes:
    """The associated data binding a JWT signing key's sealed secret to its `kid`."""
    return f"signing-key:{kid}".encode()


@dataclass(frozen=True)
class Sealed:
    """A ciphertext with what is needed to open it: the key version and the nonce (the GCM tag is appended)."""

    version: int
    nonce: bytes
    ciphertext: bytes

    def to_token(self) -> str:
        """The compact text form `v{N}.{nonce}.{ciphertext}` (URL-safe base64, no padding)."""
        return f"v{self.version}.{_b64(self.nonce)}.{_b64(self.ciphertext)}"

    @classmethod
    def from_token(cls, token: str) -> Sealed:
        """Parse `to_token`'s form; a malformed token is an `Operational` error (stored data is damaged)."""
        parts = token.split(".")
        try:
            if len(parts) != 3 or not parts[0].startswith("v"):
                raise ValueError("not three dot-separated parts")
            version = int(parts[0][1:])
            nonce, ciphertext = _unb64(parts[1]), _unb64(parts[2])
        except (ValueError, binascii.Error):
            raise Operational(
                "a sealed vault value is malformed (expected v<N>.<nonce>.<ciphertext>)",
                hint="The stored data was damaged; restore it from a backup or store the secret again.",
            ) from None
        if len(nonce) != NONCE_BYTES:
            raise Operational("a sealed vault value has a bad nonce", hint="Restore it from a backup.")
        return cls(version, nonce, ciphertext)


class Keyring:
    """Versioned master keys; `seal` uses the current one, `open` the one a ciphertext names.

    >>> ring = Keyring({1: bytes(32)}, current=1)
    >>> ring.open(ring.seal(b"hello", b"row-1"), b"row-1")
    b'hello'
    """

    def __init__(
        self,
        keys: Mapping[int, bytes],
        current: int,
        *,
        source: KeySource = "environment",
        path: Path | None = None,
    ) -> None:
        if current not in keys:
            raise ConfigError(f"the current master key version {current} is not in the keyring")
        for version, key in keys.items():
            if len(key) != KEY_BYTES:
                raise ConfigError(f"master key version {version} is {len(key)} bytes, not {KEY_BYTES}")
        self._keys = dict(keys)
        self._current = current
        self._ciphers = {version: AESGCM(key) for version, key in self._keys.items()}
        self.source: KeySource = source
        self.path = path  # the keyring file, in file mode
        self._lock = threading.Lock()

    # ---- loading --------------------------------------------------------------------------------------

    @classmethod
    def load(cls, settings: Settings) -> Keyring:
        """The keyring of a desk: from `settings.master_key` when set, else from `<data dir>/vault.keys`.

        The key file is created (mode 0600) with one fresh key on first use.
        """
        path = settings.data_dir / KEYRING_FILE
        if settings.master_key is not None:
            keys, current = parse_master_key(settings.master_key.get_secret_value())
            if path.exists():
                _, older = _read_keyring_file(path)
                for version, key in older.items():
                    if version in keys and keys[version] != key:
                        raise ConfigError(
                            f"master key version {version} is named by MARKETDESK_MASTER_KEY and by {path} "
                            "with different keys",
                            hint=f"Give the environment's key a new version, e.g. MARKETDESK_MASTER_KEY="
                            f'"{max([*keys, *older]) + 1}:<key>".',
                        )
                    keys.setdefault(version, key)
            return cls(keys, current, source="environment", path=path if path.exists() else None)
        if not path.exists():
            _create_keyring_file(path)
        current, keys = _read_keyring_file(path)
        return cls(keys, current, source="file", path=path)

    @classmethod
    def generate(cls) -> Keyring:
        """A keyring with one fresh random key, held in memory only (tests, notebooks)."""
        return cls({1: new_master_key()}, 1)

    # ---- properties -----------------------------------------------------------------------------------

    @property
    def current_version(self) -> int:
        return self._current

    @property
    def versions(self) -> tuple[int, ...]:
        """The key versions this keyring can open, oldest first."""
        return tuple(sorted(self._keys))

    # ---- sealing --------------------------------------------------------------------------------------

    def seal(self, plaintext: bytes, aad: bytes) -> Sealed:
        """Encrypt `plaintext` under the current key, bound to `aad` (which must be given again to open)."""
        nonce = os.urandom(NONCE_BYTES)
        version = self._current
        return Sealed(version, nonce, self._ciphers[version].encrypt(nonce, plaintext, aad))

    def open(self, sealed: Sealed, aad: bytes) -> bytes:
        """Decrypt `sealed`; a wrong key, a wrong `aad` or altered data is an `Operational` error."""
        cipher = self._cipher(sealed.version)
        try:
            return cipher.decrypt(sealed.nonce, sealed.ciphertext, aad)
        except InvalidTag:
            raise Operational(
                f"a vault secret failed to decrypt (key version {sealed.version}): the master key is not the one "
                "that sealed it, or the stored data was altered or copied from another row",
                hint="Check MARKETDESK_MASTER_KEY or the vault.keys file in the data dir; "
                "if they are right, store the secret again.",
            ) from None

    def seal_text(self, text: str, aad: bytes) -> str:
        """Seal `text` into the compact string `v{N}.{nonce}.{ciphertext}`."""
        return self.seal(text.encode(), aad).to_token()

    def open_text(self, token: str, aad: bytes) -> str:
        """Open a string made by `seal_text`."""
        return self.open(Sealed.from_token(token), aad).decode()

    def reseal(self, sealed: Sealed, aad: bytes) -> Sealed:
        """Open `sealed` and seal it again under the current key (with a fresh nonce)."""
        return self.seal(self.open(sealed, aad), aad)

    # ---- rotation -------------------------------------------------------------------------------------

    def rotate(self) -> int:
        """Add a fresh key as the new current version and return that version (key-file mode only).

        The new key is written to the key file before it is used, so no ciphertext ever names a key that
        is not on disk. With `MARKETDESK_MASTER_KEY`, the operator supplies new keys: see the module docs.
        """
        if self.source != "file" or self.path is None:
            raise Rejected(
                "the master key comes from MARKETDESK_MASTER_KEY, so marketdesk cannot add a version itself",
                hint='Generate one with `marketdesk vault keygen`, set MARKETDESK_MASTER_KEY="<N+1>:<new>,<N>:<old>", '
                "then run `marketdesk vault rotate` to re-encrypt under it.",
            )
        with self._lock:
            _, keys = _read_keyring_file(self.path)  # another process may have rotated meanwhile
            keys.update(self._keys)
            version = max(keys) + 1
            keys[version] = new_master_key()
            _write_keyring_file(self.path, version, keys)
            self._adopt(keys, version)
        return version

    def _cipher(self, version: int) -> AESGCM:
        cipher = self._ciphers.get(version)
        if cipher is None and self.path is not None:
            # another process (`marketdesk vault rotate`) may have added a version since this keyring loaded
            with self._lock:
                current, keys = _read_keyring_file(self.path)
                if self.source == "file":
                    self._adopt({**keys, **self._keys}, current)
                else:
                    self._adopt({**keys, **self._keys}, self._current)
            cipher = self._ciphers.get(version)
        if cipher is None:
            raise Operational(
                f"a vault secret was sealed with master key version {version}, which this desk does not hold "
                f"(it holds {', '.join(map(str, self.versions))})",
                hint="Restore that key: add it to the vault.keys file or to MARKETDESK_MASTER_KEY as "
                f'"{self._current}:<current>,{version}:<old>".',
            )
        return cipher

    def _adopt(self, keys: Mapping[int, bytes], current: int) -> None:
        self._keys = dict(keys)
        self._current = current
        self._ciphers = {version: AESGCM(key) for version, key in self._keys.items()}


def new_master_key() -> bytes:
    """32 fresh random bytes from the operating system."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def parse_master_key(value: str) -> tuple[dict[int, bytes], int]:
    """Parse `MARKETDESK_MASTER_KEY`: one base64 key (version 1) or `N:<base64>,…`, current first.

    Returns the keys by version and the current version; anything else is a `ConfigError` with the fix.
    """
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not entries:
        raise ConfigError(
            "MARKETDESK_MASTER_KEY is empty",
            hint="Set it to the base64 of 32 random bytes (`marketdesk vault keygen`).",
        )
    keys: dict[int, bytes] = {}
    order: list[int] = []
    for position, entry in enumerate(entries, start=1):
        label, sep, encoded = entry.partition(":")
        if not sep:
            if len(entries) > 1:
                raise ConfigError(
                    f"key {position} of MARKETDESK_MASTER_KEY has no version",
                    hint='With several keys, write each as N:<base64>, the current one first: "2:<new>,1:<old>".',
                )
            version, encoded = 1, label
        else:
            if not label.strip().isdigit() or int(label) < 1:
                raise ConfigError(
                    f"key {position} of MARKETDESK_MASTER_KEY has version {label.strip()!r}, not a positive number",
                    hint='Write each key as N:<base64>, e.g. "2:<new>,1:<old>".',
                )
            version = int(label)
        if version in keys:
            raise ConfigError(
                f"MARKETDESK_MASTER_KEY names version {version} twice", hint="Give each key its own version."
            )
        keys[version] = _decode_key(encoded.strip(), f"key {position} of MARKETDESK_MASTER_KEY")
        order.append(version)
    return keys, order[0]


def _decode_key(encoded: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(encoded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"{where} is not valid base64", hint="Use the base64 of 32 random bytes (`marketdesk vault keygen`)."
        ) from None
    if len(raw) != KEY_BYTES:
        raise ConfigError(
            f"{where} is {len(raw)} bytes once decoded, not {KEY_BYTES}",
            hint="Use the base64 of 32 random bytes (`marketdesk vault keygen`).",
        )
    return raw


# ---- the key file ----------------------------------------------------------------------------------------


def _read_keyring_file(path: Path) -> tuple[int, dict[int, bytes]]:
    _check_private(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        current = int(data["current"])
        encoded = data["keys"]
        if not isinstance(encoded, dict):
            raise TypeError("keys is not an object")
        keys = {int(version): _decode_key(str(value), f"key {version} of {path}") for version, value in encoded.items()}
    except ConfigError as exc:
        raise Operational(exc.message, hint="Restore the key file from a backup.") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Operational(
            f"the vault key file {path} cannot be read ({exc})",
            hint='It must be JSON {"current": N, "keys": {"N": "<base64>"}}; restore it from a backup.',
        ) from None
    if current not in keys:
        raise Operational(f"the vault key file {path} names current version {current} but holds no such key")
    return current, keys


def _check_private(path: Path) -> None:
    if os.name == "nt":  # POSIX modes do not describe Windows ACLs
        return
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise Operational(f"cannot read the vault key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise Operational(
            f"the vault key file {path} can be read by other users (mode {stat.S_IMODE(mode):o})",
            hint=f"Run `chmod 600 {path}`.",
        )


def _create_keyring_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _keyring_json(1, {1: new_master_key()})
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; we read theirs
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def _write_keyring_file(path: Path, current: int, keys: Mapping[int, bytes]) -> None:
    # write a private temporary file and rename it over the old one: a crash leaves one whole file or the other
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(_keyring_json(current, keys))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    if os.name != "nt":
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _keyring_json(current: int, keys: Mapping[int, bytes]) -> str:
    encoded = {str(version): base64.b64encode(key).decode() for version, key in sorted(keys.items())}
    return json.dumps({"current": current, "keys": encoded}, indent=2) + "\n"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or any(c not in _URLSAFE for c in text):
        raise ValueError("not URL-safe base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
