"""The rebalancing advisor: the trades that bring every out-of-band line back inside its band, and the actions a
change in the screener's verdict on a holding calls for. Pure and exact (`Decimal`); no I/O, no clock. Nothing
here places an order: each trade carries a link to the trade ticket, which previews it.

How the trades are found (docs/portfolio.md, "Allocation and rebalancing", says the same with an example):

1. Each line outside its band is aimed back **at its target** (not at the band's edge). A symbol is traded for
   the most specific target that names it: its own symbol target, else its sector's, else its asset class's.
   A sector or asset-class trade is spread over the holdings it owns in proportion to their value (with
   `prefer_losses`, sells go to the holdings with unrealized losses first).
2. A trade smaller than the minimum trade size is skipped, and says so.
3. Buys are funded by the sells and the cash on hand. When those fall short, lines inside their band that sit
   above their target are trimmed, first down to their target, then (if need be) to halfway down their band,
   so they stay inside it. If the money is still short, the buys are cut in proportion and the advice says by
   how much.
4. Quantities are whole shares unless `fractional`: sells round **up** and buys round **down**, so the trades
   never need more cash than they raise. A sell never exceeds the shares held.
5. For each sell the estimated realized P&L is given twice: from FIFO lots (what the ledger records) and from
   the lots the advisor picks. With `prefer_losses` it picks lots with unrealized losses first (largest loss per
   share first), the tax-loss-aware choice; tell your broker which lots to sell (specific identification).
   Estimates are at the quoted price, before commissions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from urllib.parse import urlencode

from marketdesk.kit.money import QTY_STEP
from marketdesk.portfolio.allocation import (
    DIMENSION_LABELS,
    DIMENSIONS,
    HUNDRED,
    SYMBOL,
    ZERO,
    Allocation,
    OpenLot,
    Position,
    Targets,
    allocate,
)

BUY = "buy"
SELL = "sell"
TRADE_PATH = "/trade"
VERDICT_ORDER = ("Avoid", "Hold", "Buy", "Strong Buy")
WHOLE = Decimal(1)
DUST = Decimal("1e-9")  # dollars: what exact division leaves over, never money


def preview_url(symbol: str, side: str, qty: Decimal) -> str:
    """The trade ticket, filled in and previewed (never placed): `/trade?symbol=AAA&side=buy&qty=10`.

    >>> preview_url("BRK.B", "sell", Decimal("2.500"))
    '/trade?symbol=BRK.B&side=sell&qty=2.5'
    """
    return f"{TRADE_PATH}?{urlencode({'symbol': symbol, 'side': side, 'qty': f'{qty.normalize():f}'})}"


@dataclass(frozen=True, slots=True)
class LotSale:
    """Shares of one lot a sell would close, and the P&L they would realize at the quoted price."""

    day: date
    qty: Decimal
    cost: Decimal
    pnl: Decimal


@dataclass(frozen=True, slots=True)
class Trade:
    """One suggested trade, with the reason in plain words. `value` = qty × price, an estimate."""

    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    value: Decimal
    reason: str
    dimension: str
    line: str
    lots: tuple[LotSale, ...] = ()  # a sell's lots, as chosen
    realized_pnl: Decimal | None = None  # a sell's estimated realized P&L from the lots chosen
    realized_pnl_fifo: Decimal | None = None  # … and from FIFO lots

    @property
    def preview_url(self) -> str:
        return preview_url(self.symbol, self.side, self.qty)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A trade the advisor considered and did not suggest, and why."""

    dimension: str
    line: str
    symbol: str | None
    value: Decimal  # dollars: + a buy, − a sell
    reason: str


