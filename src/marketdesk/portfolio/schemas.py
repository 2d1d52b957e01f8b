"""Pydantic in/out shapes of the portfolio API. Money, prices and quantities travel as decimal strings (numbers are
accepted on the way in and parsed exactly); returns are plain numbers (0.1 = 10%), null when they do not exist
(`notes` says why). Unknown fields are refused."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from marketdesk.kit.money import quantize_price
from marketdesk.portfolio.allocation import (
    ASSET_CLASS,
    DEFAULT_BAND_PP,
    DEFAULT_MIN_TRADE,
    SECTOR,
    SYMBOL,
    Line,
    Targets,
)
from marketdesk.portfolio.ledger import Kind, Transaction
from marketdesk.portfolio.performance import Performance
from marketdesk.portfolio.rebalance import Skipped, Suggestion, Trade, VerdictReading
from marketdesk.portfolio.service import ImportReport, PortfolioView, SnapshotsRebuilt, TransactionView
from marketdesk.portfolio.targets import AllocationView, RebalanceView, TargetsView
from marketdesk.portfolio.valuation import Holding, Valuation, money

Amount = Annotated[Decimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")]
Positive = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=9, allow_inf_nan=False)]
NotNegative = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=9, allow_inf_nan=False)]
SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-^=]{0,14}$"
CONVENTION = (
    "daily TWR with external flows (deposits, withdrawals, implicit deposits) at the start of the day; "
    "XIRR on Actual/365 with the start value dated the first day and the end value the day after the last"
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortfolioCreate(Strict):
    """A new portfolio: kept by hand, or (with `account_id`) following one of your trading accounts' fills."""

    name: str = Field(min_length=1, max_length=80)
    account_id: str | None = Field(default=None, min_length=1, max_length=40)
    description: str = Field(default="", max_length=2000)


class PortfolioOut(Strict):
    id: str
    name: str
    description: str
    account_id: str | None
    kind: Literal["manual", "linked"]
    transactions: int = Field(description="transactions recorded by hand or imported")
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, view: PortfolioView) -> PortfolioOut:
        return cls(
            id=view.id, name=view.name, description=view.description, account_id=view.account_id,
            kind="manual" if view.kind == "manual" else "linked", transactions=view.transactions,
            created_at=view.created_at, updated_at=view.updated_at,
        )  # fmt: skip


