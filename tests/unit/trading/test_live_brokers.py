"""`venue.Brokers` and live trading: an Alpaca account's broker is asked for with `paper=not account.live`, and a
live one only on a desk that allows live trading and once its owner has confirmed it; a refused live account is
not cached, so the confirmation takes effect at the next order. The factory here records what it was asked for
(the real one, `alpaca_broker_from_vault`, is tested with recorded responses in test_alpaca_broker_mapping.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest

from marketdesk.clock import SimClock
from marketdesk.errors import Rejected
from marketdesk.trading.adapters.alpaca import LIVE_CONFIRMATION_PHRASE, LIVE_SETTING_ENV
from marketdesk.trading.broker import Broker
from marketdesk.trading.models import TradingAccount
from marketdesk.trading.venue import AlwaysOpen, Brokers

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


class RecordingFactory:
    """Stands in for the Alpaca factory: records each request and answers a distinct object per call."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, bool, bool]] = []

    async def __call__(self, account: TradingAccount, *, paper: bool, live_confirmed: bool) -> Broker:
        self.asked.append((account.id, paper, live_confirmed))
        return cast(Broker, object())


class Confirmations:
    def __init__(self, *confirmed: str) -> None:
        self.confirmed = set(confirmed)

    async def __call__(self, account: TradingAccount) -> bool:
        return account.id in self.confirmed


def alpaca_account(account_id: str, *, live: bool) -> TradingAccount:
    return TradingAccount(id=account_id, owner_id="usr_1", name=f"Account {account_id}", broker="alpaca", live=live,
                          kind="margin", compliance_policy="auto", compliance_json="{}", risk_json="{}",
                          state="active", state_reason="", created_at=NOW, updated_at=NOW)  # fmt: skip


def brokers(factory: RecordingFactory, *, allow_live: bool, confirmations: Confirmations | None = None) -> Brokers:
    # an Alpaca account never touches the database or the paper calendar here
    return Brokers(cast(Any, None), SimClock(NOW), AlwaysOpen(), alpaca=factory, allow_live=allow_live,
                   live_confirmed=confirmations)  # fmt: skip


async def test_an_alpaca_paper_account_gets_a_paper_broker_whatever_the_setting() -> None:
    for allow_live in (False, True):
        factory = RecordingFactory()
        await brokers(factory, allow_live=allow_live)(alpaca_account("p", live=False))
        assert factory.asked == [("p", True, False)]


async def test_a_live_account_on_a_desk_without_live_trading_is_refused_before_the_factory() -> None:
    factory = RecordingFactory()
    with pytest.raises(Rejected, match="live \\(real-money\\) trading is turned off") as caught:
        await brokers(factory, allow_live=False, confirmations=Confirmations("l"))(alpaca_account("l", live=True))
    assert f"{LIVE_SETTING_ENV}=true" in str(caught.value)
    assert factory.asked == []


async def test_an_unconfirmed_live_account_is_refused_with_the_phrase_to_type() -> None:
    factory = RecordingFactory()
    with pytest.raises(Rejected, match="until you confirm live trading") as caught:
        await brokers(factory, allow_live=True, confirmations=Confirmations())(alpaca_account("l", live=True))
    assert LIVE_CONFIRMATION_PHRASE in str(caught.value) and "/api/v1/accounts/l/live" in str(caught.value)
    assert factory.asked == []


async def test_a_desk_that_cannot_tell_confirmations_refuses_every_live_account() -> None:
    factory = RecordingFactory()
    with pytest.raises(Rejected, match="until you confirm"):
        await brokers(factory, allow_live=True)(alpaca_account("l", live=True))


async def test_a_confirmed_live_account_gets_a_live_broker_once_and_keeps_it() -> None:
    factory, confirmations = RecordingFactory(), Confirmations()
    venue = brokers(factory, allow_live=True, confirmations=confirmations)
    account = alpaca_account("l", live=True)
    with pytest.raises(Rejected):
        await venue(account)
    confirmations.confirmed.add("l")  # the owner typed the phrase: the refusal was not cached
    first = await venue(account)
    assert await venue(account) is first
    assert factory.asked == [("l", False, True)]
