"""`md.Desk`: one desk kept open behind blocking calls, over the real desk (SQLite in a temporary data dir, the
simulated market with fast ticks). The out-of-the-box user and paper account, fills, denials with reasons, the
kill switch, cancels, use inside a running event loop, signing in, the data dir's lock and closing."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import traceback
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import marketdesk as md
from marketdesk.accounts.errors import Forbidden, Unauthorized
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.desk import Desk as CoreDesk
from marketdesk.errors import ConfigError, NotFound, Rejected, UnknownSymbol
from marketdesk.marketdata.port import AssetClass

FAST = {"sim_symbols": 11, "sim_history_years": 1, "tick_interval_s": 0.05}  # a small market, quick ticks
NO_MARKET = {"market_data": ["files"]}  # signing in needs no market: no simulated one to generate
ANN = "ann@example.com"
PASSWORD = "violet trombone harbour 42"  # noqa: S105 (a test password)
WRONG_PASSWORD = "not the password at all 7"  # noqa: S105 (a test password)


def fresh_data_dir(tmp_path_factory: pytest.TempPathFactory, name: str, sqlite_template: Path) -> Path:
    """An empty data dir whose database is already migrated (a copy of the worker's template): no users."""
    folder = tmp_path_factory.mktemp(name)
    shutil.copy(sqlite_template, folder / "marketdesk.db")
    return folder


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[md.Desk]:
    """One desk for the module, on a fresh data dir, with its out-of-the-box user and "Paper" account. The
    account is opened here, not by whichever test asks first: a worker that runs another module's tests in
    between makes this fixture again, and a later test must still find "Paper" the default."""
    opened = md.Desk(fresh_data_dir(tmp_path_factory, "notebook-desk", sqlite_template), **FAST)
    opened.account()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def symbol(desk: md.Desk) -> str:
    """A simulated stock, priced well under the 10% position limit for the quantities used here."""

    async def stocks(core: CoreDesk, _user: CurrentUser) -> list[str]:
        assert core.sim is not None
        return sorted(i.symbol for i in core.sim.symbols() if i.asset_class is AssetClass.EQUITY)

    return stocks_with_price(desk, desk.run(stocks))


def stocks_with_price(desk: md.Desk, symbols: list[str]) -> str:
    for candidate in symbols:
        if desk.quote(candidate).last < 1000:
            return candidate
    raise AssertionError(f"no simulated stock under 1000 among {symbols}")


def shares_worth(desk: md.Desk, symbol: str, dollars: int) -> int:
    return max(1, int(Decimal(dollars) / desk.quote(symbol).last))


@pytest.fixture(scope="module")
def signed_dir(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A data dir whose first user, Ann, was made by signing in with an email and password on it; Ann then
    added a viewer."""
    folder = fresh_data_dir(tmp_path_factory, "signed-desk", sqlite_template)
    with md.Desk(folder, email=ANN, password=PASSWORD, **NO_MARKET) as first:
        assert (first.user.email, first.user.role) == (ANN, Role.ADMIN)

        async def add_viewer(core: CoreDesk, _user: CurrentUser) -> None:
            async with core.db.session() as session:
                await core.accounts.create_user(session, "vic@example.com", PASSWORD, Role.VIEWER)

        first.run(add_viewer)
    return folder


def test_a_fresh_data_dir_gets_a_local_admin_and_a_paper_account(desk: md.Desk) -> None:
    assert (desk.user.email, desk.user.role) == ("notebook@localhost", Role.ADMIN)
    account = desk.account()
    assert (account["name"], account["broker"], account["state"]) == ("Paper", "paper", "active")
    assert Decimal(account["balances"]["equity"]) > 0
    accounts = desk.accounts()
    assert accounts.loc[account["id"], "name"] == "Paper"
    assert "open" in repr(desk) and "notebook@localhost" in repr(desk)


def test_a_market_buy_fills_and_shows_in_positions(desk: md.Desk, symbol: str) -> None:
    before = desk.positions()
    held = before.loc[symbol, "qty"] if symbol in before.index else Decimal(0)
    qty = shares_worth(desk, symbol, 2000)

    result = desk.buy(symbol, qty, tag="facade-test")

    assert result.status == "filled", str(result)
    assert sum(f.qty for f in result.fills) == qty == result.filled_qty
    assert result.average_price is not None and result.average_price > 0
    assert str(result).startswith(f"FILLED BUY {qty} {symbol} at market (day): {qty} of {qty} filled at ")
    after = desk.positions()
    assert after.loc[symbol, "qty"] == held + qty
    assert after.loc[symbol, "market_value"] > 0
    orders = desk.orders()
    assert orders.loc[result.id, "status"] == "filled"
    assert orders.loc[result.id, "tag"] == "facade-test"


def test_a_preview_shows_a_denial_with_its_reason_and_places_nothing(desk: md.Desk, symbol: str) -> None:
    desk.open_account("Tight")
    limits = desk.risk(account="Tight", max_position_pct=1)
    assert Decimal(str(limits["limits"]["max_position_pct"])) == 1
    qty = shares_worth(desk, symbol, 2000) + 1  # about 2% of the paper account's equity

    preview = desk.preview(f"BUY {qty} {symbol}", account="Tight")

    assert preview.allowed is False
    assert "your limit is 1%" in preview.reason
    assert str(preview).startswith(f"DENIED BUY {qty} {symbol} at market (day)")
    assert desk.orders(account="Tight").empty  # a preview places nothing
    placed = desk.buy(symbol, qty, account="Tight")
    assert placed.rejected and "your limit is 1%" in (placed.reason or "")
    assert desk.positions(account="Tight").empty


def test_with_the_kill_switch_on_a_buy_is_refused(desk: md.Desk, symbol: str) -> None:
    desk.open_account("Halt")
    assert desk.kill_switch(True, reason="test", account="Halt")["state"] == "halted"
    refused = desk.buy(symbol, 1, account="Halt")
    assert refused.status == "rejected"
    assert "kill switch is on" in (refused.reason or "")
    assert desk.kill_switch(False, account="Halt")["state"] == "active"
    assert desk.buy(symbol, 1, account="Halt").filled


def test_a_working_limit_order_can_be_canceled(desk: md.Desk, symbol: str) -> None:
    below = (desk.quote(symbol).last * Decimal("0.95")).quantize(Decimal("0.01"))
    resting = desk.buy(symbol, 1, limit=below, tif="gtc")  # a resting limit order is not waited for
    assert resting.status == "accepted" and resting.working
    assert resting.id in desk.orders(open_only=True).index

    canceled = desk.cancel(resting)

    assert canceled.status == "canceled" and canceled.final
    assert resting.id not in desk.orders(open_only=True).index
    assert desk.order(resting.id).status == "canceled"


def test_an_absurd_quantity_is_denied_with_its_reason(desk: md.Desk, symbol: str) -> None:
    denied = desk.buy(symbol, 10**9)
    assert denied.rejected
    assert "of equity" in (denied.reason or "")


def test_bad_input_raises_the_projects_errors_with_their_hints(desk: md.Desk, symbol: str) -> None:
    with pytest.raises(UnknownSymbol) as unknown:
        desk.buy("ZZZZQ", 1)
    assert str(unknown.value).startswith("unknown symbol 'ZZZZQ'. Check the spelling")
    # refusals come without the desk thread's frames, so a notebook shows the message under the caller's line
    frames = {Path(frame.filename).name for frame in traceback.extract_tb(unknown.tb)}
    assert frames <= {"test_desk_facade.py", "notebook_desk.py"}, frames

    desk.account()  # the default account exists whichever tests ran before on this worker
    refusals = [
        (lambda: desk.buy(symbol, -5), Rejected, "quantity must be positive"),
        (lambda: desk.buy(symbol, "ten"), Rejected, "'ten' is not a number"),
        (lambda: desk.sell(symbol, 1, tif="forever"), Rejected, "unknown time in force 'forever'"),
        (lambda: desk.preview("PURCHASE lots"), Rejected, "cannot read the order"),
        (lambda: desk.place(f"BUY 1 {symbol} @ 5", limit=6), Rejected, "names its limit twice"),
        (lambda: desk.kill_switch("off"), Rejected, "takes True (halt) or False"),  # type: ignore[arg-type]
        (lambda: desk.risk(yolo=1), Rejected, "unknown risk limit(s) yolo. Valid: allow_short"),
        (lambda: desk.positions(account="Nope"), NotFound, "no trading account 'Nope'. Yours: "),
        (lambda: desk.cancel("no-such-order"), NotFound, "List yours: desk.orders()"),
    ]
    for action, kind, text in refusals:
        with pytest.raises(kind) as raised:
            action()
        assert text in str(raised.value), str(raised.value)
    with pytest.raises(NotFound) as missing:
        desk.positions(account="Nope")
    named = str(missing.value).split("Yours: ", 1)[1]
    held = list(desk.accounts()["name"])  # which these are depends on the tests that ran before on this worker
    assert held and all(name in named for name in held), (named, held)  # the hint names the accounts there are


def test_settings_and_sign_in_arguments_are_checked_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'sim_symbolz'"):
        md.Desk(tmp_path, sim_symbolz=11)
    with pytest.raises(Rejected, match="give both email and password, or neither"):
        md.Desk(tmp_path, email=ANN)


def test_a_second_desk_on_the_same_data_dir_is_refused(desk: md.Desk) -> None:
    with pytest.raises(Rejected, match=r"is already running in an md\.Desk \(process \d+\)"):
        md.Desk(desk.settings.data_dir, **FAST)
    assert not desk.closed  # the refused one did not touch the open one
    assert "Paper" in desk.accounts()["name"].tolist()
    assert (desk.settings.data_dir / "desk.lock").read_text().strip() == f"an md.Desk (process {os.getpid()})"


async def test_the_facade_works_inside_a_running_event_loop(desk: md.Desk, symbol: str) -> None:
    asyncio.get_running_loop()  # a loop is running here, as in a Jupyter cell
    assert desk.quote(symbol).last > 0
    assert "Paper" in desk.accounts()["name"].tolist()
    assert desk.preview(f"BUY 1 {symbol}").allowed
    assert desk.buy(symbol, 1).filled


async def test_a_desk_with_users_needs_one_of_them_with_the_right_password(signed_dir: Path) -> None:
    # opened inside a running event loop (an async test), as from a notebook
    with pytest.raises(Unauthorized) as wrong:
        md.Desk(signed_dir, email=ANN, password=WRONG_PASSWORD, **NO_MARKET)
    assert str(wrong.value) == "email or password is not right. Check both, or ask an admin."
    with pytest.raises(Unauthorized, match="this desk has users") as nobody:
        md.Desk(signed_dir, **NO_MARKET)
    assert "md.Desk(email=" in str(nobody.value)
    # the refused desks let go of the data dir: the right password opens it
    with md.Desk(signed_dir, email=ANN, password=PASSWORD, **NO_MARKET) as desk:
        assert (desk.user.email, desk.user.role) == (ANN, Role.ADMIN)
        assert desk.account()["name"] == "Paper"


def test_a_viewer_reads_but_cannot_trade(signed_dir: Path) -> None:
    with md.Desk(signed_dir, email="vic@example.com", password=PASSWORD, **NO_MARKET) as desk:
        assert desk.user.role is Role.VIEWER
        assert desk.accounts().empty
        with pytest.raises(Forbidden, match="viewers see everything and trade nothing"):
            desk.open_account("Mine")
        with pytest.raises(Forbidden, match="Ask an admin to make you a trader"):
            desk.buy("AAA", 1)
        with pytest.raises(NotFound, match="you have no trading account"):
            desk.account()  # and no Paper account is opened for a viewer


def test_closing_twice_is_harmless_and_a_closed_desk_refuses_calls(signed_dir: Path) -> None:
    thread_name = f"md.Desk {signed_dir}"
    desk = md.Desk(signed_dir, email=ANN, password=PASSWORD, **NO_MARKET)
    assert thread_name in {t.name for t in threading.enumerate()}
    desk.close()
    desk.close()
    assert desk.closed and "closed" in repr(desk)
    assert thread_name not in {t.name for t in threading.enumerate()}  # its loop's thread has ended
    with pytest.raises(Rejected, match=r"this md\.Desk is closed"):
        desk.accounts()
    with md.Desk(signed_dir, email=ANN, password=PASSWORD, **NO_MARKET) as again:  # and the data dir is free
        assert not again.closed
