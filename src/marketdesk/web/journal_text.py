"""Words and numbers for the journal pages. Pure: the journal's views in, strings and plain rows out.

>>> review_text(date(2026, 11, 20), date(2026, 11, 18), due=True)
'due since Wed 18 Nov (2 days)'
>>> call_statement("spy", "above", "600", date(2027, 3, 31), "at_due_date")
'SPY closes above 600 on 2027-03-31'
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from marketdesk.decisions.stats import DecisionStats, GroupStats
from marketdesk.journal.calls import MODES, CallMode, CallOutcome
from marketdesk.journal.theses import (
    ACTIONS,
    REASONS,
    STATUS_RULES,
    Direction,
    MetricReading,
    NextAction,
    ThesisReason,
    ThesisStatus,
    WatchedMetric,
)
from marketdesk.journal.tradestats import TradeStats
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.screener.catalog import METRICS
from marketdesk.screener.gates import format_value
from marketdesk.web import format as fmt
from marketdesk.web.portfolio_text import money

STATUS_COLOURS = {"working": "positive", "shaken": "warning", "broken": "negative"}
OUTCOME_COLOURS = {"open": "primary", "hit": "positive", "miss": "negative", "void": "grey"}
OUTCOME_LABELS = {"open": "Open", "hit": "Hit", "miss": "Missed", "void": "Void"}
ACTION_LABELS = {
    NextAction.HOLD: "Hold",
    NextAction.ADD: "Add",
    NextAction.TRIM: "Trim",
    NextAction.SELL: "Sell (close the thesis)",
    NextAction.EXTEND_REVIEW: "Too early: look again later",
}
MODE_LABELS = {CallMode.AT_DUE_DATE: "On the due date", CallMode.ANY_TIME: "Any time by the due date"}
ARROWS = {Direction.UP: "↑", Direction.DOWN: "↓"}
NO_STATUS = "Not checked yet"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def status_label(status: ThesisStatus | str | None) -> str:
    return NO_STATUS if status is None else capital(str(status))


def reason_options() -> dict[str, str]:
    """The reasons a thesis may give, for a select: id → "Quality — a durable, profitable business…"."""
    return {r.value: f"{capital(r.value)} — {info.description}" for r, info in REASONS.items()}


def action_options() -> dict[str, str]:
    return {a.value: f"{ACTION_LABELS[a]} — {ACTIONS[a]}" for a in NextAction}


def metric_options() -> dict[str, str]:
    """The screener metrics a thesis can watch: name → "P/E (pe)"."""
    return {name: f"{info.label} ({name})" for name, info in METRICS.items()}


def suggested_watch(reason: ThesisReason | str) -> list[tuple[str, Direction]]:
    """The metrics (and directions) the journal suggests for a reason, e.g. quality → roe up, operating margin up."""
    out = []
    for item in REASONS[ThesisReason(reason)].suggested_metrics:
        name, _, way = item.partition(":")
        out.append((name, Direction(way or "up")))
    return out


def metric_label(name: str) -> str:
    info = METRICS.get(name)
    return info.label if info is not None else name


def metric_value(name: str, value: float | None) -> str:
    """A watched metric's value as the screener shows it ("15.0%", "23.4", "$2.1B"); "—" when missing."""
    if value is None or not math.isfinite(value):
        return fmt.MISSING
    return format_value(name, value) if name in METRICS else f"{value:,.4g}"


def watch_text(metrics: Sequence[WatchedMetric]) -> str:
    """`ROE ↑ · P/E ↓`: what the thesis watches and which way it needs each."""
    return " · ".join(f"{metric_label(m.name)} {ARROWS[m.direction]}" for m in metrics)


def review_text(today: date, review_on: date, *, due: bool) -> str:
    """When the review is: `due today`, `due since Wed 18 Nov (2 days)` or `in 12 days (Wed 02 Dec)`."""
    days = (review_on - today).days
    if due:
        return "due today" if days == 0 else f"due since {review_on:%a %d %b} ({-days} day{'s' if -days != 1 else ''})"
    return f"in {days} day{'s' if days != 1 else ''} ({review_on:%a %d %b})"


def percent(value: float | None, *, signed: bool = True) -> str:
    """A move already in percent: `+12.3%`."""
    return fmt.percent(value, 1, signed=signed)


@dataclass(frozen=True, slots=True)
class ReadingRow:
    """One watched metric at a check-in, as the table shows it."""

    metric: str
    label: str
    needs: str
    then: str
    now: str
    change: str
    against: str
    status: str
    rule: str


