"""The keyring: AES-256-GCM with versioned master keys, from the environment or a private key file."""

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.config import load_settings
from marketdesk.errors import ConfigError, Operational, Rejected
from marketdesk.vault.crypto import (
    KEYRING_FILE,
    NONCE_BYTES,
    Keyring,
    Sealed,
    new_master_key,
    parse_master_key,
    secret_aad,
    signing_key_aad,
)

AAD = secret_aad("usr_1", "alpaca_secret_key")
RING = Keyring({1: bytes(range(32))}, current=1)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@settings(deadline=None)  # timing is not under test; a loaded CI worker must not flake
@given(plaintext=st.binary(max_size=512), aad=st.binary(max_size=64))
def test_sealed_data_opens_to_the_same_bytes_with_the_same_aad(plaintext: bytes, aad: bytes) -> None:
    sealed = RING.seal(plaintext, aad)
    assert RING.open(sealed, aad) == plaintext
    assert len(sealed.ciphertext) == len(plaintext) + 16  # the GCM tag
    assert len(plaintext) < 8 or plaintext not in sealed.ciphertext


def test_each_seal_uses_a_fresh_96_bit_nonce() -> None:
    first, second = RING.seal(b"same", AAD), RING.seal(b"same", AAD)
    assert len(first.nonce) == NONCE_BYTES == 12
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_a_ciphertext_copied_to_another_row_does_not_open() -> None:
    sealed = RING.seal(b"PKABCDEFGHIJKLMNOPQR", secret_aad("usr_1", "alpaca_key_id"))
    with pytest.raises(Operational, match="failed to decrypt"):
        RING.open(sealed, secret_aad("usr_2", "alpaca_key_id"))
    with pytest.raises(Operational, match="failed to decrypt"):
        RING.open(sealed, secret_aad("usr_1", "alpaca_secret_key"))


def test_tampered_ciphertext_or_nonce_does_not_open() -> None:
    sealed = RING.seal(b"secret value", AAD)
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(Operational, match="failed to decrypt"):
        RING.open(Sealed(sealed.version, sealed.nonce, flipped), AAD)
    with pytest.raises(Operational, match="failed to decrypt"):
        RING.open(Sealed(sealed.version, bytes(12), sealed.ciphertext), AAD)


def test_a_different_key_with_the_same_version_does_not_open() -> None:
    sealed = RING.seal(b"secret value", AAD)
    other = Keyring({1: new_master_key()}, current=1)
    with pytest.raises(Operational, match=r"key version 1") as caught:
        other.open(sealed, AAD)
    assert "secret value" not in str(caught.value)


def test_text_tokens_carry_the_version_and_round_trip() -> None:
    ring = Keyring({1: new_master_key(), 7: new_master_key()}, current=7)
    token = ring.seal_text("jwt-signing-material", signing_key_aad("kid_1"))
    assert token.startswith("v7.")
    assert len(token.split(".")) == 3
    assert "jwt-signing-material" not in token
    assert ring.open_text(token, signing_key_aad("kid_1")) == "jwt-signing-material"
    with pytest.raises(Operational):
        ring.open_text(token, signing_key_aad("kid_2"))


@pytest.mark.parametrize(
    "token", ["", "v1.abc", "x1.AAAA.AAAA", "v1.!!.AAAA", "v1.AAAA.AAAA", "vX.AAAAAAAAAAAAAAAA.AA"]
)
def test_a_malformed_token_is_an_operational_error(token: str) -> None:
    with pytest.raises(Operational, match=r"malformed|bad nonce"):
        Sealed.from_token(token)


def test_an_unknown_version_names_the_versions_held() -> None:
    sealed = Sealed(9, os.urandom(12), b"x" * 32)
    with pytest.raises(Operational, match=r"version 9.*holds 1"):
        RING.open(sealed, AAD)


# ---- the environment -------------------------------------------------------------------------------------


def test_a_bare_environment_key_is_version_1() -> None:
    key = new_master_key()
    keys, current = parse_master_key(b64(key))
    assert (keys, current) == ({1: key}, 1)


def test_versioned_environment_keys_put_the_current_one_first() -> None:
    new, old = new_master_key(), new_master_key()
    keys, current = parse_master_key(f"3:{b64(new)}, 2:{b64(old)}")
    assert current == 3
    assert keys == {3: new, 2: old}


