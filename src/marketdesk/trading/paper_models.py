"""ORM tables of the paper broker (migrations 0004 and 0005): its accounts, orders (with their bracket and OCO
links), fills, positions and the corporate actions it has applied. Money, prices and quantities are
`ExactDecimal` (exact text on every backend)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketdesk.db import Base, ExactDecimal, UTCDateTime


class PaperAccount(Base):
    """One paper account: its cash, running totals and the previous close's mark."""

    __tablename__ = "paper_accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_type: Mapped[str] = mapped_column(String(8))
    opening_cash: Mapped[Decimal] = mapped_column(ExactDecimal)
    cash: Mapped[Decimal] = mapped_column(ExactDecimal)
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal)
    commissions: Mapped[Decimal] = mapped_column(ExactDecimal)
    unsettled: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[settles_on, amount], …]
    last_equity: Mapped[Decimal] = mapped_column(ExactDecimal)
    last_maintenance_margin: Mapped[Decimal] = mapped_column(ExactDecimal)
    marked_session: Mapped[date | None] = mapped_column(Date)  # the session whose close `last_equity` is
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaperOrder(Base):
    __tablename__ = "paper_orders"
    __table_args__ = (UniqueConstraint("account_id", "client_order_id"), UniqueConstraint("account_id", "seq"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # indexed by the unique keys that lead with it (each index is written on every order)
    account_id: Mapped[str] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # the account's orders in the order they were placed (fill priority)
    client_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    order_type: Mapped[str] = mapped_column(String(16))
    time_in_force: Mapped[str] = mapped_column(String(4))
    limit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    stop_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    extended_hours: Mapped[bool] = mapped_column(Boolean)
    tag: Mapped[str | None] = mapped_column(Text)
    order_class: Mapped[str] = mapped_column(String(8), default="simple", server_default="simple")
    take_profit: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # a bracket's or an OCO's exits
    stop_loss: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    parent_id: Mapped[str | None] = mapped_column(String(40))  # a leg's bracket entry or OCO (paper_orders.id)
    status: Mapped[str] = mapped_column(String(20))  # read with the account's orders, never searched by
    filled_qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    filled_notional: Mapped[Decimal] = mapped_column(ExactDecimal)
    commission: Mapped[Decimal] = mapped_column(ExactDecimal)
    stop_triggered: Mapped[bool] = mapped_column(Boolean)
    seen_event: Mapped[bool] = mapped_column(Boolean)
    active_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class PaperFill(Base):
    __tablename__ = "paper_fills"
    __table_args__ = (UniqueConstraint("account_id", "seq"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"))  # see PaperOrder
    seq: Mapped[int] = mapped_column(Integer)  # the account's fills in the order they happened
    order_id: Mapped[str] = mapped_column(ForeignKey("paper_orders.id", ondelete="CASCADE"), index=True)
    client_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    price: Mapped[Decimal] = mapped_column(ExactDecimal)
    commission: Mapped[Decimal] = mapped_column(ExactDecimal)
    time: Mapped[datetime] = mapped_column(UTCDateTime)


class PaperPosition(Base):
    __tablename__ = "paper_positions"

    account_id: Mapped[str] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    average_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    last_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # the mark when the row was last written
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaperCorporateAction(Base):
    """A split or dividend applied to an account; the unique key makes applying it again a no-op."""

    __tablename__ = "paper_corporate_actions"
    __table_args__ = (UniqueConstraint("account_id", "symbol", "kind", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # split or dividend
    value: Mapped[Decimal] = mapped_column(ExactDecimal)  # the ratio, or the amount per share
    cash: Mapped[Decimal] = mapped_column(ExactDecimal)  # the cash it moved
    at: Mapped[datetime] = mapped_column(UTCDateTime)