class TransactionCreate(Strict):
    """One transaction: buy/sell (symbol, qty, price, fee), dividend (amount; symbol unless interest), split
    (symbol, ratio: new shares per old share), deposit/withdrawal (amount), fee (amount, symbol optional)."""

    kind: Kind
    date: dt.date
    symbol: str | None = Field(default=None, pattern=SYMBOL_PATTERN)
    qty: Positive | None = None
    price: NotNegative | None = None
    amount: Positive | None = None
    fee: NotNegative = Decimal(0)
    ratio: Positive | None = None
    note: str = Field(default="", max_length=500)
    executed_at: dt.datetime | None = Field(default=None, description="when in the day (ISO 8601 with a zone)")

    @field_validator("executed_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("give executed_at with its time zone, e.g. 2024-01-02T15:30:00Z")
        return None if value is None else value.astimezone(dt.UTC)

    def transaction(self) -> Transaction:
        return Transaction(
            self.date, self.kind, self.symbol.upper() if self.symbol else None, qty=self.qty, price=self.price,
            amount=self.amount, fee=self.fee, ratio=self.ratio,
        )  # fmt: skip


class TransactionOut(Strict):
    id: str | None = Field(description="null in a dry run; fill-N for a linked account's fill")
    date: dt.date
    kind: str
    symbol: str | None
    qty: Amount | None
    price: Amount | None
    amount: Amount | None
    fee: Amount
    ratio: Amount | None
    note: str
    source: str = Field(description="manual, generic, alpaca (the statement layout), or fill")
    executed_at: dt.datetime | None

    @classmethod
    def of(cls, view: TransactionView) -> TransactionOut:
        return cls(
            id=view.id, date=view.date, kind=view.kind, symbol=view.symbol, qty=view.qty, price=view.price,
            amount=view.amount, fee=view.fee, ratio=view.ratio, note=view.note, source=view.source,
            executed_at=view.executed_at,
        )  # fmt: skip


class ImportRowOut(Strict):
    line: int = Field(description="the row's line in the file; the header is line 1")
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None
    transaction: TransactionOut | None


class ImportOut(Strict):
    layout: str
    dry_run: bool
    accepted: int
    duplicates: int
    rejected: int
    rows: list[ImportRowOut]

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        rows = [
            ImportRowOut(
                line=r.line, status="accepted" if r.status == "accepted" else "duplicate" if r.status == "duplicate"
                else "rejected", reason=r.reason,
                transaction=None if r.transaction is None else TransactionOut.of(r.transaction),
            )
            for r in report.rows
        ]  # fmt: skip
        return cls(layout=report.layout, dry_run=report.dry_run, accepted=report.accepted,
                   duplicates=report.duplicates, rejected=report.rejected, rows=rows)  # fmt: skip


class HoldingOut(Strict):
    symbol: str
    qty: Amount
    cost_basis: Amount
    average_cost: Amount
    price: Amount | None
    price_date: dt.date | None = Field(description="the day of the close used; null: the last trade price")
    market_value: Amount
    unrealized_pnl: Amount
    realized_pnl: Amount
    dividends: Amount
    weight: float | None

    @classmethod
    def of(cls, h: Holding) -> HoldingOut:
        return cls(
            symbol=h.symbol, qty=h.qty.normalize(), cost_basis=money(h.cost_basis),
            average_cost=quantize_price(h.average_cost), price=h.price, price_date=h.price_date,
            market_value=money(h.market_value), unrealized_pnl=money(h.unrealized_pnl),
            realized_pnl=money(h.realized_pnl), dividends=money(h.dividends), weight=_finite(h.weight),
        )  # fmt: skip


class ValuationOut(Strict):
    portfolio_id: str
    as_of: dt.date
    simulated: bool = Field(description="prices come from the simulated market")
    holdings: list[HoldingOut]
    market_value: Amount
    cash: Amount
    total_value: Amount
    cost_basis: Amount
    unrealized_pnl: Amount
    realized_pnl: Amount
    dividend_income: Amount
    fees: Amount
    commissions: Amount
    deposits: Amount
    withdrawals: Amount
    implicit_deposits: Amount = Field(description="cash brought in to pay for buys and fees the cash did not cover")
    net_contributions: Amount
    total_return: Amount = Field(description="realized + unrealized + dividends − fees")
    total_return_pct: float | None = Field(description="total return ÷ deposits (explicit and implicit)")

    @classmethod
    def of(cls, portfolio_id: str, v: Valuation, *, simulated: bool) -> ValuationOut:
        return cls(
            portfolio_id=portfolio_id, as_of=v.as_of, simulated=simulated,
            holdings=[HoldingOut.of(h) for h in v.holdings], market_value=money(v.market_value), cash=money(v.cash),
            total_value=money(v.total_value), cost_basis=money(v.cost_basis), unrealized_pnl=money(v.unrealized_pnl),
            realized_pnl=money(v.realized_pnl), dividend_income=money(v.dividend_income), fees=money(v.fees),
            commissions=money(v.commissions), deposits=money(v.deposits), withdrawals=money(v.withdrawals),
            implicit_deposits=money(v.implicit_deposits), net_contributions=money(v.net_contributions),
            total_return=money(v.total_return), total_return_pct=_finite(v.total_return_pct),
        )  # fmt: skip


class SnapshotOut(Strict):
    date: dt.date
    value: Amount
    positions_value: Amount
    cash: Amount
    net_flow: Amount = Field(description="external flows of the day (at its start)")
    cost_basis: Amount
    realized_pnl: Amount
    dividend_income: Amount
    fees: Amount


class SnapshotsOut(Strict):
    portfolio_id: str
    computed_at: dt.datetime | None
    snapshots: list[SnapshotOut]


class RebuildOut(Strict):
    portfolio_id: str
    days: int
    first: dt.date | None
    last: dt.date | None

    @classmethod
    def of(cls, portfolio_id: str, rebuilt: SnapshotsRebuilt) -> RebuildOut:
        return cls(portfolio_id=portfolio_id, days=rebuilt.days, first=rebuilt.first, last=rebuilt.last)


class ReturnsOut(Strict):
    portfolio_id: str
    start: dt.date | None
    end: dt.date | None
    days: int
    simulated: bool
    start_value: Amount
    end_value: Amount
    net_flows: Amount
    dividend_income: Amount
    fees: Amount
    gain: Amount = Field(description="end value − start value − net flows (dividends included)")
    total_return: float | None = Field(description="gain ÷ (start value + inflows)")
    twr: float | None = Field(description="time-weighted return over the range")
    twr_annualized: float | None = Field(description="null under a year")
    xirr: float | None = Field(description="money-weighted annual return; null when none exists (see notes)")
    convention: str
    notes: list[str]

    @classmethod
    def of(cls, portfolio_id: str, p: Performance, *, simulated: bool) -> ReturnsOut:
        return cls(
            portfolio_id=portfolio_id, start=p.start, end=p.end, days=p.days, simulated=simulated,
            start_value=money(p.start_value), end_value=money(p.end_value), net_flows=money(p.net_flows),
            dividend_income=money(p.dividend_income), fees=money(p.fees), gain=money(p.gain),
            total_return=_finite(p.total_return), twr=_finite(p.twr), twr_annualized=_finite(p.twr_annualized),
            xirr=_finite(p.xirr), convention=CONVENTION, notes=list(p.notes),
        )  # fmt: skip


WeightPct = Annotated[Decimal, Field(ge=0, le=100, max_digits=12, decimal_places=6, allow_inf_nan=False)]
PP = Decimal("0.01")


def _pp(value: Decimal | None) -> Decimal | None:
    """A weight or drift in percent, to 1/100 of a point."""
    return None if value is None else value.quantize(PP)


class TargetsIn(Strict):
    """A portfolio's targets, replacing any before. Weights are percent of the portfolio's value (0–100; each
    dimension's sum at most 100, the rest unassigned, in cash)."""

    asset_class: dict[str, WeightPct] = Field(default_factory=dict, description="equity, etf or bond → percent")
    sector: dict[str, WeightPct] = Field(default_factory=dict, description="a GICS sector (or Unknown) → percent")
    symbol: dict[str, WeightPct] = Field(default_factory=dict, description="a ticker → percent")
    band_pp: Annotated[Decimal, Field(ge=0, le=100, max_digits=12, decimal_places=6)] = Field(
        default=DEFAULT_BAND_PP, description="the tolerance band, ± percentage points around each target"
    )
    band_relative_pct: Annotated[Decimal, Field(gt=0, le=100, max_digits=12, decimal_places=6)] | None = Field(
        default=None, description="a relative band, % of each target; a line's band is the smaller of the two"
    )
    min_trade: Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=2)] = Field(
        default=DEFAULT_MIN_TRADE, description="dollars; smaller trades are skipped"
    )

    def targets(self) -> Targets:
        weights = {ASSET_CLASS: dict(self.asset_class), SECTOR: dict(self.sector), SYMBOL: dict(self.symbol)}
        return Targets(weights, self.band_pp, self.band_relative_pct, self.min_trade)


