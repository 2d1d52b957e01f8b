"""`marketdesk analytics metrics` on returns and prices files: the numbers, the conventions, and bad files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from marketdesk.analytics import REQUIRED_KEYS, Conventions, metrics
from marketdesk.cli import app

PRICES = """date,close
2024-01-02,100.0
2024-01-03,102.0
2024-01-04,99.0
2024-01-05,101.0
2024-01-08,97.0
2024-01-09,103.0
2024-01-10,104.5
"""
BENCHMARK_RETURNS = """date,return
2024-01-03,0.010
2024-01-04,-0.020
2024-01-05,0.015
2024-01-08,-0.030
2024-01-09,0.040
2024-01-10,0.005
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in {"prices.csv": PRICES, "bench.csv": BENCHMARK_RETURNS}.items():
        out[name] = tmp_path / name
        out[name].write_text(text)
    out["returns.csv"] = tmp_path / "returns.csv"
    rows = "".join(f"{day.date()},{value!r}\n" for day, value in expected_returns().items())
    out["returns.csv"].write_text("date,return\n" + rows)
    return out


def run(runner: CliRunner, *args: str | Path) -> Result:
    return runner.invoke(app, ["analytics", "metrics", *map(str, args)])


def expected_returns() -> pd.Series:
    prices = pd.Series([100.0, 102.0, 99.0, 101.0, 97.0, 103.0, 104.5])
    days = pd.to_datetime(["2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10"])
    return pd.Series((prices.to_numpy()[1:] / prices.to_numpy()[:-1]) - 1, index=days)


