"""The channel registry: naming, normalizing and authorizing WebSocket channels, without a server."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from marketdesk.accounts.errors import Forbidden
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.errors import NotFound, Rejected
from marketdesk.realtime.channels import ChannelRegistry, default_registry, private_channel

ALICE = CurrentUser("u-alice", "alice@example.com", Role.TRADER, "s1")
BOB = CurrentUser("u-bob", "bob@example.com", Role.VIEWER, "s2")
DESK: Any = SimpleNamespace()  # the authorizers under test pass the desk through to lookups and never read it


def with_portfolios(owners: dict[str, str]) -> ChannelRegistry:
    registry = default_registry()

    async def owner_of(desk: Any, portfolio_id: str) -> str | None:
        assert desk is DESK
        return owners.get(portfolio_id)

    registry.register_owner_lookup("portfolio", owner_of)
    return registry


def test_a_quote_channel_is_named_by_its_normalized_symbol() -> None:
    family, argument, public = default_registry().parse("quotes: aapl")
    assert (family.prefix, argument, public) == ("quotes", "AAPL", "quotes:AAPL")


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("news:AAPL", "unknown channel 'news:AAPL'. Subscribe to quotes:SYMBOL, orders, alerts or portfolio:ID."),
        ("quotes", "channel 'quotes' needs an argument"),
        ("quotes:", "channel 'quotes:' needs an argument"),
        ("orders:u-bob", "channel 'orders' takes no argument"),
        ("quotes:*", "'*' is not a ticker symbol"),
        ("portfolio:*", "'*' is not an id"),
        ("portfolio:a?b", "'a?b' is not an id"),
        (42, "a channel name is a string, not 42"),
    ],
)
def test_malformed_or_unknown_channels_are_refused_saying_why(name: object, complaint: str) -> None:
    with pytest.raises(Rejected) as refused:
        default_registry().parse(name)
    assert refused.value.one_line().startswith(complaint)


def test_private_channels_are_per_user_bus_channels() -> None:
    assert private_channel("orders", "u-alice") == "orders:user:u-alice"
    assert private_channel("alerts", "u-bob") == "alerts:user:u-bob"
    with pytest.raises(ValueError, match="not a private channel family"):
        private_channel("quotes", "u-alice")


async def test_orders_and_alerts_route_each_user_to_their_own_bus_channel() -> None:
    registry = default_registry()
    for user in (ALICE, BOB):
        for family in ("orders", "alerts"):
            route = await registry.route(DESK, user, family)
            assert (route.public, route.bus) == (family, private_channel(family, user.id))


async def test_quotes_route_to_the_quote_bus_channel_for_any_role() -> None:
    route = await default_registry().route(DESK, BOB, "quotes:msft")
    assert (route.public, route.bus) == ("quotes:MSFT", "quotes:MSFT")


async def test_a_portfolio_routes_only_for_its_owner() -> None:
    registry = with_portfolios({"p1": ALICE.id})
    route = await registry.route(DESK, ALICE, "portfolio:p1")
    assert (route.public, route.bus) == ("portfolio:p1", "portfolio:p1")
    with pytest.raises(NotFound, match="no such portfolio 'p1'"):
        await registry.route(DESK, BOB, "portfolio:p1")
    with pytest.raises(NotFound, match="no such portfolio 'p2'"):
        await registry.route(DESK, ALICE, "portfolio:p2")


async def test_without_an_owner_lookup_no_portfolio_exists() -> None:
    with pytest.raises(NotFound, match="no such portfolio 'p1'"):
        await default_registry().route(DESK, ALICE, "portfolio:p1")


async def test_a_new_family_registers_its_own_authorization() -> None:
    registry = default_registry()

    async def traders_only(desk: Any, user: CurrentUser, argument: str | None) -> str:
        if not user.can_write:
            raise Forbidden("signals are for traders", hint="Ask an admin for the trader role.")
        return f"signals:{argument}"

    registry.register_channel("signals", traders_only, argument="NAME")
    assert (await registry.route(DESK, ALICE, "signals:momentum")).bus == "signals:momentum"
    with pytest.raises(Forbidden, match="signals are for traders"):
        await registry.route(DESK, BOB, "signals:momentum")
    assert "signals:NAME" in registry.examples


def test_registering_a_family_or_a_lookup_twice_is_a_mistake() -> None:
    registry = with_portfolios({})

    async def anyone(desk: Any, user: CurrentUser, argument: str | None) -> str:
        return "x"

    async def nobody(desk: Any, portfolio_id: str) -> str | None:
        return None

    with pytest.raises(ValueError, match="already registered"):
        registry.register_channel("quotes", anyone)
    with pytest.raises(ValueError, match="already registered"):
        registry.register_owner_lookup("portfolio", nobody)
    with pytest.raises(ValueError, match="lower-case"):
        registry.register_channel("Quotes:x", anyone)
