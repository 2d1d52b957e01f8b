"""Who a browser is on the web desk: the guest of a desk with no users, a signed-in user, or nobody."""

from __future__ import annotations

import pytest

from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.web.identity import ANONYMOUS, WebIdentity


def user(role: Role) -> CurrentUser:
    return CurrentUser("u1", "ann@example.com", role, "s1", via="cookie")


def test_a_fresh_desk_serves_its_guest_on_the_shared_lists() -> None:
    guest = WebIdentity(user=None, desk_has_users=False)
    assert guest.allowed and guest.can_write and guest.owner_id is None


def test_once_the_desk_has_users_a_browser_must_sign_in() -> None:
    assert not ANONYMOUS.allowed and not ANONYMOUS.can_write
    assert not WebIdentity(user=None, desk_has_users=True).allowed


@pytest.mark.parametrize(("role", "writes"), [(Role.ADMIN, True), (Role.TRADER, True), (Role.VIEWER, False)])
def test_a_signed_in_browser_works_on_its_own_lists_as_its_role_allows(role: Role, writes: bool) -> None:
    identity = WebIdentity(user=user(role), desk_has_users=True)
    assert identity.allowed and identity.owner_id == "u1" and identity.can_write is writes
