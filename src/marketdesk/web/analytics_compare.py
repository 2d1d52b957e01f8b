"""The analytics page's comparison panel: two or more of your portfolios (and the benchmark) over any date range,
their TWR, volatility, Sharpe ratio and maximum drawdown side by side with their equity curves, and CSV downloads
of the figures and of the curves. Everything comes from `ComparisonService.compare`, the call REST's
`GET /api/v1/analytics/compare` makes."""

from __future__ import annotations

from datetime import date

from nicegui import ui

from marketdesk.accounts.roles import CurrentUser
from marketdesk.analytics.compare_measures import Comparison, comparison_csv, curves_csv
from marketdesk.analytics.compare_service import MAX_PORTFOLIOS, comparison_for
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.portfolio.service import PortfolioView
from marketdesk.web.analytics_charts import COMPARISON_COLUMNS, comparison_options, comparison_rows
from marketdesk.web.forms import Problem
from marketdesk.web.portfolio_ui import cell, panel, table


class ComparePanel:
    """Pick portfolios, the benchmark and a range; read them side by side."""

    def __init__(self, desk: Desk, user: CurrentUser, portfolios: list[PortfolioView], today: date) -> None:
        self.desk = desk
        self.user = user
        self.comparison: Comparison | None = None
        body = panel(
            "Compare portfolios",
            "Each one measured over its own days in the range from its daily time-weighted returns; deposits and "
            "withdrawals do not move them.",
            "compare-section",
        )
        options = {p.id: p.name for p in portfolios}
        with body:
            with ui.row().classes("w-full items-center gap-3"):
                self.picked = (
                    ui.select(options, value=[p.id for p in portfolios[:MAX_PORTFOLIOS]], multiple=True,
                              label="Portfolios")
                    .props("outlined dense use-chips data-testid=compare-picker")
                    .classes("min-w-80")
                )  # fmt: skip
                self.benchmark = ui.checkbox("Benchmark", value=True).props("data-testid=compare-benchmark")
                self.start = ui.input("From", value="").props("outlined dense type=date data-testid=compare-start")
                self.end = ui.input("To", value=f"{today:%Y-%m-%d}").props(
                    "outlined dense type=date data-testid=compare-end"
                )
                ui.button("Compare", icon="compare_arrows", on_click=self.refresh).props(
                    "unelevated no-caps data-testid=compare-show"
                )
                ui.space()
                ui.button("Comparison CSV", icon="download", on_click=self.download_figures).props(
                    "flat no-caps data-testid=export-comparison"
                )
                ui.button("Curves CSV", icon="download", on_click=self.download_curves).props(
                    "flat no-caps data-testid=export-curves"
                )
            if len(portfolios) < 2:
                ui.label(
                    "You have one portfolio: it is compared with the benchmark. Open a second one on the Portfolio "
                    "page to set them side by side."
                ).classes("text-sm text-grey-7").props("data-testid=compare-one")
            self.problem = Problem("compare-error")
            self.content = ui.column().classes("w-full gap-2").props("data-testid=compare-body")

    def _range(self) -> tuple[date | None, date | None] | None:
        try:
            start = date.fromisoformat(str(self.start.value)) if self.start.value else None
            end = date.fromisoformat(str(self.end.value)) if self.end.value else None
        except ValueError:
            self.problem.show("dates must look like 2024-01-31")
            return None
        return start, end

    async def refresh(self) -> None:
        span = self._range()
        if span is None:
            return
        picked = [str(p) for p in (self.picked.value or [])]
        if not picked:
            self.problem.show("pick at least one portfolio to compare")
            return
        try:
            async with self.desk.db.session() as session:
                comparison, _ = await comparison_for(self.desk).compare(
                    session, self.user, picked, start=span[0], end=span[1], benchmark=bool(self.benchmark.value)
                )
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.clear()
        self.comparison = comparison
        self._draw(comparison)

    def _draw(self, comparison: Comparison) -> None:
        self.content.clear()
        with self.content:
            headers = (("Series", False), ("Days", False), *((label, True) for _, label in COMPARISON_COLUMNS))
            with table("compare-table", headers):
                for row in comparison_rows(comparison):
                    with ui.element("tr").props(f'data-testid=compare-row data-kind={row.kind} data-key="{row.key}"'):
                        with ui.element("td").props("data-field=name"):
                            ui.label(row.name).classes("font-semibold" if row.kind == "portfolio" else "text-grey-8")
                        cell(row.span, "span")
                        for measure, text, missing in row.cells:
                            label = cell(text, measure, numeric=True)
                            if missing:
                                label.tooltip(missing)
            for note in comparison.notes:
                ui.label(note).classes("text-xs text-grey-7").props("data-testid=compare-note")
            if any(not s.growth.empty for s in comparison.series):
                ui.echart(comparison_options(comparison)).classes("w-full h-80").props("data-testid=compare-chart")
            else:
                ui.label("No daily values in this range: widen it, or record transactions first.").classes(
                    "text-grey-7"
                ).props("data-testid=compare-empty")

    def download_figures(self) -> None:
        if self.comparison is None:
            ui.notify("Compare first, then download the figures.", type="warning")
            return
        ui.download.content(comparison_csv(self.comparison), "portfolio-comparison.csv", "text/csv")

    def download_curves(self) -> None:
        if self.comparison is None:
            ui.notify("Compare first, then download the curves.", type="warning")
            return
        ui.download.content(curves_csv(self.comparison), "portfolio-comparison-curves.csv", "text/csv")