@dataclass(frozen=True)
class Advice:
    """The suggested trades, what was left out, and the allocation before and (projected) after them."""

    before: Allocation
    after: Allocation
    trades: tuple[Trade, ...]
    skipped: tuple[Skipped, ...]
    cash_before: Decimal
    cash_after: Decimal
    cash_short: Decimal  # dollars of wanted buys the sells and cash could not fund (0: none)
    fractional: bool
    prefer_losses: bool
    notes: tuple[str, ...]

    @property
    def realized_pnl(self) -> Decimal:
        return sum((t.realized_pnl or ZERO for t in self.trades), ZERO)

    @property
    def realized_pnl_fifo(self) -> Decimal:
        return sum((t.realized_pnl_fifo or ZERO for t in self.trades), ZERO)


@dataclass
class _Move:
    dollars: Decimal
    dimension: str
    line: str
    reason: str


class _Plan:
    """Dollar moves per symbol, and the values they would leave."""

    def __init__(self, positions: Sequence[Position], targets: Targets, total: Decimal) -> None:
        self.book = {p.symbol: p for p in positions}
        self.targets = targets
        self.total = total
        self.values = {p.symbol: p.value for p in positions}
        self.moves: dict[str, _Move] = {}
        self.skipped: list[Skipped] = []
        self.owner = {p.symbol: _owner(p, targets) for p in positions if _tradable(p)}

    def line_value(self, dimension: str, key: str) -> Decimal:
        return sum((v for s, v in self.values.items() if self.book[s].key(dimension) == key), ZERO)

    def members(self, dimension: str, key: str) -> list[str]:
        """The symbols a target of (`dimension`, `key`) may trade: in the line, and not claimed by a finer target."""
        return sorted(s for s, d in self.owner.items() if d == dimension and self.book[s].key(dimension) == key)

    def move(self, symbol: str, dollars: Decimal, dimension: str, line: str, reason: str) -> None:
        self.values[symbol] += dollars
        known = self.moves.get(symbol)
        if known is None:
            self.moves[symbol] = _Move(dollars, dimension, line, reason)
        else:
            known.dollars += dollars
            known.reason = f"{known.reason}; {reason}"

    def cash_after(self, cash: Decimal) -> Decimal:
        return cash - sum((m.dollars for m in self.moves.values()), ZERO)


def rebalance(
    positions: Sequence[Position], cash: Decimal, targets: Targets, *, fractional: bool = False,
    prefer_losses: bool = False,
) -> Advice:  # fmt: skip
    """The trades that bring every out-of-band line of `positions` and `cash` back inside its band (see above).

    >>> book = [Position("AAA", Decimal(70), Decimal(100)), Position("BBB", Decimal(60), Decimal(50))]
    >>> advice = rebalance(book, Decimal(0), Targets({"symbol": {"AAA": Decimal(60), "BBB": Decimal(40)}}))
    >>> [(t.side, t.symbol, t.qty, t.value) for t in advice.trades]
    [('sell', 'AAA', Decimal('10'), Decimal('1000')), ('buy', 'BBB', Decimal('20'), Decimal('1000'))]
    """
    before = allocate(positions, cash, targets)
    notes = list(before.notes)
    if before.total_value <= 0 or targets.empty:
        if targets.empty:
            notes.append("No targets yet, so there is nothing to rebalance against.")
        return Advice(before, before, (), (), cash, cash, ZERO, fractional, prefer_losses, tuple(notes))
    for p in positions:
        if p.qty and not _tradable(p):
            why = "it is short" if p.qty < 0 else "it has no price"
            notes.append(f"{p.symbol} is left as it is: {why}.")
    plan = _Plan(positions, targets, before.total_value)
    for dimension in DIMENSIONS:
        _aim_at_targets(plan, dimension, prefer_losses)
    _drop_small(plan)
    short = _fund(plan, cash, prefer_losses)
    if short > 0:
        short = _cut_buys(plan, cash, short, notes)
    trades = _trades(plan, fractional, prefer_losses)
    held = {p.symbol: p.qty for p in positions}
    cash_after = cash
    for trade in trades:
        signed = trade.qty if trade.side == BUY else -trade.qty
        held[trade.symbol] += signed
        cash_after -= signed * trade.price
    after = allocate([replace(p, qty=held[p.symbol], lots=()) for p in positions], cash_after, targets)
    if not trades and not plan.skipped:
        notes.append("Every line with a target is inside its band: nothing to trade.")
    return Advice(
        before, after, tuple(trades), tuple(plan.skipped), cash, cash_after, short, fractional, prefer_losses,
        tuple(notes),
    )  # fmt: skip


