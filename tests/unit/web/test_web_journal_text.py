"""The journal page's words and numbers: review dates, check-in readings and rules, trade statistics (from real
round trips, worked out by hand), calls as they will be recorded, and the decision scorecard."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from marketdesk.decisions.stats import GroupStats, HorizonStats
from marketdesk.journal.roundtrips import TradeFill, match_round_trips
from marketdesk.journal.theses import STATUS_RULES, Direction, WatchedMetric, assess, read_metric
from marketdesk.journal.tradestats import trade_stats
from marketdesk.web.journal_text import (
    call_statement,
    decision_rows,
    reading_rows,
    review_text,
    rule_lines,
    status_label,
    suggested_watch,
    trade_figures,
    watch_text,
    when,
)

D = Decimal
TODAY = date(2026, 11, 20)  # a Friday


def test_the_review_says_how_long_until_or_since_it_is_due() -> None:
    assert review_text(TODAY, TODAY + timedelta(days=30), due=False) == "in 30 days (Sun 20 Dec)"
    assert review_text(TODAY, TODAY + timedelta(days=1), due=False) == "in 1 day (Sat 21 Nov)"
    assert review_text(TODAY, TODAY, due=True) == "due today"
    assert review_text(TODAY, TODAY - timedelta(days=1), due=True) == "due since Thu 19 Nov (1 day)"


def test_a_reason_suggests_its_metrics_and_a_thesis_shows_what_it_watches() -> None:
    assert suggested_watch("quality") == [("roe", Direction.UP), ("operating_margin", Direction.UP)]
    assert suggested_watch("other") == [("price", Direction.UP)]
    watched = [WatchedMetric("roe", Direction.UP, 0.2), WatchedMetric("pe", Direction.DOWN, 20.0)]
    assert watch_text(watched) == "ROE ↑ · P/E ↓"
    assert (status_label(None), status_label("shaken")) == ("Not checked yet", "Shaken")


def test_a_check_in_reading_shows_then_now_the_move_and_the_rule() -> None:
    # P/E needed down went 20 → 26: +30%, 30% against the thesis: broken. ROE needed up went 0.20 → 0.21: +5%.
    pe, roe = (
        read_metric(WatchedMetric("pe", Direction.DOWN, 20.0), 26.0),
        read_metric(WatchedMetric("roe", Direction.UP, 0.20), 0.21),
    )
    rows = {r.metric: r for r in reading_rows([pe, roe])}
    assert (rows["pe"].then, rows["pe"].now, rows["pe"].change, rows["pe"].against) == (
        "20.0", "26.0", "+30.0%", "30.0% against",
    )  # fmt: skip
    assert (rows["pe"].needs, rows["pe"].status) == ("↓ down", "broken")
    assert (rows["roe"].then, rows["roe"].now, rows["roe"].change, rows["roe"].against) == (
        "20.0%", "21.0%", "+5.0%", "5.0% its way",
    )  # fmt: skip
    assert rows["roe"].status == "working"
    # the rules in the order they are checked, the two that matched ticked
    lines = rule_lines([pe.rule, roe.rule])
    assert [status for status, _, _ in lines] == [r.status.value for r in STATUS_RULES]
    assert [met for _, _, met in lines] == [True, False, False, True]


def test_a_metric_with_no_value_now_reads_as_missing_and_shaken() -> None:
    assessment = assess([WatchedMetric("pe", Direction.DOWN, 20.0)], {"pe": None})
    (row,) = reading_rows(assessment.readings)
    assert (row.now, row.change, row.against, row.status) == ("—", "—", "—", "shaken")
    assert [met for _, _, met in rule_lines([row.rule])] == [False, False, True, False]


def fill(n: int, order: str, side: str, qty: str, price: str, tag: str | None) -> TradeFill:
    at = datetime(2026, 11, 2, 15, tzinfo=UTC) + timedelta(minutes=n)
    return TradeFill(f"f{n}", order, "acct", "AAA", side, D(qty), D(price), D(0), at, tag)


def test_the_trade_statistics_read_as_worked_out_by_hand() -> None:
    # breakout: 10 bought at 100, sold at 110: +100. dip: 5 bought at 50, sold at 40: −50. An open buy of 1.
    trips = match_round_trips([
        fill(1, "o1", "buy", "10", "100", "breakout"), fill(2, "o2", "sell", "10", "110", None),
        fill(3, "o3", "buy", "5", "50", "dip"), fill(4, "o4", "sell", "5", "40", None),
        fill(5, "o5", "buy", "1", "45", "dip"),
    ])  # fmt: skip
    figures = {key: text for key, _, text in trade_figures(trade_stats(trips))}
    assert figures == {
        "count": "2", "wins": "1", "losses": "1", "win_rate": "50.0%", "pnl": "+$50.00", "average_win": "+$100.00",
        "average_loss": "−$50.00", "profit_factor": "2.00", "expectancy": "+$25.00",
        "best_signal": "breakout (+$100.00)", "worst_signal": "dip (−$50.00)",
    }  # fmt: skip


def test_with_no_losing_trade_the_profit_factor_is_missing_not_infinite() -> None:
    trips = match_round_trips([fill(1, "o1", "buy", "1", "10", "a"), fill(2, "o2", "sell", "1", "12", None)])
    figures = {key: text for key, _, text in trade_figures(trade_stats(trips))}
    assert (figures["profit_factor"], figures["average_loss"], figures["best_signal"]) == ("—", "—", "—")


def test_a_fill_time_reads_in_new_york() -> None:
    assert when(datetime(2026, 11, 20, 15, 31, tzinfo=UTC)) == "Fri 20 Nov 2026 10:31"
    assert when(None) == "—"


def test_a_call_reads_as_it_will_be_recorded() -> None:
    assert call_statement(" spy", "above", "600.00", date(2027, 3, 31), "at_due_date") == (
        "SPY closes above 600 on 2027-03-31"
    )
    assert call_statement("QQQ", "below", "1,250.5", date(2027, 1, 4), "any_time") == (
        "QQQ closes below 1250.5 by 2027-01-04"
    )
    assert call_statement("", "above", "six hundred", None, "at_due_date") == "… closes above six hundred on …"


def test_the_decision_scorecard_shows_measured_win_rate_and_excess_per_horizon() -> None:
    group = GroupStats(
        "Buy", 4, (HorizonStats(30, 3, 2, 2 / 3, 0.0125, 0.01), HorizonStats(60, 0, 0, None, None, None))
    )
    (row,) = decision_rows([group])
    assert (row.key, row.count) == ("Buy", 4)
    assert row.cells == ((30, "3/4", "67%", "+1.25%"), (60, "0/4", "—", "—"))