def reading_rows(readings: Sequence[MetricReading]) -> list[ReadingRow]:
    return [
        ReadingRow(
            r.name,
            metric_label(r.name),
            f"{ARROWS[r.direction]} {r.direction}",
            metric_value(r.name, r.then),
            metric_value(r.name, r.now),
            percent(r.change_pct),
            _against(r.against_pct),
            r.status.value,
            r.rule,
        )
        for r in readings
    ]


def _against(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return fmt.MISSING
    if value > 0:
        return f"{value:.1f}% against"
    if value < 0:
        return f"{-value:.1f}% its way"
    return "unchanged"


def rule_lines(matched: Sequence[str]) -> list[tuple[str, str, bool]]:
    """The status rules in the order they are checked: (status, words, whether a watched metric met it)."""
    return [(r.status.value, r.description, r.description in matched) for r in STATUS_RULES]


# ---- trades ---------------------------------------------------------------------------------------------------


def when(moment: datetime | None) -> str:
    """A fill's time in New York, as people read it: `Fri 20 Nov 2026 10:31`."""
    if moment is None:
        return fmt.MISSING
    return f"{moment.astimezone(NEW_YORK):%a %d %b %Y %H:%M}"


def quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"


def trade_figures(stats: TradeStats) -> list[tuple[str, str, str]]:
    """The statistics as (key, label, text), in the order docs/journal.md lists them."""
    rate = fmt.MISSING if stats.win_rate is None else fmt.fraction(stats.win_rate, 1)
    factor = fmt.MISSING if stats.profit_factor is None else f"{stats.profit_factor:.2f}"
    best = (
        fmt.MISSING
        if stats.best_signal is None
        else f"{stats.best_signal.tag} ({money(stats.best_signal.pnl, signed=True)})"
    )
    worst = (
        fmt.MISSING
        if stats.worst_signal is None
        else f"{stats.worst_signal.tag} ({money(stats.worst_signal.pnl, signed=True)})"
    )
    return [
        ("count", "Round trips", f"{stats.count}"),
        ("wins", "Wins", f"{stats.wins}"),
        ("losses", "Losses", f"{stats.losses}"),
        ("win_rate", "Win rate", rate),
        ("pnl", "P&L", money(stats.pnl, signed=True)),
        ("average_win", "Average win", money(stats.average_win, signed=True)),
        ("average_loss", "Average loss", money(stats.average_loss, signed=True)),
        ("profit_factor", "Profit factor", factor),
        ("expectancy", "Expectancy", money(stats.expectancy, signed=True)),
        ("best_signal", "Best signal", best),
        ("worst_signal", "Worst signal", worst),
    ]


# ---- calls ----------------------------------------------------------------------------------------------------


def call_statement(symbol: str, direction: str, level: str, due_on: date | None, mode: str) -> str:
    """The call in words as it will be recorded, e.g. `SPY closes above 600 on 2027-03-31` (`by` for any time)."""
    by = "by" if mode == CallMode.ANY_TIME.value else "on"
    due = "…" if due_on is None else f"{due_on:%Y-%m-%d}"
    shown = level.strip() or "…"
    with contextlib.suppress(InvalidOperation):  # a level that is not a number yet is shown as typed
        shown = format(Decimal(shown.replace(",", "")).normalize(), "f")
    return f"{symbol.strip().upper() or '…'} closes {direction} {shown} {by} {due}"


def mode_options() -> dict[str, str]:
    return {m.value: f"{MODE_LABELS[m]} — {MODES[m]}" for m in CallMode}


def outcome_label(outcome: CallOutcome | str) -> str:
    return OUTCOME_LABELS.get(str(outcome), capital(str(outcome)))


def hit_rate(value: float | None) -> str:
    return fmt.MISSING if value is None else fmt.fraction(value, 0)


# ---- decisions ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """A group of the decision log (a verdict, preset or signal) at each horizon."""

    key: str
    count: int
    cells: tuple[tuple[int, str, str, str], ...]  # (horizon, measured, win rate, mean excess)


def decision_rows(groups: Sequence[GroupStats]) -> list[DecisionRow]:
    rows = []
    for group in groups:
        cells = tuple(
            (h.horizon_days, f"{h.measured}/{group.count}",
             fmt.MISSING if h.win_rate is None else fmt.fraction(h.win_rate, 0),
             fmt.MISSING if h.mean_excess is None else fmt.fraction(h.mean_excess, 2, signed=True))
            for h in group.horizons
        )  # fmt: skip
        rows.append(DecisionRow(group.key, group.count, cells))
    return rows


def decision_horizons(stats: DecisionStats) -> list[int]:
    groups = (*stats.by_verdict, *stats.by_preset, *stats.by_signal)
    return [h.horizon_days for h in groups[0].horizons] if groups else []