def _tradable(p: Position) -> bool:
    return p.qty >= 0 and p.price is not None and p.price > 0


def _owner(p: Position, targets: Targets) -> str | None:
    """The most specific dimension whose target names the position's line (None: no target names it)."""
    for dimension in DIMENSIONS:
        if p.key(dimension) in targets.of(dimension):
            return dimension
    return None


def _named(dimension: str, key: str) -> str:
    """A line in words: `AAA`, `the Energy sector`, `the bond asset class`."""
    if dimension == SYMBOL:
        return key
    return f"the {key} {DIMENSION_LABELS[dimension].lower()}"


def _why(dimension: str, key: str, weight: Decimal, target: Decimal, band: Decimal) -> str:
    side = "over" if weight > target else "under"
    return (
        f"{_named(dimension, key)} is {weight:.2f}% of the portfolio, {abs(weight - target):.2f} pp {side} its "
        f"{_pct(target)} target (band ±{_pct(band, 'pp')}): back to {_pct(target)}"
    )


def _pct(value: Decimal, unit: str = "%") -> str:
    text = f"{value.quantize(Decimal('0.01')).normalize():f}"
    return f"{text} {unit}" if unit == "pp" else f"{text}%"


def _aim_at_targets(plan: _Plan, dimension: str, prefer_losses: bool) -> None:
    targets, total = plan.targets, plan.total
    for key, target in sorted(targets.of(dimension).items()):
        value = plan.line_value(dimension, key)
        weight = value * HUNDRED / total
        band = targets.band_for(target)
        if abs(weight - target) <= band:
            continue
        want = target * total / HUNDRED - value
        label = _named(dimension, key)
        if abs(want) < targets.min_trade:
            plan.skipped.append(
                Skipped(dimension, key, key if dimension == SYMBOL else None, want,
                        f"{label} is out of its band, but the ${abs(want):,.2f} trade is under the minimum trade "
                        f"size (${targets.min_trade:,.2f})")
            )  # fmt: skip
            continue
        members = plan.members(dimension, key)
        reason = _why(dimension, key, weight, target, band)
        if dimension == SYMBOL:
            pieces = {key: want} if members else {}  # a symbol target trades the symbol itself, held or not
        elif want > 0:
            pieces = _spread(want, {s: plan.values[s] for s in members}, None, targets.min_trade)
        else:
            caps = {s: plan.values[s] for s in members}
            order = _loss_first(plan, members) if prefer_losses else None
            pieces = _spread(-want, caps, caps, targets.min_trade, order=order)
            pieces = {s: -v for s, v in pieces.items()}
        done = sum(pieces.values(), ZERO)
        for symbol, dollars in pieces.items():
            plan.move(symbol, dollars, dimension, key, reason)
        missing = want - done
        if abs(missing) >= targets.min_trade:
            plan.skipped.append(Skipped(dimension, key, None, missing, _unreachable(plan, dimension, key, want)))


def _unreachable(plan: _Plan, dimension: str, key: str, want: Decimal) -> str:
    label = _named(dimension, key)
    if dimension == SYMBOL:
        return f"{key} has no price to trade at: import or fetch its prices (`marketdesk data import prices FILE`)"
    others = sorted(
        s for s, d in plan.owner.items() if d != dimension and d is not None and plan.book[s].key(dimension) == key
    )
    claimed = f" ({', '.join(others)} follow their own, finer targets)" if others else ""
    if want > 0:
        return (
            f"{label} needs ${want:,.2f} more, but it holds nothing its target may buy{claimed}: give a symbol in it "
            "a symbol target"
        )
    return f"{label} cannot shed all of ${-want:,.2f}: only its own holdings may be sold{claimed}"


