"""The `marketdesk` command. Every command takes --data-dir (or MARKETDESK_DATA_DIR) and --json: one JSON
document on stdout; people's text and progress go to stderr. Errors are one line on stderr with the fix,
and a non-zero exit code (2 for bad input, 75 to retry later, 70 when something is broken)."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import io
import signal
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from marketdesk.cliutil import DataDir, Json, emit, err, handles_errors, progress_bar, settings_for
from marketdesk.clock import LiveClock
from marketdesk.config import Settings, masked
from marketdesk.errors import Rejected
from marketdesk.kit.jsonutil import dumps, to_jsonable
from marketdesk.kit.timeutil import NEW_YORK, parse_date

app = typer.Typer(help="marketdesk: a self-hosted investing and trading desk.", no_args_is_help=True)
data_app = typer.Typer(help="Import, fetch and inspect market data.", no_args_is_help=True)
import_app = typer.Typer(help="Import price or fundamentals files (CSV, CSV.gz, Parquet).", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)
app.add_typer(data_app, name="data")
data_app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")


def _register_domain_commands() -> None:
    # domain command groups live with their domain; they import this module's helpers only when they run
    from marketdesk.accounts.cli import users_app
    from marketdesk.analytics.cli import analytics_app
    from marketdesk.audit.cli import audit_app
    from marketdesk.decisions.cli import decisions_app
    from marketdesk.journal.cli import journal_app
    from marketdesk.portfolio.cli import portfolio_app
    from marketdesk.trading.cli import compliance_app
    from marketdesk.trading.trade_cli import trade_app
    from marketdesk.vault.cli import vault_app

    app.add_typer(users_app, name="users")
    app.add_typer(vault_app, name="vault")
    app.add_typer(audit_app, name="audit")
    app.add_typer(compliance_app, name="compliance")
    app.add_typer(analytics_app, name="analytics")
    app.add_typer(decisions_app, name="decisions")
    app.add_typer(trade_app, name="trade")
    app.add_typer(journal_app, name="journal")
    app.add_typer(portfolio_app, name="portfolio")


_register_domain_commands()


@app.callback()
def _quiet_logs() -> None:
    # commands print for people (or JSON); the desk's own log lines are for `up` and for warnings
    from marketdesk.logs import configure_logging

    configure_logging("WARNING", json=False)


# ---- up --------------------------------------------------------------------------------------------------


def _dump_stacks_on_sigusr1() -> None:
    """`kill -USR1 <pid>` prints every thread's stack to stderr: where a desk that seems stuck is waiting.
    Only when stderr is a real file (not a test runner's captured stream, which has no descriptor)."""
    with contextlib.suppress(io.UnsupportedOperation, AttributeError, ValueError, RuntimeError):
        faulthandler.register(signal.SIGUSR1, all_threads=True)


@app.command()
@handles_errors
def up(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="address to listen on [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="port [default: 8000]")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the simulated market")] = None,
    real_hours: Annotated[
        bool | None, typer.Option("--real-hours/--always-open", help="simulated session follows XNYS hours")
    ] = None,
    as_json: Json = False,
) -> None:
    """Run the whole desk (web, API, live quotes) on the embedded defaults."""
    import uvicorn

    from marketdesk.app import create_app
    from marketdesk.desk import build_desk, describe_started
    from marketdesk.kit import datadir_lock
    from marketdesk.logs import configure_logging

    settings = settings_for(data_dir, host=host, port=port, seed=seed, real_hours=real_hours)
    configure_logging(settings.log_level, json=settings.log_json)
    _dump_stacks_on_sigusr1()
    lock = datadir_lock.hold(settings.data_dir, "marketdesk up")  # kept (closing the file would release it)
    try:
        clock = LiveClock()
        desk = build_desk(settings, clock)

        def say(step: str) -> None:
            err.print(f"[dim]·[/dim] {step}…", highlight=False)

        asyncio.run(_start_once(desk, say))
        address = f"http://{settings.host}:{settings.port}"
        summary = {"url": address, **describe_started(desk, clock.now())}
        emit(as_json, summary, lambda: err.print(_up_banner(address, desk.simulated), highlight=False))
        sys.stdout.flush()
        web_app = create_app(settings, desk=desk)
        uvicorn.run(
            web_app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            lifespan="on",
            # one message goes to many clients: compressing it per connection costs more CPU and memory than the
            # small JSON frames save
            ws_per_message_deflate=False,
            timeout_graceful_shutdown=10,  # a client that never reads cannot hold the shutdown forever
        )
    finally:
        datadir_lock.release(lock)


