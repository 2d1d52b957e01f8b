"""The desk's look: Quasar brand colours, the shared stylesheet, the favicon, and the tick-flash classes."""

from __future__ import annotations

from pathlib import Path

from nicegui import app, ui

STYLESHEET = Path(__file__).parent / "static" / "desk.css"
SIMULATED_COLOR = "amber-7"
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#1e3a5f"/>'
    '<path d="M9 6v20M16 4v24M23 8v16" stroke="#cbd5e1" stroke-width="2"/>'
    '<rect x="6" y="11" width="6" height="9" fill="#16a34a"/>'
    '<rect x="13" y="8" width="6" height="12" fill="#dc2626"/>'
    '<rect x="20" y="12" width="6" height="8" fill="#16a34a"/>'
    "</svg>"
)
_FLASH_CLASSES = ("flash-up-a", "flash-up-b", "flash-down-a", "flash-down-b")


class _Installed:
    done = False


def install_theme() -> None:
    """Register the colours and the stylesheet for every page (once per process)."""
    if _Installed.done:
        return
    app.colors(primary="#1e6fd9", secondary="#475569", accent="#7c3aed", positive="#16a34a", negative="#dc2626")
    ui.add_css(STYLESHEET, shared=True)
    _Installed.done = True


def direction_class(direction: int) -> str:
    """The text colour class of a change: up green, down red, flat the default."""
    return {1: "desk-up", -1: "desk-down"}.get(direction, "")


def flash(element: ui.element, direction: int) -> None:
    """Flash `element` green (up) or red (down). Alternates two class names so a repeated tick re-animates."""
    if direction == 0:
        return
    name = "up" if direction > 0 else "down"
    current = next((c for c in element.classes if c in _FLASH_CLASSES), None)
    variant = "b" if current == f"flash-{name}-a" else "a"
    element.classes(remove=" ".join(_FLASH_CLASSES), add=f"flash-{name}-{variant}")


def set_direction(element: ui.element, direction: int) -> None:
    """Colour `element`'s text by the sign of a change."""
    element.classes(remove="desk-up desk-down", add=direction_class(direction))
