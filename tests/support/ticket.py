"""The web desk's trade ticket, driven in a browser the way a person does it."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Page, expect


def look_up_on_the_ticket(page: Page, symbol: str) -> Decimal:
    """Type `symbol` in the ticket, press Enter, and wait until the ticket has shown its last trade and worked
    out its position size (the size box above the ticket's fields and buttons is drawn as that ends, and a click
    while it is drawn could land on the wrong spot); return the last trade shown."""
    sizing = page.get_by_test_id("ticket-sizing")
    before = sizing.get_attribute("data-sized") if sizing.count() else None
    page.get_by_test_id("ticket-symbol").fill(symbol)
    page.get_by_test_id("ticket-symbol").press("Enter")
    last = page.get_by_test_id("ticket-last")
    expect(last).to_have_attribute("data-last", re.compile(r"^\d+(\.\d+)?$"))
    ended = re.compile(r"^\d+$") if before is None else re.compile(rf"^(?!{before}$)\d+$")
    expect(sizing).to_have_attribute("data-sized", ended)  # this look-up's sizing has ended
    return Decimal(str(last.get_attribute("data-last")))