async def _start_once(desk: Any, say: Callable[[str], None]) -> None:
    # prepare the data (migrations, the simulated market) before serving; the app's lifespan then starts
    # the live parts on the server's own event loop
    await desk.start(say)
    await desk.quotes.stop()
    await desk.db.dispose()
    desk.started = False
    desk.extras["prepared"] = True


def _up_banner(address: str, simulated: bool) -> str:
    market = "[bold yellow]SIMULATED[/bold yellow] market" if simulated else "live data"
    return f"\n[bold]marketdesk[/bold] is running at [bold cyan]{address}[/bold cyan] ({market}). Ctrl-C stops it.\n"


# ---- db / config -----------------------------------------------------------------------------------------


@db_app.command("upgrade")
@handles_errors
def db_upgrade(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Apply the database migrations."""
    from marketdesk.db import upgrade

    settings = settings_for(data_dir)
    revision = upgrade(settings.effective_database_url)
    payload = {"revision": revision, "database": masked(settings)["database_url"]}
    emit(as_json, payload, lambda: err.print(f"database at revision {revision}"))


@config_app.command("show")
@handles_errors
def config_show(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Print the effective settings, secrets masked."""
    shown = masked(settings_for(data_dir))

    def human() -> None:
        table = Table("setting", "value", title="effective settings")
        for key, value in shown.items():
            table.add_row(key, str(value))
        Console().print(table)

    emit(as_json, shown, human)


# ---- data ------------------------------------------------------------------------------------------------


def parse_map(pairs: list[str] | None) -> dict[str, str]:
    """`--map close=Price` pairs into {our field: their column}."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise Rejected(f"--map {pair!r} is not FIELD=COLUMN", hint="Write it like --map close='Close Price'.")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def _existing(files: list[Path]) -> list[Path]:
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise Rejected(f"no such file: {missing[0]}", hint="Check the path.")
    return files


Files = Annotated[list[Path], typer.Argument(help="files to import", show_default=False)]
MapOption = Annotated[list[str] | None, typer.Option("--map", help="override a column: FIELD=COLUMN (repeatable)")]
DateFormat = Annotated[str | None, typer.Option("--date-format", help="strptime format, e.g. %d/%m/%Y")]


@import_app.command("prices")
@handles_errors
def import_prices_command(
    files: Files,
    data_dir: DataDir = None,
    column_map: MapOption = None,
    date_format: DateFormat = None,
    symbol: Annotated[str | None, typer.Option(help="the ticker, for a one-ticker file named otherwise")] = None,
    as_json: Json = False,
) -> None:
    """Import daily prices; each row is accepted or rejected with a reason. Re-importing changes nothing."""
    settings = settings_for(data_dir)
    mapping, paths = parse_map(column_map), _existing(files)
    from marketdesk.marketdata.barstore import BarStore
    from marketdesk.marketdata.files import ImportOptions, import_prices

    options = ImportOptions(column_map=mapping, date_format=date_format, symbol=symbol)
    with progress_bar("importing prices", not as_json, in_bytes=True) as progress:
        report = import_prices(paths, BarStore(settings.bar_store_dir), options, progress)
    asyncio.run(_record_import(settings, "prices", report))
    emit(as_json, report.to_dict(), lambda: err.print(report.summary(), highlight=False))
    if report.failed_files and not report.accepted:
        raise typer.Exit(2)


@import_app.command("fundamentals")
@handles_errors
def import_fundamentals_command(
    files: Files,
    data_dir: DataDir = None,
    column_map: MapOption = None,
    date_format: DateFormat = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="date of a snapshot that carries none (YYYY-MM-DD)")
    ] = None,
    as_json: Json = False,
) -> None:
    """Import fundamentals, constituents, ETF lists or earnings files."""
    settings = settings_for(data_dir)
    mapping, paths = parse_map(column_map), _existing(files)
    try:
        day = parse_date(as_of, field="--as-of") if as_of else None
    except ValueError as exc:
        raise Rejected(str(exc)) from None
    from marketdesk.marketdata.files import ImportOptions

    options = ImportOptions(column_map=mapping, date_format=date_format, as_of=day)
    with progress_bar("importing fundamentals", not as_json, in_bytes=True) as progress:
        report = asyncio.run(_import_fundamentals(settings, paths, options, progress))
    emit(as_json, report.to_dict(), lambda: err.print(report.summary(), highlight=False))
    if report.failed_files and not report.accepted:
        raise typer.Exit(2)


async def _import_fundamentals(settings: Settings, files: list[Path], options: Any, progress: Any) -> Any:
    from marketdesk.db import Database, upgrade
    from marketdesk.marketdata.files import import_fundamentals
    from marketdesk.marketdata.repository import MarketDataRepository

    await asyncio.to_thread(upgrade, settings.effective_database_url)
    database = Database(settings.effective_database_url)
    try:
        async with database.session() as session:
            report = await import_fundamentals(
                files, MarketDataRepository(session), options, now=LiveClock().now(), progress=progress
            )
        await _record_import(settings, "fundamentals", report, database)
        return report
    finally:
        await database.dispose()


async def _record_import(settings: Settings, kind: str, report: Any, database: Any = None) -> None:
    """Keep a row per import run, so `data info` and the desk can show what was imported when."""
    from marketdesk.db import Database, upgrade
    from marketdesk.kit.ids import new_id
    from marketdesk.marketdata.models import ImportRun
    from marketdesk.marketdata.repository import MarketDataRepository, files_json

    own = database is None
    if own:
        await asyncio.to_thread(upgrade, settings.effective_database_url)
        database = Database(settings.effective_database_url)
    clock = LiveClock()
    try:
        async with database.session() as session:
            await MarketDataRepository(session).record_import(
                ImportRun(
                    id=new_id(clock, "imp_"),
                    kind=kind,
                    files=files_json(str(f) for f in report.files),
                    accepted=report.accepted,
                    rejected=report.rejected,
                    status="failed" if report.failed_files and not report.accepted else "done",
                    message=report.summary()[:2000],
                    started_at=clock.now(),
                    finished_at=clock.now(),
                )
            )
    finally:
        if own:
            await database.dispose()


@data_app.command("fetch")
@handles_errors
def data_fetch(
    symbols: Annotated[list[str], typer.Argument(help="tickers to fetch", show_default=False)],
    provider: Annotated[str, typer.Option("--provider", "-p", help="sim, yahoo, alpaca, finnhub, alphavantage, fred")],
    data_dir: DataDir = None,
    start: Annotated[str | None, typer.Option(help="first day (YYYY-MM-DD) [default: 5 years ago]")] = None,
    end: Annotated[str | None, typer.Option(help="last day (YYYY-MM-DD) [default: today]")] = None,
    as_json: Json = False,
) -> None:
    """Fetch bars, actions, fundamentals and earnings from a provider into the desk's store."""
    settings = settings_for(data_dir)
    today = LiveClock().now().astimezone(NEW_YORK).date()
    try:
        last = parse_date(end, field="--end") if end else today
        first = parse_date(start, field="--start") if start else last - timedelta(days=5 * 365)
    except ValueError as exc:
        raise Rejected(str(exc)) from None
    with progress_bar(f"fetching from {provider}", not as_json) as progress:
        report = asyncio.run(_fetch(settings, provider, symbols, first, last, progress))
    payload = to_jsonable(report)
    emit(as_json, payload, lambda: err.print(_fetch_summary(report), highlight=False))
    if report.failures and not report.symbols:
        raise typer.Exit(2)


async def _fetch(settings: Settings, provider: str, symbols: list[str], first: date, last: date, progress: Any) -> Any:
    from marketdesk.db import upgrade
    from marketdesk.desk import build_desk, build_sources

    known = ("sim", "files", "yahoo", "alpaca", "finnhub", "alphavantage", "fred")
    if provider not in known:
        raise Rejected(f"unknown provider {provider!r}", hint=f"Use one of: {', '.join(known)}.")
    clock = LiveClock()
    desk = build_desk(settings, clock)
    source, _ = build_sources(settings.model_copy(update={"market_data": [provider]}), clock, desk.store)
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    try:
        async with desk.db.session() as session:
            return await desk.market.fetch(session, source, symbols, start=first, end=last, progress=progress)
    finally:
        await desk.db.dispose()


def _fetch_summary(report: Any) -> str:
    lines = [
        f"{report.provider}: {len(report.symbols)} symbol(s) fetched; bars +{report.bars_inserted} new, "
        f"{report.bars_updated} updated, {report.bars_unchanged} unchanged; {report.fundamentals} fundamentals, "
        f"{report.earnings} earnings, {report.actions} new corporate actions"
    ]
    lines += [f"  {symbol}: {reason}" for symbol, reason in report.failures.items()]
    return "\n".join(lines)


@data_app.command("info")
@handles_errors
def data_info(
    symbol: Annotated[str | None, typer.Argument(help="one symbol, or all when omitted")] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Coverage per symbol: first and last bar, rows, fundamentals and earnings counts."""
    settings = settings_for(data_dir)
    rows = asyncio.run(_coverage(settings, symbol))

    def human() -> None:
        if not rows:
            err.print(
                "no market data yet: run `marketdesk up` (simulated market) or `marketdesk data import prices FILE`"
            )
            return
        table = Table("symbol", "first", "last", "bars", "fundamentals", "earnings", title="market data held")
        for row in rows:
            table.add_row(
                row.symbol, str(row.first), str(row.last), str(row.bars), str(row.fundamentals), str(row.earnings)
            )
        Console().print(table)

    emit(as_json, [to_jsonable(r) for r in rows], human)


async def _coverage(settings: Settings, symbol: str | None) -> Any:
    from marketdesk.db import upgrade
    from marketdesk.desk import build_desk
    from marketdesk.marketdata.port import MarketDataBase

    await asyncio.to_thread(upgrade, settings.effective_database_url)
    desk = build_desk(settings, LiveClock(), source=MarketDataBase())  # reads what is stored; asks no source
    try:
        async with desk.db.session() as session:
            return await desk.market.coverage(session, symbol)
    finally:
        await desk.db.dispose()


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()


# ---- screener --------------------------------------------------------------------------------------------


async def _screener_call(settings: Settings, action: Callable[[Any, Any], Any]) -> Any:
    """Prepare a desk (migrations, the simulated market when configured), run `action(desk, session)`."""
    from marketdesk.desk import build_desk

    desk = build_desk(settings, LiveClock())
    await desk.start()
    await desk.quotes.stop()
    try:
        async with desk.db.session() as session:
            return await action(desk, session)
    finally:
        await desk.stop()


def _fmt(value: Any, pattern: str = "{:,.2f}") -> str:
    return "—" if value is None else pattern.format(value)


@app.command("screen")
@handles_errors
def screen_command(
    data_dir: DataDir = None,
    preset: Annotated[str | None, typer.Option(help="balanced, momentum, value, value-trap-screen, …")] = None,
    where: Annotated[list[str] | None, typer.Option(help="filter, e.g. 'pe < 25 and roe > 0.15' (repeatable)")] = None,
    universe: Annotated[
        str, typer.Option(help="all, sim, sp500, megacap, largecap, etfs, bonds, watchlist:NAME")
    ] = "all",
    asset: Annotated[str | None, typer.Option(help="stock, etf or bond")] = None,
    sort: Annotated[str | None, typer.Option(help="a column, e.g. score, pe, dip_pct")] = None,
    ascending: Annotated[bool, typer.Option("--ascending", help="smallest first when sorting")] = False,
    limit: Annotated[int, typer.Option(help="rows to show")] = 20,
    as_of: Annotated[str | None, typer.Option("--as-of", help="screen as of a past day (YYYY-MM-DD)")] = None,
    as_json: Json = False,
) -> None:
    """Screen stocks, ETFs and bonds: a verdict and score per name, with the reasons."""
    settings = settings_for(data_dir)
    try:
        day = parse_date(as_of, field="--as-of") if as_of else None
    except ValueError as exc:
        raise Rejected(str(exc)) from None

    async def action(desk: Any, session: Any) -> Any:
        return await desk.screener.screen(
            session, preset=preset, where=where or [], universe=universe, asset=asset, sort=sort,
            descending=not ascending, limit=limit, as_of=day,
        )  # fmt: skip

    page = asyncio.run(_screener_call(settings, action))

    def human() -> None:
        err.print(f"{page.regime.state.value.upper()}: {page.regime.reason}", highlight=False)
        if not page.rows:
            err.print(page.message or "no names match", highlight=False)
            return
        table = Table("Ticker", "Price", "Verdict", "Score", "P/E", "ROE", "52W", "DCF", "Flags",
                      title=f"{page.preset} · {page.universe} · {page.total} names · as of {page.as_of} · rules {page.version}")  # fmt: skip
        for row in page.rows:
            m = row["metrics"]
            dcf = (row.get("dcf") or {}).get("margin_of_safety")
            table.add_row(
                row["symbol"], _fmt(m.get("price")), row["verdict"] or "—", _fmt(row["score"], "{:.1f}"),
                _fmt(m.get("pe"), "{:.1f}"), _fmt(None if m.get("roe") is None else m["roe"] * 100, "{:.0f}%"),
                _fmt(None if m.get("dip_pct") is None else -m["dip_pct"], "{:+.0f}%"),
                _fmt(None if dcf is None else dcf * 100, "{:+.0f}%"), ", ".join(row["flags"]),
            )  # fmt: skip
        Console().print(table)

    emit(as_json, page.rows, human)


@app.command("research")
@handles_errors
def research_command(
    symbol: Annotated[str, typer.Argument(help="the ticker")],
    data_dir: DataDir = None,
    preset: Annotated[str | None, typer.Option(help="judge with this preset")] = None,
    as_json: Json = False,
) -> None:
    """The tearsheet of one symbol: verdict, reasons, DCF, risks, peers, events and what would change it."""
    settings = settings_for(data_dir)

    async def action(desk: Any, session: Any) -> Any:
        return await desk.screener.research(session, symbol, preset=preset)

    sheet = asyncio.run(_screener_call(settings, action))

    def human() -> None:
        out = Console()
        out.print(f"[bold]{sheet['symbol']}[/bold] {sheet['name']} — [bold]{sheet['verdict']}[/bold] "
                  f"{_fmt(sheet['score'], '{:.1f}')}/10 (as of {sheet['as_of']}, rules {sheet['version']})")  # fmt: skip
        out.print(sheet["plain"], highlight=False)
        dcf = sheet["dcf"]
        if dcf.get("refused"):
            out.print(f"DCF: not computed — {dcf['refused']['reason']}", highlight=False)
        else:
            out.print(
                f"DCF: {_fmt(dcf['intrinsic_value'])} a share, margin of safety {_fmt(dcf['margin_of_safety'] * 100, '{:+.0f}%')}"
            )
        if sheet["flags"]:
            out.print("Flags: " + ", ".join(sheet["flags"]))
        risks = sheet["sections"]["risk_breakdown"][:3]
        for risk in risks:
            out.print(f"Risk: {risk['text']}", highlight=False)
        peers = ", ".join(f"{p['symbol']} ({p['verdict']})" for p in sheet["sections"]["peers"])
        out.print(f"Peers: {peers or '—'}")

    emit(as_json, sheet, human)


@app.command("dips")
@handles_errors
def dips_command(
    data_dir: DataDir = None,
    threshold: Annotated[float, typer.Option(help="5, 10 or 15 (% below the 52-week high)")] = 5.0,
    universe: Annotated[str, typer.Option(help="megacap, largecap or watchlist:NAME")] = "largecap",
    min_verdict: Annotated[str, typer.Option(help="the weakest verdict to list")] = "Hold",
    as_json: Json = False,
) -> None:
    """Quality names below their 52-week high: why they dipped and a suggested play."""
    settings = settings_for(data_dir)

    async def action(desk: Any, session: Any) -> Any:
        return await desk.screener.dips(session, universe=universe, threshold_pct=threshold, min_verdict=min_verdict)

    report = asyncio.run(_screener_call(settings, action))

    def human() -> None:
        if not report.rows:
            err.print(report.message or "no dips", highlight=False)
            return
        table = Table("Ticker", "Price", "Dip %", "Verdict", "Why it dipped", "Suggested play",
                      title=f"dips ≥ {report.threshold_pct:g}% · {report.universe} · as of {report.as_of}")  # fmt: skip
        for row in report.rows:
            table.add_row(
                row["symbol"],
                _fmt(row["price"]),
                _fmt(row["dip_pct"], "{:.1f}"),
                row["verdict"],
                row["why"],
                row["play"],
            )
        Console().print(table)

    emit(as_json, report.rows, human)


# ---- watch -----------------------------------------------------------------------------------------------


@app.command("watch")
@handles_errors
def watch_command(
    symbols: Annotated[list[str], typer.Argument(help="tickers to watch", show_default=False)],
    url: Annotated[str, typer.Option(help="the desk's address")] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None, typer.Option(help="access token [env: MARKETDESK_TOKEN]", envvar="MARKETDESK_TOKEN")
    ] = None,
    count: Annotated[int | None, typer.Option(help="stop after this many quotes")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per quote on stdout")] = False,
) -> None:
    """Print live quotes from a running desk, reconnecting if the connection drops."""
    from marketdesk.client import DeskClient
    from marketdesk.marketdata.service import normalize_symbol

    wanted = [normalize_symbol(s) for s in symbols]
    if count is not None and count < 1:
        raise Rejected("--count must be at least 1")

    async def run() -> None:
        seen = 0
        async with DeskClient(url, token=token) as client:
            await client.subscribe(*(f"quotes:{s}" for s in wanted))
            async for message in client.messages():
                data = message["data"]
                if as_json:
                    sys.stdout.write(dumps(data) + "\n")
                    sys.stdout.flush()
                else:
                    change = data.get("change_pct")
                    moved = "" if change is None else f" {change:+.2f}%"
                    err.print(f"{data['ts'][11:19]} {data['symbol']:<6} {data['last']:>12}{moved}", highlight=False)
                seen += 1
                if count is not None and seen >= count:
                    return

    asyncio.run(run())