def _loss_first(plan: _Plan, symbols: Sequence[str]) -> list[str]:
    """Symbols with unrealized losses first (the largest loss first), then the rest, largest value first."""
    return sorted(symbols, key=lambda s: (plan.book[s].unrealized_pnl, -plan.values[s], s))


def _spread(
    amount: Decimal, weights: Mapping[str, Decimal], caps: Mapping[str, Decimal] | None, min_trade: Decimal,
    *, order: Sequence[str] | None = None,
) -> dict[str, Decimal]:  # fmt: skip
    """Split `amount` over symbols: greedily in `order` when given, else in proportion to `weights`, folding a
    piece under `min_trade` into the others while there are others. No piece goes over its cap (a sell's cap is
    the value held, so an amount over the caps' sum sells everything)."""
    if amount <= 0:
        return {}
    if caps is not None and amount >= sum(caps.values(), ZERO):
        return {s: v for s, v in caps.items() if v > 0}
    if order is not None:
        pieces: dict[str, Decimal] = {}
        left = amount
        for symbol in order:
            take = min(left, caps[symbol]) if caps is not None else left
            if take > 0:
                pieces[symbol] = take
                left -= take
            if left <= 0:
                break
        return pieces
    active = sorted((s for s, w in weights.items() if w > 0), key=lambda s: (weights[s], s))
    while True:
        total = sum((weights[s] for s in active), ZERO)
        slices = {s: amount * weights[s] / total for s in active[:-1]}
        slices[active[-1]] = amount - sum(slices.values(), ZERO)  # the largest takes the rest: the pieces add up
        if len(active) < 2 or slices[active[0]] >= min_trade:
            return slices
        rest = active[1:]
        if caps is not None and amount > sum((caps[s] for s in rest), ZERO):
            return slices  # the others cannot take the smallest piece's share
        active = rest


def _drop_small(plan: _Plan) -> None:
    """Skip every symbol's net move under the minimum trade size (a slice of a sector trade, say)."""
    floor = plan.targets.min_trade
    for symbol, move in list(plan.moves.items()):
        if abs(move.dollars) < floor:
            plan.values[symbol] -= move.dollars
            del plan.moves[symbol]
            plan.skipped.append(
                Skipped(move.dimension, move.line, symbol, move.dollars,
                        f"its ${abs(move.dollars):,.2f} share of the trade is under the minimum trade size "
                        f"(${floor:,.2f})")
            )  # fmt: skip


def _fund(plan: _Plan, cash: Decimal, prefer_losses: bool) -> Decimal:
    """Trim lines inside their band that sit above target when the buys need more than the sells and cash
    raise (first down to target, then toward the band's lower edge); what is still short."""
    short = -plan.cash_after(cash)
    if short <= DUST:
        return ZERO
    targets, total, floor = plan.targets, plan.total, plan.targets.min_trade
    for to_edge in (False, True):
        for dimension, key, room, members in _trim_candidates(plan, to_edge, prefer_losses):
            if short <= 0:
                return ZERO
            take = min(max(short, floor), room)
            if take < floor:
                continue
            caps = {s: plan.values[s] for s in members}
            order = _loss_first(plan, members) if prefer_losses else None
            pieces = _spread(take, caps, caps, floor, order=order)
            target = targets.of(dimension)[key]
            weight = plan.line_value(dimension, key) * HUNDRED / total
            reason = (
                f"raises cash for the buys: {_named(dimension, key)} is {weight:.2f}%, inside its "
                f"band around its {_pct(target)} target, and stays inside it"
            )
            for symbol, dollars in pieces.items():
                if dollars >= floor:
                    plan.move(symbol, -dollars, dimension, key, reason)
                    short -= dollars
    return max(short, ZERO)


