"""Custom screen filters: a small, safe expression language compiled to a vectorized boolean mask.

    pe < 25 and roe > 0.15 and dip_pct >= 5
    (sector == "Energy" or sector == "Utilities") and not debt_to_equity > 2
    verdict >= "Buy" and market_cap > 10B and roe >= 15%

- Fields are the catalogue metrics (`pe`, `roe`, `dip_pct` …), `score`, the factor scores (`valuation_score` …),
  `coverage`, `failed_gates`, `unknown_gates`, and the text fields `sector`, `asset_class` and `verdict`.
- Operators: `<`, `<=`, `>`, `>=`, `==`, `!=`, combined with `and`, `or`, `not` and parentheses (keywords in
  any case). Text compares with `==` and `!=`, ignoring case; `verdict` also orders (Avoid < Hold < Buy <
  Strong Buy), so `verdict >= "Buy"` works.
- Numbers may be negative (`-` or `−`) and may end in `k`, `M`, `B` or `T` (thousand … trillion). A `%` suffix
  is read in the field's own unit: `roe > 15%` means `roe > 0.15` (fractions), `dip_pct >= 5%` means
  `dip_pct >= 5` (already percent); on any other field `%` is an error.
- A missing value makes a comparison unknown, and unknown never selects a row, even under `not` (SQL's
  three-valued logic): `not pe > 30` keeps names with a P/E of 30 or less, not names without one.

Parsing is a hand-written tokenizer and recursive-descent parser; nothing is ever passed to `eval`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from marketdesk.errors import Rejected
from marketdesk.screener.catalog import METRICS, Unit
from marketdesk.screener.model import VERDICT_RANK

FACTOR_NAMES = (
    "valuation", "quality", "growth", "momentum", "risk",  # stocks
    "cost", "size", "liquidity", "concentration",  # ETFs (and momentum)
    "yield", "duration", "credit_quality", "curve",  # bonds
)  # fmt: skip
OPERATORS = ("<", "<=", ">", ">=", "==", "!=")
ASSET_CLASS_VALUES = ("equity", "etf", "bond", "index")
_NUMBER, _TEXT, _VERDICT = "number", "text", "verdict"


@dataclass(frozen=True, slots=True)
class FieldKind:
    kind: str  # number, text or verdict
    unit: Unit | None = None


def _fields() -> dict[str, FieldKind]:
    fields = {name: FieldKind(_NUMBER, m.unit) for name, m in METRICS.items()}
    fields["score"] = FieldKind(_NUMBER, Unit.NUMBER)
    factor_fields = {f"{name}_score": FieldKind(_NUMBER, Unit.NUMBER) for name in FACTOR_NAMES}
    if set(factor_fields) & set(fields):  # a factor's column would hide a metric's
        raise RuntimeError(f"factor score names clash with metrics: {set(factor_fields) & set(fields)}")
    fields.update(factor_fields)
    fields["coverage"] = FieldKind(_NUMBER, Unit.FRACTION)
    fields["failed_gates"] = FieldKind(_NUMBER, Unit.NUMBER)
    fields["unknown_gates"] = FieldKind(_NUMBER, Unit.NUMBER)
    fields["verdict"] = FieldKind(_VERDICT)
    fields["sector"] = FieldKind(_TEXT)
    fields["asset_class"] = FieldKind(_TEXT)
    return fields


FIELDS: dict[str, FieldKind] = _fields()

# The plausible range of each metric: thresholds outside it are rejected as absurd, and threshold sensitivity
# never proposes a value outside it.
_UNIT_RANGE: dict[Unit, tuple[float, float]] = {
    Unit.MULTIPLE: (-1_000.0, 1_000.0),
    Unit.FRACTION: (-10.0, 10.0),
    Unit.PERCENT: (-1_000.0, 1_000.0),
    Unit.USD: (-1e13, 1e14),
    Unit.NUMBER: (-1e6, 1e6),
    Unit.YEARS: (0.0, 100.0),
}
# fmt: off
_METRIC_RANGE: dict[str, tuple[float, float]] = {
    "pe": (0.0, 1e3), "pb": (0.0, 1e3), "ps": (0.0, 1e3), "dividend_yield": (0.0, 1.0),
    "gross_margin": (-10.0, 1.0), "operating_margin": (-10.0, 1.0), "debt_to_equity": (0.0, 1e3),
    "current_ratio": (0.0, 1e3), "earnings_stability": (0.0, 1.0), "fcf_negative_years": (0.0, 3.0),
    "return_1m_pct": (-100.0, 1e4), "return_3m_pct": (-100.0, 1e4), "return_6m_pct": (-100.0, 1e4),
    "return_12m_pct": (-100.0, 1e4), "dip_pct": (0.0, 100.0), "above_ma50_pct": (-100.0, 1e4),
    "above_ma200_pct": (-100.0, 1e4), "rsi14": (0.0, 100.0), "volatility_pct": (0.0, 1e3), "beta": (-20.0, 20.0),
    "max_drawdown_pct": (0.0, 100.0), "price": (0.0, 1e7), "market_cap": (0.0, 1e14), "avg_dollar_volume": (0.0, 1e13),
    "expense_ratio_pct": (0.0, 20.0), "net_assets": (0.0, 1e14), "top10_weight_pct": (0.0, 100.0),
    "yield_pct": (-5.0, 100.0), "duration_years": (0.0, 100.0), "credit_score": (0.0, 10.0),
    "maturity_years": (0.0, 100.0), "curve_spread_pct": (-50.0, 50.0),
}
# fmt: on


def _in_range(name: str, literal: _Literal) -> _Literal:
    """Refuse a threshold no value of the field can meet or fail, naming the allowed range."""
    if name == "score":
        low, high = 0.0, 10.0
    elif name in METRICS:
        low, high = metric_range(name)
    else:
        return literal
    value = float(literal.value)
    if not low <= value <= high:
        raise FilterError(
            f"{value:g} is not a sensible threshold for {name} (character {literal.pos})",
            position=literal.pos,
            hint=f"Use a value from {low:g} to {high:g}.",
        )
    return literal


def metric_range(name: str) -> tuple[float, float]:
    """The plausible (low, high) of a catalogue metric."""
    return _METRIC_RANGE.get(name, _UNIT_RANGE[METRICS[name].unit])


_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_VERDICTS = {v.value.casefold(): float(rank) for v, rank in VERDICT_RANK.items()}
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:(?P<percent>%)|(?P<suffix>[kKmMbBtT])?(?P<junk>[\w.]*))
    |(?P<name>[A-Za-z_]\w*)
    |(?P<string>"[^"]*"|'[^']*')
    |(?P<op>[<>=!~]+)
    |(?P<paren>[()])
    |(?P<minus>[-−])""",
    re.VERBOSE,
)


