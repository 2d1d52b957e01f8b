"""The analytics page's allocation panel: the picked portfolio's value by symbol, by sector or by asset class (and
cash), as a donut and a table, from the portfolio service's valuation and each symbol's description."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nicegui import ui
from nicegui.events import ValueChangeEventArguments

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.portfolio.valuation import Valuation
from marketdesk.web.analytics_charts import (
    GROUPINGS,
    allocation_options,
    allocation_slices,
    asset_class_of,
    grouped_values,
    sector_of,
)
from marketdesk.web.forms import Problem
from marketdesk.web.portfolio_text import money, rate
from marketdesk.web.portfolio_ui import cell, panel, table


class AllocationPanel:
    """Where the picked portfolio's money is, grouped three ways."""

    def __init__(self, desk: Desk, user: CurrentUser) -> None:
        self.desk = desk
        self.user = user
        self.valuation: Valuation | None = None
        self.groups: dict[str, dict[str, str]] = {"sector": {}, "asset_class": {}}
        body = panel(
            "Allocation",
            "Share of the portfolio's total value at the latest close, by symbol, sector or asset class; cash too.",
            "allocation-chart-section",
        )
        with body:
            self.grouping = ui.toggle(GROUPINGS, value="symbol", on_change=self._regroup).props(
                "no-caps unelevated dense toggle-color=primary data-testid=allocation-grouping"
            )
            self.problem = Problem("allocation-error")
            self.content = ui.column().classes("w-full gap-2")

    async def show(self, portfolio_id: str) -> None:
        """Value the portfolio now and draw it."""
        try:
            async with self.desk.db.session() as session:
                valuation = await self.desk.portfolios.valuation(session, self.user, portfolio_id)
                sectors, classes = {}, {}
                for holding in valuation.holdings:
                    try:
                        info = await self.desk.market.symbol(session, holding.symbol)
                    except MarketdeskError:
                        sectors[holding.symbol], classes[holding.symbol] = sector_of(None), asset_class_of(None)
                        continue
                    sectors[holding.symbol] = sector_of(info.sector)
                    classes[holding.symbol] = asset_class_of(info.asset_class.value)
        except MarketdeskError as exc:
            self.problem.show(exc.one_line())
            self.content.clear()
            return
        self.problem.clear()
        self.valuation = valuation
        self.groups = {"sector": sectors, "asset_class": classes}
        self._draw()

    def _regroup(self, _: ValueChangeEventArguments[Any]) -> None:
        self._draw()

    def _draw(self) -> None:
        self.content.clear()
        valuation = self.valuation
        if valuation is None:
            return
        grouping = str(self.grouping.value)
        values = grouped_values(valuation.holdings, self.groups.get(grouping))
        slices = allocation_slices(values, valuation.cash, valuation.total_value)
        with self.content:
            if not slices:
                ui.label("Nothing to allocate yet: the portfolio holds no cash and no positions.").classes(
                    "text-grey-7"
                ).props("data-testid=allocation-chart-empty")
                return
            with ui.row().classes("w-full items-start gap-4 no-wrap max-lg:flex-wrap"):
                ui.echart(allocation_options(slices, GROUPINGS[grouping])).classes("flex-[3] min-w-80 h-72").props(
                    f"data-testid=allocation-chart data-grouping={grouping}"
                )
                headers = (("Group", False), ("Value", True), ("Share", True))
                with ui.column().classes("flex-[2] min-w-64"), table("allocation-table", headers):
                    for s in slices:
                        with ui.element("tr").props(f'data-testid=allocation-row data-label="{s.label}"'):
                            cell(s.label, "label")
                            cell(money(s.value), "value", numeric=True)
                            cell(rate(s.share, signed=False), "share", numeric=True)
            if any(s.value < 0 for s in slices):
                ui.label("Short positions and negative cash are listed but left out of the chart.").classes(
                    "text-xs text-grey-7"
                )
            ui.label(
                f"Valued at the close of {valuation.as_of:%Y-%m-%d}; total {money(valuation.total_value)}."
            ).classes("text-xs text-grey-7")
            if Decimal(0) == valuation.total_value:
                ui.label("The total value is 0, so no share can be given.").classes("text-xs text-grey-7")
