"""The conventions every performance measure depends on, explicit and switchable in one frozen dataclass.

docs/analytics.md lists each default, each alternative and what the reference libraries do.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from marketdesk.errors import Rejected

COMMON_PERIODS_PER_YEAR = {"daily": 252, "calendar-daily": 365, "weekly": 52, "monthly": 12}


class Downside(StrEnum):
    """How the downside deviation (Sortino's denominator) averages the shortfalls below the target.

    - `full`: sqrt(sum(min(r - target, 0)^2) / n) over all n observations (Sortino and Price; empyrical;
      quantstats).
    - `below_target_only`: the same sum divided by the number of observations below the target only.
    """

    FULL = "full"
    BELOW_TARGET_ONLY = "below_target_only"


class VarMethod(StrEnum):
    """How value at risk and conditional value at risk are estimated."""

    HISTORICAL = "historical"
    PARAMETRIC = "parametric"
    CORNISH_FISHER = "cornish_fisher"


class AlphaAnnualization(StrEnum):
    """How the per-period Jensen alpha is annualized: `arithmetic` (a × P, quantstats) or `compound`
    ((1 + a)^P − 1, empyrical)."""

    ARITHMETIC = "arithmetic"
    COMPOUND = "compound"


@dataclass(frozen=True)
class Conventions:
    """The conventions of one computation.

    - `periods_per_year`: 252 for trading days (default), 365 for calendar days, 52 weekly, 12 monthly.
    - `risk_free`: the risk-free rate; annual (default) or per period, as `risk_free_is_annual` says. An annual
      rate becomes a per-period one geometrically: (1 + rf)^(1/P) − 1.
    - `downside`: see `Downside`; the Sortino target is the per-period risk-free rate.
    - `var_method` and `confidence`: VaR and CVaR at this confidence (0.95 gives the keys `var_95`, `cvar_95`).
    - `alpha_annualization`: see `AlphaAnnualization`.

    Strings are accepted for the enum fields:

    >>> Conventions(periods_per_year=12, var_method="parametric").var_method
    <VarMethod.PARAMETRIC: 'parametric'>
    """

    periods_per_year: float = 252
    risk_free: float = 0.0
    risk_free_is_annual: bool = True
    downside: Downside = Downside.FULL
    var_method: VarMethod = VarMethod.HISTORICAL
    confidence: float = 0.95
    alpha_annualization: AlphaAnnualization = AlphaAnnualization.ARITHMETIC

    def __post_init__(self) -> None:
        periods = self.periods_per_year
        if isinstance(periods, bool) or not isinstance(periods, numbers.Real) or not math.isfinite(periods):
            raise Rejected(f"periods per year must be a number, got {periods!r}", hint="Use 252, 365, 52 or 12.")
        if periods <= 0:
            raise Rejected(f"periods per year must be positive, got {periods:g}", hint="Use 252, 365, 52 or 12.")
        if not isinstance(self.risk_free, numbers.Real) or not math.isfinite(self.risk_free):
            raise Rejected(f"the risk-free rate must be a finite number, got {self.risk_free!r}")
        if self.risk_free <= -1:
            raise Rejected(
                f"the risk-free rate must be above -100%, got {self.risk_free:g}",
                hint="Give it as a fraction: 0.04 for 4%.",
            )
        if not isinstance(self.confidence, numbers.Real) or not 0 < self.confidence < 1:
            raise Rejected(f"the confidence must be between 0 and 1, got {self.confidence!r}", hint="Use 0.95 for 95%.")
        object.__setattr__(self, "downside", _choice(Downside, self.downside, "downside"))
        object.__setattr__(self, "var_method", _choice(VarMethod, self.var_method, "VaR method"))
        object.__setattr__(
            self, "alpha_annualization", _choice(AlphaAnnualization, self.alpha_annualization, "alpha annualization")
        )

    @property
    def risk_free_per_period(self) -> float:
        """The risk-free return of one period."""
        if self.risk_free_is_annual:
            return float((1.0 + self.risk_free) ** (1.0 / self.periods_per_year) - 1.0)
        return float(self.risk_free)

    @property
    def tail_probability(self) -> float:
        """1 − confidence: the share of outcomes in the tail (0.05 at 95%)."""
        # rounded so 0.95 gives exactly the float 0.05 and the order statistic picked matches other libraries
        return round(1.0 - self.confidence, 12)

    @property
    def tail_label(self) -> str:
        """The suffix of the VaR keys: `95` at 0.95, `99` at 0.99, `97_5` at 0.975."""
        percent = round(self.confidence * 100, 6)
        return f"{percent:g}".replace(".", "_")

    def to_dict(self) -> dict[str, Any]:
        """The conventions as plain JSON data."""
        return {key: (value.value if isinstance(value, StrEnum) else value) for key, value in asdict(self).items()}


def _choice(kind: type[StrEnum], value: object, what: str) -> Any:
    try:
        return kind(str(value).strip().lower().replace("-", "_"))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise Rejected(f"unknown {what} {value!r}", hint=f"Use one of: {allowed}.") from None