class FilterError(Rejected):
    """A filter expression that cannot be used; `position` is the 1-based character where the problem starts."""

    def __init__(self, message: str, *, position: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.position = position


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, name, string, op, paren, minus, end
    text: str
    pos: int  # 1-based
    value: float = 0.0
    suffix: str = ""


def _tokens(source: str) -> list[_Token]:
    out: list[_Token] = []
    at = 0
    while at < len(source):
        match = _TOKEN.match(source, at)
        if match is None:
            char = source[at]
            hint = "Combine comparisons with and, or, not." if char in "&|" else 'Remove it or quote text in "…".'
            raise FilterError(f"unexpected character {char!r} at character {at + 1}", position=at + 1, hint=hint)
        if match.group("number") is not None:
            if match.group("junk"):
                raise FilterError(
                    f"malformed number {match.group(0)!r} at character {at + 1}",
                    position=at + 1,
                    hint="Write numbers like 25, 0.15, -3, 15%, 2.5B.",
                )
            suffix = "%" if match.group("percent") else (match.group("suffix") or "").lower()
            value = float(match.group("number")) * _SUFFIX.get(suffix, 1.0)
            out.append(_Token("number", match.group(0), at + 1, value, suffix))
        elif match.lastgroup is not None and match.lastgroup != "space":
            out.append(_Token(match.lastgroup, match.group(0), at + 1))
        at = match.end()
    out.append(_Token("end", "", len(source) + 1))
    return out


# --------------------------------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Literal:
    value: float | str
    pos: int
    percent: bool = False


_Operand = _Field | _Literal


@dataclass(frozen=True, slots=True)
class _Compare:
    left: _Operand
    op: str
    right: _Operand


@dataclass(frozen=True, slots=True)
class _Not:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Bool:
    op: str  # and, or
    operands: tuple[_Node, ...]


_Node = _Compare | _Not | _Bool
_KEYWORDS = {"and", "or", "not"}


def _describe(token: _Token) -> str:
    return "the end" if token.kind == "end" else repr(token.text)


class _Parser:
    def __init__(self, source: str, fields: Mapping[str, FieldKind]) -> None:
        self.source = source
        self.fields = fields
        self.tokens = _tokens(source)
        self.at = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "name" and token.text.lower() == word:
            self.at += 1
            return True
        return False

    def expected(self, what: str, hint: str | None = None) -> FilterError:
        token = self.peek()
        return FilterError(
            f"expected {what} at character {token.pos}, found {_describe(token)}", position=token.pos, hint=hint
        )

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise self.expected("a comparison such as pe < 25")
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.expected("and, or, or the end of the filter")
        return node

    def or_expr(self) -> _Node:
        operands = [self.and_expr()]
        while self.keyword("or"):
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else _Bool("or", tuple(operands))

    def and_expr(self) -> _Node:
        operands = [self.not_expr()]
        while self.keyword("and"):
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else _Bool("and", tuple(operands))

    def not_expr(self) -> _Node:
        if self.keyword("not"):
            return _Not(self.not_expr())
        if self.peek().kind == "paren" and self.peek().text == "(":
            self.take()
            node = self.or_expr()
            if not (self.peek().kind == "paren" and self.peek().text == ")"):
                raise self.expected("')'")
            self.take()
            return node
        return self.comparison()

    def comparison(self) -> _Compare:
        left = self.operand()
        token = self.peek()
        if token.kind == "op":
            if token.text not in OPERATORS:
                hint = "Use == to test equality." if token.text == "=" else None
                raise FilterError(
                    f"unknown operator {token.text!r} at character {token.pos}",
                    position=token.pos,
                    hint=f"{hint + ' ' if hint else ''}Valid operators: {', '.join(OPERATORS)} (combine with and, or, not).",
                )
            self.take()
        elif token.kind == "name" and token.text.lower() not in _KEYWORDS:
            raise FilterError(
                f"unknown operator {token.text!r} at character {token.pos}",
                position=token.pos,
                hint=f"Valid operators: {', '.join(OPERATORS)} (combine with and, or, not).",
            )
        else:
            raise self.expected(f"an operator ({', '.join(OPERATORS)}) after {_describe(self.tokens[self.at - 1])}")
        right = self.operand()
        return self.check(_Compare(left, token.text, right), token.pos)

    def operand(self) -> _Operand:
        token = self.take()
        if token.kind == "minus":
            number = self.take()
            if number.kind != "number":
                self.at -= 1
                raise self.expected("a number after '-'")
            return _Literal(-number.value, token.pos, number.suffix == "%")
        if token.kind == "number":
            return _Literal(token.value, token.pos, token.suffix == "%")
        if token.kind == "string":
            return _Literal(token.text[1:-1], token.pos)
        if token.kind == "name" and token.text.lower() not in _KEYWORDS:
            return self.field(token)
        self.at -= 1
        raise self.expected("a field, a number or a quoted text")

    def field(self, token: _Token) -> _Field:
        name = token.text if token.text in self.fields else token.text.lower()
        if name not in self.fields:
            close = difflib.get_close_matches(name.lower(), list(self.fields), n=3)
            guess = f"Did you mean {' or '.join(close)}? " if close else ""
            raise FilterError(
                f"unknown field {name!r} at character {token.pos}",
                position=token.pos,
                hint=f"{guess}Valid fields: {', '.join(self.fields)}.",
            )
        return _Field(name, token.pos)

    def check(self, node: _Compare, pos: int) -> _Compare:
        left, right = node.left, node.right
        if isinstance(left, _Literal) and isinstance(right, _Literal):
            raise FilterError(
                f"comparison at character {pos} has no field",
                position=pos,
                hint="Compare a field with a value, e.g. pe < 25.",
            )
        op = node.op
        if isinstance(left, _Literal):  # 25 > pe  →  pe < 25
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            left, right = right, left
        if not isinstance(left, _Field):
            raise FilterError(f"comparison at character {pos} has no field", position=pos)
        node = _Compare(left, op, right)
        kind = self.fields[left.name]
        if isinstance(right, _Field):
            other = self.fields[right.name]
            if other.kind != kind.kind:
                raise FilterError(f"cannot compare {left.name} with {right.name} at character {pos}", position=pos)
        elif kind.kind == _NUMBER:
            node = _Compare(left, node.op, self.number(left.name, kind, right))
        else:
            node = _Compare(left, node.op, self.text(left.name, kind, right))
        if kind.kind == _TEXT and node.op not in {"==", "!="}:
            raise FilterError(
                f"{left.name} is text: it can only be compared with == or != (character {pos})", position=pos
            )
        return node

    @staticmethod
    def number(name: str, kind: FieldKind, literal: _Literal) -> _Literal:
        if isinstance(literal.value, str):
            raise FilterError(
                f"{name} is a number, but is compared with text at character {literal.pos}",
                position=literal.pos,
                hint="Drop the quotes.",
            )
        if not literal.percent:
            return _in_range(name, literal)
        if kind.unit is Unit.FRACTION:
            return _in_range(name, _Literal(literal.value / 100.0, literal.pos))
        if kind.unit is Unit.PERCENT:
            return _in_range(name, _Literal(literal.value, literal.pos))
        raise FilterError(
            f"a % value at character {literal.pos} does not fit {name}, which is a {kind.unit}",
            position=literal.pos,
            hint="Use % only with percent or fraction fields such as roe or dip_pct.",
        )

    @staticmethod
    def text(name: str, kind: FieldKind, literal: _Literal) -> _Literal:
        if not isinstance(literal.value, str):
            raise FilterError(
                f"{name} is text, but is compared with a number at character {literal.pos}",
                position=literal.pos,
                hint=f'Quote the value, e.g. {name} == "…".',
            )
        value = literal.value.casefold()
        if kind.kind == _VERDICT and value not in _VERDICTS:
            raise FilterError(
                f"unknown verdict {literal.value!r} at character {literal.pos}",
                position=literal.pos,
                hint="Valid verdicts: Strong Buy, Buy, Hold, Avoid.",
            )
        if name == "asset_class" and value not in ASSET_CLASS_VALUES:
            raise FilterError(
                f"unknown asset class {literal.value!r} at character {literal.pos}",
                position=literal.pos,
                hint=f"Valid asset classes: {', '.join(ASSET_CLASS_VALUES)}.",
            )
        return _Literal(_VERDICTS[value] if kind.kind == _VERDICT else value, literal.pos)


# ------------------------------------------------------------------------------------------------- evaluation

_Columns = pd.DataFrame | Mapping[str, Any]
_Truth = tuple[np.ndarray, np.ndarray]  # (value, known)

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def _column(columns: _Columns, name: str, kind: FieldKind) -> tuple[np.ndarray, np.ndarray]:
    """(values, known) for one field: floats for numbers and verdict ranks, casefolded objects for text."""
    try:
        raw = columns[name]
    except KeyError:
        raise Rejected(f"field {name!r} is not in this table") from None
    if kind.kind == _NUMBER:
        values = np.asarray(raw, dtype=float)
        return values, ~np.isnan(values)
    series = pd.Series(np.asarray(raw, dtype=object), dtype=object)
    known = series.notna().to_numpy()
    text = series.where(known, "").astype(str).str.casefold()
    if kind.kind == _VERDICT:
        values = text.map(_VERDICTS).to_numpy(dtype=float)
        return values, ~np.isnan(values)
    return text.to_numpy(dtype=object), known


def _operand(columns: _Columns, operand: _Operand, kind: FieldKind) -> tuple[Any, np.ndarray | bool]:
    if isinstance(operand, _Literal):
        return operand.value, True
    return _column(columns, operand.name, kind)


def _evaluate(node: _Node, columns: _Columns, fields: Mapping[str, FieldKind]) -> _Truth:
    if isinstance(node, _Compare):
        kind = fields[node.left.name] if isinstance(node.left, _Field) else FieldKind(_NUMBER)
        left, left_known = _operand(columns, node.left, kind)
        right, right_known = _operand(columns, node.right, kind)
        with np.errstate(invalid="ignore"):
            value = np.asarray(_COMPARE[node.op](left, right), dtype=bool)
        return value, np.asarray(left_known & right_known, dtype=bool)
    if isinstance(node, _Not):
        value, known = _evaluate(node.operand, columns, fields)
        return ~value, known
    parts = [_evaluate(operand, columns, fields) for operand in node.operands]
    value, known = parts[0]
    for other_value, other_known in parts[1:]:
        if node.op == "and":  # false if either side is known false; known if both known or one is false
            decided_false = (known & ~value) | (other_known & ~other_value)
            value, known = value & other_value, (known & other_known) | decided_false
        else:
            decided_true = (known & value) | (other_known & other_value)
            value, known = value | other_value, (known & other_known) | decided_true
    return value, known


@dataclass(frozen=True)
class Filter:
    """A compiled filter: `mask(table)` gives one bool per row (missing data never selects a row)."""

    source: str
    fields: frozenset[str]
    node: _Node
    known_fields: Mapping[str, FieldKind]

    def mask(self, columns: _Columns) -> np.ndarray:
        """Evaluate over a DataFrame (or a mapping of equal-length arrays) with the fields as columns."""
        value, known = _evaluate(self.node, columns, self.known_fields)
        return np.asarray(value & known, dtype=bool)

    def __str__(self) -> str:
        return self.source


def _used(node: _Node) -> set[str]:
    if isinstance(node, _Compare):
        return {o.name for o in (node.left, node.right) if isinstance(o, _Field)}
    if isinstance(node, _Not):
        return _used(node.operand)
    return set().union(*(_used(o) for o in node.operands))


@lru_cache(maxsize=512)
def _compile_default(source: str) -> Filter:
    node = _Parser(source, FIELDS).parse()
    return Filter(source, frozenset(_used(node)), node, FIELDS)


def compile_filter(source: str, fields: Mapping[str, FieldKind] | None = None) -> Filter:
    """Parse `source` into a `Filter`; errors (`FilterError`, a `Rejected`) name the position and the valid choices.

    >>> import pandas as pd
    >>> compile_filter("pe < 25 and roe > 15%").mask(pd.DataFrame({"pe": [12, 30], "roe": [0.2, 0.2]})).tolist()
    [True, False]
    """
    if not isinstance(source, str):
        raise Rejected(f"a filter must be text, not {type(source).__name__}")
    if fields is None:
        return _compile_default(source)
    node = _Parser(source, fields).parse()
    return Filter(source, frozenset(_used(node)), node, fields)


def match_all(expressions: tuple[str, ...] | list[str], columns: _Columns, rows: int) -> np.ndarray:
    """Rows that match every expression (all rows when there are none)."""
    mask = np.ones(rows, dtype=bool)
    for expression in expressions:
        mask &= compile_filter(expression).mask(columns)
    return mask