def _trim_candidates(plan: _Plan, to_edge: bool, prefer_losses: bool) -> list[tuple[str, str, Decimal, list[str]]]:
    """Lines inside their band, not traded yet, that can give money: (dimension, key, dollars, members)."""
    found = []
    targets, total = plan.targets, plan.total
    for dimension in DIMENSIONS:
        for key, target in targets.of(dimension).items():
            members = [s for s in plan.members(dimension, key) if s not in plan.moves and plan.values[s] > 0]
            if not members:
                continue
            value = plan.line_value(dimension, key)
            # the second pass trims to halfway down the band, so a sell rounded up to a whole share stays inside
            floor_pct = target - targets.band_for(target) / 2 if to_edge else target
            room = min(value - floor_pct * total / HUNDRED, sum((plan.values[s] for s in members), ZERO))
            if room > 0:
                losses = sum((min(plan.book[s].unrealized_pnl, ZERO) for s in members), ZERO)
                found.append((losses if prefer_losses else ZERO, -room, dimension, key, room, members))
    found.sort(key=lambda c: (c[0], c[1], c[2], c[3]))
    return [(c[2], c[3], c[4], c[5]) for c in found]


def _cut_buys(plan: _Plan, cash: Decimal, short: Decimal, notes: list[str]) -> Decimal:
    """Scale the buys down to what the sells and cash fund; the advice says how short the money was."""
    buys = {s: m for s, m in plan.moves.items() if m.dollars > 0}
    wanted = sum((m.dollars for m in buys.values()), ZERO)
    affordable = max(wanted - short, ZERO)
    scale = affordable / wanted if wanted else ZERO
    left = affordable
    for i, (symbol, move) in enumerate(buys.items()):
        cut = left if i == len(buys) - 1 else min(move.dollars * scale, left)  # the last takes the rest exactly
        left -= cut
        plan.values[symbol] -= move.dollars - cut
        move.dollars = cut
        move.reason = f"{move.reason}; cut to ${cut:,.2f} because the money is short"
    _drop_small(plan)
    notes.append(
        f"The cash is short: the sells and the cash on hand fund ${affordable:,.2f} of the ${wanted:,.2f} of buys, "
        f"so each buy is cut by {(1 - scale) * 100:.1f}%. Add cash, or give the holdings without a target a target."
    )
    return short


def _trades(plan: _Plan, fractional: bool, prefer_losses: bool) -> list[Trade]:
    step = QTY_STEP if fractional else WHOLE
    trades: list[Trade] = []
    for symbol, move in sorted(plan.moves.items(), key=lambda item: (item[1].dollars > 0, item[0])):
        position = plan.book[symbol]
        price = position.price
        assert price is not None  # noqa: S101 - only priced positions are traded
        if move.dollars < 0:
            qty = min((-move.dollars / price).quantize(step, rounding=ROUND_CEILING), position.qty)
            side = SELL
        else:
            qty = (move.dollars / price).quantize(step, rounding=ROUND_FLOOR)
            side = BUY
        value = qty * price
        if qty <= 0 or (side == BUY and value < plan.targets.min_trade):
            why = "less than one share" if qty <= 0 else f"{qty.normalize():f} shares make ${value:,.2f}"
            plan.skipped.append(
                Skipped(move.dimension, move.line, symbol, move.dollars,
                        f"the ${move.dollars:,.2f} buy rounds down to {why}, under the minimum trade size "
                        f"(${plan.targets.min_trade:,.2f})")
            )  # fmt: skip
            continue
        trade = Trade(symbol, side, qty, price, value, move.reason, move.dimension, move.line)
        if side == SELL:
            chosen = sell_lots(position.lots, qty, price, prefer_losses=prefer_losses)
            fifo = sell_lots(position.lots, qty, price, prefer_losses=False)
            trade = replace(
                trade, lots=chosen, realized_pnl=sum((lot.pnl for lot in chosen), ZERO),
                realized_pnl_fifo=sum((lot.pnl for lot in fifo), ZERO),
            )  # fmt: skip
        trades.append(trade)
    return trades


