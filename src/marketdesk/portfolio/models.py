"""ORM tables of portfolios: the portfolios, their hand-kept (or imported) transactions, and the daily end-of-day
snapshots backfilled from price history. Money, prices and quantities are exact decimals (`ExactDecimal`).

A transaction's `fingerprint` is unique within its portfolio: an imported row's is derived from the statement
row (so re-importing adds nothing), a transaction added by hand gets a fresh one.

A portfolio's allocation targets are one `portfolio_targets` row (the tolerance band and the minimum trade) and
its weights, one `portfolio_target_weights` row per (dimension, key): asset class, sector or symbol.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketdesk.db import Base, ExactDecimal, UTCDateTime


class Portfolio(Base):
    """A user's portfolio: kept by hand (`account_id` None) or following a trading account's fills."""

    __tablename__ = "portfolios"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    account_id: Mapped[str | None] = mapped_column(ForeignKey("trading_accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PortfolioTransaction(Base):
    __tablename__ = "portfolio_transactions"
    __table_args__ = (UniqueConstraint("portfolio_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # buy, sell, dividend, split, deposit, withdrawal, fee
    trade_date: Mapped[date] = mapped_column(Date)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when in the day, where known
    symbol: Mapped[str | None] = mapped_column(String(16))
    qty: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    fee: Mapped[Decimal] = mapped_column(ExactDecimal)
    ratio: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))  # manual, generic, alpaca
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PortfolioSnapshot(Base):
    """A portfolio at the end of one day. Derived data: recomputed from transactions and prices at will."""

    __tablename__ = "portfolio_snapshots"

    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[Decimal] = mapped_column(ExactDecimal)  # positions + cash
    positions_value: Mapped[Decimal] = mapped_column(ExactDecimal)
    cash: Mapped[Decimal] = mapped_column(ExactDecimal)
    net_flow: Mapped[Decimal] = mapped_column(ExactDecimal)  # external flows of the day (start of day)
    cost_basis: Mapped[Decimal] = mapped_column(ExactDecimal)
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal)  # cumulative
    dividend_income: Mapped[Decimal] = mapped_column(ExactDecimal)  # cumulative
    fees: Mapped[Decimal] = mapped_column(ExactDecimal)  # cumulative standalone fees
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PortfolioTarget(Base):
    """How a portfolio is rebalanced: the tolerance band around each target and the smallest trade worth making."""

    __tablename__ = "portfolio_targets"

    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True)
    band_pp: Mapped[Decimal] = mapped_column(ExactDecimal)  # absolute band, percentage points
    band_relative_pct: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # relative band, % of the target
    min_trade: Mapped[Decimal] = mapped_column(ExactDecimal)  # dollars
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PortfolioTargetWeight(Base):
    """One target weight: `weight_pct` percent of the portfolio's value in `key` of `dimension`."""

    __tablename__ = "portfolio_target_weights"

    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(12), primary_key=True)  # asset_class, sector, symbol
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    weight_pct: Mapped[Decimal] = mapped_column(ExactDecimal)
