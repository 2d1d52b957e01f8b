"""Date formats: detected from the data (day first included), or given, and parsed a column at a time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from marketdesk.marketdata.files.dates import days_of_temporal, detect_format, given_format, parse_days
from marketdesk.marketdata.files.options import FileError


def _days(*iso: str) -> list[int]:
    return [int((np.datetime64(d, "D") - np.datetime64("1970-01-01", "D")).astype(int)) for d in iso]


def test_iso_dates_are_detected_and_parsed() -> None:
    fmt = detect_format(pa.array(["2020-01-02", "2020-01-03"]), "date")
    assert fmt.strptime == "%Y-%m-%d"
    days, ok = parse_days(pa.array(["2020-01-02", "2021-13-45", ""]), fmt.strptime)
    assert ok.tolist() == [True, False, False]
    assert days[0] == _days("2020-01-02")[0]


def test_stooq_compact_dates_are_detected() -> None:
    fmt = detect_format(pa.array(["20050225", "20050228"]), "<DATE>")
    assert fmt.label == "YYYYMMDD"
    days, ok = parse_days(pa.array(["20050225"]), fmt.strptime)
    assert ok.all() and days.tolist() == _days("2005-02-25")


def test_a_day_above_12_proves_day_first_and_the_report_says_which_value() -> None:
    fmt = detect_format(pa.array(["04/01/2016", "05/01/2016", "13/01/2016"]), "Date")
    assert fmt.strptime == "%d/%m/%Y"
    assert "'13/01/2016'" in fmt.reason and "day first" in fmt.reason


def test_a_day_above_12_in_second_place_proves_month_first() -> None:
    fmt = detect_format(pa.array(["01/04/2016", "01/13/2016"]), "Date")
    assert fmt.strptime == "%m/%d/%Y"


def test_when_every_day_is_at_most_12_the_daily_order_decides() -> None:
    # 4 to 8 January 2016 read day first are consecutive days; month first they would be months apart
    values = pa.array(["04/01/2016", "05/01/2016", "06/01/2016", "07/01/2016", "08/01/2016"])
    fmt = detect_format(values, "Date")
    assert fmt.strptime == "%d/%m/%Y"
    assert "days apart" in fmt.reason


def test_an_undecidable_date_asks_for_date_format() -> None:
    with pytest.raises(FileError) as caught:
        detect_format(pa.array(["04/01/2016"]), "Date")
    assert "--date-format %d/%m/%Y" in caught.value.one_line()


def test_two_digit_years_day_first_as_in_the_10k_file() -> None:
    fmt = detect_format(pa.array(["31-12-12", "28-09-13"]), "Period Ending")
    assert fmt.strptime == "%d-%m-%y"
    days, ok = parse_days(pa.array(["26-09-15"]), fmt.strptime)
    assert ok.all() and days.tolist() == _days("2015-09-26")


def test_no_known_format_is_a_clear_error() -> None:
    with pytest.raises(FileError, match="match no known format"):
        detect_format(pa.array(["yesterday", "today"]), "Date")


def test_an_empty_date_column_is_a_clear_error() -> None:
    with pytest.raises(FileError, match="is empty"):
        detect_format(pa.array(["", " "]), "Date")


def test_a_given_format_wins_and_is_reported_as_given() -> None:
    fmt = given_format("%d.%m.%Y")
    assert fmt.reason == "given with --date-format" and fmt.label == "DD.MM.YYYY"
    days, ok = parse_days(pa.array(["02.01.2020", "2020-01-02"]), fmt.strptime)
    assert ok.tolist() == [True, False]
    assert days[0] == _days("2020-01-02")[0]


def test_implausible_years_do_not_parse() -> None:
    _, ok = parse_days(pa.array(["0016-02-01", "2301-01-01"]), "%Y-%m-%d")
    assert not ok.any()


def test_temporal_columns_convert_directly() -> None:
    values = pa.array([np.datetime64("2020-01-02T00:00:00"), None], type=pa.timestamp("s"))
    days, ok = days_of_temporal(values)
    assert ok.tolist() == [True, False]
    assert days[0] == _days("2020-01-02")[0]


def test_impossible_days_are_refused_not_rolled_over() -> None:
    days, ok = parse_days(pa.array(["2000-02-30", "2001-02-29", "2000-02-29", "2000-04-31"]), "%Y-%m-%d")
    assert ok.tolist() == [False, False, True, False]
    assert days[2] == _days("2000-02-29")[0]


def test_dates_without_zero_padding_still_parse() -> None:
    days, ok = parse_days(pa.array(["4/1/2016", "31/1/2016"]), "%d/%m/%Y")
    assert ok.all()
    assert days.tolist() == _days("2016-01-04", "2016-01-31")
