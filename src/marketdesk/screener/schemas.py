"""Pydantic out-shapes of the screener API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.screener.model import Regime


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegimeSignalOut(Strict):
    name: str
    value: float | None
    vote: int
    text: str


class RegimeOut(Strict):
    state: str
    reason: str
    as_of: date
    signals: list[RegimeSignalOut]

    @classmethod
    def of(cls, regime: Regime) -> RegimeOut:
        return cls(
            state=regime.state.value,
            reason=regime.reason,
            as_of=regime.as_of,
            signals=[RegimeSignalOut(name=s.name, value=s.value, vote=s.vote, text=s.text) for s in regime.signals],
        )


class ScreenPageOut(Strict):
    """A page of screened rows. Each row: symbol, name, verdict, score, metrics, gates, reasons, flags, dcf."""

    rows: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    as_of: date
    universe: str
    preset: str
    version: str
    regime: RegimeOut
    message: str | None


class DipsOut(Strict):
    rows: list[dict[str, Any]]
    universe: str
    threshold_pct: float
    min_verdict: str
    as_of: date
    computed_at: datetime
    cached: bool
    regime: RegimeOut
    message: str | None


class PresetOut(Strict):
    id: str
    label: str
    kind: str
    description: str


class ScreenerOptions(Strict):
    presets: list[PresetOut]
    fields: list[str]
    operators: list[str]
    metrics: list[dict[str, Any]]


def jsonable_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = to_jsonable(rows)
    return converted
