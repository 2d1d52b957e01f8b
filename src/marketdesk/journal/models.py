"""ORM tables of the journals: theses with their watched metrics and check-ins, the user's reason and notes on a
round trip (the round trips themselves are derived from fills, never stored), and market calls.

Every row belongs to one owner. Levels and closes are exact decimals (`ExactDecimal`); screener metric values are
floats, as the screener computes them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketdesk.db import Base, ExactDecimal, UTCDateTime


class Thesis(Base):
    """Why a user owns a symbol, what to watch, and when to look again."""

    __tablename__ = "journal_theses"
    __table_args__ = (Index("ix_journal_theses_owner_state_review", "owner_id", "state", "review_on"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))  # a ThesisReason
    note: Mapped[str] = mapped_column(Text, default="")
    review_days: Mapped[int] = mapped_column(Integer)
    review_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8))  # open, closed
    status: Mapped[str | None] = mapped_column(String(8))  # the last confirmed ThesisStatus; None before a check-in
    last_action: Mapped[str | None] = mapped_column(String(16))
    metrics_as_of: Mapped[date] = mapped_column(Date)  # the day of the entry values
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ThesisMetric(Base):
    """A metric a thesis watches: the direction it needs and its value when the thesis was written."""

    __tablename__ = "journal_thesis_metrics"

    thesis_id: Mapped[str] = mapped_column(ForeignKey("journal_theses.id", ondelete="CASCADE"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(4))  # up, down
    entry_value: Mapped[float] = mapped_column(Float)


class ThesisCheckin(Base):
    """One check-in: the derived status, the status the user confirmed, the action, and the readings seen."""

    __tablename__ = "journal_checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thesis_id: Mapped[str] = mapped_column(ForeignKey("journal_theses.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    metrics_as_of: Mapped[date] = mapped_column(Date)
    derived_status: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))  # as confirmed (or overridden) by the user
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    readings_json: Mapped[str] = mapped_column(Text)
    next_review_on: Mapped[date | None] = mapped_column(Date)


class TradeNote(Base):
    """The user's reason and notes on one round trip (keyed by the round trip's id within its account)."""

    __tablename__ = "journal_trade_notes"

    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id", ondelete="CASCADE"), primary_key=True)
    round_trip_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(40), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MarketCall(Base):
    """A call such as "SPY above 600 by 2027-03-31", and its outcome once judged."""

    __tablename__ = "journal_calls"
    __table_args__ = (
        Index("ix_journal_calls_outcome_due", "outcome", "due_on"),
        Index("ix_journal_calls_owner_due", "owner_id", "due_on"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(5))  # above, below
    level: Mapped[Decimal] = mapped_column(ExactDecimal)
    mode: Mapped[str] = mapped_column(String(12))  # at_due_date, any_time
    made_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    reference_close: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # the last close when the call was made
    reference_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(5))  # open, hit, miss, void
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_close: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    outcome_reason: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
