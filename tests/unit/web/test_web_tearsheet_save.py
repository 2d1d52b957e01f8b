"""The tearsheet's Save verdict button: enabled for a rated name, and disabled, saying why, for one the screener
gives no verdict (the seeded simulated market of the browser tests rates every name, so this case lives here)."""

from __future__ import annotations

import pytest

from marketdesk.web.tearsheet import save_verdict_hint


@pytest.mark.parametrize("verdict", ["Strong Buy", "Buy", "Hold", "Avoid"])
def test_a_rated_name_may_be_saved_and_the_tooltip_says_what_is_logged(verdict: str) -> None:
    assert save_verdict_hint("AAPL", verdict) == (
        True,
        f"Log {verdict} in your decision log, to see later how it did against the benchmark.",
    )


def test_a_name_without_a_verdict_has_nothing_to_save_and_the_tooltip_says_so() -> None:
    assert save_verdict_hint("NEWCO", None) == (
        False,
        "The screener gives NEWCO no verdict, so there is nothing to save.",
    )
