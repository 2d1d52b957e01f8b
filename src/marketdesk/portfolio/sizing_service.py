"""The sizing service: a recommended position size for one symbol, against the equity and holdings of the user's
trading account or portfolio. It measures the inputs (the screener's verdict and regime, the sector's momentum,
ATR14 and what is held) and hands them to the pure model in `sizing.py`. Takes a session per call; never commits.

Whose money it sizes:
- `account_id`: one of the user's trading accounts (its equity and positions, marked at the last price);
- `portfolio_id`: one of the user's portfolios (its total value and holdings at today's close);
- neither: the user's first paper account, or, for a user with none (or the guest of a desk without users), a
  notional $10,000 with nothing held, and the answer says so.
Another user's account or portfolio is not found, exactly like one that does not exist.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.roles import CurrentUser
from marketdesk.errors import MarketdeskError, NotFound, Rejected
from marketdesk.marketdata.service import MarketDataService, normalize_symbol
from marketdesk.portfolio.service import PortfolioService
from marketdesk.portfolio.sizing import (
    Recommendation,
    SizingInputs,
    SizingLimits,
    average_true_range,
    dollars,
    recommend,
    sector_momentum_points,
)
from marketdesk.portfolio.valuation import money
from marketdesk.screener.config import resolve
from marketdesk.screener.engine import ScreenResult, screen
from marketdesk.screener.metrics import EQUITY
from marketdesk.screener.model import Verdict
from marketdesk.screener.momentum import fill_forward, positive_or_nan, trailing_return_pct
from marketdesk.screener.service import ScreenerService, Snapshot

if TYPE_CHECKING:
    from marketdesk.trading.accounts import AccountService

NOTIONAL_EQUITY = Decimal(10_000)
UNIVERSE = "all"
MOMENTUM_SESSIONS = 63  # 3 months
ATR_LOOKBACK_DAYS = 150  # calendar days of bars read for ATR14: about 100 sessions, enough for Wilder's smoothing
BasisKind = Literal["account", "portfolio", "notional"]


@dataclass(frozen=True, slots=True)
class SizingBasis:
    """Whose money a recommendation sizes: the equity and the market value held of each symbol."""

    kind: BasisKind
    id: str | None
    name: str
    equity: Decimal
    holdings: Mapping[str, Decimal]

    @property
    def text(self) -> str:
        """`account Paper, equity $100,000` or `a notional $10,000 (you have no paper account)`."""
        if self.kind == "notional":
            return f"a notional {dollars(self.equity)} ({self.name})"
        return f"{self.kind} {self.name}, equity {dollars(self.equity)}"


@dataclass(frozen=True, slots=True)
class PositionSize:
    """A recommendation, whose money it sizes, and the market day it was measured on."""

    recommendation: Recommendation
    basis: SizingBasis
    as_of: date
    regime_reason: str | None


class SizingService:
    """Recommended position sizes for the desk's users."""

    def __init__(
        self,
        screener: ScreenerService,
        market: MarketDataService,
        accounts: AccountService,
        portfolios: PortfolioService,
        limits: SizingLimits | None = None,
    ) -> None:
        self.screener = screener
        self.market = market
        self.accounts = accounts
        self.portfolios = portfolios
        self.limits = limits or SizingLimits()
        self._screened: tuple[Snapshot, ScreenResult] | None = None

    async def size(
        self,
        session: AsyncSession,
        user: CurrentUser | None,
        symbol: str,
        *,
        account_id: str | None = None,
        portfolio_id: str | None = None,
    ) -> PositionSize:
        """The recommended size of a new position in `symbol` for `user` (None: the desk's guest)."""
        symbol = normalize_symbol(symbol)
        if account_id is not None and portfolio_id is not None:
            raise Rejected(
                "give account_id or portfolio_id, not both", hint="Size against one account or one portfolio."
            )
        basis = await self._basis(session, user, account_id, portfolio_id)
        info = await self.market.symbol(session, symbol)  # an unknown symbol is refused by name
        quote = await self.market.quote(symbol)
        snap = await self.screener.snapshot(session, UNIVERSE)
        data = snap.data
        verdict: Verdict | None = None
        sector = info.sector
        if symbol in data.symbols:
            row = self._screen(snap).row(symbol)
            verdict = None if row["verdict"] is None else Verdict(row["verdict"])
            sector = row["sector"] if isinstance(row["sector"], str) else sector
        sectors = {s: v for s, v in zip(data.symbols, data.sector, strict=True) if isinstance(v, str)}
        held = basis.holdings.get(symbol, Decimal(0))
        sector_held = Decimal(0)
        if sector is not None:
            for other, value in basis.holdings.items():
                other_sector = sectors.get(other) if other in sectors else await self._sector(session, other)
                if other_sector == sector and value > 0:
                    sector_held += value
        inputs = SizingInputs(
            symbol=symbol, price=quote.last, equity=basis.equity, verdict=verdict, regime=snap.regime.state,
            sector=sector, sector_momentum_points=_sector_momentum(snap, sector),
            atr=await self._atr(symbol, quote.last, data.as_of), held_value=held, sector_held_value=sector_held,
            limits=self.limits,
        )  # fmt: skip
        return PositionSize(recommend(inputs), basis, data.as_of, snap.regime.reason)

    # ---- the inputs ------------------------------------------------------------------------------------

    async def _basis(
        self, session: AsyncSession, user: CurrentUser | None, account_id: str | None, portfolio_id: str | None
    ) -> SizingBasis:
        if user is None:
            if account_id is not None or portfolio_id is not None:
                what = "trading account" if account_id is not None else "portfolio"
                raise NotFound(f"no {what} {account_id or portfolio_id!r}", hint="Sign in to size against your own.")
            return _notional("you have no paper account")  # the guest of a desk with no users yet
        if portfolio_id is not None:
            valuation = await self.portfolios.valuation(session, user, portfolio_id)
            name = (await self.portfolios.get(session, user, portfolio_id)).name
            holdings = {h.symbol: money(h.market_value) for h in valuation.holdings}  # to the cent, as reported
            return SizingBasis("portfolio", portfolio_id, name, money(valuation.total_value), holdings)
        if account_id is None:
            paper = [a for a in await self.accounts.list_accounts(user) if a["broker"] == "paper"]
            if not paper:
                return _notional("you have no paper account")
            account_id = str(paper[0]["id"])
        summary = await self.accounts.get(user, account_id)
        equity = Decimal(str(summary["balances"]["equity"]))
        return SizingBasis("account", account_id, str(summary["name"]), equity, _positions(summary["positions"]))

    def _screen(self, snap: Snapshot) -> ScreenResult:
        """The default preset's screen of the snapshot under its regime (kept while the snapshot lasts)."""
        if self._screened is not None and self._screened[0] is snap:
            return self._screened[1]
        data = snap.data
        result = screen(
            snap.metrics, asset_class=data.asset_class, sector=data.sector, regime=snap.regime, config=resolve(None)
        )
        self._screened = (snap, result)
        return result

    async def _sector(self, session: AsyncSession, symbol: str) -> str | None:
        try:
            return (await self.market.symbol(session, symbol)).sector
        except MarketdeskError:
            return None  # a holding the desk knows nothing about counts in no sector

    async def _atr(self, symbol: str, price: Decimal, as_of: date) -> Decimal | None:
        """ATR14 in dollars at today's price: Wilder's ATR of the split- and dividend-adjusted bars, as a share of
        the last adjusted close, times the last price (so a split in the window does not inflate it)."""
        bars = await self.market.bars(symbol, as_of - timedelta(days=ATR_LOOKBACK_DAYS), as_of)
        if not len(bars):
            return None
        close = bars["close"].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = bars["adj_close"].to_numpy(dtype=np.float64) / close
        adjusted = [bars[c].to_numpy(dtype=np.float64) * factor for c in ("high", "low", "close")]
        atr = average_true_range(*adjusted)
        last = adjusted[2][np.isfinite(adjusted[2])]
        if not math.isfinite(atr) or atr <= 0 or not len(last) or last[-1] <= 0:
            return None
        return (Decimal(repr(atr / float(last[-1]))) * price).quantize(Decimal("0.0001"))