def test_url_safe_base64_is_accepted_too() -> None:
    key = bytes([0xFB, 0xFF] * 16)
    keys, _ = parse_master_key(base64.urlsafe_b64encode(key).decode())
    assert keys[1] == key


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64 at all!", "not valid base64"),
        (b64(b"short"), "5 bytes once decoded, not 32"),
        (f"{b64(bytes(32))},{b64(bytes(32))}", "has no version"),
        (f"0:{b64(bytes(32))}", "not a positive number"),
        (f"2:{b64(bytes(32))},2:{b64(bytes(32))}", "names version 2 twice"),
        (" , ", "is empty"),
    ],
)
def test_a_bad_environment_key_is_a_config_error_with_the_fix(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_master_key(value)
    assert caught.value.hint  # every refusal says how to fix it


def test_load_prefers_the_environment_and_makes_no_key_file(tmp_path: Path) -> None:
    key = new_master_key()
    ring = Keyring.load(load_settings(data_dir=tmp_path, master_key=b64(key)))
    assert ring.source == "environment"
    assert ring.current_version == 1
    assert not (tmp_path / KEYRING_FILE).exists()
    assert Keyring({1: key}, 1).open(ring.seal(b"x", AAD), AAD) == b"x"


def test_environment_mode_cannot_rotate_by_itself(tmp_path: Path) -> None:
    ring = Keyring.load(load_settings(data_dir=tmp_path, master_key=b64(new_master_key())))
    with pytest.raises(Rejected, match="MARKETDESK_MASTER_KEY"):
        ring.rotate()


def test_environment_mode_opens_older_versions_from_a_leftover_key_file(tmp_path: Path) -> None:
    file_ring = Keyring.load(load_settings(data_dir=tmp_path))
    sealed = file_ring.seal(b"from the file era", AAD)
    ring = Keyring.load(load_settings(data_dir=tmp_path, master_key=f"2:{b64(new_master_key())}"))
    assert ring.current_version == 2
    assert ring.versions == (1, 2)
    assert ring.open(sealed, AAD) == b"from the file era"
    with pytest.raises(ConfigError, match="named by MARKETDESK_MASTER_KEY and by"):
        Keyring.load(load_settings(data_dir=tmp_path, master_key=f"1:{b64(new_master_key())}"))


# ---- the key file ----------------------------------------------------------------------------------------


def test_the_key_file_is_created_0600_on_first_use_and_reused(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "new-dir")
    ring = Keyring.load(settings)
    path = tmp_path / "new-dir" / KEYRING_FILE
    assert ring.source == "file"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["current"] == 1
    assert len(base64.b64decode(data["keys"]["1"])) == 32
    again = Keyring.load(settings)
    assert again.open(ring.seal(b"kept", AAD), AAD) == b"kept"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_is_refused_with_chmod_600(tmp_path: Path, mode: int) -> None:
    settings = load_settings(data_dir=tmp_path)
    Keyring.load(settings)
    path = tmp_path / KEYRING_FILE
    path.chmod(mode)
    with pytest.raises(Operational, match="other users") as caught:
        Keyring.load(settings)
    assert f"chmod 600 {path}" in caught.value.one_line()


def test_a_damaged_key_file_is_an_operational_error(tmp_path: Path) -> None:
    path = tmp_path / KEYRING_FILE
    path.write_text('{"current": 2, "keys": {"1": "AAAA"}}')
    path.chmod(0o600)
    with pytest.raises(Operational, match="3 bytes once decoded"):
        Keyring.load(load_settings(data_dir=tmp_path))
    path.write_text("not json")
    with pytest.raises(Operational, match="cannot be read"):
        Keyring.load(load_settings(data_dir=tmp_path))


def test_rotate_adds_a_current_version_and_keeps_the_old_ones(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    ring = Keyring.load(settings)
    old = ring.seal(b"old secret", AAD)
    assert ring.rotate() == 2
    assert ring.current_version == 2
    new = ring.seal(b"new secret", AAD)
    assert (old.version, new.version) == (1, 2)
    assert ring.open(old, AAD) == b"old secret"
    assert ring.reseal(old, AAD).version == 2
    path = tmp_path / KEYRING_FILE
    assert json.loads(path.read_text())["current"] == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_running_keyring_picks_up_a_version_another_process_added(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    running, rotator = Keyring.load(settings), Keyring.load(settings)
    rotator.rotate()
    sealed = rotator.seal(b"after rotation", AAD)
    assert running.open(sealed, AAD) == b"after rotation"
    assert running.current_version == 2
