"""Trading accounts: open one, read its balances, positions and status, set its risk limits and compliance
policy, the kill switch, and the confirmation of live trading. Every call is scoped to the signed-in owner; each
change is audited, and the kill switch and the live confirmation are also pushed on the owner's `orders` channel.

Live (real-money) trading is an Alpaca account opened with `live=True`, which the desk allows only with the
setting `allow_live_trading`. Such an account is `live` from the start but places nothing until its owner
confirms it by typing `LIVE_CONFIRMATION_PHRASE` (`confirm_live`). The confirmation is not a column: it is the
`trading.live_confirmed` entry of the hash-chained audit log (actor: the owner, target: the account), which
cannot be edited without breaking the chain; `is_live_confirmed` reads it for `venue.Brokers`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.errors import Forbidden
from marketdesk.accounts.roles import CurrentUser
from marketdesk.audit.service import AuditService
from marketdesk.clock import Clock
from marketdesk.db import Database
from marketdesk.errors import NotFound, Rejected
from marketdesk.kit.jsonutil import to_jsonable
from marketdesk.trading import compliance
from marketdesk.trading.activity import Execution, SessionCalendar, Side
from marketdesk.trading.adapters.alpaca import (
    LIVE_CONFIRMATION_PHRASE,
    KeyVault,
    check_alpaca_keys,
    is_live_confirmation,
    live_trading_off,
)
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.repository import TradingRepository
from marketdesk.trading.risk import RiskLimits, TradingState
from marketdesk.trading.service import COMPLIANCE_LOOKBACK, ORDERS_CHANNEL, BrokerFor, MarketView, Publish
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
LIVE_BROKERS = ("alpaca",)  # the venues with real money behind them
LIVE_CONFIRMED = "trading.live_confirmed"  # the audit action that confirms a live account
MAX_LIVE_CONFIRMATIONS = 10_000  # per owner: one per live account, read at once


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
    """The trading accounts of each user. `allow_live` is the desk setting `allow_live_trading`; `vault` holds the
    owners' Alpaca keys (checked when an Alpaca account opens); `publish` pushes account events on the owner's
    `orders` channel."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        calendar: SessionCalendar,
        audit: AuditService,
        broker_for: BrokerFor,
        market: MarketView,
        *,
        allow_live: bool = False,
        vault: KeyVault | None = None,
        publish: Publish | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar
        self.audit = audit
        self.broker_for = broker_for
        self.market = market
        self.allow_live = allow_live
        self.vault = vault
        self.publish = publish

    async def open(
        self,
        user: CurrentUser,
        name: str,
        *,
        broker: str = "paper",
        kind: str = "margin",
        policy: str = "auto",
        risk: dict[str, Any] | None = None,
        live: bool = False,
    ) -> dict[str, Any]:
        """Open a trading account for `user` (a paper account by default).

        An Alpaca account needs the user's Alpaca keys in the vault (paper keys, or live keys with `live=True`).
        A live account needs the desk setting `allow_live_trading` and places nothing until `confirm_live`.
        """
        name = name.strip()
        if not 1 <= len(name) <= 80:
            raise Rejected("an account name needs 1 to 80 characters")
        if broker not in BROKERS:
            raise Rejected(f"unknown broker {broker!r}", hint=f"Use one of {', '.join(BROKERS)}.")
        if kind not in KINDS:
            raise Rejected(f"unknown account kind {kind!r}", hint="Use margin or cash.")
        if live and broker not in LIVE_BROKERS:
            raise Rejected(
                f"a {broker} account cannot be live: it trades pretend money",
                hint=f"Open a live account at {' or '.join(LIVE_BROKERS)} (broker alpaca, live true).",
            )
        if live and not self.allow_live:
            raise live_trading_off("a live Alpaca account cannot be opened")
        settings = compliance_from_dict({"policy": "cash-account" if kind == "cash" else policy})
        limits = risk_from_dict(risk or {})
        now = self.clock.now()
        async with self.db.session() as session:
            repo = TradingRepository(session)
            if await repo.account_named(name, owner_id=user.id) is not None:
                raise Rejected(f"you already have an account named {name!r}", hint="Pick another name.")
            if broker == "alpaca":
                if self.vault is None:
                    raise Rejected("Alpaca is not set up on this desk", hint="Open a paper account instead.")
                await check_alpaca_keys(self.vault, session, user.id, paper=not live)
            account = TradingAccount(
                id=uuid.uuid4().hex, owner_id=user.id, name=name, broker=broker, live=live, kind=kind,
                compliance_policy=settings.policy.value, compliance_json=json.dumps(compliance_to_dict(settings)),
                risk_json=json.dumps(risk_to_dict(limits)), state=TradingState.ACTIVE.value, state_reason="",
                created_at=now, updated_at=now,
            )  # fmt: skip
            repo.add(account)
            await self.audit.record(
                session, "trading.account_opened", actor_id=user.id, target=account.id,
                detail={"name": name, "broker": broker, "kind": kind, "policy": settings.policy.value, "live": live},
            )  # fmt: skip
            return _summary(account, None)

    async def list_accounts(self, user: CurrentUser) -> list[dict[str, Any]]:
        async with self.db.session() as session:
            accounts = await TradingRepository(session).accounts(owner_id=user.id)
            confirmed = await self._confirmations(session, user.id) if any(a.live for a in accounts) else {}
        return [_summary(a, confirmed.get(a.id)) for a in accounts]

    async def get(self, user: CurrentUser, account_id: str) -> dict[str, Any]:
        """The account with its balances (from the broker), positions and settings."""
        async with self.db.session() as session:
            account = await self._account(TradingRepository(session), account_id, user)
            summary = await self._summary_of(session, account)
        broker = await self.broker_for(account)
        balances = await broker.account()
        return {
            **summary,
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
            summary = await self._summary_of(session, account)
        await self._publish(account.owner_id, "kill_switch", summary)
        return summary

    async def confirm_live(self, user: CurrentUser, account_id: str, confirmation: str) -> dict[str, Any]:
        """Confirm live (real-money) trading on one of `user`'s live Alpaca accounts by the typed phrase.

        Only the account's owner, as a trader or admin, on a desk that allows live trading, with exactly
        `LIVE_CONFIRMATION_PHRASE`, e.g. `confirm_live(user, account_id, "I understand this is real money")`.
        Confirming again changes nothing. Audited as `trading.live_confirmed`.
        """
        if not user.can_write:
            raise Forbidden("viewers cannot confirm live trading", hint="Ask an admin for the trader role.")
        async with self.db.session() as session:
            account = await self._account(TradingRepository(session), account_id, user)
            if not account.live:
                raise Rejected(
                    f"account {account.name} is not a live account: it trades {account.broker} "
                    f"{'pretend money' if account.broker == 'paper' else 'paper money'}, with nothing to confirm",
                    hint="To trade real money, open a live Alpaca account (broker alpaca, live true).",
                )
            if not self.allow_live:
                raise live_trading_off(f"live trading on account {account.name} cannot be confirmed")
            if not is_live_confirmation(confirmation):
                raise Rejected(
                    "the confirmation does not match the phrase, so live trading stays off",
                    hint=f"Type exactly “{LIVE_CONFIRMATION_PHRASE}” (capitals and spaces as shown).",
                )
            confirmed_at = (await self._confirmations(session, account.owner_id)).get(account.id)
            if confirmed_at is not None:
                return _summary(account, confirmed_at)
            entry = await self.audit.record(
                session, LIVE_CONFIRMED, actor_id=user.id, target=account.id,
                detail={"name": account.name, "broker": account.broker, "kind": account.kind},
            )  # fmt: skip
            summary = _summary(account, entry.ts)
        # no broker of this account is cached: every request for one was refused until now (venue.Brokers)
        await self._publish(account.owner_id, "live_confirmed", summary)
        return summary

    async def is_live_confirmed(self, account: TradingAccount) -> bool:
        """Whether the owner of live `account` has confirmed live trading on it (`venue.Brokers` asks)."""
        async with self.db.session() as session:
            return account.id in await self._confirmations(session, account.owner_id)

    async def compliance_status(self, user: CurrentUser, account_id: str) -> dict[str, Any]:
        """Where the account stands under its policy now: day trades used and the next drop-off (legacy), or
        requirement, equity and headroom (intraday margin), or settled cash (cash account)."""
        now = self.clock.now()
        async with self.db.session() as session:
            repo = TradingRepository(session)
            account = await self._account(repo, account_id, user)
            fills = await repo.fills_for_account(account.id, since=now - COMPLIANCE_LOOKBACK)
            positions = await repo.position_quantities(account.id)
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
        account = await repo.account_for_update(account_id, owner_id=user.id)
        if account is None:
            raise NotFound(f"no trading account {account_id!r}", hint="List yours: GET /api/v1/accounts.")
        return account

    async def _confirmations(self, session: AsyncSession, owner_id: str) -> dict[str, datetime]:
        """When `owner_id` confirmed each of their live accounts (the first confirmation), by account id."""
        entries = await self.audit.entries(
            session, actor_id=owner_id, action=LIVE_CONFIRMED, limit=MAX_LIVE_CONFIRMATIONS
        )
        return {entry.target: entry.ts for entry in reversed(entries)}  # newest first: keep the first

    async def _summary_of(self, session: AsyncSession, account: TradingAccount) -> dict[str, Any]:
        confirmed = await self._confirmations(session, account.owner_id) if account.live else {}
        return _summary(account, confirmed.get(account.id))

    async def _publish(self, owner_id: str, event: str, summary: dict[str, Any]) -> None:
        if self.publish is not None:
            await self.publish(owner_id, ORDERS_CHANNEL, {"event": event, "account": to_jsonable(summary)})


def _summary(account: TradingAccount, live_confirmed_at: datetime | None) -> dict[str, Any]:
    """The account as listed. `live_confirmed` is true only for a live account whose owner confirmed it."""
    return {
        "id": account.id,
        "name": account.name,
        "broker": account.broker,
        "live": account.live,
        "live_confirmed": account.live and live_confirmed_at is not None,
        "live_confirmed_at": live_confirmed_at if account.live else None,
        "kind": account.kind,
        "policy": account.compliance_policy,
        "state": account.state,
        "state_reason": account.state_reason,
        "created_at": account.created_at,
    }


__all__ = ["AccountService", "PositionView", "RiskLimits"]
