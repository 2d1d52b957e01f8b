"""The analytics page (/analytics): for one of your portfolios and a date range, the equity curve against the
benchmark (SPY, else the desk's own benchmark symbol, when it has prices; the page says when neither has), the
drawdown (underwater) chart, a monthly-returns heatmap and the full metric table of `marketdesk.analytics.metrics`
with the conventions it was computed with, plus CSV downloads of the metrics and of the daily series. Below: the
portfolio's allocation by symbol, sector or asset class (`analytics_allocation`), and the comparison of several of
your portfolios and the benchmark over any range (`analytics_compare`, the service behind
`GET /api/v1/analytics/compare`).

The daily series comes from the portfolio's end-of-day snapshots (`desk.portfolios.snapshots`): time-weighted
daily returns, flows at the start of the day. A metric the series is too short for shows "—" with the stated
reason, never NaN. Reading only: viewers see the same page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from nicegui import ui

from marketdesk.accounts.roles import CurrentUser
from marketdesk.analytics import Conventions, metric_keys, metrics, metrics_csv
from marketdesk.analytics.compare_service import comparison_for
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.portfolio.service import PortfolioView
from marketdesk.web.analytics_allocation import AllocationPanel
from marketdesk.web.analytics_compare import ComparePanel
from marketdesk.web.forms import Problem
from marketdesk.web.identity import web_identity
from marketdesk.web.portfolio import guest_notice
from marketdesk.web.portfolio_series import (
    aligned_benchmark,
    daily_portfolio_returns,
    equity_options,
    heatmap_options,
    in_range,
    monthly_returns,
    series_csv,
    underwater_options,
)
from marketdesk.web.portfolio_text import conventions_line, metric_rows
from marketdesk.web.portfolio_ui import cell, panel, table
from marketdesk.web.registry import desk_page

CONVENTIONS = Conventions()  # the library's defaults: 252 periods, rf 0 annual, full downside, historical VaR


@desk_page("/analytics", "Analytics", "insights")
async def analytics_page(desk: Desk) -> None:
    identity = web_identity()
    ui.label("Analytics").classes("text-2xl font-semibold")
    if identity.user is None:
        guest_notice("analytics-guest")
        return
    await AnalyticsPage(desk, identity.user).build()


@dataclass(frozen=True)
class Analysis:
    """What the page shows for one portfolio and range."""

    name: str
    returns: pd.Series
    benchmark: pd.Series | None
    benchmark_name: str | None
    benchmark_note: str
    measured: dict[str, Any] | None
    metrics_problem: str


class AnalyticsPage:
    def __init__(self, desk: Desk, user: CurrentUser) -> None:
        self.desk = desk
        self.user = user
        self.portfolios: list[PortfolioView] = []
        self.analysis: Analysis | None = None

    async def build(self) -> None:
        try:
            async with self.desk.db.session() as session:
                self.portfolios = await self.desk.portfolios.list_portfolios(session, self.user)
        except MarketdeskError as exc:
            Problem("analytics-error").show(exc.one_line())
            return
        if not self.portfolios:
            with ui.card().classes("w-full items-center py-8 gap-2").props("flat bordered data-testid=analytics-empty"):
                ui.icon("insights", size="3rem").classes("text-grey-6")
                ui.label("No portfolio yet — create one or import a statement").classes("text-lg font-semibold")
                ui.link("Open the Portfolio page", "/portfolio")
            return
        today = self.desk.portfolios.today()
        with ui.card().classes("w-full gap-2").props("flat bordered data-testid=analytics-bar"):
            with ui.row().classes("w-full items-center gap-3"):
                self.picker = (
                    ui.select({p.id: p.name for p in self.portfolios}, value=self.portfolios[0].id, label="Portfolio")
                    .props("outlined dense data-testid=analytics-picker")
                    .classes("w-72")
                )
                self.start = ui.input("From", value="").props("outlined dense type=date data-testid=analytics-start")
                self.end = ui.input("To", value=f"{today:%Y-%m-%d}").props(
                    "outlined dense type=date data-testid=analytics-end"
                )
                ui.button("Show", icon="refresh", on_click=self.refresh).props(
                    "unelevated no-caps data-testid=analytics-show"
                )
                ui.space()
                ui.button("Metrics CSV", icon="download", on_click=self.download_metrics).props(
                    "flat no-caps data-testid=export-metrics"
                )
                ui.button("Daily series CSV", icon="download", on_click=self.download_series).props(
                    "flat no-caps data-testid=export-series"
                )
            self.problem = Problem("analytics-error")
        self.body = ui.column().classes("w-full gap-4").props("data-testid=analytics-body")
        self.allocation = AllocationPanel(self.desk, self.user)
        self.compare = ComparePanel(self.desk, self.user, self.portfolios, today)
        self.picker.on_value_change(self.refresh)
        await self.refresh()
        await self.compare.refresh()

    def _range(self) -> tuple[date | None, date | None] | None:
        try:
            start = date.fromisoformat(str(self.start.value)) if self.start.value else None
            end = date.fromisoformat(str(self.end.value)) if self.end.value else None
        except ValueError:
            self.problem.show("dates must look like 2024-01-31")
            return None
        if start is not None and end is not None and start > end:
            self.problem.show("the range starts after it ends; pick a start before the end")
            return None
        return start, end

    async def refresh(self) -> None:
        picked = next((p for p in self.portfolios if p.id == self.picker.value), None)
        span = self._range()
        if picked is None or span is None:
            return
        try:
            self.analysis = await self._analyse(picked, *span)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            return
        self.problem.clear()
        self._draw(self.analysis)
        await self.allocation.show(picked.id)

    async def _analyse(self, portfolio: PortfolioView, start: date | None, end: date | None) -> Analysis:
        async with self.desk.db.session() as session:
            snapshots = await self.desk.portfolios.snapshots(session, self.user, portfolio.id)
        everything = daily_portfolio_returns(
            [s.day for s in snapshots], [float(s.value) for s in snapshots], [float(s.net_flow) for s in snapshots]
        )
        returns = in_range(everything, start, end)
        if returns.empty:
            return Analysis(portfolio.name, returns, None, None, "", None, "")
        first, last = returns.index[0].date(), returns.index[-1].date()
        benchmark, name, note = await self._benchmark(first, last)
        if benchmark is not None:
            benchmark, gap = aligned_benchmark(benchmark, returns)
            if gap:
                note += f" {gap}"
        measured: dict[str, Any] | None = None
        problem = ""
        try:
            measured = metrics(returns, benchmark, CONVENTIONS)
        except MarketdeskError as exc:
            problem = exc.one_line()
        return Analysis(portfolio.name, returns, benchmark, name, note, measured, problem)

    async def _benchmark(self, first: date, last: date) -> tuple[pd.Series | None, str | None, str]:
        """SPY's daily returns over the range, else the desk's benchmark symbol's; with a note on which."""
        async with self.desk.db.session() as session:
            found = await comparison_for(self.desk).benchmark(session, first, last)
        if found.returns is None:
            return None, None, f"{found.note[:-1]}, so the benchmark measures are left out."
        return found.returns.rename("benchmark"), found.symbol, found.note

    def _draw(self, analysis: Analysis) -> None:
        self.body.clear()
        with self.body:
            if analysis.returns.empty:
                with (
                    ui.card()
                    .classes("w-full items-center py-8 gap-2")
                    .props("flat bordered data-testid=analytics-no-data")
                ):
                    ui.label("No daily values in this range").classes("text-lg font-semibold")
                    ui.label(
                        "The series comes from the portfolio's end-of-day snapshots: record a deposit and a buy on the "
                        "Portfolio page, or widen the range."
                    ).classes("text-grey-7 text-center max-w-xl")
                return
            first, last = analysis.returns.index[0], analysis.returns.index[-1]
            ui.label(
                f"{analysis.name}: {len(analysis.returns)} daily returns from {first:%Y-%m-%d} to {last:%Y-%m-%d}. "
                f"{analysis.benchmark_note}"
            ).classes("text-sm text-grey-8").props(
                f"data-testid=analytics-summary data-benchmark={analysis.benchmark_name or 'none'}"
            )
            with ui.row().classes("w-full items-start gap-4 no-wrap max-lg:flex-wrap"):
                with ui.column().classes("flex-[3] min-w-96 gap-4"):
                    ui.echart(equity_options(analysis.returns, analysis.benchmark, analysis.benchmark_name)).classes(
                        "w-full h-80"
                    ).props("data-testid=equity-chart")
                    ui.echart(underwater_options(analysis.returns)).classes("w-full h-60").props(
                        "data-testid=underwater-chart"
                    )
                    ui.echart(heatmap_options(monthly_returns(analysis.returns))).classes("w-full h-72").props(
                        "data-testid=heatmap-chart"
                    )
                with ui.column().classes("flex-[2] min-w-80"):
                    self._metric_table(analysis)

    def _metric_table(self, analysis: Analysis) -> None:
        body = panel(
            "Metrics", "From daily time-weighted returns; “—” where the series cannot give one.", "metrics-section"
        )
        with body:
            if analysis.measured is None:
                Problem("metrics-error").show(analysis.metrics_problem or "no metrics for this range")
                return
            measured = analysis.measured
            keys = metric_keys(CONVENTIONS, benchmark=analysis.benchmark is not None)
            with table("metrics-table", (("Metric", False), ("Value", True), ("Why missing", False))):
                for row in metric_rows(measured, keys):
                    with ui.element("tr").props(f"data-testid=metric-row data-key={row.key}"):
                        cell(row.label, "label")
                        cell(row.text, "value", numeric=True)
                        with ui.element("td").classes("max-w-64").props("data-field=missing"):
                            ui.label(row.missing or "").classes("text-xs text-grey-7")
            ui.label(f"Conventions: {conventions_line(measured['conventions'])}").classes("text-xs text-grey-7").props(
                "data-testid=metrics-conventions"
            )

    def download_metrics(self) -> None:
        if self.analysis is None or self.analysis.measured is None:
            ui.notify("No metrics to export for this range.", type="warning")
            return
        text = metrics_csv(self.analysis.measured, name=self.analysis.name)
        ui.download.content(text, f"{_slug(self.analysis.name)}-metrics.csv", "text/csv")

    def download_series(self) -> None:
        if self.analysis is None or self.analysis.returns.empty:
            ui.notify("No daily series to export for this range.", type="warning")
            return
        a = self.analysis
        text = series_csv(a.returns, a.benchmark, a.benchmark_name)
        ui.download.content(text, f"{_slug(a.name)}-daily.csv", "text/csv")


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "portfolio"
