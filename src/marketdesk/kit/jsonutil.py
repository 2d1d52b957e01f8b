"""JSON that knows our types: Decimal as a string (exact), datetimes as ISO 8601, NaN/inf as null."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Convert `value` into plain JSON data. Floats that are NaN or infinite become None."""
    kind = type(value)  # the common exact types first, by identity: this runs on every order's audit entries
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): to_jsonable(v) for k, v in value.items()}
    if kind is Decimal:
        return str(value) if value.is_finite() else None
    if kind is list or kind is tuple:
        return [to_jsonable(v) for v in value]
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
    if is_dataclass(value) and not isinstance(value, type):  # field by field: `asdict` deep-copies first
        return {name: to_jsonable(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return to_jsonable(value.item())
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump())
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def dumps(value: Any, **kwargs: Any) -> str:
    """Serialize with `to_jsonable`; never emits NaN or Infinity."""
    return json.dumps(to_jsonable(value), allow_nan=False, **kwargs)
