"""`marketdesk vault …`: master keys and re-encryption. Registered by the main CLI: `app.add_typer(vault_app)`.

The shared options, error path and output helpers come from `marketdesk.cliutil`.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import typer

from marketdesk.cliutil import DataDir, Json, emit, err, handles_errors, settings_for
from marketdesk.config import Settings
from marketdesk.vault.crypto import Keyring, new_master_key

vault_app = typer.Typer(help="The key vault: master keys and re-encryption.", no_args_is_help=True)


@vault_app.command("rotate")
@handles_errors
def rotate_command(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Re-encrypt every secret and JWT signing key under a new master key version.

    With the key file (the default) a new version is generated and added to it. With MARKETDESK_MASTER_KEY,
    put the new key first ("2:<new>,1:<old>") and run this to re-encrypt under it.
    """

    settings = settings_for(data_dir)
    keyring = Keyring.load(settings)
    previous = keyring.current_version
    if keyring.source == "file":
        keyring.rotate()
    report = asyncio.run(_rotate(settings, keyring))
    payload = {
        "source": keyring.source,
        "previous_version": previous,
        "version": report.version,
        "secrets": report.secrets,
        "signing_keys": report.signing_keys,
    }

    def human() -> None:
        err.print(
            f"re-encrypted {report.secrets} secret(s) and {report.signing_keys} signing key(s) "
            f"under master key version {report.version} (was {previous})",
            highlight=False,
        )
        if keyring.source == "environment" and previous == report.version and len(keyring.versions) == 1:
            err.print(
                'to move to a new key, set MARKETDESK_MASTER_KEY="<N+1>:<new>,<N>:<old>" first '
                "(`marketdesk vault keygen` makes one)",
                highlight=False,
            )

    emit(as_json, payload, human)


@vault_app.command("status")
@handles_errors
def status_command(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Where the master keys come from, the versions held, and the versions stored data still uses."""

    settings = settings_for(data_dir)
    status = asyncio.run(_status(settings, Keyring.load(settings)))
    unused = [v for v in status.held_versions if v not in status.versions_in_use and v != status.current_version]
    payload = {
        "source": status.source,
        "current_version": status.current_version,
        "held_versions": list(status.held_versions),
        "versions_in_use": list(status.versions_in_use),
        "secrets_by_version": status.secrets_by_version,
        "signing_keys_by_version": status.signing_keys_by_version,
        "unused_versions": unused,
    }

    def human() -> None:
        where = "MARKETDESK_MASTER_KEY" if status.source == "environment" else f"{settings.data_dir / 'vault.keys'}"
        err.print(f"master keys from {where}; current version {status.current_version}", highlight=False)
        err.print(f"held: {_versions(status.held_versions)}; used by stored data: {_versions(status.versions_in_use)}")
        if unused:
            err.print(f"no stored data uses version(s) {_versions(unused)}: they can be dropped")

    emit(as_json, payload, human)


@vault_app.command("keygen")
@handles_errors
def keygen_command(as_json: Json = False) -> None:
    """Print a fresh random master key (base64 of 32 bytes) for MARKETDESK_MASTER_KEY."""
    import sys

    key = base64.b64encode(new_master_key()).decode()

    def human() -> None:
        sys.stdout.write(key + "\n")  # the key itself goes to stdout, so `$(marketdesk vault keygen)` works

    emit(as_json, {"key": key}, human)


def _versions(versions: Any) -> str:
    return ", ".join(str(v) for v in versions) or "none"


async def _rotate(settings: Settings, keyring: Keyring) -> Any:
    async def action(service: Any, session: Any) -> Any:
        return await service.rotate_all(session)

    return await _with_vault(settings, keyring, action)


async def _status(settings: Settings, keyring: Keyring) -> Any:
    async def action(service: Any, session: Any) -> Any:
        return await service.status(session)

    return await _with_vault(settings, keyring, action)


async def _with_vault(settings: Settings, keyring: Keyring, action: Callable[[Any, Any], Any]) -> Any:
    from marketdesk.audit.service import AuditService
    from marketdesk.clock import LiveClock
    from marketdesk.db import Database, upgrade
    from marketdesk.vault.service import VaultService

    await asyncio.to_thread(upgrade, settings.effective_database_url)
    clock = LiveClock()
    database = Database(settings.effective_database_url)
    try:
        async with database.session() as session:
            return await action(VaultService(keyring, AuditService(clock), clock), session)
    finally:
        await database.dispose()