def sell_lots(lots: Sequence[OpenLot], qty: Decimal, price: Decimal, *, prefer_losses: bool) -> tuple[LotSale, ...]:
    """The lots a sell of `qty` at `price` closes: FIFO, or (with `prefer_losses`) the lots with unrealized losses
    first, largest loss per share first, then the rest FIFO. Each with the P&L it would realize.

    >>> lots = [OpenLot(date(2023, 1, 3), Decimal(10), Decimal(500)), OpenLot(date(2024, 1, 3), Decimal(10),
    ...         Decimal(1200))]
    >>> [(s.day.year, s.qty, s.pnl) for s in sell_lots(lots, Decimal(10), Decimal(100), prefer_losses=True)]
    [(2024, Decimal('10'), Decimal('-200'))]
    """
    order = list(lots)
    if prefer_losses:
        losing = [lot for lot in order if lot.qty > 0 and lot.cost / lot.qty > price]
        losing.sort(key=lambda lot: -(lot.cost / lot.qty))
        order = losing + [lot for lot in order if lot not in losing]
    sales = []
    left = qty
    for lot in order:
        if left <= 0 or lot.qty <= 0:
            continue
        take = min(left, lot.qty)
        cost = lot.cost if take == lot.qty else lot.cost * take / lot.qty
        sales.append(LotSale(lot.day, take, cost, take * price - cost))
        left -= take
    return tuple(sales)


@dataclass(frozen=True, slots=True)
class VerdictReading:
    """The screener's verdict on a holding now, and the last one the user logged for it (the decision log)."""

    symbol: str
    verdict: str | None
    score: float | None
    as_of: date | None
    logged_verdict: str | None = None
    logged_on: date | None = None

    @property
    def change(self) -> int:
        """+ the verdict rose since it was logged, − it fell, 0 the same (or nothing to compare)."""
        if self.verdict not in VERDICT_ORDER or self.logged_verdict not in VERDICT_ORDER:
            return 0
        return VERDICT_ORDER.index(self.verdict) - VERDICT_ORDER.index(self.logged_verdict)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An action a verdict calls for: `review` (with a preview of selling the position) or a `note`."""

    symbol: str
    kind: str
    text: str
    side: str | None = None
    qty: Decimal | None = None

    @property
    def preview_url(self) -> str | None:
        return None if self.side is None or self.qty is None else preview_url(self.symbol, self.side, self.qty)


def verdict_actions(readings: Sequence[VerdictReading], held: Mapping[str, Decimal]) -> list[Suggestion]:
    """What the screener's verdicts on the holdings call for: a review when a verdict fell since the user logged
    it (or is Avoid), a note when it rose. `held` gives each symbol's quantity (the review previews selling it).

    >>> reading = VerdictReading("AAA", "Avoid", 2.1, date(2026, 11, 20), "Buy", date(2026, 9, 1))
    >>> verdict_actions([reading], {"AAA": Decimal(10)})[0].text
    'review AAA: its verdict fell from Buy (logged on 2026-09-01) to Avoid (as of 2026-11-20)'
    """
    out = []
    for r in sorted(readings, key=lambda r: r.symbol):
        qty = held.get(r.symbol, ZERO)
        sell = (SELL, qty) if qty > 0 and r.verdict == "Avoid" else (None, None)
        now = f"{r.verdict} (as of {r.as_of})"
        if r.change < 0:
            text = f"review {r.symbol}: its verdict fell from {r.logged_verdict} (logged on {r.logged_on}) to {now}"
            out.append(Suggestion(r.symbol, "review", text, *sell))
        elif r.change > 0:
            text = f"{r.symbol}: its verdict rose from {r.logged_verdict} (logged on {r.logged_on}) to {now}"
            out.append(Suggestion(r.symbol, "note", text))
        elif r.verdict == "Avoid":
            text = f"review {r.symbol}: the screener rates it {now}"
            out.append(Suggestion(r.symbol, "review", text, *sell))
    return out
