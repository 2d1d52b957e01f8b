"""`marketdesk users …`: the first admin from the command line, then listing users and rotating the key."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketdesk.accounts.cli import users_app

PASSWORD = "violet trombone harbour 42"  # noqa: S105 (a test password)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MARKETDESK_"):
            monkeypatch.delenv(key)
    return CliRunner()


def test_the_first_admin_is_created_from_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "desk")]
    viewer_first = runner.invoke(
        users_app, ["create", "--email", "v@example.com", "--password-stdin", *data], input=f"{PASSWORD}\n"
    )
    assert viewer_first.exit_code == 2
    assert "first user must be an admin" in viewer_first.stderr and "--role admin" in viewer_first.stderr
    created = runner.invoke(
        users_app,
        ["create", "--email", "Ann@Example.com", "--role", "admin", "--password-stdin", "--json", *data],
        input=f"{PASSWORD}\n",
    )
    assert created.exit_code == 0, created.stderr
    assert json.loads(created.stdout) == {
        "id": json.loads(created.stdout)["id"],
        "email": "ann@example.com",
        "role": "admin",
    }
    weak = runner.invoke(
        users_app,
        ["create", "--email", "t@example.com", "--role", "trader", "--password-stdin", *data],
        input="password123\n",
    )
    assert weak.exit_code == 2 and "this password" in weak.stderr
    assert len([line for line in weak.stderr.splitlines() if line.strip()]) == 1
    listed = runner.invoke(users_app, ["list", "--json", *data])
    assert [(u["email"], u["role"], u["disabled"]) for u in json.loads(listed.stdout)] == [
        ("ann@example.com", "admin", False)
    ]
    rotated = runner.invoke(users_app, ["rotate-key", "--json", *data])
    assert rotated.exit_code == 0 and json.loads(rotated.stdout)["kid"].startswith("k")


def test_the_password_is_asked_twice_when_not_piped(runner: CliRunner, tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "desk")]
    typed = runner.invoke(
        users_app, ["create", "--email", "a@example.com", "--role", "admin", *data], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert typed.exit_code == 0, typed.stderr
    assert "created admin a@example.com" in typed.stderr
    empty = runner.invoke(users_app, ["create", "--email", "b@example.com", "--password-stdin", *data], input="")
    assert empty.exit_code == 2 and "no password on stdin" in empty.stderr
