"""The channels of the WebSocket API: who may subscribe to what, and which bus channel carries it.

A channel name is `FAMILY` or `FAMILY:ARGUMENT`. Each family registers an authorizer, an async callable
`(desk, user, argument) -> bus channel`, which either names the bus channel to relay or raises `Rejected`
with a message that says why. The desk registers these families:

- `quotes:SYMBOL`: public to any signed-in user; bus channel `quotes:SYMBOL`.
- `orders` and `alerts`: private; each user receives only their own. Publishers send to
  `private_channel("orders", user_id)` (bus channel `orders:user:<user_id>`); the client sees `orders`.
- `portfolio:ID`: only the portfolio's owner. The portfolio domain tells who owns one by registering an
  ownership lookup (`register_owner_lookup("portfolio", lookup)`); until it does, every portfolio is
  refused as "no such portfolio".

>>> channel = private_channel("orders", "u01")
>>> channel
'orders:user:u01'
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from marketdesk.accounts.roles import CurrentUser
from marketdesk.errors import NotFound, Rejected
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.realtime.quotes import quote_channel, quote_payload

if TYPE_CHECKING:
    from marketdesk.desk import Desk

Authorize = Callable[["Desk", CurrentUser, str | None], Awaitable[str]]
"""Decide whether `user` may subscribe; return the bus channel to relay, or raise `Rejected`."""

OwnerLookup = Callable[["Desk", str], Awaitable[str | None]]
"""The id of the user who owns the thing with this id, or None when there is no such thing."""

Latest = Callable[["Desk", str | None], dict[str, Any] | None]
"""The current value of a channel, sent to a client as it subscribes (None: nothing yet)."""

PRIVATE_FAMILIES = ("orders", "alerts")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_GLOB = frozenset("*?[")


def private_channel(family: str, user_id: str) -> str:
    """The bus channel of one user's `family` messages: publish there, the user's `family` subscribers get it.

    >>> private_channel("alerts", "u01")
    'alerts:user:u01'
    """
    if family not in PRIVATE_FAMILIES:
        raise ValueError(f"{family!r} is not a private channel family; use one of {', '.join(PRIVATE_FAMILIES)}")
    return f"{family}:user:{user_id}"


def identifier(text: str) -> str:
    """Check an id argument (e.g. a portfolio id): letters, digits, `_` and `-`, up to 64 characters."""
    if not _IDENTIFIER.fullmatch(text):
        raise Rejected(f"{text!r} is not an id", hint="Ids are letters, digits, _ and -, up to 64 characters.")
    return text


@dataclass(frozen=True, slots=True)
class ChannelFamily:
    """How one family of channels is named, authorized and started."""

    prefix: str
    authorize: Authorize
    argument: str | None = None  # what follows "prefix:", e.g. "SYMBOL"; None when the channel takes none
    normalize: Callable[[str], str] = identifier
    latest: Latest | None = None

    @property
    def example(self) -> str:
        return self.prefix if self.argument is None else f"{self.prefix}:{self.argument}"


@dataclass(frozen=True, slots=True)
class Route:
    """An authorized subscription: the name the client uses, and the bus channel that carries it."""

    public: str
    bus: str
    family: ChannelFamily
    argument: str | None


class ChannelRegistry:
    """The channel families the WebSocket API serves, and the ownership lookups of private things."""

    def __init__(self) -> None:
        self._families: dict[str, ChannelFamily] = {}
        self._owners: dict[str, OwnerLookup] = {}

    def register_channel(
        self,
        prefix: str,
        authorize: Authorize,
        *,
        argument: str | None = None,
        normalize: Callable[[str], str] = identifier,
        latest: Latest | None = None,
    ) -> None:
        """Serve the channels `prefix` (argument None) or `prefix:ARGUMENT`, authorized by `authorize`."""
        if not re.fullmatch(r"[a-z][a-z_]*", prefix):
            raise ValueError(f"channel prefix {prefix!r} must be lower-case letters and _")
        if prefix in self._families:
            raise ValueError(f"channel family {prefix!r} is already registered")
        self._families[prefix] = ChannelFamily(prefix, authorize, argument, normalize, latest)

    def register_owner_lookup(self, kind: str, lookup: OwnerLookup) -> None:
        """Tell who owns a `kind` (e.g. "portfolio"): `lookup(desk, id)` gives the owner's user id or None."""
        if kind in self._owners:
            raise ValueError(f"an owner lookup for {kind!r} is already registered")
        self._owners[kind] = lookup

    def owner_lookup(self, kind: str) -> OwnerLookup | None:
        return self._owners.get(kind)

    @property
    def examples(self) -> str:
        names = [family.example for family in self._families.values()]
        return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)

    def parse(self, name: object) -> tuple[ChannelFamily, str | None, str]:
        """The family, the normalized argument and the canonical name of a channel name; no authorization."""
        if not isinstance(name, str):
            raise Rejected(f"a channel name is a string, not {name!r}", hint=f"Subscribe to {self.examples}.")
        prefix, colon, argument = name.partition(":")
        family = self._families.get(prefix)
        if family is None:
            raise Rejected(f"unknown channel {name!r}", hint=f"Subscribe to {self.examples}.")
        if family.argument is None:
            if colon:
                raise Rejected(f"channel {prefix!r} takes no argument", hint=f"Subscribe to {prefix!r} itself.")
            return family, None, prefix
        if not argument:
            raise Rejected(f"channel {name!r} needs an argument", hint=f"Subscribe to {family.example}.")
        normalized = family.normalize(argument)
        if _GLOB & set(normalized):  # a bus pattern would reach other channels
            raise Rejected(f"{argument!r} is not a valid {family.argument}")
        return family, normalized, f"{prefix}:{normalized}"

    async def route(self, desk: Desk, user: CurrentUser, name: object) -> Route:
        """Authorize `user` for the channel `name`: its route, or `Rejected` saying why not."""
        family, argument, public = self.parse(name)
        bus = await family.authorize(desk, user, argument)
        return Route(public, bus, family, argument)


