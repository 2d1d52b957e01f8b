"""Allocation against a target: each line's current weight, its target, the drift and whether it is inside its
tolerance band, by asset class, by sector and by symbol. Pure and exact (`Decimal`): positions and cash in,
frozen dataclasses out; no I/O, no clock.

Conventions (also in docs/portfolio.md, "Allocation and rebalancing"):

- Weights are percentages of the portfolio's total value (positions at their marks plus cash).
- **Drift** = current weight − target weight, in percentage points (pp): +3 means 3 points over the target.
- **The band**: a line is inside it when |drift| ≤ band (the edge counts as inside). The band is absolute
  (`band_pp`, default 5 pp). With a relative band too (`band_relative_pct`, e.g. 25% of the target), a line's
  band is the smaller of the two (the "5/25" rule): a 60% target keeps ±5 pp, a 10% target gets ±2.5 pp.
- A dimension's targets sum to at most 100%. What they leave is *unassigned*: held by lines without a target
  (never traded) and by cash. Cash is its own line; its implied target is what the targeted lines and the
  untargeted holdings leave.
- A symbol with no sector (an ETF, a bond, or a name the market data does not classify) counts as "Unknown".

>>> targets = Targets({SYMBOL: {"AAA": Decimal(60), "BBB": Decimal(40)}})
>>> book = [Position("AAA", Decimal(70), Decimal(100), "equity", "Energy"),
...         Position("BBB", Decimal(60), Decimal(50), "equity", "Energy")]
>>> for line in allocate(book, Decimal(0), targets)[SYMBOL]:
...     print(line.key, line.weight_pct, line.target_pct, line.drift_pp, line.status)
AAA 70 60 10 out_of_band
BBB 30 40 -10 out_of_band
Cash 0 0 0 cash
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ASSET_CLASS = "asset_class"
SECTOR = "sector"
SYMBOL = "symbol"
DIMENSIONS = (SYMBOL, SECTOR, ASSET_CLASS)
"""In order of precedence: a symbol's own target wins over its sector's, which wins over its asset class's."""
DIMENSION_LABELS = {ASSET_CLASS: "Asset class", SECTOR: "Sector", SYMBOL: "Symbol"}

UNKNOWN = "Unknown"
CASH = "Cash"
ZERO = Decimal(0)
HUNDRED = Decimal(100)
DEFAULT_BAND_PP = Decimal(5)
DEFAULT_MIN_TRADE = Decimal(100)

IN_BAND = "in_band"
OUT_OF_BAND = "out_of_band"
UNTARGETED = "untargeted"
CASH_LINE = "cash"


@dataclass(frozen=True, slots=True)
class OpenLot:
    """One open lot of a position (FIFO order): when it was bought, how many shares, and their total cost."""

    day: date
    qty: Decimal
    cost: Decimal


@dataclass(frozen=True, slots=True)
class Position:
    """One symbol in the portfolio, marked at `price`; a symbol with only a target has `qty` 0."""

    symbol: str
    qty: Decimal
    price: Decimal | None
    asset_class: str = UNKNOWN
    sector: str = UNKNOWN
    lots: tuple[OpenLot, ...] = ()

    @property
    def value(self) -> Decimal:
        return self.qty * self.price if self.price is not None else ZERO

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.value - sum((lot.cost for lot in self.lots), ZERO)

    def key(self, dimension: str) -> str:
        """The line this position belongs to in `dimension`."""
        if dimension == SYMBOL:
            return self.symbol
        return (self.sector if dimension == SECTOR else self.asset_class) or UNKNOWN


@dataclass(frozen=True)
class Targets:
    """Target weights in percent per dimension (`{"symbol": {"AAA": 60}}`), the band and the minimum trade."""

    weights: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    band_pp: Decimal = DEFAULT_BAND_PP
    band_relative_pct: Decimal | None = None
    min_trade: Decimal = DEFAULT_MIN_TRADE

    def of(self, dimension: str) -> Mapping[str, Decimal]:
        return self.weights.get(dimension) or {}

    @property
    def empty(self) -> bool:
        return not any(self.of(d) for d in DIMENSIONS)

    def band_for(self, target_pct: Decimal) -> Decimal:
        """The band around a target, in pp: the absolute band, or the relative one where that is smaller.

        >>> Targets(band_pp=Decimal(5), band_relative_pct=Decimal(25)).band_for(Decimal(10))
        Decimal('2.5')
        """
        if self.band_relative_pct is None:
            return self.band_pp
        return min(self.band_pp, target_pct * self.band_relative_pct / HUNDRED)


def targets_problem(targets: Targets) -> str | None:
    """What is wrong with a set of targets, in words a person can act on; None when they are sound.

    >>> targets_problem(Targets({SYMBOL: {"AAA": Decimal(70), "BBB": Decimal(40)}}))
    'the symbol targets sum to 110%; they may add up to 100% at most (the rest stays unassigned, in cash)'
    """
    for dimension, weights in targets.weights.items():
        if dimension not in DIMENSIONS:
            return f"unknown target dimension {dimension!r}; use asset_class, sector or symbol"
        label = DIMENSION_LABELS[dimension].lower()
        for key, weight in weights.items():
            if not weight.is_finite() or not ZERO <= weight <= HUNDRED:
                return f"the {label} target for {key} is {weight}%; give a weight from 0 to 100"
        total = sum(weights.values(), ZERO)
        if total > HUNDRED:
            return (
                f"the {label} targets sum to {total.normalize():f}%; they may add up to 100% at most "
                "(the rest stays unassigned, in cash)"
            )
    if not targets.band_pp.is_finite() or not ZERO <= targets.band_pp <= HUNDRED:
        return f"the band is {targets.band_pp} pp; give 0 to 100 percentage points"
    relative = targets.band_relative_pct
    if relative is not None and (not relative.is_finite() or not ZERO < relative <= HUNDRED):
        return f"the relative band is {relative}%; give more than 0 and at most 100 (percent of each target)"
    if not targets.min_trade.is_finite() or targets.min_trade < 0:
        return f"the minimum trade is {targets.min_trade}; give 0 dollars or more"
    return None


