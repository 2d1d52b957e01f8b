"""`marketdesk analytics …`: performance metrics of a returns or prices file, offline.

    marketdesk analytics metrics --prices AAPL.csv --benchmark SPY.csv
    marketdesk analytics metrics --returns strategy.csv --periods 12 --rf 0.04 --var-method cornish-fisher --json

A returns file has the columns `date,return`, a prices file `date,close` (Yahoo and Stooq exports read as
prices too); the benchmark may be either, told apart by its header. The numbers come from
`marketdesk.analytics.metrics`, the function the Python API calls; docs/analytics.md states every convention.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from marketdesk.analytics.labels import METRIC_LABELS, PERCENT_METRICS
from marketdesk.cliutil import Json, emit, err, handles_errors
from marketdesk.errors import Rejected

analytics_app = typer.Typer(help="Performance analytics: returns, risk, drawdowns, tail risk.", no_args_is_help=True)


@analytics_app.command("metrics")
@handles_errors
def metrics_command(
    returns: Annotated[Path | None, typer.Option("--returns", help="CSV of date,return")] = None,
    prices: Annotated[Path | None, typer.Option("--prices", help="CSV of date,close")] = None,
    benchmark: Annotated[
        Path | None, typer.Option("--benchmark", help="CSV of the benchmark: date,return or date,close")
    ] = None,
    periods: Annotated[float, typer.Option("--periods", help="periods per year: 252, 365, 52 or 12")] = 252,
    rf: Annotated[float, typer.Option("--rf", help="risk-free rate, annual unless --rf-per-period (0.04 = 4%)")] = 0.0,
    rf_per_period: Annotated[
        bool, typer.Option("--rf-per-period", help="--rf is the rate of one period, not annual")
    ] = False,
    var_method: Annotated[
        str, typer.Option("--var-method", help="historical, parametric or cornish-fisher")
    ] = "historical",
    confidence: Annotated[float, typer.Option("--confidence", help="VaR/CVaR confidence")] = 0.95,
    downside: Annotated[
        str, typer.Option("--downside", help="downside deviation over all periods (full) or below_target_only")
    ] = "full",
    csv_path: Annotated[Path | None, typer.Option("--csv", help="also write the metrics to this CSV file")] = None,
    as_json: Json = False,
) -> None:
    """Return, risk, drawdown and tail measures of one series, with beta and alpha against a benchmark."""
    from marketdesk.analytics.conventions import Conventions
    from marketdesk.analytics.export import write_metrics_csv
    from marketdesk.analytics.files import SeriesKind, read_series_file
    from marketdesk.analytics.metrics import metrics

    if returns is not None and prices is not None:
        raise Rejected("give --returns FILE or --prices FILE, not both", hint="Pick the one the file holds.")
    conventions = Conventions(
        periods_per_year=int(periods) if float(periods).is_integer() else periods,
        risk_free=rf,
        risk_free_is_annual=not rf_per_period,
        var_method=var_method,  # type: ignore[arg-type]  # Conventions parses the text and says what is allowed
        confidence=confidence,
        downside=downside,  # type: ignore[arg-type]
    )
    if returns is not None:
        source = read_series_file(returns, expect=SeriesKind.RETURNS)
    elif prices is not None:
        source = read_series_file(prices, expect=SeriesKind.PRICES)
    else:
        raise Rejected(
            "give --returns FILE or --prices FILE",
            hint="A returns file has the columns date,return; a prices file date,close.",
        )
    against = None if benchmark is None else read_series_file(benchmark)
    result = metrics(source.returns, None if against is None else against.returns, conventions)
    result["source"] = {"file": str(source.path), "kind": source.kind.value, "column": source.column}
    if against is not None:
        result["benchmark"] = {"file": str(against.path), "kind": against.kind.value, "column": against.column}
    if csv_path is not None:
        write_metrics_csv(result, csv_path, name=source.path.stem)
    emit(
        as_json, result, lambda: _print_table(result, source.path.name, None if against is None else against.path.name)
    )


def _print_table(result: dict[str, Any], name: str, benchmark: str | None) -> None:
    conventions = result["conventions"]
    rf_kind = "annual" if conventions["risk_free_is_annual"] else "per period"
    title = f"{name}: {result['observations']} returns, {result['start']} → {result['end']}"
    if benchmark is not None:
        title += f" · benchmark {benchmark}"
    table = Table("Metric", "Value", title=title)
    skip = {"missing", "conventions", "source", "benchmark", "start", "end"}
    for key, value in result.items():
        if key in skip:
            continue
        table.add_row(_label(key), _format(key, value))
    out = Console()
    out.print(table)
    out.print(
        f"periods/year {conventions['periods_per_year']:g} · risk-free {conventions['risk_free']:g} {rf_kind} · "
        f"VaR {conventions['var_method']} at {conventions['confidence']:g} · downside {conventions['downside']}",
        highlight=False,
    )
    for key, reason in result["missing"].items():
        err.print(f"{key}: {reason}", highlight=False)


def _label(key: str) -> str:
    for prefix, name in (("var_", "VaR"), ("cvar_", "CVaR")):
        if key.startswith(prefix):
            return f"{name} {key.removeprefix(prefix).replace('_', '.')}% (one period)"
    return METRIC_LABELS.get(key, key)


def _format(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "—"
    if key in PERCENT_METRICS or key.startswith(("var_", "cvar_")):
        return f"{value * 100:,.2f}%"
    return f"{value:,.3f}"


__all__ = ["analytics_app"]
