"""ORM tables of the decision log: each verdict a user saved or acted on, as the desk gave it then, and its
outcomes against the benchmark once they are due. The price is an exact decimal (`ExactDecimal`); the score
and the returns are statistics (floats).

An outcome row exists only once measured: a decision with fewer outcome rows than horizons is pending on the
others. Outcomes are derived data, unique by (decision, horizon), so measuring again changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketdesk.db import Base, ExactDecimal, UTCDateTime


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(16), index=True)
    action: Mapped[str] = mapped_column(String(12))  # saved or acted
    side: Mapped[str | None] = mapped_column(String(8))  # buy or sell, when acted on with an order
    order_id: Mapped[str | None] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(16))  # Strong Buy, Buy, Hold, Avoid
    score: Mapped[float] = mapped_column(Float)  # 0–10
    preset: Mapped[str] = mapped_column(String(40))
    signals: Mapped[str] = mapped_column(Text, default="")  # signal ids, comma-separated, sorted
    scoring_version: Mapped[str] = mapped_column(String(40))  # the rules' version (screener.rules)
    config_hash: Mapped[str] = mapped_column(String(16))  # fingerprint of the exact resolved rules
    regime: Mapped[str | None] = mapped_column(String(12))
    universe: Mapped[str] = mapped_column(String(80))
    benchmark: Mapped[str] = mapped_column(String(16))
    price: Mapped[Decimal] = mapped_column(ExactDecimal)  # the as-traded close of `price_date`
    price_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class DecisionOutcome(Base):
    __tablename__ = "decision_outcomes"

    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True)
    horizon_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    end_date: Mapped[date] = mapped_column(Date)  # the session whose close ended the window
    symbol_return: Mapped[float] = mapped_column(Float)
    benchmark_return: Mapped[float] = mapped_column(Float)
    excess_return: Mapped[float] = mapped_column(Float)
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime)
