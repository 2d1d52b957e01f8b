"""JSON that knows our types: Decimal as a string (exact), datetimes as ISO 8601, NaN/inf as null."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import orjson


def to_jsonable(value: Any) -> Any:
    """Convert `value` into plain JSON data. Floats that are NaN or infinite become None."""
    kind = type(value)  # the common exact types first, by identity: this runs on every order's audit entries
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        plain = {}
        for key, inner in value.items():
            held = type(inner)  # plain values inline: a call per value was most of the walk's time
            plain[key if type(key) is str else str(key)] = (
                inner if held is str or inner is None or held is int or held is bool else to_jsonable(inner)
            )
        return plain
    if kind is Decimal:
        return str(value) if value.is_finite() else None
    if kind is list or kind is tuple:
        return [to_jsonable(v) for v in value]
    if kind is datetime:
        return value.isoformat()
    return _other(value)


def _other(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str | int | bool):
        return value
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return _dataclass(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return to_jsonable(value.item())
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump())
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _dataclass(value: Any) -> dict[str, Any]:
    """Field by field (`asdict` deep-copies first), plain values inline as in `to_jsonable`."""
    plain = {}
    kind: type = type(value)
    for name in _field_names(kind):
        inner = getattr(value, name)
        held = type(inner)
        plain[name] = inner if held is str or inner is None or held is int or held is bool else to_jsonable(inner)
    return plain


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def dumps(value: Any, **kwargs: Any) -> str:
    """Serialize with `to_jsonable`; never emits NaN or Infinity."""
    return json.dumps(to_jsonable(value), allow_nan=False, **kwargs)


# `sorted_json`: orjson's options (our datetimes and dataclasses go to `to_jsonable`, as everything else orjson
# does not know), and the standard library's encoder with the same settings for what orjson refuses
_SORTED_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_SORTED_STDLIB = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sorted_json(value: Any, default: Callable[[Any], Any] = to_jsonable) -> str:
    """`value` as compact JSON text: keys sorted, no spaces, non-ASCII characters kept, our types (Decimal,
    datetime, dataclasses…) as `to_jsonable` writes them, NaN and infinities as null.

    orjson writes it: the standard library's encoder was 8% of an order's instructions (an order writes about
    eight such texts: audit details, the audit hash's payload, order events). For strings, integers, None and
    booleans the text is byte for byte what `json` writes with the same settings, which the audit hash relies on
    (tests/unit/test_jsonutil.py checks it); a float is written in its shortest form (`0.00001`, where `json`
    writes `1e-05`). What orjson refuses (an integer beyond 64 bits, a lone surrogate, nesting deeper than 254)
    is written by the standard library's encoder instead, from `default(value)`.

    `default` turns what orjson does not know into plain JSON data; it must do with plain data what
    `to_jsonable` does (the audit log's passes it a `to_jsonable` that also checks the keys it produces)."""
    try:
        return orjson.dumps(value, default=default, option=_SORTED_OPTIONS).decode()
    except orjson.JSONEncodeError:  # also what `default` raised, which it raises again here
        return _SORTED_STDLIB.encode(default(value))
