"""ORM tables of trading: accounts (with their risk limits and compliance policy), orders, order events, fills,
positions and reconciliation findings. Money, prices and quantities are exact decimals (`ExactDecimal`).

An order row is written in status `new` *before* the broker is called (the outbox): after a crash, a `new` row
without a broker order id is resolved by asking the broker for its `client_order_id`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketdesk.db import Base, ExactDecimal, UTCDateTime


class TradingAccount(Base):
    """A user's account at a broker: which venue, the compliance policy, the risk limits and the trading state."""

    __tablename__ = "trading_accounts"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    broker: Mapped[str] = mapped_column(String(16))  # paper, alpaca
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(8))  # margin, cash
    compliance_policy: Mapped[str] = mapped_column(String(20))
    compliance_json: Mapped[str] = mapped_column(Text, default="{}")
    risk_json: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(10))  # active, reducing, halted
    state_reason: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderRecord(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id"),
        Index("ix_orders_account_status", "account_id", "status"),
        Index("ix_orders_owner_created", "owner_id", "created_at"),  # a user's orders, newest first
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(String(40))
    client_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    order_type: Mapped[str] = mapped_column(String(12))
    time_in_force: Mapped[str] = mapped_column(String(4))
    limit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    stop_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    extended_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    take_profit: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    stop_loss: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    tag: Mapped[str | None] = mapped_column(String(64))
    order_class: Mapped[str] = mapped_column(String(8), default="simple", server_default="simple")  # bracket, oco
    status: Mapped[str] = mapped_column(String(20))
    filled_qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    average_fill_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    broker_order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[str | None] = mapped_column(String(40))  # a bracket's or an OCO's leg: its parent order
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderEventRecord(Base):
    """Every transition of every order, and every denial, with the inputs the decision saw (JSON)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(String(40))  # events are read by order; no index to keep up
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    ts_event: Mapped[datetime] = mapped_column(UTCDateTime)
    ts_init: Mapped[datetime] = mapped_column(UTCDateTime)


class FillRecord(Base):
    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("account_id", "fill_id"), Index("ix_fills_account_time", "account_id", "time"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fill_id: Mapped[str] = mapped_column(String(64))  # the broker's id of the execution
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(String(40))
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    price: Mapped[Decimal] = mapped_column(ExactDecimal)
    commission: Mapped[Decimal] = mapped_column(ExactDecimal)
    time: Mapped[datetime] = mapped_column(UTCDateTime)


class PositionRecord(Base):
    """An account's holding of one symbol: signed quantity, average cost and realized P&L (kept per fill)."""

    __tablename__ = "positions"

    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    average_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReconciliationFinding(Base):
    """A difference between the desk's books and the broker's, and how it was corrected."""

    __tablename__ = "reconciliation_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("trading_accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # position, order_status, missing_order, unknown_order
    subject: Mapped[str] = mapped_column(String(80))  # the symbol or client order id
    desk_value: Mapped[str] = mapped_column(Text)
    broker_value: Mapped[str] = mapped_column(Text)
    correction: Mapped[str] = mapped_column(Text)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
