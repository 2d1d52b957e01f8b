"""What every `marketdesk` command shares: options, the one-line error path, JSON output and progress bars.

Domain command groups (`accounts/cli.py`, `vault/cli.py`, `audit/cli.py`) import from here; this module
imports no domain, so there is no import cycle with `marketdesk.cli`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from marketdesk.config import Settings, load_settings
from marketdesk.errors import MarketdeskError
from marketdesk.kit.jsonutil import dumps

err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="where the desk keeps its data [env: MARKETDESK_DATA_DIR]")
]
Json = Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")]


def _fail(exc: MarketdeskError) -> None:
    err.print(f"[red]error:[/red] {exc.one_line()}", highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def handles_errors(func: F) -> F:
    """Turn our errors into one line on stderr and the right exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MarketdeskError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def settings_for(data_dir: Path | None, **overrides: Any) -> Settings:
    return load_settings(data_dir=data_dir, **overrides)


def emit(as_json: bool, payload: Any, human: Callable[[], None]) -> None:
    """Print `payload` as JSON on stdout, or let `human` print for people."""
    if as_json:
        sys.stdout.write(dumps(payload) + "\n")
    else:
        human()


@contextmanager
def progress_bar(label: str, enabled: bool, *, in_bytes: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields a `progress(done, total)` callback (counting bytes or items)."""
    if not enabled:
        yield lambda _done, _total: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn() if in_bytes else MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
