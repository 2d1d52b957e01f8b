"""Small building blocks the portfolio and analytics pages share: a titled panel, a markup table with its header
row, a cell, and a labelled figure. The same look as the trade page's tables."""

from __future__ import annotations

from collections.abc import Sequence

from nicegui import ui

TABLE_PROPS = "flat bordered dense wrap-cells"


def panel(title: str, caption: str, test_id: str) -> ui.column:
    """A titled card; the caller fills the returned column."""
    with ui.card().classes("w-full gap-2").props(f"flat bordered data-testid={test_id}"):
        with ui.column().classes("gap-0"):
            ui.label(title).classes("text-lg font-semibold")
            ui.label(caption).classes("text-sm text-grey-7")
        return ui.column().classes("w-full gap-2")


def table(test_id: str, headers: Sequence[tuple[str, bool]]) -> ui.element:
    """A markup table with its header row; the caller fills the returned tbody. (label, numeric) per column."""
    with ui.element("q-markup-table").props(f"{TABLE_PROPS} data-testid={test_id}").classes("w-full desk-watchlist"):
        with ui.element("thead"), ui.element("tr"):
            for label, numeric in headers:
                with ui.element("th").classes("text-right desk-num" if numeric else "text-left").props("scope=col"):
                    ui.label(label)
        return ui.element("tbody")


def cell(text: str, field: str, *, numeric: bool = False) -> ui.label:
    with ui.element("td").classes("text-right desk-num" if numeric else "").props(f"data-field={field}"):
        return ui.label(text)


def figure(label: str, value: str, test_id: str) -> None:
    """A small caption over a large number."""
    with ui.column().classes("gap-0"):
        ui.label(label).classes("text-xs text-grey-7")
        ui.label(value).classes("text-lg font-semibold desk-num").props(f"data-testid={test_id}")