@dataclass(frozen=True, slots=True)
class Line:
    """One line of one dimension: its value and weight, and against its target the drift and the band."""

    dimension: str
    key: str
    value: Decimal
    weight_pct: Decimal
    target_pct: Decimal | None  # None: no target (cash: none when the targets leave it no room)
    drift_pp: Decimal | None  # weight − target
    band_pp: Decimal | None
    status: str  # in_band, out_of_band, untargeted, cash
    symbols: tuple[str, ...]

    @property
    def in_band(self) -> bool:
        return self.status != OUT_OF_BAND

    def gap(self, total_value: Decimal) -> Decimal:
        """Dollars to buy (> 0) or sell (< 0) to bring the line to its target; 0 without a target."""
        if self.target_pct is None or self.status == CASH_LINE:
            return ZERO
        return (self.target_pct - self.weight_pct) * total_value / HUNDRED


@dataclass(frozen=True)
class Allocation:
    """The portfolio's lines in every dimension, with notes on anything counted by convention."""

    total_value: Decimal
    cash: Decimal
    lines: Mapping[str, tuple[Line, ...]]
    notes: tuple[str, ...]

    def __getitem__(self, dimension: str) -> tuple[Line, ...]:
        return self.lines[dimension]

    def out_of_band(self) -> list[Line]:
        return [line for d in DIMENSIONS for line in self.lines[d] if line.status == OUT_OF_BAND]


def allocate(positions: Sequence[Position], cash: Decimal, targets: Targets) -> Allocation:
    """The allocation of `positions` and `cash` against `targets`, in every dimension."""
    total = sum((p.value for p in positions), ZERO) + cash
    notes: list[str] = []
    if total <= 0:
        notes.append("The portfolio holds nothing of value yet, so it has no allocation.")
        return Allocation(total, cash, {d: () for d in DIMENSIONS}, tuple(notes))
    unclassified = sorted(p.symbol for p in positions if p.value and p.sector == UNKNOWN)
    if unclassified:
        notes.append(
            f"No sector in the market data for {', '.join(unclassified)} (ETFs and bonds have none): counted as "
            f"{UNKNOWN}."
        )
    unpriced = sorted(p.symbol for p in positions if p.qty and p.price is None)
    if unpriced:
        notes.append(f"No price for {', '.join(unpriced)}: counted at $0 until a close or a trade gives one.")
    lines = {d: _lines(d, positions, cash, total, targets, notes) for d in DIMENSIONS}
    return Allocation(total, cash, lines, tuple(notes))


def _lines(
    dimension: str, positions: Sequence[Position], cash: Decimal, total: Decimal, targets: Targets, notes: list[str]
) -> tuple[Line, ...]:
    wanted = targets.of(dimension)
    values: dict[str, Decimal] = {}
    members: dict[str, list[str]] = {}
    for p in positions:
        key = p.key(dimension)
        if p.value == 0 and key not in wanted:
            continue
        values[key] = values.get(key, ZERO) + p.value
        members.setdefault(key, []).append(p.symbol)
    for key in wanted:
        values.setdefault(key, ZERO)
    targeted, untargeted = [], []
    for key, value in values.items():
        weight = value * HUNDRED / total
        symbols = tuple(sorted(members.get(key, [])))
        if key in wanted:
            target = wanted[key]
            band = targets.band_for(target)
            drift = weight - target
            status = IN_BAND if abs(drift) <= band else OUT_OF_BAND
            targeted.append(Line(dimension, key, value, weight, target, drift, band, status, symbols))
        else:
            untargeted.append(Line(dimension, key, value, weight, None, None, None, UNTARGETED, symbols))
    targeted.sort(key=lambda line: (-line.value, line.key))
    untargeted.sort(key=lambda line: (-line.value, line.key))
    cash_weight = cash * HUNDRED / total
    cash_target: Decimal | None = None
    if wanted:
        rest = HUNDRED - sum(wanted.values(), ZERO) - sum((line.weight_pct for line in untargeted), ZERO)
        if rest >= 0:
            cash_target = rest
        else:
            names = ", ".join(line.key for line in untargeted)
            notes.append(
                f"By {DIMENSION_LABELS[dimension].lower()}, the holdings without a target ({names}) take "
                f"{-rest:.2f} pp more than the targets leave: give them a target, or lower the others."
            )
    cash_line = Line(
        dimension, CASH, cash, cash_weight, cash_target, None if cash_target is None else cash_weight - cash_target,
        None, CASH_LINE, (),
    )  # fmt: skip
    return (*targeted, *untargeted, cash_line)
