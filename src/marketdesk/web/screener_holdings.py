"""The screener's "Your holdings" column: for a name the user holds in any of their portfolios, its weight in that
portfolio and its unrealized P&L ("You own 2% · +$1,000"), from the portfolio service's valuation; blank for a name
they do not hold.

>>> from decimal import Decimal
>>> holding_text([Held("Long term", 0.0213, Decimal("1004.51"))])
'You own 2.1% · +$1,005'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from marketdesk.accounts.roles import CurrentUser
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.logs import get_logger
from marketdesk.portfolio.valuation import Valuation
from marketdesk.web import format as fmt

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Held:
    """A position in one portfolio: its share of that portfolio's value and its unrealized P&L."""

    portfolio: str
    weight: float | None
    unrealized_pnl: Decimal


def held_by_symbol(valuations: Sequence[tuple[str, Valuation]]) -> dict[str, tuple[Held, ...]]:
    """Each symbol held, with its position in every portfolio that holds it (portfolios in the order given)."""
    out: dict[str, list[Held]] = {}
    for name, valuation in valuations:
        for holding in valuation.holdings:
            out.setdefault(holding.symbol, []).append(Held(name, holding.weight, holding.unrealized_pnl))
    return {symbol: tuple(found) for symbol, found in out.items()}


def dollars(value: Decimal) -> str:
    """Whole dollars with the sign of a gain or loss: `+$1,000`, `−$30`, `$0`."""
    whole = value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    text = f"${abs(whole):,.0f}"
    return f"+{text}" if whole > 0 else f"{fmt.MINUS}{text}" if whole < 0 else text


def weight_text(weight: float | None) -> str:
    """A weight as people read it: 2.1%, and one decimal below 10% (0.4%), whole percent above (35%)."""
    if weight is None:
        return fmt.MISSING
    return fmt.fraction(weight, 1 if weight < 0.1 else 0)


def holding_text(held: Sequence[Held]) -> str:
    """`You own 2.1% · +$1,005`; held in several portfolios, each named: `You own 2.1% of Long term · +$1,005;
    5.0% of Paper · −$30`."""
    if not held:
        return ""
    if len(held) == 1:
        return f"You own {weight_text(held[0].weight)} · {dollars(held[0].unrealized_pnl)}"
    parts = [f"{weight_text(h.weight)} of {h.portfolio} · {dollars(h.unrealized_pnl)}" for h in held]
    return "You own " + "; ".join(parts)


def holding_cells(valuations: Sequence[tuple[str, Valuation]]) -> dict[str, dict[str, Any]]:
    """The row fields of the column, by symbol: `held` (the largest weight, to sort on) and `held_text`."""
    cells = {}
    for symbol, held in held_by_symbol(valuations).items():
        weights = [h.weight for h in held if h.weight is not None]
        cells[symbol] = {"held": max(weights) if weights else 0.0, "held_text": holding_text(held)}
    return cells


async def user_holding_cells(desk: Desk, user: CurrentUser | None) -> dict[str, dict[str, Any]]:
    """The column's fields for everything `user` holds (nothing for a guest, or when a valuation fails: the
    screen itself must not fail for it)."""
    if user is None:
        return {}
    try:
        async with desk.db.session() as session:
            portfolios = await desk.portfolios.list_portfolios(session, user)
            valued = [(p.name, await desk.portfolios.valuation(session, user, p.id)) for p in portfolios]
    except MarketdeskError as exc:
        log.warning("screener holdings left out", user_id=user.id, error=exc.one_line())
        return {}
    return holding_cells(valued)