class TargetsOut(Strict):
    portfolio_id: str
    set: bool = Field(description="false: no targets yet (the band and minimum trade shown are the defaults)")
    asset_class: dict[str, Amount]
    sector: dict[str, Amount]
    symbol: dict[str, Amount]
    band_pp: Amount
    band_relative_pct: Amount | None
    min_trade: Amount
    updated_at: dt.datetime | None

    @classmethod
    def of(cls, portfolio_id: str, view: TargetsView) -> TargetsOut:
        weights = {
            d: {k: v.normalize() for k, v in view.weights.get(d, {}).items()} for d in (ASSET_CLASS, SECTOR, SYMBOL)
        }
        return cls(
            portfolio_id=portfolio_id, set=view.set, asset_class=weights[ASSET_CLASS], sector=weights[SECTOR],
            symbol=weights[SYMBOL], band_pp=view.band_pp.normalize(),
            band_relative_pct=None if view.band_relative_pct is None else view.band_relative_pct.normalize(),
            min_trade=money(view.min_trade), updated_at=view.updated_at,
        )  # fmt: skip


class LineOut(Strict):
    key: str
    value: Amount
    weight_pct: Amount
    target_pct: Amount | None = Field(description="null: no target (cash: the targets leave it no room)")
    drift_pp: Amount | None = Field(description="weight − target, percentage points")
    band_pp: Amount | None
    status: Literal["in_band", "out_of_band", "untargeted", "cash"]
    symbols: list[str]

    @classmethod
    def of(cls, line: Line) -> LineOut:
        status: Any = line.status
        return cls(
            key=line.key, value=money(line.value), weight_pct=_pp(line.weight_pct), target_pct=_pp(line.target_pct),
            drift_pp=_pp(line.drift_pp), band_pp=_pp(line.band_pp), status=status, symbols=list(line.symbols),
        )  # fmt: skip


