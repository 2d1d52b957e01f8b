"""Schemathesis over the whole OpenAPI document, as each role (admin, trader, viewer) and signed out.

Every operation of /api/openapi.json is fuzzed once per role: its documented examples, schemathesis' coverage
cases (boundaries, missing and wrongly typed values) and generated valid and invalid requests. Every answer must
be no server error, with a status, content type, headers and body the document declares for that operation
(support.openapi.CHECKS). A signed-in role is never answered 401 (but by the sign-in and refresh endpoints,
which judge the credentials in the body): its token held all along, so its cases really ran as that role.

Nothing is left out. The tests are parametrized from the document of a desk built here, and
`test_the_fuzzed_document_is_the_one_the_desk_serves` holds it equal to what each fuzzed desk serves. Operations
that sign the caller out (logout, revoking sessions, changing the password) keep their place: after each of
their cases the role's token is checked and, when that case ended its session, the role signs in again. The
WebSocket at /api/v1/ws is no OpenAPI operation; tests/integration/api/test_websocket_api.py covers it.

Each role has a desk of its own (SQLite, the small fake market), and its cases run on one xdist worker.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings

from marketdesk.accounts.passwords import Argon2Parameters, PasswordHasher
from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.desk import build_desk
from support.auth import SignedIn, api_desk, create_user, login, register_admin
from support.fakes import FakeSource
from support.openapi import CHECKS, OPENAPI_PATH, load_schema, send

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
# a case of these may end the caller's session: the current one, the one it names, or all the others
ENDS_SESSIONS = {
    "POST /api/v1/auth/logout",
    "DELETE /api/v1/auth/sessions",
    "DELETE /api/v1/auth/sessions/{session_id}",
    "POST /api/v1/auth/password",
}
# 401 from these judges the email, password or refresh token in the body, not the caller's token
JUDGE_CREDENTIALS = {"POST /api/v1/auth/login", "POST /api/v1/auth/refresh"}
# argon2 at its real cost would make the thousands of sign-in cases take minutes; test_passwords.py covers it
FAST_HASHES = Argon2Parameters(memory_kib=8, time_cost=1, parallelism=1)
ROLES = [
    pytest.param(role, marks=pytest.mark.xdist_group(f"openapi-fuzz-{role}"))
    for role in ("admin", "trader", "viewer", "anonymous")
]


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, from a desk that is never started (the document only lists the routes)."""
    with tempfile.TemporaryDirectory() as data_dir:
        clock = SimClock(NOW)
        settings = load_settings(data_dir=Path(data_dir), market_data=["files"])
        return create_app(desk=build_desk(settings, clock, source=FakeSource(clock)), web=False).openapi()


DOCUMENT = openapi_document()
schema = load_schema(DOCUMENT)


@dataclass
class Caller:
    """A role as the fuzzer speaks for it: its desk's client, and its user (None when signed out)."""

    client: TestClient
    role: str
    user: SignedIn | None

    @property
    def headers(self) -> dict[str, str]:
        return self.user.headers if self.user is not None else {}

    def token_works(self) -> bool:
        return self.user is None or self.client.get("/api/v1/auth/me", headers=self.headers).status_code == 200

    def sign_in_again_if_signed_out(self) -> None:
        if self.user is not None and not self.token_works():
            self.user = login(self.client, self.user.email, self.role)


@pytest.fixture(scope="module", params=ROLES)
def caller(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Caller]:
    """A desk of the role's own, with its admin and a user of the role, that user signed in."""
    role = str(request.param)
    # api_desk's rate limits are generous, so fuzzing meets no 429; test_api_refusals.py holds those to the document
    desk = api_desk(tmp_path_factory.mktemp(f"openapi-fuzz-{role}"), SimClock(NOW))
    desk.accounts.hasher = PasswordHasher(FAST_HASHES)
    # a server error comes back as the 500 a client would get, instead of being raised into the test
    with TestClient(create_app(desk=desk, web=False), raise_server_exceptions=False) as client:
        admin = register_admin(client)
        user = {"admin": admin, "anonymous": None}.get(role)
        if role in {"trader", "viewer"}:
            user = create_user(client, admin, f"{role}@example.com", role)
        yield Caller(client, role, user)


@schema.parametrize()
# reproducible (derandomize); a failure is reported as found, with its curl line, since shrinking takes minutes
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, caller: Caller) -> None:
    response = send(caller.client, case, caller.headers)
    try:
        case.validate_response(response, checks=CHECKS)
        if caller.user is not None and case.operation.label not in JUDGE_CREDENTIALS:
            assert response.status_code != 401, f"{caller.role} was taken for a stranger: {response.text}"
    finally:
        if case.operation.label in ENDS_SESSIONS:
            caller.sign_in_again_if_signed_out()


def test_the_fuzzed_document_is_the_one_the_desk_serves(caller: Caller) -> None:
    served = caller.client.get(OPENAPI_PATH)
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    operations = [f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item]
    assert len(operations) >= 44  # auth 10, admin 5, market data 14, screener 5, vault 4, audit 3, health 3