def test_prices_give_every_required_key_as_json_computed_from_the_implied_returns(
    runner: CliRunner, files: dict[str, Path]
) -> None:
    result = run(runner, "--prices", files["prices.csv"], "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(REQUIRED_KEYS) <= set(body)
    assert "beta" not in body
    r = expected_returns().to_numpy()
    assert body["observations"] == 6
    assert body["annual_return"] == pytest.approx(r.mean() * 252, rel=1e-12)
    assert body["annual_volatility"] == pytest.approx(r.std(ddof=1) * math.sqrt(252), rel=1e-12)
    assert body["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(252), rel=1e-12)
    assert body["cagr"] == pytest.approx(1.045 ** (252 / 6) - 1, rel=1e-12)
    assert body["max_drawdown"] == pytest.approx(97 / 102 - 1, rel=1e-12)
    assert body["max_drawdown_days"] == 6  # 2024-01-03 (102) to 2024-01-09 (103)
    assert body["var_95"] == pytest.approx(np.percentile(r, 5), rel=1e-12)
    assert body["start"] == "2024-01-03" and body["end"] == "2024-01-10"
    assert body["source"] == {"file": str(files["prices.csv"]), "kind": "prices", "column": "close"}


def test_a_returns_file_and_a_benchmark_add_beta_and_alpha(runner: CliRunner, files: dict[str, Path]) -> None:
    result = run(runner, "--returns", files["returns.csv"], "--benchmark", files["bench.csv"], "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    r = expected_returns()
    b = pd.Series([0.010, -0.020, 0.015, -0.030, 0.040, 0.005], index=r.index)
    slope = np.cov(r, b, ddof=0)[0, 1] / np.var(b)
    assert body["beta"] == pytest.approx(slope, rel=1e-12)
    assert body["alpha"] == pytest.approx((r.mean() - slope * b.mean()) * 252, rel=1e-9)
    assert body["benchmark"]["kind"] == "returns"


def test_the_benchmark_may_be_a_prices_file(runner: CliRunner, files: dict[str, Path]) -> None:
    result = run(runner, "--returns", files["returns.csv"], "--benchmark", files["prices.csv"], "--json")
    body = json.loads(result.stdout)
    assert body["beta"] == pytest.approx(1.0, rel=1e-12)  # the same series
    assert body["tracking_error"] == pytest.approx(0.0, abs=1e-15)
    assert body["information_ratio"] is None
    assert "tracking error is zero" in body["missing"]["information_ratio"]


def test_the_conventions_given_are_used_and_reported(runner: CliRunner, files: dict[str, Path]) -> None:
    result = run(
        runner, "--prices", files["prices.csv"], "--periods", "12", "--rf", "0.05", "--var-method", "cornish-fisher",
        "--confidence", "0.99", "--downside", "below_target_only", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    conventions = Conventions(periods_per_year=12, risk_free=0.05, var_method="cornish_fisher", confidence=0.99,
                              downside="below_target_only")  # fmt: skip
    same = metrics(expected_returns(), conventions=conventions)
    assert body["conventions"] == conventions.to_dict()
    for key in ("sharpe", "sortino", "var_99", "cvar_99", "annual_volatility"):
        assert body[key] == pytest.approx(same[key], rel=1e-12), key
    assert "var_95" not in body


def test_the_text_output_is_a_table_with_percentages(runner: CliRunner, files: dict[str, Path]) -> None:
    result = run(runner, "--prices", files["prices.csv"])
    assert result.exit_code == 0, result.output
    assert "Sharpe" in result.stdout and "Max drawdown" in result.stdout
    assert "-4.90%" in result.stdout  # 97 / 102 − 1
    assert "VaR 95% (one period)" in result.stdout
    assert "periods/year 252" in result.stdout


def test_a_series_that_never_varies_reports_sharpe_as_null_with_the_reason(runner: CliRunner, tmp_path: Path) -> None:
    flat = tmp_path / "flat.csv"
    flat.write_text("date,return\n2024-01-02,0.001\n2024-01-03,0.001\n2024-01-04,0.001\n")
    result = run(runner, "--returns", flat, "--json")
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    body = json.loads(result.stdout)
    assert body["sharpe"] is None
    assert body["missing"]["sharpe"] == "undefined: the returns do not vary (volatility is zero)"
    text = run(runner, "--returns", flat)
    assert "sharpe: undefined: the returns do not vary" in text.stderr


def test_the_csv_option_writes_the_metrics(runner: CliRunner, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "metrics.csv"
    result = run(runner, "--prices", files["prices.csv"], "--csv", out, "--json")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, index_col="series")
    assert table.loc["prices", "sharpe"] == json.loads(result.stdout)["sharpe"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("date,price_usd\n2024-01-02,1\n", "has no return column (header: date,price_usd)"),
        ("date,return\n2024-01-02,0.01\n2024-01-03,oops\n", "line 3: the return 'oops' is not a number"),
        ("date,return\n2024-01-03,0.01\n2024-01-02,0.01\n", "line 3: 2024-01-02 comes after 2024-01-03. Sort"),
        ("date,return\n2024-01-02,0.01\n2024-01-02,0.01\n", "line 3: the date 2024-01-02 appears twice"),
        ("", "is empty"),
        ("date,return\n2024-01-02,0.01\n", "need at least 2 returns, got 1"),
        ("date,return\n2024-01-02,0.01\n2024-01-03,-3\n", "a loss of more than 100%"),
    ],
)
def test_bad_returns_files_exit_2_with_one_line_and_a_hint(
    runner: CliRunner, tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    result = run(runner, "--returns", path, "--json")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    message = " ".join(result.stderr.split())
    assert needle in message
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_benchmark_that_does_not_cover_the_dates_exits_2(
    runner: CliRunner, files: dict[str, Path], tmp_path: Path
) -> None:
    short = tmp_path / "short.csv"
    short.write_text("date,return\n2024-01-03,0.01\n2024-01-04,0.02\n")
    result = run(runner, "--prices", files["prices.csv"], "--benchmark", short)
    assert result.exit_code == 2
    assert "the benchmark has no return for 4 of the dates, the first 2024-01-05" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "give --returns FILE or --prices FILE"),
        (["--returns", "a.csv", "--prices", "b.csv"], "not both"),
        (["--prices", "PRICES", "--var-method", "montecarlo"], "unknown VaR method 'montecarlo'"),
        (["--prices", "PRICES", "--periods", "0"], "periods per year must be positive"),
        (["--returns", "PRICES"], "holds prices (column 'close'), not returns. Use --prices."),
        (["--prices", "missing.csv"], "no such file"),
    ],
)
def test_bad_options_exit_2_saying_what_to_fix(
    runner: CliRunner, files: dict[str, Path], args: list[str], needle: str
) -> None:
    args = [str(files["prices.csv"]) if a == "PRICES" else a for a in args]
    result = run(runner, *args)
    assert result.exit_code == 2, result.output
    assert needle in " ".join(result.stderr.split())


@pytest.mark.shared_data
def test_real_spy_prices_against_the_sp500_index_match_metrics_on_the_same_data(
    runner: CliRunner, shared_data: Path
) -> None:
    spy = shared_data / "benchmarks/spy_us_daily_stooq_2005-02-25_2025-01-29.csv"
    gspc = shared_data / "benchmarks/gspc_daily_yahoo_1927-12-30_2020-06-05.csv"
    # the index ends in 2020: give the CLI SPY up to then, as a prices file in Stooq's format
    stooq = pd.read_csv(spy)
    cut = Path.cwd() / "spy.csv"
    stooq[stooq["<DATE>"] <= 20200605].to_csv(cut, index=False)
    result = run(runner, "--prices", cut, "--benchmark", gspc, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    close = stooq.set_index(pd.to_datetime(stooq["<DATE>"].astype(str), format="%Y%m%d"))["<CLOSE>"]
    r = close.loc[:"2020-06-05"].pct_change().iloc[1:]
    # the index on SPY's dates: where SPY has no row for a day the index traded, that day's move is compounded
    # into the next SPY date, as the CLI does
    index = pd.read_csv(gspc, parse_dates=["Date"], index_col="Date")["Adj Close"]
    b = index.reindex(close.loc[:"2020-06-05"].index).pct_change().iloc[1:]
    assert body["observations"] == len(r)
    assert body["beta"] == pytest.approx(np.cov(r, b, ddof=0)[0, 1] / np.var(b), rel=1e-9)
    assert 0.9 < body["beta"] < 1.1 and body["correlation"] > 0.95  # SPY tracks the index
    assert body["sharpe"] == pytest.approx(r.mean() / r.std() * math.sqrt(252), rel=1e-9)