class AllocationOut(Strict):
    portfolio_id: str
    as_of: dt.date
    simulated: bool
    targets: TargetsOut
    total_value: Amount
    cash: Amount
    asset_class: list[LineOut]
    sector: list[LineOut]
    symbol: list[LineOut]
    notes: list[str]

    @classmethod
    def of(cls, portfolio_id: str, view: AllocationView, *, simulated: bool) -> AllocationOut:
        a = view.allocation
        return cls(
            portfolio_id=portfolio_id, as_of=view.as_of, simulated=simulated,
            targets=TargetsOut.of(portfolio_id, view.targets), total_value=money(a.total_value), cash=money(a.cash),
            asset_class=[LineOut.of(x) for x in a[ASSET_CLASS]], sector=[LineOut.of(x) for x in a[SECTOR]],
            symbol=[LineOut.of(x) for x in a[SYMBOL]], notes=list(a.notes),
        )  # fmt: skip


class LotSaleOut(Strict):
    date: dt.date
    qty: Amount
    cost: Amount
    realized_pnl: Amount


class TradeOut(Strict):
    symbol: str
    side: Literal["buy", "sell"]
    qty: Amount
    price: Amount
    value: Amount = Field(description="qty × price: an estimate at the last close")
    reason: str
    dimension: Literal["asset_class", "sector", "symbol"]
    line: str
    lots: list[LotSaleOut] = Field(description="a sell's lots, as the advisor picks them")
    realized_pnl: Amount | None = Field(description="a sell's estimated realized P&L from the lots picked")
    realized_pnl_fifo: Amount | None = Field(description="… and from FIFO lots (what the ledger records)")
    preview_url: str = Field(description="the trade ticket, filled in and previewed; nothing is placed")

    @classmethod
    def of(cls, t: Trade) -> TradeOut:
        side: Any = t.side
        dimension: Any = t.dimension
        lots = [LotSaleOut(date=s.day, qty=s.qty.normalize(), cost=money(s.cost), realized_pnl=money(s.pnl))
                for s in t.lots]  # fmt: skip
        return cls(
            symbol=t.symbol, side=side, qty=t.qty.normalize(), price=t.price, value=money(t.value), reason=t.reason,
            dimension=dimension, line=t.line, lots=lots,
            realized_pnl=None if t.realized_pnl is None else money(t.realized_pnl),
            realized_pnl_fifo=None if t.realized_pnl_fifo is None else money(t.realized_pnl_fifo),
            preview_url=t.preview_url,
        )  # fmt: skip


