"""A metrics table as CSV: one row per series, one column per metric, numbers in full precision, an empty cell
where a value is undefined (never `nan` or `inf`).

>>> print(metrics_csv({"sharpe": 1.25, "calmar": None, "observations": 252}), end="")
series,sharpe,calmar,observations
returns,1.25,,252
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from marketdesk.analytics.metrics import COUNT_KEYS

_NOT_METRICS = frozenset({"missing", "conventions"})


def metrics_csv(table: pd.DataFrame | Mapping[str, Any], *, name: str = "returns") -> str:
    """The CSV text of a `metrics_frame()` table, or of one `metrics()` dict (a single row called `name`)."""
    rows = _rows(table, name)
    columns = list(dict.fromkeys(key for _, row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["series", *columns])
    for label, row in rows:
        writer.writerow([label, *(_cell(key, row.get(key)) for key in columns)])
    return buffer.getvalue()


def write_metrics_csv(table: pd.DataFrame | Mapping[str, Any], path: Path, *, name: str = "returns") -> Path:
    """Write `metrics_csv(table)` to `path` (UTF-8) and return the path."""
    path.write_text(metrics_csv(table, name=name), encoding="utf-8")
    return path


def _rows(table: pd.DataFrame | Mapping[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(table, pd.DataFrame):
        return [(str(label), {str(k): v for k, v in row.items()}) for label, row in table.iterrows()]
    # a metrics() dict also carries the reasons, the conventions and (from the CLI) where it came from
    return [(name, {k: v for k, v in table.items() if k not in _NOT_METRICS and not isinstance(v, Mapping)})]


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    number = float(value)
    if not math.isfinite(number):
        return ""
    if key in COUNT_KEYS and number.is_integer():
        return str(int(number))
    return repr(number)
