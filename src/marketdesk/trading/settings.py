"""An account's stored settings: risk limits and compliance policy as JSON, read back into the engines' values.

Stored as text in `trading_accounts` so a limit added later needs no migration; unknown keys are refused when a
user sets them (not dropped), and defaults fill what is missing when they are read.
"""

from __future__ import annotations

import functools
import json
from dataclasses import fields
from decimal import Decimal
from typing import Any

from marketdesk.errors import Rejected
from marketdesk.trading.compliance import ComplianceSettings, Policy
from marketdesk.trading.margin import MarginRates
from marketdesk.trading.risk import RiskLimits

_DECIMAL_LIMITS = {"max_position_pct", "max_position_value", "max_order_notional", "max_daily_loss", "price_collar_pct"}
_SET_LIMITS = {"allowed_symbols", "allowed_asset_classes"}
RISK_FIELDS = {f.name for f in fields(RiskLimits)}


def risk_to_dict(limits: RiskLimits) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(RISK_FIELDS):
        value = getattr(limits, name)
        if isinstance(value, Decimal):
            out[name] = format(value, "f")
        elif isinstance(value, frozenset | set):
            out[name] = sorted(value)
        else:
            out[name] = value
    return out


def risk_from_dict(data: dict[str, Any], *, base: RiskLimits | None = None) -> RiskLimits:
    """Limits from a dict of changes over `base` (default: the defaults). Unknown names and bad values are
    refused with the valid names or the fix."""
    unknown = sorted(set(data) - RISK_FIELDS)
    if unknown:
        raise Rejected(f"unknown risk limit(s) {', '.join(unknown)}", hint=f"Valid: {', '.join(sorted(RISK_FIELDS))}.")
    values = risk_to_dict(base or RiskLimits())
    values.update(data)
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            kwargs[name] = None
        elif name in _DECIMAL_LIMITS:
            try:
                kwargs[name] = Decimal(str(value))
            except ArithmeticError:
                raise Rejected(f"risk limit {name}: {value!r} is not a number") from None
        elif name in _SET_LIMITS:
            if not isinstance(value, list | tuple | set | frozenset):
                raise Rejected(f'risk limit {name} must be a list, e.g. ["AAPL", "MSFT"]')
            kwargs[name] = frozenset(str(v) for v in value)
        else:
            kwargs[name] = value
    try:
        return RiskLimits(**kwargs)
    except (ValueError, TypeError) as exc:
        raise Rejected(f"risk limits: {exc}") from None


@functools.lru_cache(maxsize=1024)
def risk_from_json(text: str) -> RiskLimits:
    """An account's stored risk limits (read on every order: parsed once per distinct text; the result is
    frozen)."""
    return risk_from_dict(json.loads(text or "{}"))


def compliance_to_dict(settings: ComplianceSettings) -> dict[str, Any]:
    rates = settings.rates
    return {
        "policy": settings.policy.value,
        "long_rate": format(rates.long, "f"),
        "short_rate": format(rates.short, "f"),
        "per_symbol": {s: [format(lo, "f"), format(sh, "f")] for s, (lo, sh) in sorted(rates.per_symbol.items())},
        "cap_multiple": None if settings.cap_multiple is None else format(settings.cap_multiple, "f"),
    }


COMPLIANCE_FIELDS = {"policy", "long_rate", "short_rate", "per_symbol", "cap_multiple"}


def compliance_from_dict(data: dict[str, Any], *, base: ComplianceSettings | None = None) -> ComplianceSettings:
    unknown = sorted(set(data) - COMPLIANCE_FIELDS)
    if unknown:
        raise Rejected(
            f"unknown compliance setting(s) {', '.join(unknown)}",
            hint=f"Valid: {', '.join(sorted(COMPLIANCE_FIELDS))}.",
        )
    values = compliance_to_dict(base or ComplianceSettings())
    values.update(data)
    try:
        rates = MarginRates(
            long=Decimal(str(values["long_rate"])),
            short=Decimal(str(values["short_rate"])),
            per_symbol={
                str(s).upper(): (Decimal(str(pair[0])), Decimal(str(pair[1])))
                for s, pair in (values.get("per_symbol") or {}).items()
            },
        )
        cap = values.get("cap_multiple")
        return ComplianceSettings(
            policy=Policy.parse(str(values["policy"])),
            rates=rates,
            cap_multiple=None if cap is None else Decimal(str(cap)),
        )
    except (ValueError, ArithmeticError, TypeError, IndexError) as exc:
        raise Rejected(f"compliance settings: {exc}") from None


@functools.lru_cache(maxsize=1024)
def compliance_from_json(text: str) -> ComplianceSettings:
    """An account's stored compliance settings (parsed once per distinct text, as `risk_from_json`)."""
    return compliance_from_dict(json.loads(text or "{}"))
