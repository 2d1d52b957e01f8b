"""Contribution to return by group (strategy tag, symbol, sector): per-position weights × returns. Pure.

A position's contribution in period t is `w[t] × r[t]`, where `w[t]` is its share of the portfolio's value at
the start of the period and `r[t]` its return over it; the portfolio's return is the sum over positions (what
the weights leave out, such as idle cash, earns nothing unless it is a position). Over a date range:

- `compound` (default): each period's contribution is scaled by the portfolio's growth before it,
  `c[t] × Π(1 + p[s] for s < t)`, so the groups' totals add up exactly to the compounded portfolio return.
- `sum`: the plain sum of the per-period contributions (they add up to the sum of the portfolio's period
  returns, not to its compounded return).

>>> import pandas as pd
>>> w = pd.DataFrame({"AAA": [0.5, 0.5], "BBB": [0.5, 0.5]})
>>> r = pd.DataFrame({"AAA": [0.10, 0.0], "BBB": [0.0, 0.10]})
>>> found = contribution(w, r, {"AAA": "tech", "BBB": "energy"})
>>> found.total.round(4).to_dict(), round(found.portfolio_return, 4)
({'energy': 0.0525, 'tech': 0.05}, 0.1025)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from marketdesk.analytics.panel import label_text
from marketdesk.errors import Rejected


class Linking(StrEnum):
    """How per-period contributions add up over a date range (see the module's docstring)."""

    COMPOUND = "compound"
    SUM = "sum"


@dataclass(frozen=True)
class Attribution:
    """Contribution to return per group: per period (`by_period`, dates × groups) and over the whole range
    (`total`, largest first), with the portfolio's return over the range."""

    by_period: pd.DataFrame
    total: pd.Series
    portfolio_return: float
    linking: Linking


def contribution(
    weights: pd.DataFrame,
    returns: pd.DataFrame,
    groups: Mapping[str, str] | pd.Series | None = None,
    *,
    linking: Linking | str = Linking.COMPOUND,
) -> Attribution:
    """Each group's contribution to the portfolio's return, from per-position `weights` and `returns` (dates ×
    positions, the same labels in both). `groups` maps each position to its group (tag, symbol, sector); without
    it each position is its own group. A missing return is allowed only where the weight is zero."""
    how = _linking(linking)
    weights_values, returns_values = _checked(weights, returns)
    positions = [str(c) for c in weights.columns]
    labels = _labels(positions, groups)
    per_position = weights_values * np.where(weights_values == 0, 0.0, np.nan_to_num(returns_values, nan=0.0))
    group_names, group_of = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
    membership = np.zeros((len(positions), len(group_names)))
    membership[np.arange(len(positions)), group_of.reshape(-1)] = 1.0
    by_group = per_position @ membership
    portfolio = by_group.sum(axis=1)
    if how is Linking.COMPOUND:
        growth_before = np.concatenate([[1.0], np.cumprod(1.0 + portfolio)[:-1]])
        totals = (by_group * growth_before.reshape(-1, 1)).sum(axis=0)
        portfolio_return = float(np.prod(1.0 + portfolio) - 1.0)
    else:
        totals = by_group.sum(axis=0)
        portfolio_return = float(portfolio.sum())
    names = [str(g) for g in group_names]
    by_period = pd.DataFrame(by_group, index=weights.index, columns=names)
    total = pd.Series(totals, index=names, name="contribution").sort_values(ascending=False, kind="stable")
    return Attribution(by_period=by_period, total=total, portfolio_return=portfolio_return, linking=how)


def _linking(value: Linking | str) -> Linking:
    try:
        return Linking(str(value).strip().lower())
    except ValueError:
        raise Rejected(f"unknown linking {value!r}", hint="Use compound or sum.") from None


def _checked(weights: pd.DataFrame, returns: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(weights, pd.DataFrame) or not isinstance(returns, pd.DataFrame):
        raise Rejected("weights and returns must be DataFrames of dates × positions")
    if weights.empty:
        raise Rejected("no weights: the table is empty", hint="Give one row per date and one column per position.")
    if not weights.columns.is_unique:
        raise Rejected("a position appears twice among the weights' columns", hint="Give each position one column.")
    if list(weights.columns) != list(returns.columns):
        only_weights = [str(c) for c in weights.columns if c not in returns.columns]
        only_returns = [str(c) for c in returns.columns if c not in weights.columns]
        detail = "; ".join(
            part
            for part in (
                f"weights only: {', '.join(only_weights)}" if only_weights else "",
                f"returns only: {', '.join(only_returns)}" if only_returns else "",
            )
            if part
        )
        raise Rejected(
            f"weights and returns must have the same positions in the same order ({detail or 'order differs'})",
            hint="Select the same columns from both, e.g. returns[weights.columns].",
        )
    if not weights.index.equals(returns.index):
        raise Rejected(
            "weights and returns must have the same dates", hint="Align them, e.g. returns.loc[weights.index]."
        )
    values = []
    for name, table in (("weights", weights), ("returns", returns)):
        try:
            array = table.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            raise Rejected(f"the {name} contain text", hint="Every value must be a number.") from None
        if np.isinf(array).any():
            raise Rejected(f"the {name} contain an infinite value", hint="Fix the data they came from.")
        values.append(array)
    weights_values, returns_values = values
    if np.isnan(weights_values).any():
        row, column = (int(x[0]) for x in np.nonzero(np.isnan(weights_values)))
        raise Rejected(
            f"the weight of {weights.columns[column]!r} on {label_text(weights.index[row])} is missing",
            hint="Give 0 for a position not held.",
        )
    unexplained = np.isnan(returns_values) & (weights_values != 0)
    if unexplained.any():
        row, column = (int(x[0]) for x in np.nonzero(unexplained))
        raise Rejected(
            f"{returns.columns[column]!r} is held on {label_text(returns.index[row])} but its return is missing",
            hint="Give the return of every position held (a missing return is allowed only with weight 0).",
        )
    return weights_values, returns_values


def _labels(positions: list[str], groups: Mapping[str, str] | pd.Series | None) -> list[str]:
    if groups is None:
        return positions
    mapping = {str(k): v for k, v in (groups.items() if isinstance(groups, pd.Series | Mapping) else ())}
    if not mapping and positions:
        raise Rejected("groups must map each position to its group", hint='e.g. {"AAPL": "Tech", "XOM": "Energy"}.')
    unmapped = [p for p in positions if p not in mapping or mapping[p] is None or mapping[p] != mapping[p]]
    if unmapped:
        raise Rejected(
            f"no group for {len(unmapped)} position(s): {', '.join(unmapped[:5])}",
            hint="Map every position to a group (use its symbol, or 'other').",
        )
    return [str(mapping[p]) for p in positions]