def _sector_momentum(snap: Snapshot, sector: str | None) -> float | None:
    """The sector's median 3-month return minus the benchmark's, over the snapshot's equities (points)."""
    if sector is None or "return_3m_pct" not in snap.metrics.columns:
        return None
    data = snap.data
    members = [s for s, c, v in zip(data.symbols, data.asset_class, data.sector, strict=True) if str(c) == EQUITY and v == sector]  # fmt: skip
    returns = snap.metrics["return_3m_pct"].reindex(members).to_numpy(dtype=np.float64)
    with np.errstate(all="ignore"):
        benchmark = fill_forward(positive_or_nan(data.benchmark))
        bench_return = float(trailing_return_pct(benchmark[:, None], MOMENTUM_SESSIONS)[0])
    return sector_momentum_points(returns, bench_return)


def _positions(rows: Any) -> dict[str, Decimal]:
    """Market value per symbol of an account's positions (at cost where there is no mark)."""
    out: dict[str, Decimal] = {}
    for row in rows or []:
        value = row.get("market_value")
        amount = Decimal(str(value)) if value is not None else Decimal(str(row["qty"])) * Decimal(str(row["average_price"]))  # fmt: skip
        out[str(row["symbol"])] = out.get(str(row["symbol"]), Decimal(0)) + amount
    return out


def _notional(why: str) -> SizingBasis:
    return SizingBasis("notional", None, why, NOTIONAL_EQUITY, {})
