"""The journal page's market calls tab: record a call ("SPY closes above 600 on 2027-03-31"), see the calendar of
due dates, the calls already judged with their outcome and why, and your accuracy (hits ÷ (hits + misses)) overall,
by direction, by mode and by symbol. Calls are judged from the stored closes as they come due (each read judges
your due calls first). Everything goes through `desk.journal` as the page's user."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from nicegui import ui

from marketdesk.errors import MarketdeskError
from marketdesk.journal.calls import Accuracy, CalendarMonth, CallStats
from marketdesk.journal.views import CallView
from marketdesk.web.forms import Problem
from marketdesk.web.journal_text import OUTCOME_COLOURS, call_statement, hit_rate, mode_options, outcome_label
from marketdesk.web.journal_ui import acting_writer, chip, empty_state, stat
from marketdesk.web.layout import WRITE_CLASS
from marketdesk.web.portfolio_ui import cell, panel, table
from marketdesk.web.trade_support import notice

if TYPE_CHECKING:
    from marketdesk.web.journal_page import JournalPage

DIRECTIONS = {"above": "Above", "below": "Below"}
DEFAULT_HORIZON_DAYS = 90


class CallsPanel:
    """The call form, accuracy, the calendar and the judged calls."""

    def __init__(self, page: JournalPage) -> None:
        self.page = page
        if page.can_write:
            self._form()
        self.problem = Problem("calls-error")
        self.accuracy = panel(
            "Accuracy", "Hits ÷ (hits + misses); open and void calls are not counted in it.", "calls-accuracy"
        )
        with ui.row().classes("w-full items-start gap-4 no-wrap max-lg:flex-wrap"):
            with ui.column().classes("flex-1 min-w-96"):
                self.calendar = panel("Calendar", "Your calls by due date, month by month.", "calls-calendar")
            with ui.column().classes("flex-1 min-w-96"):
                self.judged = panel("Judged calls", "Each outcome with the close that decided it.", "calls-judged")

    def _form(self) -> None:
        today = self.page.desk.journal.today()
        body = panel(
            "Record a call",
            "A symbol closes above or below a level on the due date (or any time by it). Judged from the closes.",
            "call-form",
        )
        with body.classes(WRITE_CLASS):
            with ui.row().classes("w-full items-start gap-3"):
                self.symbol = ui.input("Symbol", on_change=self._preview).props(
                    "outlined dense data-testid=call-symbol"
                )
                self.symbol.classes("w-28")
                self.direction = ui.toggle(DIRECTIONS, value="above", on_change=self._preview).props(
                    "no-caps unelevated toggle-color=primary data-testid=call-direction"
                )
                self.level = ui.input("Level", on_change=self._preview).props("outlined dense data-testid=call-level")
                self.level.classes("w-32")
                due = today + timedelta(days=DEFAULT_HORIZON_DAYS)
                self.due = ui.input("Due date", value=f"{due:%Y-%m-%d}", on_change=self._preview)
                self.due.props("outlined dense type=date data-testid=call-due")
                self.mode = (
                    ui.select(mode_options(), value="at_due_date", label="By the due date means",
                              on_change=self._preview)
                    .props("outlined dense options-dense data-testid=call-mode")
                    .classes("w-96")
                )  # fmt: skip
            self.note = ui.input("Note (optional)").props("outlined dense data-testid=call-note").classes("w-full")
            with ui.row().classes("w-full items-center gap-3"):
                self.statement = ui.label().classes("font-semibold desk-code").props("data-testid=call-preview")
                ui.space()
                ui.button("Record call", icon="campaign", on_click=self.submit).props(
                    "unelevated no-caps data-testid=call-submit"
                )
            self.form_problem = Problem("call-form-error")
        self._preview(None)

    def _due(self) -> date | None:
        try:
            return date.fromisoformat(str(self.due.value or "").strip())
        except ValueError:
            return None

    def _preview(self, _: Any) -> None:
        self.statement.set_text(
            call_statement(str(self.symbol.value or ""), str(self.direction.value), str(self.level.value or ""),
                           self._due(), str(self.mode.value))
        )  # fmt: skip

    async def submit(self) -> None:
        due = self._due()
        if due is None:
            self.form_problem.show("the due date must look like 2027-03-31")
            return
        symbol, level = str(self.symbol.value or "").strip(), str(self.level.value or "").strip()
        if not symbol or not level:
            self.form_problem.show("a call needs a symbol and a level, like SPY above 600")
            return
        user = await acting_writer(self.page.desk)
        if user is None:
            return
        try:
            async with self.page.desk.db.session() as session:
                made = await self.page.desk.journal.add_call(
                    session, user, symbol, str(self.direction.value), level, due, mode=str(self.mode.value),
                    note=str(self.note.value or ""),
                )  # fmt: skip
        except MarketdeskError as exc:
            self.form_problem.show(exc.one_line())
            return
        self.form_problem.clear()
        for box in (self.symbol, self.level, self.note):
            box.set_value("")
        notice(f"Recorded: {made.statement}.", "positive")
        await self.load()

    async def load(self) -> None:
        journal, user = self.page.desk.journal, self.page.user
        try:
            async with self.page.desk.db.session() as session:
                calls = await journal.calls(session, user)
                months = await journal.call_calendar(session, user)
                stats = await journal.call_stats(session, user)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.clear()
        self._draw_accuracy(stats)
        self._draw_calendar(months, {c.id: c for c in calls})
        self._draw_judged([c for c in calls if c.outcome.value != "open"])

    def _draw_accuracy(self, stats: CallStats) -> None:
        self.accuracy.clear()
        total = stats.total
        with self.accuracy:
            with ui.row().classes("w-full gap-6"):
                stat("Calls", f"{total.calls}", "calls", "call-stat")
                stat("Open", f"{total.open}", "open", "call-stat")
                stat("Hits", f"{total.hits}", "hits", "call-stat")
                stat("Misses", f"{total.misses}", "misses", "call-stat")
                stat("Void", f"{total.void}", "void", "call-stat")
                stat("Accuracy", hit_rate(total.hit_rate), "hit_rate", "call-stat")
            for note in stats.notes:
                ui.label(note[:1].upper() + note[1:]).classes("text-xs text-grey-7").props("data-testid=call-note-line")
            groups = [("Direction", a) for a in stats.by_direction] + [("Mode", a) for a in stats.by_mode]
            groups += [("Symbol", a) for a in stats.by_symbol]
            if groups:
                self._accuracy_table(groups)

    def _accuracy_table(self, groups: list[tuple[str, Accuracy]]) -> None:
        headers = (("By", False), ("Group", False), ("Calls", True), ("Hits", True), ("Misses", True),
                   ("Accuracy", True))  # fmt: skip
        with table("accuracy-table", headers):
            for by, a in groups:
                with ui.element("tr").props(f'data-testid=accuracy-row data-by={by.lower()} data-key="{a.key}"'):
                    cell(by, "by")
                    cell(a.key.replace("_", " "), "key")
                    cell(f"{a.calls}", "calls", numeric=True)
                    cell(f"{a.hits}", "hits", numeric=True)
                    cell(f"{a.misses}", "misses", numeric=True)
                    cell(hit_rate(a.hit_rate), "hit_rate", numeric=True)

    def _draw_calendar(self, months: list[CalendarMonth], calls: dict[str, CallView]) -> None:
        self.calendar.clear()
        with self.calendar:
            if not months:
                empty_state(
                    "event",
                    "No calls yet",
                    "Record one above, e.g. SPY above 600 by a date: the calendar shows when each comes due."
                    if self.page.can_write
                    else "Calls are recorded by traders; there is none to show.",
                    "calls-empty",
                )
                return
            today = self.page.desk.journal.today()
            for month in months:
                with ui.column().classes("w-full gap-1").props(f"data-testid=calendar-month data-month={month.month}"):
                    first = date.fromisoformat(f"{month.month}-01")
                    tally = f"{month.open} open · {month.hits} hit · {month.misses} missed · {month.void} void"
                    with ui.row().classes("w-full items-baseline gap-2"):
                        ui.label(f"{first:%B %Y}").classes("font-semibold")
                        ui.label(tally).classes("text-xs text-grey-7")
                    for day in month.days:
                        with ui.row().classes("w-full items-start gap-3 no-wrap pl-2"):
                            label = f"{day.day:%a %d}" + (" (today)" if day.day == today else "")
                            ui.label(label).classes("w-20 text-sm desk-num text-grey-8")
                            with ui.column().classes("gap-0"):
                                for facts in day.calls:
                                    view = calls.get(facts.id)
                                    with (
                                        ui.row()
                                        .classes("items-center gap-2")
                                        .props(
                                            f"data-testid=calendar-call data-id={facts.id} data-outcome={facts.outcome}"
                                        )
                                    ):
                                        chip(outcome_label(facts.outcome), OUTCOME_COLOURS[facts.outcome.value],
                                             "call-outcome", outcome=facts.outcome.value)  # fmt: skip
                                        ui.label(view.statement if view else facts.symbol).classes("text-sm")

    def _draw_judged(self, judged: list[CallView]) -> None:
        self.judged.clear()
        with self.judged:
            if not judged:
                ui.label("None judged yet: a call is judged once its due date has passed and its close is in.").classes(
                    "text-sm text-grey-7"
                ).props("data-testid=judged-empty")
                return
            headers = (("Call", False), ("Outcome", False), ("Decided by", False), ("Why", False))
            with table("judged-table", headers):
                for c in sorted(judged, key=lambda v: (v.due_on, v.id), reverse=True):
                    with ui.element("tr").props(
                        f"data-testid=judged-row data-id={c.id} data-outcome={c.outcome.value}"
                    ):
                        cell(c.statement, "statement")
                        with ui.element("td").props("data-field=outcome"):
                            chip(outcome_label(c.outcome), OUTCOME_COLOURS[c.outcome.value], "judged-outcome")
                        cell(
                            "—" if c.decided_on is None else f"{c.decided_close} on {c.decided_on:%Y-%m-%d}", "decided"
                        )
                        with ui.element("td").classes("max-w-80").props("data-field=reason"):
                            ui.label(c.outcome_reason).classes("text-xs text-grey-8")
