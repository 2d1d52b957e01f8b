"""How the account pages word things: a session's device, a user's status, the password rules. Pure text."""

from __future__ import annotations

import re
from datetime import datetime

from marketdesk.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from marketdesk.accounts.views import UserView
from marketdesk.web import format as fmt

UNKNOWN_DEVICE = "Unknown device"
# the first match wins: Edge and Opera also say "Chrome", Chrome also says "Safari"
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("HeadlessChrome/", "Chrome (headless)"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("Version/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)
_PRODUCT = re.compile(r"^([A-Za-z][\w.-]{0,40})(?:/([\w.]{1,20}))?")

PASSWORD_RULES = (
    f"At least {MIN_LENGTH} characters (at most {MAX_LENGTH}); spaces are fine, and three or four unrelated words "
    "make a strong password you can remember.",
    "Not one of the most common passwords, nor a small change to one (a digit or a symbol added, letters swapped "
    "for look-alikes).",
    "Not a keyboard or alphabet run, and not the name in your email address.",
)


def device_of(user_agent: str) -> str:
    """A session's device as a person reads it: `Chrome on Linux`, `Safari on iOS`, `python-httpx 0.28`."""
    text = user_agent.strip()
    if not text:
        return UNKNOWN_DEVICE
    if text.startswith("Mozilla/"):
        browser = next((name for token, name in _BROWSERS if token in text), "A browser")
        system = next((name for token, name in _SYSTEMS if token in text), None)
        return f"{browser} on {system}" if system else browser
    product = _PRODUCT.match(text)
    if product is None:
        return UNKNOWN_DEVICE
    name, version = product.groups()
    return f"{name} {version}" if version else name


def user_status(user: UserView, now: datetime) -> str:
    """`Active`, `Disabled`, or `Locked until …` while failed sign-ins keep the account waiting."""
    if user.disabled:
        return "Disabled"
    if user.locked_until is not None and user.locked_until > now:
        return f"Locked until {fmt.timestamp(user.locked_until)}"
    return "Active"


def capitalised(text: str) -> str:
    """The text with its first letter upper-case (the API's messages start lower-case to read well mid-line)."""
    return text[:1].upper() + text[1:]
