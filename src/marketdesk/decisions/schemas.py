"""Pydantic in/out shapes of the decision log API. The price travels as a decimal string; scores, returns and
rates are plain numbers (0.1 = 10%), null while pending or when nothing is measured yet. Unknown fields are
refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from marketdesk.decisions.service import MAX_SIGNALS, DecisionView, OutcomeView
from marketdesk.decisions.stats import DecisionStats, GroupStats, HorizonStats

Amount = Annotated[Decimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")]
SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-^=]{0,14}$"
Signal = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DecisionCreate(Strict):
    """Log the desk's verdict on a symbol now: saved (to follow) or acted on (with the side you traded)."""

    symbol: str = Field(pattern=SYMBOL_PATTERN)
    action: Literal["saved", "acted"] = "saved"
    side: Literal["buy", "sell"] | None = Field(default=None, description="with action=acted: what you did")
    preset: str | None = Field(default=None, max_length=40, description="the screen's preset (default Balanced)")
    universe: str = Field(default="all", min_length=1, max_length=80, description="the screen's universe")
    signals: list[Signal] = Field(default_factory=list, max_length=MAX_SIGNALS, description="your own signal ids")
    note: str = Field(default="", max_length=500)


class OutcomeOut(Strict):
    horizon_days: int
    status: Literal["measured", "pending", "unmeasurable"]
    due_on: dt.date = Field(description="the window's target day: its close is the last on or before it")
    end_date: dt.date | None
    symbol_return: float | None
    benchmark_return: float | None
    excess_return: float | None
    win: bool | None = Field(description="beat the benchmark (excess return above 0)")

    @classmethod
    def of(cls, view: OutcomeView) -> OutcomeOut:
        return cls(
            horizon_days=view.horizon_days, status=view.status, due_on=view.due_on, end_date=view.end_date,
            symbol_return=view.symbol_return, benchmark_return=view.benchmark_return,
            excess_return=view.excess_return, win=view.win,
        )  # fmt: skip


class DecisionOut(Strict):
    id: str
    symbol: str
    action: Literal["saved", "acted"]
    side: Literal["buy", "sell"] | None
    order_id: str | None
    verdict: str
    score: float
    preset: str
    signals: list[str]
    scoring_version: str
    config_hash: str = Field(description="SHA-256 prefix of the resolved scoring config (rules, preset, regime)")
    regime: str | None
    universe: str
    benchmark: str | None
    price: Amount
    price_date: dt.date
    note: str
    decided_at: dt.datetime
    outcomes: list[OutcomeOut]

    @classmethod
    def of(cls, view: DecisionView) -> DecisionOut:
        return cls(
            id=view.id, symbol=view.symbol, action=view.action, side=view.side, order_id=view.order_id,
            verdict=view.verdict, score=view.score, preset=view.preset, signals=list(view.signals),
            scoring_version=view.scoring_version, config_hash=view.config_hash, regime=view.regime,
            universe=view.universe, benchmark=view.benchmark, price=view.price, price_date=view.price_date,
            note=view.note, decided_at=view.decided_at, outcomes=[OutcomeOut.of(o) for o in view.outcomes],
        )  # fmt: skip


class HorizonOut(Strict):
    horizon_days: int
    measured: int
    pending: int
    wins: int
    win_rate: float | None
    mean_excess: float | None
    median_excess: float | None

    @classmethod
    def of(cls, stats: HorizonStats, count: int) -> HorizonOut:
        return cls(
            horizon_days=stats.horizon_days, measured=stats.measured, pending=count - stats.measured, wins=stats.wins,
            win_rate=stats.win_rate, mean_excess=stats.mean_excess, median_excess=stats.median_excess,
        )  # fmt: skip


class GroupOut(Strict):
    key: str
    count: int
    horizons: list[HorizonOut]

    @classmethod
    def of(cls, group: GroupStats) -> GroupOut:
        return cls(key=group.key, count=group.count, horizons=[HorizonOut.of(h, group.count) for h in group.horizons])


class StatsOut(Strict):
    """Your decisions' win rate (share that beat the benchmark) and excess return, by verdict, preset and signal
    type; a decision with several signals counts under each, one with none under "none"."""

    total: int
    horizons: list[int]
    by_verdict: list[GroupOut]
    by_preset: list[GroupOut]
    by_signal: list[GroupOut]

    @classmethod
    def of(cls, stats: DecisionStats, horizons: tuple[int, ...]) -> StatsOut:
        return cls(
            total=stats.total,
            horizons=list(horizons),
            by_verdict=[GroupOut.of(g) for g in stats.by_verdict],
            by_preset=[GroupOut.of(g) for g in stats.by_preset],
            by_signal=[GroupOut.of(g) for g in stats.by_signal],
        )
