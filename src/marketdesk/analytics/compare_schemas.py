"""Pydantic out shapes of the portfolio comparison (`GET /api/v1/analytics/compare`). Figures are plain numbers
(fractions: 0.05 is 5%); a figure that does not exist is null and `missing` says why (never NaN or infinity)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from marketdesk.analytics.compare_measures import ComparedSeries, Comparison, curve_points


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


class GrowthPointOut(Strict):
    date: dt.date
    value: float = Field(description="what 100 grew to by this day's close")


class ComparedSeriesOut(Strict):
    key: str = Field(description="the portfolio's id, or the benchmark's symbol")
    name: str
    kind: str = Field(description="portfolio or benchmark")
    start: dt.date | None = Field(description="its first day within the range (null: none)")
    end: dt.date | None
    observations: int = Field(description="daily returns within the range")
    twr: float | None = Field(description="time-weighted return over its days: the daily returns chained")
    twr_annualized: float | None = Field(description="null under a year")
    annual_volatility: float | None
    sharpe: float | None
    max_drawdown: float | None = Field(description="the deepest fall from a running peak (negative)")
    missing: dict[str, str] = Field(description="figure → why it is null")
    growth: list[GrowthPointOut] = Field(description="the equity curve: the growth of 100, day by day")

    @classmethod
    def of(cls, s: ComparedSeries, *, curves: bool) -> ComparedSeriesOut:
        growth = [GrowthPointOut(date=day, value=value) for day, value in curve_points(s.growth)] if curves else []
        return cls(
            key=s.key, name=s.name, kind=s.kind, start=s.start, end=s.end, observations=s.observations,
            twr=_finite(s.twr), twr_annualized=_finite(s.twr_annualized),
            annual_volatility=_finite(s.annual_volatility), sharpe=_finite(s.sharpe),
            max_drawdown=_finite(s.max_drawdown), missing=dict(s.missing), growth=growth,
        )  # fmt: skip


class ComparisonOut(Strict):
    start: dt.date | None = Field(description="the range asked for (null: from the first day)")
    end: dt.date | None = Field(description="null: to the last day")
    benchmark: str | None = Field(description="the benchmark's symbol; null when none has prices in the range")
    series: list[ComparedSeriesOut] = Field(description="the portfolios in the order asked, then the benchmark")
    conventions: dict[str, Any] = Field(description="how volatility and Sharpe were computed")
    notes: list[str]

    @classmethod
    def of(cls, comparison: Comparison, benchmark: str | None, *, curves: bool) -> ComparisonOut:
        return cls(
            start=comparison.start, end=comparison.end, benchmark=benchmark,
            series=[ComparedSeriesOut.of(s, curves=curves) for s in comparison.series],
            conventions=comparison.conventions.to_dict(), notes=list(comparison.notes),
        )  # fmt: skip
