"""The journal page's theses tab: your theses with their status, due check-ins first; "Add thesis" (one reason,
one or two metrics to watch, a review date 30 days out by default); and the check-in, which shows each watched
metric then and now, the status the rules derive and the rule that gave it, then records the status you confirm
and the next action you pick. Everything goes through `desk.journal` as the page's user."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from nicegui import ui
from nicegui.events import ValueChangeEventArguments

from marketdesk.errors import MarketdeskError
from marketdesk.journal.theses import NextAction, ThesisStatus
from marketdesk.journal.views import CheckinPreview, CheckinView, ThesisView
from marketdesk.web.forms import Problem
from marketdesk.web.journal_text import (
    STATUS_COLOURS,
    action_options,
    capital,
    reading_rows,
    review_text,
    rule_lines,
    status_label,
    watch_text,
)
from marketdesk.web.journal_ui import ThesisFields, acting_writer, chip, empty_state
from marketdesk.web.layout import WRITE_CLASS, symbol_path
from marketdesk.web.portfolio_ui import cell, table
from marketdesk.web.trade_support import notice

if TYPE_CHECKING:
    from marketdesk.web.journal_page import JournalPage

STATES = {"open": "Open", "closed": "Closed", "all": "All"}


class ThesesPanel:
    """The list of theses, and the dialogs that add one and check in on one."""

    def __init__(self, page: JournalPage) -> None:
        self.page = page
        self.theses: list[ThesisView] = []
        with ui.row().classes("w-full items-center gap-3"):
            self.state = ui.toggle(STATES, value="open", on_change=self._on_state).props(
                "no-caps unelevated dense toggle-color=primary data-testid=theses-state"
            )
            self.due = ui.label().classes("text-sm font-semibold text-orange-9").props("data-testid=theses-due")
            ui.space()
            if page.can_write:
                ui.button("Add thesis", icon="add", on_click=self._add).props(
                    "unelevated no-caps data-testid=thesis-add"
                ).classes(WRITE_CLASS)
        self.problem = Problem("theses-error")
        self.list = ui.column().classes("w-full gap-2").props("data-testid=theses-list")
        self.adder = AddThesisDialog(self) if page.can_write else None
        self.checkin = CheckinDialog(self)

    async def load(self) -> None:
        try:
            async with self.page.desk.db.session() as session:
                theses = await self.page.desk.journal.theses(session, self.page.user, state=str(self.state.value))
                due = await self.page.desk.journal.due(session, self.page.user)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.clear()
        self.theses = sorted(theses, key=lambda t: (not t.due, t.review_on, t.symbol))
        self.due.set_text(f"{len(due)} check-in{'s' if len(due) != 1 else ''} due" if due else "")
        self.page.due_count(len(due))
        self._draw()

    async def _on_state(self, _: ValueChangeEventArguments[Any]) -> None:
        await self.load()

    def _draw(self) -> None:
        self.list.clear()
        with self.list:
            if not self.theses:
                hint = (
                    "Press Add thesis: pick the reason you own it and one or two metrics that should prove it "
                    "right; the journal reads them again when the review comes."
                    if self.page.can_write
                    else "Theses are written by traders; there is none to show."
                )
                state = {"open": "open ", "closed": "closed "}.get(str(self.state.value), "")
                empty_state("lightbulb", f"No {state}theses yet", hint, "theses-empty")
                return
            headers = (("Symbol", False), ("Reason", False), ("Watching", False), ("Status", False),
                       ("Review", False), ("Last action", False), ("", False))  # fmt: skip
            today = self.page.desk.journal.today()
            with table("theses-table", headers):
                for thesis in self.theses:
                    self._row(thesis, today)

    def _row(self, thesis: ThesisView, today: date) -> None:
        status = thesis.status.value if thesis.status else "none"
        props = f'data-testid=thesis-row data-id={thesis.id} data-symbol="{thesis.symbol}" data-status={status}'
        with ui.element("tr").props(f"{props} data-due={str(thesis.due).lower()} data-state={thesis.state}"):
            with ui.element("td").props("data-field=symbol"):
                ui.link(thesis.symbol, symbol_path(thesis.symbol)).classes("font-semibold")
            cell(capital(thesis.reason.value), "reason")
            cell(watch_text(thesis.metrics), "watching")
            with ui.element("td").props("data-field=status"):
                chip(status_label(thesis.status), STATUS_COLOURS.get(status, "grey"), "thesis-status", status=status)
            if thesis.state == "closed":
                cell(f"closed {thesis.closed_at:%Y-%m-%d}" if thesis.closed_at else "closed", "review")
            else:
                with ui.element("td").props("data-field=review"):
                    text = review_text(today, thesis.review_on, due=thesis.due)
                    ui.label(text).classes("text-orange-9 font-semibold" if thesis.due else "")
            cell(capital(thesis.last_action.value.replace("_", " ")) if thesis.last_action else "—", "last_action")
            with ui.element("td").classes("text-right"):
                label = "Check in" if self.page.can_write and thesis.state == "open" else "View"
                ui.button(label, icon="fact_check", on_click=lambda t=thesis: self.checkin.open(t)).props(
                    f"flat dense no-caps data-testid=thesis-checkin data-id={thesis.id}"
                )

    async def _add(self) -> None:
        if self.adder is not None:
            self.adder.open()


class AddThesisDialog:
    """Symbol, one reason, one or two metrics to watch (with the way each should move), the review date, a note."""

    def __init__(self, panel: ThesesPanel) -> None:
        self.panel = panel
        with ui.dialog().props("data-testid=thesis-dialog") as self.dialog, ui.card().classes("w-[40rem] gap-3"):
            ui.label("Add a thesis").classes("text-lg font-semibold")
            ui.label(
                "Why you own it, and what should show it is working. The watched metrics' values today are kept; "
                "each check-in compares them with their values then."
            ).classes("text-sm text-grey-7")
            self.symbol = ui.input("Symbol").props("outlined dense data-testid=thesis-symbol").classes("w-40")
            self.fields = ThesisFields(panel.page.desk)
            self.problem = Problem("thesis-form-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat no-caps data-testid=thesis-cancel")
                ui.button("Add thesis", icon="add", on_click=self.submit).props(
                    "unelevated no-caps data-testid=thesis-submit"
                )

    def open(self) -> None:
        self.problem.clear()
        self.dialog.open()

    async def submit(self) -> None:
        symbol = str(self.symbol.value or "").strip()
        if not symbol:
            self.problem.show("enter the symbol the thesis is about, like AAPL")
            return
        if await self.fields.write(symbol, self.problem) is None:
            return
        self.dialog.close()
        self.symbol.set_value("")
        self.fields.note.set_value("")
        await self.panel.load()


class CheckinDialog:
    """One thesis: each watched metric then and now, the derived status and why, the rules, the history; and for
    a trader the status to confirm and the next action."""

    def __init__(self, panel: ThesesPanel) -> None:
        self.panel = panel
        self.thesis: ThesisView | None = None
        self.derived: ThesisStatus | None = None
        with ui.dialog().props("data-testid=checkin-dialog") as self.dialog, ui.card().classes("w-[52rem] max-w-full"):
            self.title = ui.label().classes("text-lg font-semibold").props("data-testid=checkin-title")
            self.body = ui.column().classes("w-full gap-3")
            self.problem = Problem("checkin-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Close", on_click=self.dialog.close).props("flat no-caps data-testid=checkin-close")
                self.record = ui.button("Record check-in", icon="done", on_click=self.submit).props(
                    "unelevated no-caps data-testid=checkin-submit"
                )
        self.status: ui.toggle | None = None
        self.action: ui.select | None = None
        self.next_days: ui.number | None = None
        self.note: ui.textarea | None = None
        self.override: ui.label | None = None

    async def open(self, thesis: ThesisView) -> None:
        self.thesis = thesis
        self.problem.clear()
        self.title.set_text(f"{thesis.symbol}: {thesis.reason.value} thesis")
        try:
            async with self.panel.page.desk.db.session() as session:
                preview = await self.panel.page.desk.journal.checkin_preview(session, self.panel.page.user, thesis.id)
                _, history = await self.panel.page.desk.journal.thesis(session, self.panel.page.user, thesis.id)
        except MarketdeskError as exc:
            self.body.clear()
            self.problem.show(exc.one_line())
            self.record.set_visibility(False)
            self.dialog.open()
            return
        self.derived = preview.assessment.status
        writable = self.panel.page.can_write and thesis.state == "open"
        self.record.set_visibility(writable)
        self._draw(preview, history, writable)
        self.dialog.open()

    def _draw(self, preview: CheckinPreview, history: list[CheckinView], writable: bool) -> None:
        thesis, assessment = preview.thesis, preview.assessment
        self.body.clear()
        with self.body:
            if thesis.note:
                ui.label(f"“{thesis.note}”").classes("text-sm italic text-grey-8")
            ui.label(
                f"Then: the values of {thesis.metrics_as_of:%Y-%m-%d}, when the thesis was written. "
                f"Now: the screener's values of {preview.metrics_as_of:%Y-%m-%d}."
            ).classes("text-sm text-grey-7")
            headers = (("Metric", False), ("Needs", False), ("Then", True), ("Now", True), ("Change", True),
                       ("Move", False), ("Status", False))  # fmt: skip
            with table("checkin-readings", headers):
                for row in reading_rows(assessment.readings):
                    with ui.element("tr").props(f"data-testid=checkin-reading data-metric={row.metric}"):
                        cell(row.label, "metric")
                        cell(row.needs, "needs")
                        cell(row.then, "then", numeric=True)
                        cell(row.now, "now", numeric=True)
                        cell(row.change, "change", numeric=True)
                        cell(row.against, "move")
                        with ui.element("td").props("data-field=status"):
                            chip(capital(row.status), STATUS_COLOURS[row.status], "reading-status", status=row.status)
            status = assessment.status.value
            with ui.row().classes("items-center gap-2"):
                ui.label("Derived status:").classes("font-semibold")
                chip(capital(status), STATUS_COLOURS[status], "checkin-derived", status=status)
            ui.label(capital(assessment.reason)).classes("text-sm").props("data-testid=checkin-reason")
            matched = [r.rule for r in assessment.readings]
            with ui.column().classes("gap-0").props("data-testid=checkin-rules"):
                ui.label("The rules, checked in order for each metric; the thesis takes the worst:").classes(
                    "text-xs text-grey-7"
                )
                for rule_status, words, met in rule_lines(matched):
                    with (
                        ui.row()
                        .classes("items-center gap-1 no-wrap")
                        .props(f"data-testid=checkin-rule data-status={rule_status} data-matched={str(met).lower()}")
                    ):
                        ui.icon("check_circle" if met else "radio_button_unchecked", size="16px").classes(
                            "text-primary" if met else "text-grey-5"
                        )
                        ui.label(words).classes("text-xs" + (" font-semibold" if met else " text-grey-7"))
            if writable:
                self._decision(thesis)
            elif thesis.state == "closed":
                ui.label("This thesis is closed (sold): nothing more to record.").classes("text-sm text-grey-7")
            else:
                ui.label("Viewers see the check-in; recording one needs the trader role.").classes(
                    "text-sm text-grey-7"
                ).props("data-testid=checkin-viewer")
            self._history(history)

    def _decision(self, thesis: ThesisView) -> None:
        ui.separator()
        ui.label("Your decision").classes("font-semibold")
        statuses = {s.value: capital(s.value) for s in ThesisStatus}
        with ui.row().classes("w-full items-center gap-3"):
            ui.label("Status:").classes("text-sm")
            self.status = ui.toggle(statuses, value=self.derived.value if self.derived else None,
                                    on_change=self._on_status).props(
                "no-caps unelevated dense toggle-color=primary data-testid=checkin-status"
            )  # fmt: skip
            self.override = ui.label("").classes("text-xs text-orange-9").props("data-testid=checkin-override")
        with ui.row().classes("w-full items-start gap-3 no-wrap"):
            self.action = (
                ui.select(action_options(), value=NextAction.HOLD.value, label="Next action", on_change=self._on_action)
                .props("outlined dense options-dense data-testid=checkin-action")
                .classes("flex-1")
            )
            self.next_days = (
                ui.number("Next review in days", value=thesis.review_days, min=1, max=365, step=1, precision=0)
                .props("outlined dense data-testid=checkin-next-days")
                .classes("w-48")
            )
        self.note = ui.textarea("Note (optional)").props("outlined dense autogrow data-testid=checkin-note")
        self.note.classes("w-full")

    def _history(self, history: list[CheckinView]) -> None:
        if not history:
            ui.label("No check-in yet.").classes("text-xs text-grey-7").props("data-testid=checkin-history-empty")
            return
        ui.label("Earlier check-ins").classes("font-semibold text-sm")
        headers = (("When", False), ("Derived", False), ("Confirmed", False), ("Action", False), ("Note", False))
        with table("checkin-history", headers):
            for past in reversed(history):
                with ui.element("tr").props("data-testid=checkin-history-row"):
                    cell(f"{past.at:%Y-%m-%d}", "at")
                    cell(capital(past.derived_status.value), "derived")
                    cell(capital(past.status.value) + (" (overridden)" if past.overridden else ""), "status")
                    cell(capital(past.action.value.replace("_", " ")), "action")
                    cell(past.note, "note")

    def _on_status(self, event: ValueChangeEventArguments[Any]) -> None:
        if self.override is None or self.derived is None:
            return
        overridden = event.value is not None and event.value != self.derived.value
        self.override.set_text(
            f"You override the derived status ({self.derived.value}); the record keeps both." if overridden else ""
        )

    def _on_action(self, event: ValueChangeEventArguments[Any]) -> None:
        if self.next_days is not None:
            self.next_days.set_visibility(event.value != NextAction.SELL.value)

    async def submit(self) -> None:
        thesis = self.thesis
        if thesis is None or self.action is None or self.status is None:
            return
        action = str(self.action.value)
        if action == NextAction.SELL.value:
            asked = await self.panel.page.confirm.ask(
                f"Close the thesis on {thesis.symbol}?",
                "Selling closes the thesis: it leaves the due list and takes no more check-ins. The journal places "
                "no order; sell on the Trade page.",
                "Close the thesis",
            )
            if not asked:
                return
        user = await acting_writer(self.panel.page.desk)
        if user is None:
            return
        days = None
        if action != NextAction.SELL.value and self.next_days is not None and self.next_days.value is not None:
            days = int(self.next_days.value)
        status = str(self.status.value) if self.status.value else None
        try:
            async with self.panel.page.desk.db.session() as session:
                updated, recorded = await self.panel.page.desk.journal.checkin(
                    session, user, thesis.id, action, status=status, note=str(self.note.value or "") if self.note else "",
                    next_review_in_days=days,
                )  # fmt: skip
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.dialog.close()
        after = "thesis closed" if updated.state == "closed" else f"next review {updated.review_on:%Y-%m-%d}"
        notice(
            f"Checked in on {updated.symbol}: {recorded.status.value}, {recorded.action.value}; {after}.", "positive"
        )
        await self.panel.load()
