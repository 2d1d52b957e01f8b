"""kit/jsonutil.sorted_json: orjson's text, checked against the standard library's encoder."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.kit.jsonutil import sorted_json

STDLIB = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=20)
PLAIN = st.recursive(  # JSON data without floats: the kinds whose text must match the standard library's
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(deadline=None, max_examples=300)
@given(PLAIN)
def test_plain_data_is_written_byte_for_byte_as_the_standard_library_writes_it(value: Any) -> None:
    assert sorted_json(value) == STDLIB.encode(value)


@settings(deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_reads_back_as_the_same_number(number: float) -> None:
    assert json.loads(sorted_json({"x": number})) == {"x": number}


def test_what_orjson_refuses_is_written_by_the_standard_library() -> None:
    huge = {"b": 2**70, "a": -(2**80)}
    assert sorted_json(huge) == '{"a":-1208925819614629174706176,"b":1180591620717411303424}'
    deep: Any = "leaf"
    for _ in range(300):
        deep = [deep]
    assert sorted_json(deep) == STDLIB.encode(deep)


class Colour(StrEnum):
    RED = "red"


@dataclass
class Leg:
    qty: Decimal
    at: datetime


def test_our_types_are_written_as_to_jsonable_writes_them_with_keys_sorted_at_every_level() -> None:
    at = datetime(2026, 11, 20, 15, 0, 0, 61000, tzinfo=UTC)
    value = {
        "z": Decimal("1.50"),
        "a": {"when": at, "day": date(2026, 11, 20), "colour": Colour.RED, "leg": Leg(Decimal("2"), at)},
        "nan": math.nan,
        "inf": Decimal("Infinity"),
        "é": ("ü",),
    }
    assert sorted_json(value) == (
        '{"a":{"colour":"red","day":"2026-11-20","leg":{"at":"2026-11-20T15:00:00.061000+00:00","qty":"2"},'
        '"when":"2026-11-20T15:00:00.061000+00:00"},"inf":null,"nan":null,"z":"1.50","é":["ü"]}'
    )
