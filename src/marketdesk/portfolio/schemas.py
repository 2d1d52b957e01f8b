"""Pydantic in/out shapes of the portfolio API. Money, prices and quantities travel as decimal strings (numbers are
accepted on the way in and parsed exactly); returns are plain numbers (0.1 = 10%), null when they do not exist
(`notes` says why). Unknown fields are refused."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from marketdesk.kit.money import quantize_price
from marketdesk.portfolio.ledger import Kind, Transaction
from marketdesk.portfolio.performance import Performance
from marketdesk.portfolio.service import ImportReport, PortfolioView, SnapshotsRebuilt, TransactionView
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


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
