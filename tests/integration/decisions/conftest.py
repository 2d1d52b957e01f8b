import os
from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A CLI runner in an empty folder, with no MARKETDESK_* settings leaking in from the environment (as in
    tests/integration/cli)."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MARKETDESK_"):
            monkeypatch.delenv(key)
    return CliRunner()
