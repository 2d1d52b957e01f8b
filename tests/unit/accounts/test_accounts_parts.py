"""The small pure parts of accounts: roles, refresh-token and CSRF helpers, the failure delays, email
normalisation, rate-limit parsing and counting, and the security headers per kind of response."""

from __future__ import annotations

import hashlib
import inspect

import pytest

from marketdesk.accounts.errors import SignInThrottled, Unauthorized, keeps_changes
from marketdesk.accounts.ratelimit import RateLimiter, parse_limit
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.accounts.tokens import csrf_token, hash_refresh_token, new_refresh_token, same_secret
from marketdesk.accounts.views import failure_delay_s, normalize_email
from marketdesk.config import Settings
from marketdesk.errors import ConfigError, Rejected
from marketdesk.marketdata.repository import MarketDataRepository
from marketdesk.middleware import API_CSP, DOCS_CSP, PAGE_CSP, csp_for, security_headers


def test_roles_are_ordered_admin_over_trader_over_viewer() -> None:
    assert Role.ADMIN.includes(Role.TRADER) and Role.TRADER.includes(Role.VIEWER)
    assert not Role.VIEWER.includes(Role.TRADER) and not Role.TRADER.includes(Role.ADMIN)
    viewer = CurrentUser("u1", "v@example.com", Role.VIEWER, "s1")
    trader = CurrentUser("u2", "t@example.com", Role.TRADER, "s2")
    assert not viewer.can_write and trader.can_write and not trader.can(Role.ADMIN)


def test_refresh_tokens_are_256_bit_random_and_stored_as_sha256() -> None:
    tokens = {new_refresh_token() for _ in range(200)}
    assert len(tokens) == 200
    token = tokens.pop()
    assert len(token) >= 43  # 32 bytes, URL-safe base64
    assert hash_refresh_token(token) == hashlib.sha256(token.encode()).hexdigest()


def test_the_csrf_token_is_bound_to_its_session_and_key() -> None:
    key = b"k" * 32
    assert csrf_token(key, "s1") == csrf_token(key, "s1")
    assert csrf_token(key, "s1") != csrf_token(key, "s2")
    assert csrf_token(key, "s1") != csrf_token(b"j" * 32, "s1")


def test_same_secret_is_false_when_either_is_missing() -> None:
    assert same_secret("a", "a") and not same_secret("a", "b")
    assert not same_secret(None, "a") and not same_secret("a", None) and not same_secret(None, None)


def test_failed_sign_ins_wait_longer_and_longer_up_to_a_minute() -> None:
    assert [failure_delay_s(n) for n in range(1, 8)] == [0, 1, 2, 4, 8, 16, 32]
    assert failure_delay_s(30) == 60


@pytest.mark.parametrize(
    ("given", "expected"), [(" Ann@Example.COM ", "ann@example.com"), ("a@localhost", "a@localhost")]
)
def test_emails_are_trimmed_and_lower_cased(given: str, expected: str) -> None:
    assert normalize_email(given) == expected


@pytest.mark.parametrize("bad", ["", "ann", "ann@", "@example.com", "a b@example.com", "a@b@c", "x" * 250 + "@e.com"])
def test_what_cannot_be_an_email_is_refused(bad: str) -> None:
    with pytest.raises(Rejected, match="not an email"):
        normalize_email(bad)


def test_refusals_that_record_something_keep_their_changes() -> None:
    assert keeps_changes(Unauthorized("x", keeps_changes=True))
    assert not keeps_changes(Unauthorized("x"))
    throttled = SignInThrottled("wait", retry_after_s=3)
    assert keeps_changes(throttled) and throttled.http_status == 429 and throttled.retry_after_s == 3
    assert not keeps_changes(ValueError())


def test_rate_limits_are_parsed_or_named_in_the_error() -> None:
    assert parse_limit("10/minute", name="rate_limit_auth").amount == 10
    with pytest.raises(ConfigError, match="rate_limit_auth"):
        parse_limit("lots", name="rate_limit_auth")


async def test_the_in_memory_limiter_counts_per_client(tmp_path: object) -> None:
    limiter = RateLimiter(Settings(data_dir=tmp_path, rate_limit_auth="2/minute"))
    assert await limiter.check_auth("1.2.3.4") is None
    assert await limiter.check_auth("1.2.3.4") is None
    wait = await limiter.check_auth("1.2.3.4")
    assert wait is not None and 1 <= wait <= 60
    assert await limiter.check_auth("5.6.7.8") is None  # another client has its own budget
    assert await limiter.check_global("1.2.3.4") is None  # and the global budget is separate
    await limiter.reset()
    assert await limiter.check_auth("1.2.3.4") is None


def test_each_kind_of_response_gets_its_content_security_policy() -> None:
    assert csp_for("/api/v1/symbols") == API_CSP and csp_for("/healthz") == API_CSP
    assert csp_for("/api/docs") == DOCS_CSP
    assert csp_for("/") == PAGE_CSP and csp_for("/symbol/AAPL") == PAGE_CSP
    # the web desk's pages load nothing from another origin, and frame nowhere
    assert "http" not in PAGE_CSP and "frame-ancestors 'none'" in PAGE_CSP
    assert "connect-src 'self'" in PAGE_CSP  # NiceGUI's websocket and fetches go to the desk itself
    assert "strict-transport-security" not in security_headers("/", https=False)
    assert security_headers("/", https=True)["strict-transport-security"].startswith("max-age=")


def test_watchlist_queries_cannot_be_called_without_their_owner() -> None:
    """Every repository method on watchlists takes `owner_id` as a keyword with no default."""
    methods = [name for name in dir(MarketDataRepository) if "watchlist" in name and not name.startswith("__")]
    assert len(methods) >= 6
    for name in methods:
        parameter = inspect.signature(getattr(MarketDataRepository, name)).parameters.get("owner_id")
        assert parameter is not None, name
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is inspect.Parameter.empty, name
