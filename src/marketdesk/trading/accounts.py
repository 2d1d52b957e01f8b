"""Trading accounts: open one, read its balances, positions and status, set its risk limits and compliance
policy, and the kill switch. Every call is scoped to the signed-in owner; each change is audited."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from marketdesk.accounts.roles import CurrentUser
from marketdesk.audit.service import AuditService
from marketdesk.clock import Clock
from marketdesk.db import Database
from marketdesk.errors import NotFound, Rejected
from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.trading import compliance
from marketdesk.trading.activity import Execution, SessionCalendar, Side
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.repository import TradingRepository
from marketdesk.trading.risk import RiskLimits, TradingState
from marketdesk.trading.service import COMPLIANCE_LOOKBACK, BrokerFor, MarketView
from marketdesk.trading.settings import (
    compliance_from_dict,
    compliance_from_json,
    compliance_to_dict,
    risk_from_dict,
    risk_from_json,
    risk_to_dict,
)

BROKERS = ("paper", "alpaca")
KINDS = ("margin", "cash")


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    qty: Decimal
    average_price: Decimal
    market_price: Decimal | None
    market_value: Decimal | None
    unrealized_pnl: Decimal | None
    realized_pnl: Decimal


class AccountService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        calendar: SessionCalendar,
        audit: AuditService,
        broker_for: BrokerFor,
        market: MarketView,
    ) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar
        self.audit = audit
        self.broker_for = broker_for
        self.market = market

    async def open(
        self,
        user: CurrentUser,
        name: str,
        *,
        broker: str = "paper",
        kind: str = "margin",
        policy: str = "auto",
        risk: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Open a trading account for `user` (a paper account by default)."""
        name = name.strip()
        if not 1 <= len(name) <= 80:
            raise Rejected("an account name needs 1 to 80 characters")
        if broker not in BROKERS:
            raise Rejected(f"unknown broker {broker!r}", hint=f"Use one of {', '.join(BROKERS)}.")
        if kind not in KINDS:
            raise Rejected(f"unknown account kind {kind!r}", hint="Use margin or cash.")
        settings = compliance_from_dict({"policy": "cash-account" if kind == "cash" else policy})
        limits = risk_from_dict(risk or {})
        now = self.clock.now()
        async with self.db.session() as session:
            repo = TradingRepository(session)
            if await repo.account_named(name, owner_id=user.id) is not None:
                raise Rejected(f"you already have an account named {name!r}", hint="Pick another name.")
            account = TradingAccount(
                id=uuid.uuid4().hex, owner_id=user.id, name=name, broker=broker, live=False, kind=kind,
                compliance_policy=settings.policy.value, compliance_json=json.dumps(compliance_to_dict(settings)),
                risk_json=json.dumps(risk_to_dict(limits)), state=TradingState.ACTIVE.value, state_reason="",
                created_at=now, updated_at=now,
            )  # fmt: skip
            repo.add(account)
            await self.audit.record(
                session, "trading.account_opened", actor_id=user.id, target=account.id,
                detail={"name": name, "broker": broker, "kind": kind, "policy": settings.policy.value},
            )  # fmt: skip
            return _summary(account)

    async def list_accounts(self, user: CurrentUser) -> list[dict[str, Any]]:
        async with self.db.session() as session:
            return [_summary(a) for a in await TradingRepository(session).accounts(owner_id=user.id)]

    async def get(self, user: CurrentUser, account_id: str) -> dict[str, Any]:
        """The account with its balances (from the broker), positions and settings."""
        async with self.db.session() as session:
            account = await self._account(TradingRepository(session), account_id, user)
        broker = await self.broker_for(account)
        balances = await broker.account()
        return {
            **_summary(account),
            "balances": to_jsonable(asdict(balances)),
            "positions": [to_jsonable(asdict(p)) for p in await self.positions(user, account_id)],
            "risk": risk_to_dict(risk_from_json(account.risk_json)),
            "compliance": compliance_to_dict(compliance_from_json(account.compliance_json)),
        }

    async def positions(self, user: CurrentUser, account_id: str | None = None) -> list[PositionView]:
        """Open positions, marked at the last price, of one account (or all of the user's)."""
        async with self.db.session() as session:
            repo = TradingRepository(session)
            accounts = (
                [await self._account(repo, account_id, user)] if account_id else await repo.accounts(owner_id=user.id)
            )
            rows = [p for a in accounts for p in await repo.positions_for_account(a.id) if p.qty != 0]
        marks = await self.market.prices({row.symbol for row in rows})
        out = []
        for row in rows:
            mark = marks.get(row.symbol)
            out.append(
                PositionView(
                    symbol=row.symbol, qty=row.qty, average_price=row.average_price, market_price=mark,
                    market_value=None if mark is None else row.qty * mark,
                    unrealized_pnl=None if mark is None else (mark - row.average_price) * row.qty,
                    realized_pnl=row.realized_pnl,
                )
            )  # fmt: skip
        return out

    async def update_risk(self, user: CurrentUser, account_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        async with self.db.session() as session:
            repo = TradingRepository(session)
            account = await self._account(repo, account_id, user)
            limits = risk_from_dict(changes, base=risk_from_json(account.risk_json))
            account.risk_json = json.dumps(risk_to_dict(limits))
            account.updated_at = self.clock.now()
            await self.audit.record(
                session, "trading.risk_changed", actor_id=user.id, target=account.id, detail=changes
            )
            return risk_to_dict(limits)

    async def update_compliance(self, user: CurrentUser, account_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        async with self.db.session() as session:
            repo = TradingRepository(session)
            account = await self._account(repo, account_id, user)
            settings = compliance_from_dict(changes, base=compliance_from_json(account.compliance_json))
            if account.kind == "cash" and settings.policy is not compliance.Policy.CASH_ACCOUNT:
                raise Rejected("a cash account keeps the cash-account policy", hint="Open a margin account instead.")
            account.compliance_json = json.dumps(compliance_to_dict(settings))
            account.compliance_policy = settings.policy.value
            account.updated_at = self.clock.now()
            await self.audit.record(
                session, "trading.compliance_changed", actor_id=user.id, target=account.id, detail=changes
            )
            return compliance_to_dict(settings)

    async def set_kill_switch(
        self, user: CurrentUser, account_id: str, *, on: bool, reason: str = ""
    ) -> dict[str, Any]:
        """HALTED (on): nothing but cancels passes. Off: back to ACTIVE."""
        state = TradingState.HALTED if on else TradingState.ACTIVE
        note = reason or ("kill switch on" if on else "kill switch off")
        async with self.db.session() as session:
            repo = TradingRepository(session)
            account = await self._account(repo, account_id, user)
            await repo.set_state(account.id, state.value, note, self.clock.now())
            await self.audit.record(
                session, "trading.kill_switch", actor_id=user.id, target=account.id, detail={"on": on, "reason": note}
            )
            account.state, account.state_reason = state.value, note
            return _summary(account)

    async def compliance_status(self, user: CurrentUser, account_id: str) -> dict[str, Any]:
        """Where the account stands under its policy now: day trades used and the next drop-off (legacy), or
        requirement, equity and headroom (intraday margin), or settled cash (cash account)."""
        now = self.clock.now()
        async with self.db.session() as session:
            repo = TradingRepository(session)
            account = await self._account(repo, account_id, user)
            fills = await repo.fills_for_account(account.id, since=now - COMPLIANCE_LOOKBACK)
            positions = {p.symbol: p.qty for p in await repo.positions_for_account(account.id)}
        balances = await (await self.broker_for(account)).account()
        executions = tuple(Execution(f.time, f.symbol, Side(f.side), f.qty, f.price) for f in fills)
        opening = dict(positions)
        for execution in executions:
            opening[execution.symbol] = opening.get(execution.symbol, Decimal(0)) - execution.side.sign * execution.qty
        prices = await self.market.prices(positions)
        snapshot = compliance.AccountSnapshot(
            at=now, equity=balances.equity, executions=executions,
            opening_positions={s: q for s, q in opening.items() if q != 0}, prices=prices,
            previous_close_equity=balances.last_equity, previous_close_maintenance=balances.last_maintenance_margin,
        )  # fmt: skip
        try:
            return to_jsonable(
                compliance.status(snapshot, compliance_from_json(account.compliance_json), self.calendar)
            )
        except compliance.MissingPrice as exc:
            raise Rejected(str(exc)) from None

    async def _account(self, repo: TradingRepository, account_id: str, user: CurrentUser) -> TradingAccount:
        account = await repo.account(account_id, owner_id=user.id)
        if account is None:
            raise NotFound(f"no trading account {account_id!r}", hint="List yours: GET /api/v1/accounts.")
        return account


def _summary(account: TradingAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "broker": account.broker,
        "live": account.live,
        "kind": account.kind,
        "policy": account.compliance_policy,
        "state": account.state,
        "state_reason": account.state_reason,
        "created_at": account.created_at,
    }


__all__ = ["AccountService", "PositionView", "RiskLimits"]
