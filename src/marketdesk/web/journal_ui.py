"""Pieces the journal's panels share: the check a write handler makes first, an empty state that says what to do,
a coloured chip, and a small labelled figure."""

from __future__ import annotations

from nicegui import ui

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.web.forms import acting_user
from marketdesk.web.trade_support import notice


async def acting_writer(desk: Desk) -> CurrentUser | None:
    """The page's user as stored now, if they may change the journal; None (and the person is told why) otherwise."""
    user = await acting_user(desk)
    if user is not None and not user.can_write:
        notice(f"Viewers read the journal but cannot change it; you are a {user.role.value}. Ask an admin for the "
               "trader role.", "warning")  # fmt: skip
        return None
    return user


def empty_state(icon: str, title: str, text: str, test_id: str) -> None:
    """A card for a list with nothing in it yet: what it is for and how to fill it."""
    with ui.card().classes("w-full items-center py-6 gap-1").props(f"flat bordered data-testid={test_id}"):
        ui.icon(icon, size="2.5rem").classes("text-grey-6")
        ui.label(title).classes("text-base font-semibold")
        ui.label(text).classes("text-sm text-grey-7 text-center max-w-xl")


def chip(text: str, colour: str, test_id: str, **data: str) -> ui.badge:
    """A small coloured label (a status, an outcome), with `data-*` attributes for tests and styles."""
    attributes = " ".join(f'data-{key}="{value}"' for key, value in data.items())
    return ui.badge(text, color=colour).props(f"outline data-testid={test_id} {attributes}".strip())


def stat(label: str, value: str, key: str, test_id: str) -> None:
    """A small caption over a number, marked with its key."""
    with ui.column().classes("gap-0 min-w-24").props(f"data-testid={test_id} data-key={key}"):
        ui.label(label).classes("text-xs text-grey-7")
        ui.label(value).classes("text-base font-semibold desk-num").props("data-field=value")
