"""`marketdesk vault …` and `marketdesk audit …`: rotation, key status, verification and CSV export."""

import asyncio
import base64
import csv
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from typer.testing import CliRunner

from marketdesk.accounts.models import SigningKey, User
from marketdesk.audit.cli import audit_app
from marketdesk.audit.models import AuditEntry
from marketdesk.audit.service import AuditService
from marketdesk.clock import SimClock
from marketdesk.config import Settings, load_settings
from marketdesk.db import Database, upgrade
from marketdesk.vault.cli import vault_app
from marketdesk.vault.crypto import KEYRING_FILE, Keyring, new_master_key, signing_key_aad
from marketdesk.vault.models import Secret
from marketdesk.vault.service import VaultService

FRED = "0123456789abcdef0123456789abcdef"
FINNHUB = "c1a2b3d4e5f6g7h8i9j0"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def prepare(settings: Settings) -> None:
    """A desk with one user, two secrets, a signing key and their audit entries."""

    async def run() -> None:
        clock = SimClock(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
        keyring = Keyring.load(settings)
        vault = VaultService(keyring, AuditService(clock), clock)
        database = Database(settings.effective_database_url)
        try:
            async with database.session() as session:
                now = clock.now()
                session.add(
                    User(
                        id="usr_1",
                        email="a@example.com",
                        password_hash="x",  # noqa: S106 - this user never signs in
                        role="trader",
                        disabled=False,
                        failed_logins=0,
                        created_at=now,
                        password_changed_at=now,
                    )
                )
                await session.flush()
                await vault.put(session, "usr_1", "fred_api_key", FRED)
                await vault.put(session, "usr_1", "finnhub_api_key", FINNHUB)
                session.add(
                    SigningKey(kid="k1", sealed_secret=keyring.seal_text("jwt", signing_key_aad("k1")), created_at=now)
                )
        finally:
            await database.dispose()

    upgrade(settings.effective_database_url)
    asyncio.run(run())


def stored(settings: Settings) -> tuple[set[int], str]:
    """The key versions of the stored secrets, and the signing key's token."""

    async def run() -> tuple[set[int], str]:
        database = Database(settings.effective_database_url)
        try:
            async with database.session() as session:
                versions = set((await session.scalars(select(Secret.key_version))).all())
                token = (await session.scalars(select(SigningKey.sealed_secret))).one()
                return versions, token
        finally:
            await database.dispose()

    return asyncio.run(run())


def reveal(settings: Settings, name: str) -> str:
    async def run() -> str:
        clock = SimClock(datetime(2026, 11, 21, tzinfo=UTC))
        database = Database(settings.effective_database_url)
        try:
            async with database.session() as session:
                vault = VaultService(Keyring.load(settings), AuditService(clock), clock)
                return await vault.reveal(session, "usr_1", name)
        finally:
            await database.dispose()

    return asyncio.run(run())


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# ---- vault -----------------------------------------------------------------------------------------------


def test_vault_rotate_adds_a_key_version_and_re_encrypts_everything(runner: CliRunner, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    prepare(settings)
    result = runner.invoke(vault_app, ["rotate", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "source": "file", "previous_version": 1, "version": 2, "secrets": 2, "signing_keys": 1,
    }  # fmt: skip
    versions, token = stored(settings)
    assert versions == {2} and token.startswith("v2.")
    keys = json.loads((tmp_path / KEYRING_FILE).read_text())
    assert keys["current"] == 2 and sorted(keys["keys"]) == ["1", "2"]
    assert reveal(settings, "fred_api_key") == FRED
    assert FRED not in result.output


def test_vault_rotate_speaks_to_people_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    prepare(load_settings(data_dir=tmp_path))
    result = runner.invoke(vault_app, ["rotate", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "re-encrypted 2 secret(s) and 1 signing key(s) under master key version 2 (was 1)" in result.stderr


def test_vault_rotate_from_the_environment_re_encrypts_under_the_first_key(runner: CliRunner, tmp_path: Path) -> None:
    old, new = b64(new_master_key()), b64(new_master_key())
    prepare(load_settings(data_dir=tmp_path, master_key=old))
    env = {"MARKETDESK_MASTER_KEY": f"2:{new},1:{old}"}
    result = runner.invoke(vault_app, ["rotate", "--json", "--data-dir", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["source"], payload["version"], payload["secrets"]) == ("environment", 2, 2)
    assert not (tmp_path / KEYRING_FILE).exists()
    # the old key can now go: the new key alone opens everything
    only_new = load_settings(data_dir=tmp_path, master_key=f"2:{new}")
    assert stored(only_new)[0] == {2}
    assert reveal(only_new, "finnhub_api_key") == FINNHUB
    status = runner.invoke(vault_app, ["status", "--json", "--data-dir", str(tmp_path)], env=env)
    assert json.loads(status.stdout)["unused_versions"] == [1]


def test_vault_status_reports_versions_in_use(runner: CliRunner, tmp_path: Path) -> None:
    prepare(load_settings(data_dir=tmp_path))
    result = runner.invoke(vault_app, ["status", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["source"] == "file"
    assert (payload["current_version"], payload["versions_in_use"]) == (1, [1])
    assert payload["secrets_by_version"] == {"1": 2}
    assert payload["signing_keys_by_version"] == {"1": 1}


def test_a_bad_environment_key_is_one_line_and_exit_code_2(runner: CliRunner, tmp_path: Path) -> None:
    env = {"MARKETDESK_MASTER_KEY": b64(b"sixteen bytes!!!")}
    result = runner.invoke(vault_app, ["rotate", "--data-dir", str(tmp_path)], env=env)
    assert result.exit_code == 2
    assert "16 bytes once decoded, not 32" in one_line(result.stderr)


def test_a_key_file_others_can_read_stops_rotation_with_chmod_600(runner: CliRunner, tmp_path: Path) -> None:
    prepare(load_settings(data_dir=tmp_path))
    path = tmp_path / KEYRING_FILE
    path.chmod(0o644)
    result = runner.invoke(vault_app, ["rotate", "--data-dir", str(tmp_path)])
    assert result.exit_code == 70
    assert f"chmod 600 {path}" in one_line(result.stderr)
    assert json.loads(path.read_text())["current"] == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_vault_keygen_prints_a_fresh_32_byte_key(runner: CliRunner) -> None:
    first, second = runner.invoke(vault_app, ["keygen"]), runner.invoke(vault_app, ["keygen", "--json"])
    assert first.exit_code == second.exit_code == 0
    key = first.stdout.strip()
    assert len(base64.b64decode(key)) == 32
    assert key != json.loads(second.stdout)["key"]


# ---- audit -----------------------------------------------------------------------------------------------


def test_audit_verify_passes_on_an_intact_log(runner: CliRunner, tmp_path: Path) -> None:
    prepare(load_settings(data_dir=tmp_path))
    result = runner.invoke(audit_app, ["verify", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["ok"], payload["checked"], payload["last_seq"]) == (True, 2, 2)
    human = runner.invoke(audit_app, ["verify", "--data-dir", str(tmp_path)])
    assert human.exit_code == 0
    assert one_line(human.stderr).startswith(f"audit log intact: 2 entries; the last is 2:{payload['head_hash']}")


def test_audit_verify_fails_with_one_line_naming_the_first_bad_entry(runner: CliRunner, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    prepare(settings)

    async def tamper() -> None:
        database = Database(settings.effective_database_url)
        async with database.session() as session:
            await session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(detail='{"name":"other"}'))
        await database.dispose()

    asyncio.run(tamper())
    result = runner.invoke(audit_app, ["verify", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        one_line(result.stderr)
        == "error: audit log broken at entry 1: entry 1 was altered: its content does not match its hash"
    )
    as_json = runner.invoke(audit_app, ["verify", "--json", "--data-dir", str(tmp_path)])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["first_bad_seq"] == 1


def test_audit_verify_with_an_anchor_finds_a_truncated_log(runner: CliRunner, tmp_path: Path) -> None:
    prepare(load_settings(data_dir=tmp_path))
    result = runner.invoke(audit_app, ["verify", "--anchor", "9:" + "a" * 64, "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "entry 9 is missing" in one_line(result.stderr)
    bad = runner.invoke(audit_app, ["verify", "--anchor", "nonsense", "--data-dir", str(tmp_path)])
    assert bad.exit_code == 2
    assert "is not SEQ:HASH" in one_line(bad.stderr)


def test_audit_export_writes_a_csv(runner: CliRunner, tmp_path: Path) -> None:
    prepare(load_settings(data_dir=tmp_path))
    target = tmp_path / "audit.csv"
    result = runner.invoke(audit_app, ["export", "--csv", str(target), "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"rows": 2, "path": str(target)}
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["action"] for row in rows] == ["vault.write", "vault.write"]
    assert all(FRED not in ",".join(row.values()) for row in rows)
    day_before = runner.invoke(
        audit_app, ["export", "--csv", str(target), "--end", "2026-11-19", "--json", "--data-dir", str(tmp_path)]
    )
    assert json.loads(day_before.stdout)["rows"] == 0
    same_day = runner.invoke(
        audit_app, ["export", "--csv", str(target), "--start", "2026-11-20", "--end", "2026-11-20", "--json",
                    "--data-dir", str(tmp_path)],
    )  # fmt: skip
    assert json.loads(same_day.stdout)["rows"] == 2


def test_audit_export_refuses_bad_dates_and_missing_folders(runner: CliRunner, tmp_path: Path) -> None:
    bad_date = runner.invoke(audit_app, ["export", "--csv", str(tmp_path / "a.csv"), "--start", "20/11/2026"])
    assert bad_date.exit_code == 2
    assert "--start '20/11/2026' is not a date" in one_line(bad_date.stderr)
    no_folder = runner.invoke(
        audit_app, ["export", "--csv", str(tmp_path / "missing" / "a.csv"), "--data-dir", str(tmp_path)]
    )
    assert no_folder.exit_code == 2
    assert "does not exist" in one_line(no_folder.stderr)