async def any_signed_in_user(desk: Desk, user: CurrentUser, argument: str | None) -> str:
    """Quotes are public to every signed-in user."""
    return quote_channel(str(argument))


def latest_quote(desk: Desk, argument: str | None) -> dict[str, Any] | None:
    quote = desk.quotes.get(str(argument))
    return None if quote is None else quote_payload(quote)


def own_messages(family: str) -> Authorize:
    """An authorizer of a private family: the caller's own bus channel, so nobody sees another's messages."""

    async def authorize(desk: Desk, user: CurrentUser, argument: str | None) -> str:
        return private_channel(family, user.id)

    return authorize


def owner_only(registry: ChannelRegistry, kind: str) -> Authorize:
    """An authorizer that lets only the owner of `kind` ARGUMENT subscribe, asking the registered lookup.

    Someone else's and a missing one are refused alike ("no such …"), so the refusal tells nobody that it
    exists. With no lookup registered yet, nothing of `kind` exists.
    """

    async def authorize(desk: Desk, user: CurrentUser, argument: str | None) -> str:
        lookup = registry.owner_lookup(kind)
        owner = None if lookup is None or argument is None else await lookup(desk, argument)
        if owner is None or owner != user.id:
            raise NotFound(f"no such {kind} {argument!r}", hint=f"Subscribe to a {kind} of your own.")
        return f"{kind}:{argument}"

    return authorize


def default_registry() -> ChannelRegistry:
    """A registry with the desk's channels: quotes, orders, alerts and portfolio (lookup not yet registered)."""
    registry = ChannelRegistry()
    registry.register_channel(
        "quotes", any_signed_in_user, argument="SYMBOL", normalize=normalize_symbol, latest=latest_quote
    )
    for family in PRIVATE_FAMILIES:
        registry.register_channel(family, own_messages(family))
    registry.register_channel("portfolio", owner_only(registry, "portfolio"), argument="ID")
    return registry


CHANNELS = default_registry()
"""The registry the WebSocket API serves unless an app sets `app.state.ws_channels`."""
register_channel = CHANNELS.register_channel
register_owner_lookup = CHANNELS.register_owner_lookup
