"""The journal page's decisions tab: were the desk's verdicts any good for you? The win rate (beating the
benchmark) and mean excess return of your logged decisions at 30, 60 and 90 days, by verdict, by preset and by
signal type, from `desk.decisions.stats` (which first measures your windows that have come due)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from marketdesk.decisions.stats import DecisionStats, GroupStats
from marketdesk.errors import MarketdeskError
from marketdesk.web.forms import Problem
from marketdesk.web.journal_text import decision_horizons, decision_rows
from marketdesk.web.journal_ui import empty_state
from marketdesk.web.portfolio_ui import cell, panel, table

if TYPE_CHECKING:
    from marketdesk.web.journal_page import JournalPage

GROUPS = (("by_verdict", "By verdict"), ("by_preset", "By preset"), ("by_signal", "By signal type"))


class DecisionsPanel:
    def __init__(self, page: JournalPage) -> None:
        self.page = page
        ui.label(
            "A win is a decision whose symbol beat the benchmark over the window; each window is measured once its "
            "prices are in (docs/decisions.md)."
        ).classes("text-sm text-grey-7")
        self.problem = Problem("decisions-error")
        self.body = ui.column().classes("w-full gap-4").props("data-testid=decisions-body")

    async def load(self) -> None:
        try:
            async with self.page.desk.db.session() as session:
                stats = await self.page.desk.decisions.stats(session, self.page.user)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.clear()
        self._draw(stats)

    def _draw(self, stats: DecisionStats) -> None:
        self.body.clear()
        with self.body:
            if stats.total == 0:
                empty_state(
                    "how_to_vote",
                    "No decisions logged yet",
                    "A decision is a verdict you saved or acted on: POST /api/v1/decisions, or an order placed on "
                    "a screened name. Each is scored against the benchmark at 30, 60 and 90 days.",
                    "decisions-empty",
                )
                return
            ui.label(f"{stats.total} decision{'s' if stats.total != 1 else ''} logged").classes("font-semibold").props(
                f"data-testid=decisions-total data-total={stats.total}"
            )
            horizons = decision_horizons(stats)
            for attribute, title in GROUPS:
                groups: tuple[GroupStats, ...] = getattr(stats, attribute)
                body = panel(title, "Measured/count, win rate and mean excess return at each horizon.", attribute)
                with body:
                    headers = [("Group", False), ("Count", True)]
                    for h in horizons:
                        headers += [(f"{h} d measured", True), (f"{h} d win rate", True), (f"{h} d excess", True)]
                    with table(f"decisions-{attribute}", headers):
                        for row in decision_rows(groups):
                            with ui.element("tr").props(f'data-testid=decision-row data-key="{row.key}"'):
                                cell(row.key, "key")
                                cell(f"{row.count}", "count", numeric=True)
                                for horizon, measured, rate, excess in row.cells:
                                    cell(measured, f"measured_{horizon}", numeric=True)
                                    cell(rate, f"win_rate_{horizon}", numeric=True)
                                    cell(excess, f"excess_{horizon}", numeric=True)
