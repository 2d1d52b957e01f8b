"""ORM tables of the market-data domain: instruments, fundamentals, earnings, universes, watchlists, imports.

Bars and corporate actions live in the Parquet bar store, not here.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketdesk.db import Base, UTCDateTime
from marketdesk.marketdata.port import FUNDAMENTAL_FIELDS


class Instrument(Base):
    __tablename__ = "instruments"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    asset_class: Mapped[str] = mapped_column(String(16), default="equity")
    exchange: Mapped[str | None] = mapped_column(String(32))
    sector: Mapped[str | None] = mapped_column(String(64), index=True)
    industry: Mapped[str | None] = mapped_column(String(128))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    maturity_years: Mapped[float | None] = mapped_column(Float)
    coupon_pct: Mapped[float | None] = mapped_column(Float)
    credit_rating: Mapped[str | None] = mapped_column(String(8))
    expense_ratio_pct: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FundamentalsRecord(Base):
    __tablename__ = "fundamentals"
    __table_args__ = (UniqueConstraint("symbol", "period_end", "period", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    period_end: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(10))
    reported: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(32), default="")


# one nullable float column per fundamental field, declared from the port so the two never drift apart
for _name in FUNDAMENTAL_FIELDS:
    setattr(FundamentalsRecord, _name, mapped_column(_name, Float, nullable=True))


class EarningsRecord(Base):
    __tablename__ = "earnings_events"
    __table_args__ = (UniqueConstraint("symbol", "report_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    report_date: Mapped[date] = mapped_column(Date, index=True)
    eps_estimate: Mapped[float | None] = mapped_column(Float)
    eps_actual: Mapped[float | None] = mapped_column(Float)
    surprise_pct: Mapped[float | None] = mapped_column(Float)
    revenue_estimate: Mapped[float | None] = mapped_column(Float)
    revenue_actual: Mapped[float | None] = mapped_column(Float)
    time_of_day: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(32), default="")


class UniverseMember(Base):
    __tablename__ = "universe_members"

    universe: Mapped[str] = mapped_column(String(64), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)


class Watchlist(Base):
    __tablename__ = "watchlists"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None: the desk's shared list (the first-run watchlist before anyone signs in); else one user's own
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WatchlistItem(Base):
    __tablename__ = "watchlist_items"

    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ImportRun(Base):
    __tablename__ = "import_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    files: Mapped[str] = mapped_column(Text)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
