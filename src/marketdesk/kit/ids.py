"""Identifiers: time-ordered, URL-safe, and unique without coordination."""

from __future__ import annotations

import os
from datetime import datetime

from marketdesk.clock import Clock


def new_id(clock: Clock, prefix: str = "") -> str:
    """Return a sortable id: 12 hex digits of milliseconds, then 16 random hex digits.

    Ids made later sort after ids made earlier; the random part makes collisions negligible.
    """
    millis = int(clock.now().timestamp() * 1000)
    return f"{prefix}{millis:012x}{os.urandom(8).hex()}"


def id_time(identifier: str, prefix: str = "") -> datetime:
    """Return the instant encoded in an id made by `new_id`."""
    from datetime import UTC

    millis = int(identifier[len(prefix) : len(prefix) + 12], 16)
    return datetime.fromtimestamp(millis / 1000, UTC)
