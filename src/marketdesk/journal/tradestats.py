"""Statistics of closed round trips, and the filters they are asked with. Pure and Decimal.

Over the closed round trips selected (a round trip still open is not counted: its result is not known yet):

- `count`; `wins` (P&L > 0), `losses` (P&L < 0) and `breakeven` (P&L = 0), so wins + losses + breakeven = count;
- `win_rate` = wins ÷ count;
- `pnl` = Σ P&L; `gross_profit` = Σ winning P&L; `gross_loss` = Σ losing P&L (negative);
- `average_win` = gross profit ÷ wins; `average_loss` = gross loss ÷ losses (negative);
- `profit_factor` = gross profit ÷ |gross loss|. With no losing trade it does not exist: it is null and `notes`
  says "no losing trades" (never infinity);
- `expectancy` = pnl ÷ count, the average result of a trade (= win rate × average win + loss rate × average loss);
- per signal (the opening order's tag) the same count, win rate, P&L and expectancy; the best signal has the
  highest P&L, the worst the lowest. Untagged round trips are listed but are no signal; with fewer than two
  signals there is nothing to rank and best/worst are null, with a note.

Averages and expectancy are rounded to the cent; sums are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from marketdesk.journal.roundtrips import RoundTrip
from marketdesk.kit.timeutil import NEW_YORK

ZERO = Decimal(0)
CENT = Decimal("0.01")
NO_LOSING_TRADES = "no losing trades"


@dataclass(frozen=True, slots=True)
class TradeFilter:
    """Which round trips: closed (dated by close), open (dated by open) or all; by tag, symbol, date and account.

    `tag` "untagged" selects the round trips with no tag.
    """

    status: str = "all"  # closed, open or all
    tag: str | None = None
    symbol: str | None = None
    start: date | None = None  # New York dates, inclusive
    end: date | None = None
    account_id: str | None = None

    def keeps(self, trip: RoundTrip) -> bool:
        if self.status != "all" and trip.status != self.status:
            return False
        if self.tag is not None and (trip.tag or "untagged") != self.tag:
            return False
        if self.symbol is not None and trip.symbol != self.symbol:
            return False
        if self.account_id is not None and trip.account_id != self.account_id:
            return False
        day = trade_day(trip)
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


def trade_day(trip: RoundTrip) -> date:
    """The New York date a round trip is filed under: its close, or its open while it is open."""
    return (trip.closed_at or trip.opened_at).astimezone(NEW_YORK).date()


def select(trips: Iterable[RoundTrip], wanted: TradeFilter) -> list[RoundTrip]:
    return [t for t in trips if wanted.keeps(t)]


@dataclass(frozen=True, slots=True)
class SignalStats:
    tag: str | None
    count: int
    wins: int
    losses: int
    win_rate: float
    pnl: Decimal
    expectancy: Decimal


@dataclass(frozen=True, slots=True)
class TradeStats:
    count: int
    open_round_trips: int
    wins: int
    losses: int
    breakeven: int
    win_rate: float | None
    pnl: Decimal
    gross_profit: Decimal
    gross_loss: Decimal
    average_win: Decimal | None
    average_loss: Decimal | None
    profit_factor: float | None
    expectancy: Decimal | None
    best_signal: SignalStats | None
    worst_signal: SignalStats | None
    signals: tuple[SignalStats, ...]
    notes: tuple[str, ...]


def trade_stats(trips: Sequence[RoundTrip]) -> TradeStats:
    """Statistics of the closed round trips among `trips` (the open ones are only counted)."""
    closed = [t for t in trips if t.is_closed]
    notes: list[str] = []
    wins = [t.pnl for t in closed if t.pnl > 0]
    losses = [t.pnl for t in closed if t.pnl < 0]
    gross_profit = sum(wins, ZERO)
    gross_loss = sum(losses, ZERO)
    pnl = sum((t.pnl for t in closed), ZERO)
    if not closed:
        notes.append("no closed round trips: nothing to measure yet")
    profit_factor: float | None = None
    if losses:
        profit_factor = float(gross_profit / -gross_loss)
    elif closed:
        notes.append(f"profit factor: {NO_LOSING_TRADES}")
    signals = _signals(closed)
    ranked = [s for s in signals if s.tag is not None]
    best = worst = None
    if len(ranked) >= 2:
        best = max(ranked, key=lambda s: (s.pnl, s.tag or ""))
        worst = min(ranked, key=lambda s: (s.pnl, s.tag or ""))
    elif closed:
        notes.append(f"best and worst signal: {len(ranked)} tagged signal(s), at least 2 are needed to compare")
    return TradeStats(
        count=len(closed), open_round_trips=sum(1 for t in trips if not t.is_closed), wins=len(wins),
        losses=len(losses), breakeven=len(closed) - len(wins) - len(losses),
        win_rate=len(wins) / len(closed) if closed else None, pnl=pnl, gross_profit=gross_profit,
        gross_loss=gross_loss, average_win=_cents(gross_profit / len(wins)) if wins else None,
        average_loss=_cents(gross_loss / len(losses)) if losses else None, profit_factor=profit_factor,
        expectancy=_cents(pnl / len(closed)) if closed else None, best_signal=best, worst_signal=worst,
        signals=tuple(signals), notes=tuple(notes),
    )  # fmt: skip


def _signals(closed: Sequence[RoundTrip]) -> list[SignalStats]:
    groups: dict[str | None, list[RoundTrip]] = {}
    for trip in closed:
        groups.setdefault(trip.tag, []).append(trip)
    out = []
    for tag, members in groups.items():
        pnl = sum((t.pnl for t in members), ZERO)
        wins = sum(1 for t in members if t.pnl > 0)
        losses = sum(1 for t in members if t.pnl < 0)
        out.append(SignalStats(tag, len(members), wins, losses, wins / len(members), pnl, _cents(pnl / len(members))))
    return sorted(out, key=lambda s: (-s.pnl, s.tag or ""))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
