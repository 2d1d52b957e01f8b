"""What every benchmark shares: where the real data is, and how a figure is printed."""

from __future__ import annotations

import json
import os
from pathlib import Path

SP500_DAILY = "prices-sp500-daily/sp500_daily_adjusted_1999-11-01_2021-04-21.csv.gz"


def shared_data() -> Path:
    """`$MARKETDESK_SHARED_DATA`, else `<repo>/../shared/data`."""
    repo = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("MARKETDESK_SHARED_DATA", repo.parent / "shared" / "data"))


def emit(name: str, value: float, unit: str) -> None:
    """Print one figure as `{"bench": NAME, "value": X, "unit": U}`."""
    print(json.dumps({"bench": name, "value": round(value, 6), "unit": unit}), flush=True)