class SkippedOut(Strict):
    dimension: str
    line: str
    symbol: str | None
    value: Amount = Field(description="dollars the trade would have been: + a buy, − a sell")
    reason: str

    @classmethod
    def of(cls, s: Skipped) -> SkippedOut:
        return cls(dimension=s.dimension, line=s.line, symbol=s.symbol, value=money(s.value), reason=s.reason)


class VerdictOut(Strict):
    symbol: str
    verdict: str | None
    score: float | None
    as_of: dt.date | None
    logged_verdict: str | None = Field(description="the last verdict you logged for it (the decision log)")
    logged_on: dt.date | None
    change: int = Field(description="+ it rose since you logged it, − it fell, 0 the same or nothing to compare")

    @classmethod
    def of(cls, r: VerdictReading) -> VerdictOut:
        return cls(symbol=r.symbol, verdict=r.verdict, score=r.score, as_of=r.as_of, logged_verdict=r.logged_verdict,
                   logged_on=r.logged_on, change=r.change)  # fmt: skip


class SuggestionOut(Strict):
    symbol: str
    kind: Literal["review", "note"]
    text: str
    side: str | None
    qty: Amount | None
    preview_url: str | None

    @classmethod
    def of(cls, s: Suggestion) -> SuggestionOut:
        kind: Any = s.kind
        return cls(symbol=s.symbol, kind=kind, text=s.text, side=s.side,
                   qty=None if s.qty is None else s.qty.normalize(), preview_url=s.preview_url)  # fmt: skip


class RebalanceOut(Strict):
    portfolio_id: str
    as_of: dt.date
    simulated: bool
    prefer_losses: bool
    fractional: bool
    targets: TargetsOut
    trades: list[TradeOut] = Field(description="suggestions only: sells first, then buys")
    skipped: list[SkippedOut]
    cash_before: Amount
    cash_after: Amount
    cash_short: Amount = Field(description="buys the sells and the cash could not fund (0: none)")
    realized_pnl: Amount = Field(description="the sells' estimated realized P&L, lots as picked")
    realized_pnl_fifo: Amount = Field(description="… with FIFO lots")
    before: list[LineOut] = Field(description="every dimension's lines now")
    after: list[LineOut] = Field(description="… and after the trades at the quoted prices")
    verdicts: list[VerdictOut]
    actions: list[SuggestionOut] = Field(description="what the verdicts on the holdings call for")
    notes: list[str]

    @classmethod
    def of(cls, portfolio_id: str, view: RebalanceView, *, simulated: bool) -> RebalanceOut:
        a = view.advice
        notes = list(a.notes) + ([view.verdict_note] if view.verdict_note else [])
        return cls(
            portfolio_id=portfolio_id, as_of=view.as_of, simulated=simulated, prefer_losses=a.prefer_losses,
            fractional=a.fractional, targets=TargetsOut.of(portfolio_id, view.targets),
            trades=[TradeOut.of(t) for t in a.trades], skipped=[SkippedOut.of(s) for s in a.skipped],
            cash_before=money(a.cash_before), cash_after=money(a.cash_after), cash_short=money(a.cash_short),
            realized_pnl=money(a.realized_pnl), realized_pnl_fifo=money(a.realized_pnl_fifo),
            before=[LineOut.of(x) for d in (SYMBOL, SECTOR, ASSET_CLASS) for x in a.before[d]],
            after=[LineOut.of(x) for d in (SYMBOL, SECTOR, ASSET_CLASS) for x in a.after[d]],
            verdicts=[VerdictOut.of(r) for r in view.readings], actions=[SuggestionOut.of(s) for s in view.suggestions],
            notes=notes,
        )  # fmt: skip


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
