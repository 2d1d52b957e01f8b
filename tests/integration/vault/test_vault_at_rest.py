"""At rest, the database holds no plaintext secret: not raw, not hex, not base64, in no table and no file page.

SQLite: every byte of the database file and its write-ahead log. PostgreSQL: every column of every table,
selected as text (bytea shows as hex there). A canary stored in plaintext proves the dump would see a leak.
"""

import base64
import json
import secrets
import string
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Text, cast, column, select, table, text, update
from sqlalchemy.engine import make_url

from marketdesk.accounts.models import DeskSetting, SigningKey
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.vault.crypto import Keyring, signing_key_aad
from marketdesk.vault.models import Secret
from marketdesk.vault.service import VaultService

UPPER = string.ascii_uppercase + string.digits
LOWER = string.ascii_lowercase + string.digits
MIXED = string.ascii_letters + string.digits
PART_MIN = 12  # random parts at least this long are searched for on their own too


class Values:
    """Fresh random secrets of every kind the vault knows, remembering their random parts."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def pick(self, alphabet: str, length: int) -> str:
        part = "".join(secrets.choice(alphabet) for _ in range(length))
        if length >= PART_MIN:
            self.parts.append(part)
        return part

    def all_kinds(self) -> dict[str, str]:
        return {
            "alpaca_key_id": "PK" + self.pick(UPPER, 18),
            "alpaca_secret_key": self.pick(MIXED, 40),
            "finnhub_api_key": self.pick(LOWER, 20),
            "alphavantage_api_key": self.pick(UPPER, 16),
            "fred_api_key": self.pick("0123456789abcdef", 32),
            "anthropic_api_key": "sk-ant-api03-" + self.pick(MIXED, 80),
            "openai_api_key": "sk-proj-" + self.pick(MIXED, 48),
            "discord_url": f"https://discord.com/api/webhooks/1{self.pick(string.digits, 17)}/{self.pick(MIXED, 68)}",
            "slack_url": f"https://hooks.slack.com/services/T{self.pick(UPPER, 10)}/B{self.pick(UPPER, 10)}/"
            f"{self.pick(MIXED, 24)}",
            "telegram_url": f"tgram://1{self.pick(string.digits, 8)}:{self.pick(MIXED, 35)}/1{self.pick(string.digits, 9)}",
            "email_url": f"mailtos://alerts:{self.pick(MIXED, 16)}@example.com",
            "apprise_url": f"ntfy://ntfy.sh/{self.pick(MIXED, 24)}",
        }


def encodings(needle: bytes) -> set[bytes]:
    """The ways `needle` could show in stored bytes: raw, hex, UTF-16, JSON-escaped and base64 at any alignment."""
    forms = {needle, needle.hex().encode(), needle.hex().upper().encode()}
    try:
        decoded = needle.decode()
        forms.add(decoded.encode("utf-16-le"))
        forms.add(json.dumps(decoded)[1:-1].encode())
    except UnicodeDecodeError:
        pass
    for shift in range(3):  # base64 of a longer blob contains base64 of the needle at one of three alignments
        chunk = needle[shift:]
        whole = chunk[: len(chunk) - len(chunk) % 3]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.add(encode(whole))
    return {form for form in forms if len(form) >= 8}


def leaks(dump: bytes, needles: list[bytes]) -> list[str]:
    found = []
    for needle in needles:
        for form in encodings(needle):
            if form in dump:
                found.append(f"{needle[:6]!r}… as {form[:12]!r}…")
    return found


async def dump_database(database: Database) -> bytes:
    """Everything the database holds, as bytes."""
    if database.dialect == "sqlite":
        path = Path(str(make_url(database.url).database))
        files = [path, path.with_name(path.name + "-wal")]
        return b"\n".join(f.read_bytes() for f in files if f.exists())
    chunks: list[str] = []
    async with database.engine.connect() as connection:
        columns = (
            await connection.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
                )
            )
        ).all()
        assert {"vault_secrets", "signing_keys", "audit_log", "users"} <= {table_name for table_name, _ in columns}
        for table_name, name in columns:
            rows = await connection.execute(select(cast(column(name), Text)).select_from(table(table_name)))
            chunks.extend(value for (value,) in rows if value is not None)
    return "\n".join(chunks).encode()


async def test_no_plaintext_secret_rests_in_the_database(
    database: Database, users: tuple[str, str], vault: VaultService, keyring: Keyring, clock: SimClock
) -> None:
    values = Values()
    stored: dict[str, dict[str, str]] = {owner: values.all_kinds() for owner in users}
    replaced = values.all_kinds()  # stored first, then replaced: the old values must not linger either
    jwt_secret = values.pick(MIXED, 64)
    alice = users[0]
    async with database.session() as session:
        for name, value in replaced.items():
            await vault.put(session, alice, name, value, ip="192.0.2.7")
    clock.advance(timedelta(minutes=1))
    async with database.session() as session:
        for owner, kinds in stored.items():
            for name, value in kinds.items():
                await vault.put(session, owner, name, value)
        session.add(
            SigningKey(
                kid="k1", sealed_secret=keyring.seal_text(jwt_secret, signing_key_aad("k1")), created_at=clock.now()
            )
        )
    async with database.session() as session:
        for owner, kinds in stored.items():
            for name, value in kinds.items():
                assert await vault.reveal(session, owner, name) == value
    keyring.rotate()
    async with database.session() as session:
        await vault.rotate_all(session)

    assert keyring.path is not None
    master_keys = [base64.b64decode(k) for k in json.loads(keyring.path.read_text())["keys"].values()]
    plaintexts = [v for kinds in (*stored.values(), replaced) for v in kinds.values()] + [jwt_secret]
    needles = [p.encode() for p in plaintexts + values.parts] + master_keys
    dump = await dump_database(database)
    assert b"vault.write" in dump or b"vault.write".hex().encode() in dump  # the dump did read the audit log
    assert leaks(dump, needles) == []

    # the control: a plaintext stored as text, and as bytes in a binary column, is found by the same dump
    canary_text, canary_bytes = values.pick(MIXED, 40), values.pick(MIXED, 40)
    async with database.session() as session:
        session.add(DeskSetting(key="canary", value=canary_text))
        await session.execute(
            update(Secret)
            .where(Secret.owner_id == alice, Secret.name == "fred_api_key")
            .values(ciphertext=canary_bytes.encode())
        )
    dump = await dump_database(database)
    assert len(leaks(dump, [canary_text.encode()])) >= 1
    assert len(leaks(dump, [canary_bytes.encode()])) >= 1
