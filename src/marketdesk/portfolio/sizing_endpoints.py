"""REST route of position sizing under /api/v1/sizing. Thin: parse, call the sizing service, render.

    GET /sizing?symbol=SYM[&account_id=ID | &portfolio_id=ID]   the recommended size of a new position in SYM

Sized against one of your trading accounts or portfolios; with neither, your first paper account, or a notional
$10,000 when you have none (`basis.kind` says which). Another user's account or portfolio answers 404, exactly like
one that does not exist. Money and percentages travel as decimal strings. The rules: docs/sizing.md.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from marketdesk.deps import CurrentUserDep, DeskDep, SessionDep, refusals
from marketdesk.portfolio.sizing_service import PositionSize

router = APIRouter(tags=["sizing"])
Amount = Annotated[Decimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")]
SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-^=]{0,14}$"
IdParam = Annotated[str | None, Query(min_length=1, max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BasisOut(Strict):
    kind: Literal["account", "portfolio", "notional"]
    id: str | None = Field(description="the account or portfolio id; null for the notional $10,000")
    name: str = Field(description="its name, or why the notional amount was used")
    equity: Amount


class CapOut(Strict):
    name: Literal["volatility", "name", "sector"]
    limit_pct: Amount = Field(description="the cap's setting: % of equity per name or sector, or % risked per trade")
    room: Amount = Field(description="the most new money the cap allows, in dollars")
    binding: bool = Field(description="this cap set the high end of the range")


class ReasonOut(Strict):
    factor: str
    effect: Literal["base", "raise", "cut", "none", "cap", "zero"]
    text: str


class LimitsOut(Strict):
    max_name_pct: Amount
    max_sector_pct: Amount
    risk_per_trade_pct: Amount
    atr_multiple: Amount


class SizingOut(Strict):
    symbol: str
    as_of: dt.date
    simulated: bool = Field(description="prices come from the simulated market")
    basis: BasisOut
    price: Amount
    verdict: str | None
    regime: str | None
    regime_reason: str | None
    sector: str | None
    sector_momentum_points: float | None = Field(description="sector median 3-month return − the benchmark's")
    atr: Amount | None = Field(description="ATR14 in dollars")
    atr_pct: Amount | None = Field(description="ATR14 as a percent of the price")
    low_pct: Amount
    high_pct: Amount
    safe_pct: Amount
    low_dollars: Amount
    high_dollars: Amount
    safe_dollars: Amount
    low_shares: int
    high_shares: int
    safe_shares: int
    stars: int = Field(ge=1, le=5)
    headline: str = Field(description="e.g. “Recommended: 2–4% · $2,000–$4,000”")
    safe_text: str
    caps: list[CapOut]
    reasons: list[ReasonOut]
    limits: LimitsOut

    @classmethod
    def of(cls, sized: PositionSize, *, simulated: bool) -> SizingOut:
        r, basis = sized.recommendation, sized.basis
        limits = r.limits
        return cls(
            symbol=r.symbol, as_of=sized.as_of, simulated=simulated,
            basis=BasisOut(kind=basis.kind, id=basis.id, name=basis.name, equity=basis.equity), price=r.price,
            verdict=None if r.verdict is None else r.verdict.value, regime=None if r.regime is None else r.regime.value,
            regime_reason=sized.regime_reason, sector=r.sector, sector_momentum_points=r.sector_momentum_points,
            atr=r.atr, atr_pct=r.atr_pct, low_pct=r.low_pct, high_pct=r.high_pct, safe_pct=r.safe_pct,
            low_dollars=r.low_dollars, high_dollars=r.high_dollars, safe_dollars=r.safe_dollars,
            low_shares=r.low_shares, high_shares=r.high_shares, safe_shares=r.safe_shares, stars=r.stars,
            headline=r.headline, safe_text=r.safe_text,
            caps=[CapOut(name=c.name, limit_pct=c.limit_pct, room=c.room, binding=c.binding) for c in r.caps],
            reasons=[ReasonOut(factor=x.factor, effect=x.effect, text=x.text) for x in r.reasons],
            limits=LimitsOut(
                max_name_pct=limits.max_name_pct, max_sector_pct=limits.max_sector_pct,
                risk_per_trade_pct=limits.risk_per_trade_pct, atr_multiple=limits.atr_multiple,
            ),
        )  # fmt: skip


@router.get("/sizing", response_model=SizingOut, responses=refusals(404, 422, 503))
async def get_sizing(
    user: CurrentUserDep,
    desk: DeskDep,
    session: SessionDep,
    symbol: Annotated[str, Query(pattern=SYMBOL_PATTERN, description="the symbol to size, e.g. AAPL")],
    account_id: IdParam = None,
    portfolio_id: IdParam = None,
) -> SizingOut:
    """The recommended size of a new position in `symbol`: a range and a safe choice in % of equity, dollars and
    shares, a 1–5 star rating, and every rule that moved the size, in words."""
    sized = await desk.sizing.size(session, user, symbol, account_id=account_id, portfolio_id=portfolio_id)
    return SizingOut.of(sized, simulated=desk.simulated)
