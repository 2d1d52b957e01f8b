"""Row checks as vectors: each rule is a boolean mask over all rows, and a row takes the first rule it breaks.

Messages are built only for the few rejected rows kept as examples, so a clean file of millions of rows
costs one vectorized comparison per rule and nothing per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from marketdesk.marketdata.files.report import SAMPLES_PER_REASON


@dataclass(frozen=True)
class _Rule:
    key: str
    mask: np.ndarray
    message: Callable[[int], str]


class RowChecks:
    """Rules in the order they apply; `assign` gives each row the code of its first broken rule (0 = fine)."""

    def __init__(self, lines: np.ndarray) -> None:
        self.lines = lines
        self._rules: list[_Rule] = []

    def add(self, key: str, mask: np.ndarray, message: Callable[[int], str]) -> None:
        """Add a rule: `mask` marks the rows that break it; `message(i)` describes row i for the report."""
        self._rules.append(_Rule(key, np.asarray(mask, dtype=bool), message))

    def assign(self, rows: int, skip: np.ndarray | None = None) -> np.ndarray:
        """The first broken rule of every row, as 1-based codes in the order rules were added; 0 when none."""
        reason = np.zeros(rows, dtype=np.int16)
        for code in range(len(self._rules), 0, -1):
            mask = self._rules[code - 1].mask
            if mask.any():
                reason[mask] = code
        if skip is not None:
            reason[skip] = 0
        return reason

    def rejections(self, reason: np.ndarray) -> list[tuple[str, int, list[tuple[int | None, str]]]]:
        """(reason key, count, a few (line, message) examples) for every rule that refused rows."""
        counts = np.bincount(reason, minlength=len(self._rules) + 1)
        out: list[tuple[str, int, list[tuple[int | None, str]]]] = []
        for code, rule in enumerate(self._rules, start=1):
            if counts[code] == 0:
                continue
            rows = np.flatnonzero(reason == code)[:SAMPLES_PER_REASON]
            examples: list[tuple[int | None, str]] = [(int(self.lines[i]), rule.message(int(i))) for i in rows]
            out.append((rule.key, int(counts[code]), examples))
        return out


def number_text(value: float) -> str:
    """A number as the report shows it: 10.2, 11.0, -5.0."""
    return repr(float(value))
