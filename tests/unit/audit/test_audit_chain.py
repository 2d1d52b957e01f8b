"""The audit chain's pure parts: canonical detail JSON, the entry hash, and the guard against secrets."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from marketdesk.audit.service import GENESIS_HASH, canonical_detail, entry_hash
from marketdesk.errors import Operational


@dataclass
class Answer:
    status: str
    headers: dict[str, object]


TS = datetime(2026, 11, 20, 15, 0, 0, 123456, tzinfo=UTC)
FIELDS: dict[str, Any] = {
    "seq": 1,
    "ts": TS,
    "actor_id": "usr_1",
    "action": "login.succeeded",
    "target": "a@b.c",
    "detail": "{}",
    "ip": "10.0.0.1",
}


def hash_of(prev_hash: str = GENESIS_HASH, **changes: Any) -> str:
    return entry_hash(prev_hash, **{**FIELDS, **changes})


def test_the_hash_is_sha256_of_prev_hash_and_the_canonical_fields() -> None:
    detail = canonical_detail({"b": 1, "a": "x"})
    assert detail == '{"a":"x","b":1}'
    payload = json.dumps(
        [1, "2026-11-20T15:00:00.123456+00:00", "usr_1", "login.succeeded", "a@b.c", detail, "10.0.0.1"],
        separators=(",", ":"),
    )
    expected = hashlib.sha256((GENESIS_HASH + payload).encode()).hexdigest()
    assert hash_of(detail=detail) == expected
    assert GENESIS_HASH == "0" * 64


def test_the_hash_does_not_depend_on_the_timestamps_zone() -> None:
    eastern = TS.astimezone(timezone(timedelta(hours=-5)))
    assert hash_of(ts=eastern) == hash_of()


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 2},
        {"ts": TS + timedelta(microseconds=1)},
        {"actor_id": None},
        {"action": "login.failed"},
        {"target": "a@b.d"},
        {"ip": "10.0.0.2"},
        {"detail": '{"a":1}'},
        {"detail": '{"a": 1}'},
    ],
)
def test_any_changed_field_changes_the_hash(change: dict[str, object]) -> None:
    base = hash_of()
    assert hash_of(**change) != base
    assert hash_of("f" * 64) != base


def test_detail_values_of_our_types_are_encoded_exactly() -> None:
    detail = canonical_detail({"qty": Decimal("1.50"), "at": TS, "names": ("x", "y"), "é": "ü"})
    assert json.loads(detail) == {"qty": "1.50", "at": TS.isoformat(), "names": ["x", "y"], "é": "ü"}
    assert "é" in detail  # stored readable, not \\u-escaped


@pytest.mark.parametrize(
    ("detail", "key"),
    [
        ({"password": "hunter2"}, "password"),
        ({"new_Password": "hunter2"}, "new_Password"),
        ({"refresh_token": "hunter2"}, "refresh_token"),
        ({"client_secret": "hunter2"}, "client_secret"),
        ({"api_key": "hunter2"}, "api_key"),
        ({"apiKey": "hunter2"}, "apiKey"),
        ({"private-key": "hunter2"}, "private-key"),
        ({"Authorization": "Bearer hunter2"}, "Authorization"),
        ({"nested": {"passphrase": "hunter2"}}, "passphrase"),
        ({"list": [{"ok": 1}, {"cookie": "hunter2"}]}, "cookie"),
        ({"answer": Answer("ok", {"api_key": "hunter2"})}, "api_key"),  # inside a dataclass the encoder meets
        ({"answers": (Answer("ok", {}), Answer("hunter2", {"token": 1}))}, "token"),
    ],
)
def test_a_detail_key_that_names_a_secret_is_refused(detail: dict[str, object], key: str) -> None:
    with pytest.raises(Operational, match="names a secret") as caught:
        canonical_detail(detail)
    assert repr(key) in caught.value.one_line()
    assert "hunter2" not in caught.value.one_line()


def test_ordinary_detail_keys_pass() -> None:
    detail = {"name": "alpaca_secret_key", "provider": "alpaca", "role": "admin", "kid": "k1", "reason": "x"}
    assert json.loads(canonical_detail(detail)) == detail


@settings(deadline=None)  # timing is not under test; a loaded CI worker must not flake
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "qty", "role"]), st.integers() | st.text(max_size=8)))
def test_canonical_detail_is_the_same_whatever_the_key_order(detail: dict[str, object]) -> None:
    reversed_order = dict(reversed(list(detail.items())))
    assert canonical_detail(detail) == canonical_detail(reversed_order)


def stdlib_entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash as the log's entries were first written: the standard library's compact JSON, non-ASCII kept.
    Every entry already stored was hashed this way, so `entry_hash` must agree with it byte for byte."""
    ts = fields["ts"].astimezone(UTC).isoformat(timespec="microseconds")
    values = [fields["seq"], ts, fields["actor_id"], fields["action"], fields["target"], fields["detail"], fields["ip"]]
    payload = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode(values)
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


# any character that can be stored: a lone surrogate cannot be written as UTF-8, so no entry ever held one
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=40)


@settings(deadline=None, max_examples=300)
@given(
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    actor_id=st.none() | ANY_TEXT,
    action=ANY_TEXT,
    target=ANY_TEXT,
    detail=ANY_TEXT,
    ip=ANY_TEXT,
)
@example(seq=2**64, actor_id=None, action="a", target="", detail="{}", ip="")  # beyond orjson: the fallback
@example(seq=1, actor_id="ü", action="a", target="\x00\x1f\x7f\u2028", detail='{"é":"\\n"}', ip="\t")
def test_the_hash_is_what_the_standard_library_wrote_for_any_text(
    seq: int, actor_id: str | None, action: str, target: str, detail: str, ip: str
) -> None:
    fields = {"seq": seq, "ts": TS, "actor_id": actor_id, "action": action, "target": target, "detail": detail}
    fields["ip"] = ip
    assert entry_hash("ab" * 32, **fields) == stdlib_entry_hash("ab" * 32, fields)
