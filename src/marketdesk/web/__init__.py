"""The web desk: NiceGUI pages mounted on the FastAPI app at `/` (the API under /api keeps its routes).

Pages are thin: they call the desk's services in-process and never touch SQL. Each page is one module
registered with `@desk_page` (see `marketdesk.web.registry`) and listed in `PAGE_MODULES`, whose order is
the navigation's order. Signing in, registering and signing out are the browser's own calls to the auth API,
so its httpOnly cookies land where they belong (see `marketdesk.web.session` and `marketdesk.web.login`).
"""

from __future__ import annotations

import importlib
import os
import secrets
from pathlib import Path

from fastapi import FastAPI
from nicegui import ui
from nicegui.storage import Storage

from marketdesk.config import Settings
from marketdesk.desk import Desk
from marketdesk.logs import get_logger
from marketdesk.web.registry import NAV, current_desk, desk_page, set_desk
from marketdesk.web.session import install_session_script
from marketdesk.web.theme import FAVICON, install_theme

__all__ = ["NAV", "PAGE_MODULES", "current_desk", "desk_page", "mount"]

log = get_logger(__name__)

PAGE_MODULES: tuple[str, ...] = (
    "home",
    "screener",
    "dips",
    "trade",
    "portfolio",
    "analytics_page",
    "journal_page",
    "symbol",
    "settings",
    "admin",
    "login",
)
"""The page modules, in navigation order. Add a page's module name here."""

SESSION_KEY_FILENAME = "web-secret"  # a file name, not a secret
STORAGE_DIR = "web"
RECONNECT_TIMEOUT_S = 5.0  # how long a page (and its live subscriptions) waits for a dropped browser to return


class _Mount:
    app: FastAPI | None = None


def mount(app: FastAPI, desk: Desk) -> None:
    """Mount the web desk on `app` at `/`, serving `desk`.

    NiceGUI keeps one UI application per process, so one process serves one desk: mounting again on the same
    app only swaps the desk, and mounting on a second app is refused with the reason.
    """
    set_desk(desk)
    if _Mount.app is app:
        return
    if _Mount.app is not None:
        raise RuntimeError(
            "the web desk is already mounted on another FastAPI app in this process; "
            "build further apps with create_app(..., web=False)"
        )
    install_theme()
    install_session_script()
    for name in PAGE_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    Storage.path = desk.settings.data_dir / STORAGE_DIR  # per-browser preferences live with the desk's data
    ui.run_with(
        app,
        mount_path="/",
        title="marketdesk",
        favicon=FAVICON,
        dark=False,
        storage_secret=storage_secret(desk.settings),
        reconnect_timeout=RECONNECT_TIMEOUT_S,
        show_welcome_message=False,
    )
    _Mount.app = app
    log.info("web desk mounted", pages=[item.path for item in NAV], simulated=desk.simulated)


def storage_secret(settings: Settings) -> str:
    """The secret that signs browser sessions: generated once into the data dir (readable by its owner only)."""
    path: Path = settings.data_dir / SESSION_KEY_FILENAME
    if path.is_file():
        secret = path.read_text(encoding="utf-8").strip()
        if secret:
            return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret
