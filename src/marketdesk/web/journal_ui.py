"""Pieces the journal's panels share: the check a write handler makes first, an empty state that says what to do,
a coloured chip, a small labelled figure; and the thesis's fields (`ThesisFields`), which the Journal page's "Add
thesis" and the prompt on a newly opened position (`ThesisPrompt`: the trade ticket, a manual buy on the portfolio
page) both use."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from nicegui import ui
from nicegui.events import ValueChangeEventArguments

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.journal.theses import DEFAULT_REVIEW_DAYS
from marketdesk.journal.views import ThesisView
from marketdesk.logs import get_logger
from marketdesk.web.forms import Problem, acting_user
from marketdesk.web.journal_text import metric_options, reason_options, suggested_watch
from marketdesk.web.trade_support import notice

log = get_logger(__name__)
DIRECTIONS = {"auto": "The screener's better side", "up": "Up ↑", "down": "Down ↓"}
NO_METRIC = "none"
DEFAULT_REASON = "quality"


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


# ---- a thesis's fields ------------------------------------------------------------------------------------------


class ThesisFields:
    """One reason (picking one fills in the metrics it suggests), one or two metrics to watch with the way each
    should move, the review date (in 30 days unless changed) and a note. Create it inside a dialog's card; the
    symbol is the caller's (a field of its own, or the position just opened)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        metrics = metric_options()
        self.reason = (
            ui.select(reason_options(), value=DEFAULT_REASON, label="Reason (one)", on_change=self._suggest)
            .props("outlined dense options-dense data-testid=thesis-reason")
            .classes("w-full")
        )
        with ui.row().classes("w-full items-start gap-2 no-wrap"):
            self.metric_1 = (
                ui.select(metrics, label="Watch", with_input=True)
                .props("outlined dense options-dense data-testid=thesis-metric-1")
                .classes("flex-1")
            )
            self.direction_1 = (
                ui.select(DIRECTIONS, value="auto", label="It should go")
                .props("outlined dense data-testid=thesis-direction-1")
                .classes("w-56")
            )
        with ui.row().classes("w-full items-start gap-2 no-wrap"):
            self.metric_2 = (
                ui.select({NO_METRIC: "No second metric", **metrics}, value=NO_METRIC, label="And watch",
                          with_input=True)
                .props("outlined dense options-dense data-testid=thesis-metric-2")
                .classes("flex-1")
            )  # fmt: skip
            self.direction_2 = (
                ui.select(DIRECTIONS, value="auto", label="It should go")
                .props("outlined dense data-testid=thesis-direction-2")
                .classes("w-56")
            )
        self.review = ui.input(f"Review on (default: in {DEFAULT_REVIEW_DAYS} days)", value=self._default_review())
        self.review.props("outlined dense type=date data-testid=thesis-review").classes("w-64")
        self.note = ui.textarea("Note (optional)").props("outlined dense autogrow data-testid=thesis-note")
        self.note.classes("w-full")
        self._fill_suggestions(DEFAULT_REASON)

    def _default_review(self) -> str:
        return f"{self.desk.journal.today() + timedelta(days=DEFAULT_REVIEW_DAYS):%Y-%m-%d}"

    def reset(self) -> None:
        """Back to a fresh thesis: the default reason and its metrics, a review in 30 days from today, no note."""
        self.reason.set_value(DEFAULT_REASON)
        self._fill_suggestions(DEFAULT_REASON)
        self.review.set_value(self._default_review())
        self.note.set_value("")

    def _suggest(self, event: ValueChangeEventArguments[Any]) -> None:
        if event.value:
            self._fill_suggestions(str(event.value))

    def _fill_suggestions(self, reason: str) -> None:
        suggested = suggested_watch(reason)
        first = suggested[0]
        self.metric_1.set_value(first[0])
        self.direction_1.set_value(first[1].value)
        if len(suggested) > 1:
            self.metric_2.set_value(suggested[1][0])
            self.direction_2.set_value(suggested[1][1].value)
        else:
            self.metric_2.set_value(NO_METRIC)
            self.direction_2.set_value("auto")

    def watch(self) -> list[str]:
        """The watched metrics as the journal takes them: `roe`, or `pe:down` with a direction."""
        out = []
        for metric, direction in ((self.metric_1, self.direction_1), (self.metric_2, self.direction_2)):
            name = str(metric.value or "")
            if not name or name == NO_METRIC:
                continue
            way = str(direction.value or "auto")
            out.append(name if way == "auto" else f"{name}:{way}")
        return out

    async def write(self, symbol: str, problem: Problem) -> ThesisView | None:
        """Write the thesis on `symbol` as the page's user (re-read first: a viewer is refused) and say so; None,
        with what to fix on `problem`, when it could not be written."""
        try:
            review = date.fromisoformat(str(self.review.value or "").strip())
        except ValueError:
            problem.show("the review date must look like 2026-12-20")
            return None
        watch = self.watch()
        if not watch:
            problem.show("pick a metric to watch: the thesis needs one or two")
            return None
        user = await acting_writer(self.desk)
        if user is None:
            return None
        try:
            async with self.desk.db.session() as session:
                added = await self.desk.journal.add_thesis(
                    session, user, symbol, str(self.reason.value), watch, note=str(self.note.value or ""),
                    review_on=review,
                )  # fmt: skip
        except MarketdeskError as exc:
            problem.show(exc.one_line())
            return None
        notice(f"Thesis on {added.symbol} written; review on {added.review_on:%Y-%m-%d}.", "positive")
        return added


def prompt_question(symbol: str, side: str) -> str:
    """The prompt's question: `Why are you buying AAPL?`, or `Why are you shorting AAPL?` for a short sale."""
    return f"Why are you {'shorting' if side == 'sell' else 'buying'} {symbol}?"


class ThesisPrompt:
    """Asks for the thesis of a position just opened: "Why are you buying SYM?", the thesis's fields, then "Save
    thesis", or "Not now" (Escape and a click outside too), which writes nothing. Create it inside a page of a user
    who may write; `await prompt.offer(user, symbol, side)` opens it unless a thesis on the symbol is open."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.symbol: str | None = None
        with ui.dialog().props("data-testid=thesis-prompt") as self.dialog, ui.card().classes("w-[40rem] gap-3"):
            self.question = ui.label().classes("text-lg font-semibold").props("data-testid=thesis-prompt-question")
            ui.label(
                "One reason, and one or two metrics that should show it is working. The journal keeps their values "
                "today and asks you to check in on the review date."
            ).classes("text-sm text-grey-7")
            self.fields = ThesisFields(desk)
            self.problem = Problem("thesis-form-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Not now", on_click=self.dialog.close).props("flat no-caps data-testid=thesis-prompt-later")
                ui.button("Save thesis", icon="lightbulb", on_click=self.save).props(
                    "unelevated no-caps data-testid=thesis-prompt-save"
                )

    async def offer(self, user: CurrentUser, symbol: str, side: str) -> bool:
        """Ask for the thesis on `symbol`, a position `user` just opened on `side`, unless they may not write or
        already have an open thesis on it. True when the prompt opened."""
        if not user.can_write:
            return False
        try:
            async with self.desk.db.session() as session:
                if await self.desk.journal.theses(session, user, state="open", symbol=symbol):
                    return False
        except MarketdeskError as exc:  # the position stands; the journal's Add thesis is still there
            log.warning("could not ask for a thesis", symbol=symbol, error=exc.one_line())
            return False
        self.symbol = symbol
        self.question.set_text(prompt_question(symbol, side))
        self.dialog.props(f'data-symbol="{symbol}" data-side={side}')
        self.fields.reset()
        self.problem.clear()
        self.dialog.open()
        return True

    async def save(self) -> None:
        if self.symbol is not None and await self.fields.write(self.symbol, self.problem) is not None:
            self.dialog.close()
