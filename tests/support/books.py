"""A desk over a test database with one user and one paper account, driven tick by tick (no feed loop)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.audit.models import AuditEntry
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.db import Database
from marketdesk.desk import build_desk
from marketdesk.errors import Temporary
from marketdesk.marketdata.port import Quote
from marketdesk.trading.broker import BrokerFill, BrokerOrder
from marketdesk.trading.matching import FillModel
from marketdesk.trading.models import PositionRecord, TradingAccount
from marketdesk.trading.orders import SubmitOrder
from marketdesk.trading.paper import PaperBroker
from marketdesk.trading.service import OrderView
from support.auth import PASSWORD
from support.fakes import FakeSource

D = Decimal


def lose_the_brokers_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The paper venue takes each order, but its answer never comes back: the submit times out, as over a
    network that drops the reply (`monkeypatch.undo()` brings the answers back)."""
    real_submit = PaperBroker.submit

    async def lost_answer(self: PaperBroker, order: SubmitOrder) -> BrokerOrder:
        await real_submit(self, order)
        raise Temporary("the broker did not answer in time")

    monkeypatch.setattr(PaperBroker, "submit", lost_answer)


class Books:
    """A desk over `database`, restartable: `restart()` stops it and builds a new one on the same data."""

    def __init__(self, tmp_path: Path, clock: SimClock, database: Database) -> None:
        self.settings = load_settings(data_dir=tmp_path, market_data=["files"], database_url=database.url)
        self.clock = clock
        self.desk = build_desk(self.settings, clock, source=FakeSource(clock))
        self.user: CurrentUser | None = None
        self.account_id = ""

    async def open(self) -> None:
        async with self.desk.db.session() as session:
            created = await self.desk.accounts.create_user(session, "legs@example.com", PASSWORD, Role.ADMIN)
        self.user = CurrentUser(created.id, created.email, Role.ADMIN, session_id="test")
        self.account_id = (await self.desk.trading_accounts.open(self.user, "Paper"))["id"]

    async def restart(self) -> None:
        await self.desk.stop()
        self.desk = build_desk(self.settings, self.clock, source=FakeSource(self.clock))

    @property
    def me(self) -> CurrentUser:
        assert self.user is not None
        return self.user

    async def account(self) -> TradingAccount:
        async with self.desk.db.session() as session:
            account = await session.get(TradingAccount, self.account_id)
        assert account is not None
        return account

    async def broker(self) -> PaperBroker:
        account = await self.account()
        broker = await self.desk.brokers(account)
        assert isinstance(broker, PaperBroker)
        return broker

    def cap_fills(self, participation_rate: str) -> None:
        """Make the account's paper venue fill at most this share of each tick's volume (before its first use)."""
        self.desk.brokers._brokers[self.account_id] = PaperBroker(
            self.desk.db, self.clock, account_id=self.account_id, calendar=self.desk.brokers.paper_calendar,
            fill_model=FillModel(participation_rate=D(participation_rate)),
        )  # fmt: skip

    async def tick(self, price: str, volume: int = 1_000_000) -> list[BrokerFill]:
        """A quote one second on, shown to the venue; its fills recorded as the desk's feed records them."""
        self.clock.advance(timedelta(seconds=1))
        await self.desk.quotes.publish([Quote("AAA", self.clock.now(), D(price), volume=volume)])
        broker = await self.broker()
        async with self.desk.orders.with_venue(broker):  # one unit of work, as `PaperFeed.step`
            fills = await broker.on_tick("AAA", D(price), self.clock.now(), volume)
            await self.desk.reconciler.record_fills(self.account_id, fills)
        return fills

    async def orders(self) -> dict[str, OrderView]:
        return {o.client_order_id: o for o in await self.desk.orders.orders(self.me)}

    async def position(self) -> PositionRecord | None:
        async with self.desk.db.session() as session:
            return await session.get(PositionRecord, (self.account_id, "AAA"))

    async def audit_actions(self) -> list[str]:
        async with self.desk.db.session() as session:
            return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
